"""Follows the entry signals of disabled pairs as paper trades, from the strategy's loop.

Driven from the strategy's `bot_loop_start(current_time)`, live and in backtests alike.
Each call reads, for every disabled pair, only the analysed candles that have CLOSED by
`current_time` (dated <= current_time - timeframe) and that it has not read before: a
signal candle opens a paper trade at its close (core.paper_trading), later candles resolve
it, and the result counts towards re-enabling the pair as soon as the resolving candle
has closed. No row after `current_time` is ever read, whatever the data source holds.

Where the candles come from: the strategy's signal table (`adapters/signal_rows.py`),
numpy arrays of each analysed frame and its entry signals recorded by the strategy's
`populate_indicators` and `advise_entry`, so a call costs two binary searches and the new
rows (usually one) per disabled pair, and no pandas.
- backtests: Freqtrade analyses every pair of the run once, so the table holds the whole
  frame, later candles included; the engine reads it only up to `current_time` minus one
  timeframe, like a live bot;
- live and dry-run: a disabled pair dropped from the whitelist is no longer analysed by
  Freqtrade, so the strategy lists disabled pairs in `informative_pairs` (Freqtrade keeps
  downloading their candles) and the engine runs the strategy's `advise_indicators` and
  `advise_entry` on them itself (which records them in the table), once per new candle.

Exit rules and fee: each paper trade takes them from the strategy's
`paper_entry_terms(pair, row, is_short)`, which answers with what a real entry on that
signal candle would get (the strategy's `stop_rules`, hyperopt results included, and the
fee Freqtrade charges), or None where the strategy would not enter at all.

Rules: the first candle after the one that disabled the pair (the disabling close
included) can signal; one paper trade per pair at a time; a candle that resolves a paper
trade does not open the next one. Open paper trades live in the plugin's table and resume
after a restart; so does the position of the last candle read. Re-enabling lifts the
pair's symbol-performance lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds

from freqtrade_quant_plugin.adapters.pairs.closed_trades import epoch
from freqtrade_quant_plugin.adapters.pairs.pair_locks import release_pair_lock
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.adapters.pairs.paper_store import StoredPaperTrade
from freqtrade_quant_plugin.adapters.signal_rows import PairColumns, SignalRow
from freqtrade_quant_plugin.core.paper_trading import Candle, PaperTrade

logger = logging.getLogger(__name__)

_LIVE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)


@dataclass
class _PairProgress:
    last_seen: int  # opening time of the last candle read
    open_trade: StoredPaperTrade | None


class PaperTradeEngine:
    """Paper trades of the disabled pairs of one strategy."""

    def __init__(self, strategy: Any, tracker: PairPerformanceTracker) -> None:
        """`strategy` provides `signal_table`, `dp`, `timeframe`, `can_short`, `config`,
        `paper_entry_terms`, `log_decision`, and live `advise_indicators` / `advise_entry`."""
        self._strategy = strategy
        self._tracker = tracker
        self._timeframe = strategy.timeframe
        self._tf_seconds = timeframe_to_seconds(strategy.timeframe)
        self._can_short = bool(getattr(strategy, "can_short", False)) and (
            strategy.config.get("trading_mode", "spot") != "spot"
        )
        self._generation = -1
        self._progress: dict[str, _PairProgress] = {}
        self._live_analysed: dict[str, int] = {}  # pair -> last raw candle analysed live

    def advance(self, current_time: datetime) -> None:
        """Read the candles closed by `current_time` for every disabled pair."""
        if self._generation != self._tracker.generation:
            self._generation = self._tracker.generation
            self._progress.clear()
            self._live_analysed.clear()
        cutoff = epoch(current_time) - self._tf_seconds
        live = self._strategy.dp.runmode in _LIVE_MODES
        disabled = self._tracker.disabled_pairs()
        for pair in set(self._progress) - set(disabled):  # re-enabled by hand
            del self._progress[pair]
        for pair in disabled:
            progress = self._progress.get(pair) or self._start(pair)
            if progress is None:
                continue
            columns = self._analysed(pair, cutoff, live)
            if columns is None:
                continue
            if self._follow(pair, progress, columns, cutoff, current_time, live):
                del self._progress[pair]

    def _start(self, pair: str) -> _PairProgress | None:
        disabled_at = self._tracker.disabled_since(pair)
        if disabled_at is None:
            return None
        store = self._tracker.paper_store
        open_trade = next((t for t in store.open_trades() if t.trade.pair == pair), None)
        last_seen = disabled_at - self._tf_seconds
        for candidate in (open_trade and open_trade.trade.last_candle, store.last_candle(pair)):
            if candidate is not None:
                last_seen = max(last_seen, candidate)
        progress = self._progress[pair] = _PairProgress(last_seen, open_trade)
        return progress

    def _analysed(self, pair: str, cutoff: int, live: bool) -> PairColumns | None:
        """The pair's analysed candles with entry signals (None when there are none yet)."""
        table = self._strategy.signal_table
        columns = table.columns(pair)
        if live and not _covers(columns, cutoff):
            self._analyse_live(pair)
            columns = table.columns(pair)
        if columns is None or columns.enter_long is None:
            return None
        return columns

    def _follow(
        self,
        pair: str,
        progress: _PairProgress,
        columns: PairColumns,
        cutoff: int,
        current_time: datetime,
        live: bool,
    ) -> bool:
        """Feed the new closed candles (dated <= cutoff); True once the pair is re-enabled.

        An open paper trade's progress is stored for a bot's restart; a backtest has none,
        and storing it on every candle would be most of the engine's cost there.
        """
        dates = columns.dates
        start = int(np.searchsorted(dates, progress.last_seen, side="right"))
        end = int(np.searchsorted(dates, cutoff, side="right"))
        moved = False
        for index in range(start, end):
            date = int(dates[index])
            progress.last_seen = date
            stored = progress.open_trade
            if stored is not None:
                candle = Candle(
                    date,
                    float(columns.open[index]),
                    float(columns.high[index]),
                    float(columns.low[index]),
                    float(columns.close[index]),
                )
                outcome = stored.trade.feed(candle)
                moved = True
                if outcome is None:
                    continue
                self._tracker.paper_store.close(stored.id, stored.trade, outcome)
                progress.open_trade, moved = None, False
                self._strategy.log_decision(
                    "Paper trade %s %s closed: %s at %.8g, %.2fR (%s)",
                    pair,
                    "short" if stored.trade.is_short else "long",
                    outcome.exit_reason,
                    outcome.exit_price,
                    outcome.r_multiple,
                    "win" if outcome.is_win else "loss",
                )
                if self._tracker.record_paper(pair, outcome.exit_time, outcome.is_win):
                    release_pair_lock(pair, current_time)
                    return True
                continue
            is_long = bool(columns.enter_long[index])
            is_short = self._can_short and bool(columns.enter_short[index])
            if is_long or is_short:
                row = SignalRow(
                    date=date,
                    atr=float(columns.atr[index]),
                    regime=str(columns.regime[index]),
                    volatility_regime=str(columns.volatility_regime[index]),
                    close=float(columns.close[index]),
                    volume=float(columns.volume[index]),
                )
                progress.open_trade = self._open(pair, row, is_short=is_short and not is_long)
        if live and moved and progress.open_trade is not None:
            self._tracker.paper_store.save_progress(
                progress.open_trade.id, progress.open_trade.trade
            )
        return False

    def _open(self, pair: str, row: SignalRow, *, is_short: bool) -> StoredPaperTrade | None:
        terms = self._strategy.paper_entry_terms(pair, row, is_short=is_short)
        if terms is None:
            return None  # the strategy would not enter on this candle either
        try:
            trade = PaperTrade.open(
                pair=pair,
                is_short=is_short,
                regime=row.regime,
                opened_at=row.date + self._tf_seconds,
                timeframe_seconds=self._tf_seconds,
                entry_price=row.close,
                atr=row.atr,
                rules=terms.rules,
                breakeven_price=terms.breakeven_price,
            )
        except ValueError as error:
            logger.info("No paper trade for %s: %s", pair, error)
            return None
        paper_id = self._tracker.paper_store.add(trade)
        logger.debug(
            "Paper trade %s %s opened at %.8g (%s, stop %.8g, target %.8g)",
            pair,
            "short" if is_short else "long",
            row.close,
            row.regime,
            trade.initial_stop,
            trade.take_profit,
        )
        return StoredPaperTrade(paper_id, trade)

    def _analyse_live(self, pair: str) -> None:
        """Indicators and entry signals of a pair Freqtrade no longer analyses itself; the
        strategy records them in its signal table."""
        raw = self._strategy.dp.get_pair_dataframe(pair, self._timeframe)
        if raw is None or raw.empty:
            logger.info("No candles for disabled %s yet (is it in informative_pairs?)", pair)
            return
        last = epoch(raw["date"].iloc[-1])
        if self._live_analysed.get(pair) == last:
            return
        metadata = {"pair": pair}
        frame = self._strategy.advise_indicators(raw.copy(), metadata)
        self._strategy.advise_entry(frame, metadata)
        self._live_analysed[pair] = last


def _covers(columns: PairColumns | None, cutoff: int) -> bool:
    """Whether the recorded candles, signals included, reach the last closed candle."""
    return (
        columns is not None
        and columns.enter_long is not None
        and columns.dates.shape[0] > 0
        and int(columns.dates[-1]) >= cutoff
    )
