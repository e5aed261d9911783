"""The per-pair performance state every Freqtrade piece of the plugin reads.

The pairlist filter, the protection, the strategy's sizing and the paper-trade engine must
agree on whether a pair is disabled and how much risk it gets, so one tracker per process
and settings holds that state (`get_tracker`). It wraps the pure SymbolPerformanceManager
and feeds it incrementally from Freqtrade's closed trades (see closed_trades.py) and from
resolved paper trades. Where the trades come from follows Freqtrade's own switch,
`Trade.use_db`: the trade database live and in dry-run, the backtester's trade list in
backtests (a new backtest run starts from a clean state).

Restart: the first sync in database mode replays every closed trade, every resolved
paper trade and every plugin lock removed by hand in time order, which reproduces the
state the bot had before it stopped (per pair, real and paper results alternate strictly:
paper trades only run while the pair is disabled, and a disabled pair has no real trade).

What counts (see closed_trades): a closed trade with the plugin's risk money, at its net
R, a win when its realised profit is > 0. Trades without that record (a first start on a
database that holds history from before the plugin, another strategy's trades) are not
plugin evidence: they are left out and logged, so no pair is disabled on day one by
losses the plugin never sized.

Manual override: removing a plugin lock by hand (`/unlock`, FreqUI) re-enables the pair
from that moment with a fresh losing streak; it is logged, announced like the plugin's
own transitions, and the pair is locked again only once it earns a new disable.

Processes: a tracker holds a lock and, live, the database engine, so it never travels
between processes. Pickling one (hyperopt sends the strategy and its protections to its
worker processes) stands for "the tracker of these settings": unpickled, it is the
receiving process's own tracker (`__reduce__`), created there on first use.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from freqtrade.exceptions import OperationalException
from freqtrade.persistence import Trade

from freqtrade_quant_plugin.adapters.pairs.closed_trades import (
    BacktestTradeFeed,
    ClosedTrade,
    DatabaseTradeFeed,
    RiskMoneyLookup,
)
from freqtrade_quant_plugin.adapters.pairs.pair_events import (
    DISABLED,
    REENABLED,
    REENABLED_BY_HAND,
    PairEvent,
    disable_message,
    reenable_message,
    unlock_message,
)
from freqtrade_quant_plugin.adapters.pairs.pair_locks import HandUnlockFeed
from freqtrade_quant_plugin.adapters.pairs.paper_store import ClosedPaperTrade, PaperTradeStore
from freqtrade_quant_plugin.adapters.pairs.snapshot_file import snapshot_mode
from freqtrade_quant_plugin.core.plugin_locks import HandUnlock
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.symbol_performance import (
    SymbolPerformanceConfig,
    SymbolPerformanceManager,
    SymbolStats,
    save_snapshot,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError

logger = logging.getLogger(__name__)

DATABASE = "database"
BACKTEST = "backtest"


class PairPerformanceTracker:
    """Symbol performance fed incrementally from Freqtrade's closed trades and paper results."""

    def __init__(self, config: SymbolPerformanceConfig) -> None:
        self.config = config
        self.risk_money_of: RiskMoneyLookup | None = None
        self.generation = 0  # bumped whenever the state starts over
        self._lock = threading.RLock()
        self._mode: str | None = None
        self._warned_no_database = False
        self._reset(None)

    def __reduce__(self) -> tuple[Any, tuple[SymbolPerformanceConfig]]:
        """Pickled by reference: the receiving process's tracker for the same settings."""
        return process_tracker, (self.config,)

    # --- feeding -------------------------------------------------------------------------

    def sync(self) -> None:
        """Take in the trades closed since the last call (all of them after a (re)start)."""
        with self._lock:
            mode = DATABASE if Trade.use_db else BACKTEST
            restarted = isinstance(self._feed, BacktestTradeFeed) and self._feed.restarted
            if mode != self._mode or restarted:
                self._reset(mode)
            if mode == DATABASE and not hasattr(Trade, "session"):
                if not self._warned_no_database:
                    logger.info("No trade database in this mode: all pairs count as enabled")
                    self._warned_no_database = True
                return
            trades = self._feed.new_closed()
            unlocks = self._unlocks.new() if mode == DATABASE else []
            if not self._replayed:
                self._replay(trades, unlocks)
            elif trades or unlocks:
                for _, _, _, item in _in_time_order(trades, [], unlocks):
                    self._apply(item, announce=True)
                self._save_snapshot()

    def record_paper(self, pair: str, at: int, is_win: bool) -> bool:
        """Count a resolved paper trade; True when it re-enabled the pair."""
        with self._lock:
            enabled = self._apply_paper(pair, at, is_win, announce=True)
            self._save_snapshot()
            return enabled

    def _replay(self, trades: list[ClosedTrade], unlocks: list[HandUnlock]) -> None:
        """Rebuild from history in time order; past transitions are not announced again."""
        paper = self.paper_store.closed_trades() if self._mode == DATABASE else []
        for _, _, _, item in _in_time_order(trades, paper, unlocks):
            self._apply(item, announce=False)
        self._replayed = True
        if trades or paper or unlocks:
            logger.info(
                "Symbol performance rebuilt from %d closed trades, %d paper trades and %d "
                "locks removed by hand; disabled pairs: %s",
                len(trades),
                len(paper),
                len(unlocks),
                ", ".join(self.disabled_pairs()) or "none",
            )
            self._save_snapshot()
        if self._skipped:
            logger.info(
                "Symbol performance leaves out %d closed trades without the plugin's risk "
                "record (history from before the plugin, or another strategy's): %s",
                self._skipped.total(),
                ", ".join(f"{pair} {count}" for pair, count in sorted(self._skipped.items())),
            )

    def _apply(self, item: ClosedTrade | ClosedPaperTrade | HandUnlock, *, announce: bool) -> None:
        if isinstance(item, ClosedPaperTrade):
            self._apply_paper(item.pair, item.closed_at, item.is_win, announce=announce)
        elif isinstance(item, HandUnlock):
            self._apply_unlock(item, announce=announce)
        else:
            self._apply_trade(item, announce=announce)

    def _apply_trade(self, trade: ClosedTrade, *, announce: bool) -> None:
        if trade.r_multiple is None:
            self._skipped[trade.pair] += 1
            if announce:
                logger.info(
                    "Trade %s (%s) closed without the plugin's risk record: not counted in "
                    "symbol performance",
                    trade.trade_id,
                    trade.pair,
                )
            return
        was_enabled = self.manager.should_trade_symbol(trade.pair)
        stats = self.manager.update_stats(trade.pair, trade.pnl, trade.r_multiple, trade.is_win)
        if was_enabled and not stats.is_enabled:
            self._disabled_at[trade.pair] = trade.closed_at
            if announce:
                self._events.append(
                    PairEvent(
                        trade.pair, DISABLED, trade.closed_at, disable_message(stats, self.config)
                    )
                )

    def _apply_unlock(self, unlock: HandUnlock, *, announce: bool) -> None:
        """A person removed the pair's plugin lock: the pair trades again from then on."""
        if self.manager.should_trade_symbol(unlock.pair):
            return
        self.manager.override_disable(unlock.pair)
        self._disabled_at.pop(unlock.pair, None)
        self.paper_store.cancel_open(unlock.pair)
        if announce:
            message = unlock_message(unlock.pair, self.config)
            self._events.append(PairEvent(unlock.pair, REENABLED_BY_HAND, unlock.at, message))

    def _apply_paper(self, pair: str, at: int, is_win: bool, *, announce: bool) -> bool:
        if self.manager.should_trade_symbol(pair):
            return False
        stats = self.manager.record_paper_trade(pair, is_win)
        if not stats.is_enabled:
            return False
        self._disabled_at.pop(pair, None)
        if announce:
            self._events.append(PairEvent(pair, REENABLED, at, reenable_message(pair, self.config)))
        return True

    def _reset(self, mode: str | None) -> None:
        self._mode = mode
        self.manager = SymbolPerformanceManager(self.config, persistence_file=None)
        self._disabled_at: dict[str, int] = {}
        self._events: list[PairEvent] = []
        self._replayed = mode == BACKTEST  # a backtest starts empty: nothing to replay
        self._skipped: Counter[str] = Counter()  # closed trades without the risk record
        self._unlocks = HandUnlockFeed()
        self._feed: DatabaseTradeFeed | BacktestTradeFeed
        if mode == BACKTEST:
            self._feed = BacktestTradeFeed(self.risk_money_of)
            self.paper_store = PaperTradeStore.in_memory()
        else:
            self._feed = DatabaseTradeFeed()
            self.paper_store = (
                PaperTradeStore(Trade.session.get_bind())
                if mode == DATABASE and hasattr(Trade, "session")
                else PaperTradeStore.in_memory()
            )
        self.generation += 1

    def _save_snapshot(self) -> None:
        """Live and dry-run only: a backtest's statistics must never replace the bot's."""
        if self.config.persistence_file and self.uses_database:
            path = Path(self.config.persistence_file)
            save_snapshot(path, self.manager.all_stats(), snapshot_mode())

    # --- reading -------------------------------------------------------------------------

    @property
    def uses_database(self) -> bool:
        """Live and dry-run: trades, paper trades and pair locks are in Freqtrade's DB."""
        return self._mode == DATABASE and hasattr(Trade, "session")

    def set_risk_money_lookup(self, lookup: RiskMoneyLookup | None) -> None:
        """Backtests: where the strategy keeps each trade's risk money (see closed_trades)."""
        with self._lock:
            self.risk_money_of = lookup
            if isinstance(self._feed, BacktestTradeFeed):
                self._feed.risk_money_of = lookup

    def is_enabled(self, pair: str) -> bool:
        return self.manager.should_trade_symbol(pair)

    def stats(self, pair: str) -> SymbolStats:
        return self.manager.get_stats(pair)

    def risk_modifier(self, pair: str) -> float:
        """Fraction of normal risk for the pair, from every trade closed so far."""
        self.sync()
        return self.manager.get_risk_modifier(pair)

    def disabled_pairs(self) -> list[str]:
        return sorted(
            pair for pair, stats in self.manager.all_stats().items() if not stats.is_enabled
        )

    def disabled_since(self, pair: str) -> int | None:
        """Epoch seconds of the close that disabled the pair (None while it is enabled)."""
        return self._disabled_at.get(pair)

    def take_events(self) -> list[PairEvent]:
        with self._lock:
            events, self._events = self._events, []
            return events


