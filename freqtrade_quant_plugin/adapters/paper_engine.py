"""Follows the entry signals of disabled pairs as paper trades, from the strategy's loop.

Driven from the strategy's `bot_loop_start(current_time)`, live and in backtests alike.
Each call reads, for every disabled pair, only the analysed candles that have CLOSED by
`current_time` (dated <= current_time - timeframe) and that it has not read before: a
signal candle opens a paper trade at its close (core.paper_trading), later candles resolve
it, and the result counts towards re-enabling the pair as soon as the resolving candle
has closed. No row after `current_time` is ever read, whatever the data source holds.

Where the candles come from:
- backtests: Freqtrade's analysed frame of the pair (`dp.get_analyzed_dataframe`), which
  there ends one candle before the last closed one at bot_loop_start time, so a paper
  result counts one candle later than live (never earlier);
- live and dry-run: a disabled pair dropped from the whitelist is no longer analysed by
  Freqtrade, so the strategy lists disabled pairs in `informative_pairs` (Freqtrade keeps
  downloading their candles) and the engine runs the strategy's `advise_indicators` and
  `advise_entry` on them itself, once per new candle.

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
import pandas as pd
from freqtrade.enums import RunMode
from freqtrade.exchange import timeframe_to_seconds

from freqtrade_quant_plugin.adapters.closed_trades import epoch
from freqtrade_quant_plugin.adapters.pair_locks import release_pair_lock
from freqtrade_quant_plugin.adapters.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.adapters.paper_store import StoredPaperTrade
from freqtrade_quant_plugin.core.costs import CostModel
from freqtrade_quant_plugin.core.exit_policy import ExitParams
from freqtrade_quant_plugin.core.paper_trading import Candle, PaperTrade
from freqtrade_quant_plugin.core.stop_levels import StopRules

logger = logging.getLogger(__name__)

_LIVE_MODES = (RunMode.LIVE, RunMode.DRY_RUN)


@dataclass
class _PairProgress:
    last_seen: int  # opening time of the last candle read
    open_trade: StoredPaperTrade | None


class PaperTradeEngine:
    """Paper trades of the disabled pairs of one strategy."""

    def __init__(
        self,
        strategy: Any,
        tracker: PairPerformanceTracker,
        exit_policy: dict[str, ExitParams],
        cost_model: CostModel,
    ) -> None:
        self._strategy = strategy
        self._tracker = tracker
        self._rules = {regime: StopRules.from_exit_params(p) for regime, p in exit_policy.items()}
        self._costs = cost_model
        self._timeframe = strategy.timeframe
        self._tf_seconds = timeframe_to_seconds(strategy.timeframe)
        self._generation = -1
        self._progress: dict[str, _PairProgress] = {}
        self._live_frames: dict[str, tuple[int, pd.DataFrame]] = {}

    def advance(self, current_time: datetime) -> None:
        """Read the candles closed by `current_time` for every disabled pair."""
        if self._generation != self._tracker.generation:
            self._generation = self._tracker.generation
            self._progress.clear()
            self._live_frames.clear()
        cutoff = epoch(current_time) - self._tf_seconds
        for pair in self._tracker.disabled_pairs():
            progress = self._progress.get(pair) or self._start(pair)
            if progress is None:
                continue
            frame = self._closed_frame(pair, cutoff)
            if frame is None:
                continue
            if self._follow(pair, progress, frame, current_time):
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

    def _follow(
        self, pair: str, progress: _PairProgress, frame: pd.DataFrame, current_time: datetime
    ) -> bool:
        """Feed the new closed candles; True once the pair is re-enabled."""
        dates = _epoch_seconds(frame["date"])
        start = int(np.searchsorted(dates, progress.last_seen, side="right"))
        if start >= dates.shape[0]:
            return False
        columns = {
            name: frame[name].to_numpy()[start:]
            for name in ("open", "high", "low", "close", "atr", "regime")
        }
        long_signal = _signal(frame, "enter_long")[start:]
        short_signal = _signal(frame, "enter_short")[start:] if self._can_short else None
        moved = False
        for offset, date in enumerate(dates[start:].tolist()):
            progress.last_seen = date
            stored = progress.open_trade
            if stored is not None:
                candle = Candle(
                    date,
                    float(columns["open"][offset]),
                    float(columns["high"][offset]),
                    float(columns["low"][offset]),
                    float(columns["close"][offset]),
                )
                outcome = stored.trade.feed(candle)
                moved = True
                if outcome is None:
                    continue
                self._tracker.paper_store.close(stored.id, stored.trade, outcome)
                progress.open_trade, moved = None, False
                logger.info(
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
            is_short = short_signal is not None and bool(short_signal[offset])
            if bool(long_signal[offset]) or is_short:
                progress.open_trade = self._open(
                    pair,
                    is_short=is_short and not bool(long_signal[offset]),
                    signal_date=date,
                    close=float(columns["close"][offset]),
                    atr=float(columns["atr"][offset]),
                    regime=str(columns["regime"][offset]),
                )
        if moved and progress.open_trade is not None:
            self._tracker.paper_store.save_progress(
                progress.open_trade.id, progress.open_trade.trade
            )
        return False

    def _open(
        self, pair: str, *, is_short: bool, signal_date: int, close: float, atr: float, regime: str
    ) -> StoredPaperTrade | None:
        rules = self._rules.get(regime)
        if rules is None or not (atr > 0) or not (close > 0):
            return None  # UNKNOWN regime or no ATR yet: the strategy would not enter either
        action = "SHORT" if is_short else "LONG"
        sign = -1.0 if is_short else 1.0
        try:
            breakeven = self._costs.breakeven_price(
                close, close - sign * rules.k1_SL * atr, 1.0, atr, action=action
            )
            trade = PaperTrade.open(
                pair=pair,
                is_short=is_short,
                regime=regime,
                opened_at=signal_date + self._tf_seconds,
                timeframe_seconds=self._tf_seconds,
                entry_price=close,
                atr=atr,
                rules=rules,
                breakeven_price=breakeven,
            )
        except ValueError as error:
            logger.info("No paper trade for %s: %s", pair, error)
            return None
        paper_id = self._tracker.paper_store.add(trade)
        logger.debug(
            "Paper trade %s %s opened at %.8g (%s, stop %.8g, target %.8g)",
            pair,
            action.lower(),
            close,
            regime,
            trade.initial_stop,
            trade.take_profit,
        )
        return StoredPaperTrade(paper_id, trade)

    @property
    def _can_short(self) -> bool:
        return bool(getattr(self._strategy, "can_short", False)) and (
            self._strategy.config.get("trading_mode", "spot") != "spot"
        )

    def _closed_frame(self, pair: str, cutoff: int) -> pd.DataFrame | None:
        """The analysed candles of the pair dated <= cutoff (None when there are none)."""
        dp = self._strategy.dp
        frame, _ = dp.get_analyzed_dataframe(pair, self._timeframe)
        if dp.runmode in _LIVE_MODES and (frame.empty or _last_date(frame) < cutoff):
            frame = self._analyse_live(pair)
        if frame is None or frame.empty:
            return None
        dates = _epoch_seconds(frame["date"])
        end = int(np.searchsorted(dates, cutoff, side="right"))
        return frame.iloc[:end] if end else None

    def _analyse_live(self, pair: str) -> pd.DataFrame | None:
        """Indicators and entry signals of a pair Freqtrade no longer analyses itself."""
        raw = self._strategy.dp.get_pair_dataframe(pair, self._timeframe)
        if raw is None or raw.empty:
            logger.info("No candles for disabled %s yet (is it in informative_pairs?)", pair)
            return None
        last = _last_date(raw)
        cached = self._live_frames.get(pair)
        if cached is not None and cached[0] == last:
            return cached[1]
        metadata = {"pair": pair}
        frame = self._strategy.advise_indicators(raw.copy(), metadata)
        frame = self._strategy.advise_entry(frame, metadata)
        self._live_frames[pair] = (last, frame)
        return frame


def _signal(frame: pd.DataFrame, column: str) -> np.ndarray:
    if column not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return frame[column].fillna(0).to_numpy(dtype=np.float64) == 1


def _epoch_seconds(dates: pd.Series) -> np.ndarray:
    values = pd.to_datetime(dates, utc=True)
    return values.dt.tz_localize(None).to_numpy(dtype="datetime64[s]").astype(np.int64)


def _last_date(frame: pd.DataFrame) -> int:
    return int(_epoch_seconds(frame["date"].iloc[-1:])[0])
