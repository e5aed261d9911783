"""Each pair's current risk modifier and enabled state, by the plugin's own rules.

The closed trades (and, from a trade DB, the resolved paper trades) are replayed in time
order through the core's SymbolPerformanceManager, exactly as the running bot's tracker
rebuilds itself after a restart, so the report shows the state the bot has now: plugin
locks a person removed (`/unlock`) re-enable their pair at that moment, as in the bot. A
backtest result holds no paper trades: there a pair's state is the one its real trades
alone give.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pandas as pd

from freqtrade_quant_plugin.core import symbol_performance
from freqtrade_quant_plugin.core.plugin_locks import HandUnlock
from freqtrade_quant_plugin.core.symbol_performance import (
    SymbolPerformanceConfig,
    SymbolPerformanceManager,
)


@dataclass(frozen=True)
class PaperResult:
    """A resolved paper trade of a disabled pair."""

    id: int
    pair: str
    closed_ts: int
    is_win: bool


@dataclass(frozen=True)
class Lock:
    """An active protection lock of Freqtrade's `pairlocks` table."""

    pair: str
    side: str
    reason: str
    until_ts: int


@dataclass(frozen=True)
class PairState:
    pair: str
    trades: int
    win_rate: float
    avg_R: float
    consecutive_losses: int
    risk_modifier: float
    enabled: bool
    disabled_since_ts: int | None
    disabled_why: str
    paper_trades: int
    locks: tuple[Lock, ...]


def pair_states(
    trades: pd.DataFrame,
    config: SymbolPerformanceConfig,
    paper: Sequence[PaperResult] | None,
    locks: Sequence[Lock] = (),
    hand_unlocks: Sequence[HandUnlock] = (),
) -> dict[str, PairState]:
    """State per pair after replaying every closed trade and paper result in close order.

    As in the live tracker (adapters/pairs/closed_trades.py): a trade counts with the plugin's
    risk money only, at net R (realised profit / risk money), a win when that profit > 0.
    """
    manager = SymbolPerformanceManager(config, persistence_file=None)
    disabled: dict[str, tuple[int, str]] = {}
    events = _events(trades, paper or (), hand_unlocks)
    with _quiet(symbol_performance.logger):
        for _, kind, _, pair, payload in events:
            if kind == 0:
                closed_ts, pnl, r_multiple = payload
                was_enabled = manager.should_trade_symbol(pair)
                stats = manager.update_stats(pair, pnl, r_multiple, pnl > 0)
                if was_enabled and not stats.is_enabled:
                    why = (
                        f"{stats.consecutive_losses} consecutive losses "
                        f"(win rate {stats.win_rate:.0%}, avg R {stats.avg_R:.2f} "
                        f"over {stats.total_trades} trades)"
                    )
                    disabled[pair] = (closed_ts, why)
            elif kind == 2:
                if not manager.should_trade_symbol(pair):
                    manager.override_disable(pair)
                    disabled.pop(pair, None)
            elif (
                not manager.should_trade_symbol(pair)
                and manager.record_paper_trade(pair, payload).is_enabled
            ):
                disabled.pop(pair, None)
    locks_of: dict[str, list[Lock]] = {}
    for lock in locks:
        locks_of.setdefault(lock.pair, []).append(lock)
    pairs = sorted(set(manager.all_stats()) | set(locks_of))
    states = {}
    for pair in pairs:
        stats = manager.get_stats(pair)
        since, why = disabled.get(pair, (None, ""))
        states[pair] = PairState(
            pair=pair,
            trades=stats.total_trades,
            win_rate=stats.win_rate,
            avg_R=stats.avg_R,
            consecutive_losses=stats.consecutive_losses,
            risk_modifier=manager.get_risk_modifier(pair),
            enabled=stats.is_enabled,
            disabled_since_ts=since if not stats.is_enabled else None,
            disabled_why=why if not stats.is_enabled else "",
            paper_trades=stats.paper_trades,
            locks=tuple(locks_of.get(pair, ())),
        )
    return states


def _events(
    trades: pd.DataFrame, paper: Sequence[PaperResult], unlocks: Sequence[HandUnlock]
) -> list[tuple]:
    """(time, 0 = real / 1 = paper / 2 = removed lock, id, pair, payload), sorted like the
    live tracker's replay."""
    real = zip(
        trades["close_ts"].tolist(),
        trades["trade_id"].tolist(),
        trades["pair"].tolist(),
        trades["profit_abs"].fillna(0.0).tolist(),
        trades["tracker_R"].tolist(),
        strict=True,
    )
    events: list[tuple] = [
        (ts, 0, trade_id, pair, (ts, pnl, r))
        for ts, trade_id, pair, pnl, r in real
        if r == r  # NaN: no risk record, not counted
    ]
    events += [(item.closed_ts, 1, item.id, item.pair, item.is_win) for item in paper]
    events += [(item.at, 2, item.lock_id, item.pair, None) for item in unlocks]
    events.sort(key=lambda event: event[:3])
    return events


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    """The manager warns on every disabling: right for a bot, noise for a report of history."""
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