def _in_time_order(
    trades: list[ClosedTrade], paper: list[ClosedPaperTrade], unlocks: list[HandUnlock]
) -> list[tuple[int, int, int, ClosedTrade | ClosedPaperTrade | HandUnlock]]:
    """By time; within a second real trades, then paper trades, then removed locks."""
    merged: list[tuple[int, int, int, ClosedTrade | ClosedPaperTrade | HandUnlock]] = [
        (trade.closed_at, 0, trade.trade_id, trade) for trade in trades
    ]
    merged += [(item.closed_at, 1, item.id, item) for item in paper]
    merged += [(item.at, 2, item.lock_id, item) for item in unlocks]
    merged.sort(key=lambda entry: entry[:3])
    return merged


_trackers: dict[SymbolPerformanceConfig, PairPerformanceTracker] = {}
_NEVER = 2**62  # a losing streak no run reaches
_trackers_lock = threading.Lock()


def get_tracker(config: Mapping[str, Any]) -> PairPerformanceTracker:
    """The process-wide tracker for this Freqtrade config's symbol-performance settings."""
    try:
        loaded = QuantSettings.load(config.get("quant"), os.environ)
    except QuantConfigError as error:
        # OperationalException: a clean start-up refusal with a non-zero exit.
        raise OperationalException(str(error)) from error
    settings = loaded.symbol_performance
    if not loaded.layers.pair_disabling:
        # The layer off: no losing streak is ever long enough, so no pair is disabled, the
        # filter and protection pass every pair and no paper trade is kept (the risk
        # modifier still learns from the trades, unless its own layer is off).
        settings = dataclasses.replace(settings, consecutive_loss_disable_threshold=_NEVER)
    return process_tracker(settings)


def process_tracker(settings: SymbolPerformanceConfig) -> PairPerformanceTracker:
    """This process's tracker for these settings, created on first use."""
    with _trackers_lock:
        tracker = _trackers.get(settings)
        if tracker is None:
            tracker = _trackers[settings] = PairPerformanceTracker(settings)
        return tracker
