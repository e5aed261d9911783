"""Candles read lazily from feather files, resampled on demand, cut by the replay clock.

Arrays, not DataFrames, are cached: a klines request is then two binary searches and a
slice, cheap enough for a bot that refreshes every pair every few seconds.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pyarrow import ArrowException as ArrowError

from freqtrade_quant_plugin.offline.cleaning import clean_candle_frame
from freqtrade_quant_plugin.offline.datadir import DataInventory, Instrument, timeframe_ms
from freqtrade_quant_plugin.offline.replay import ReplayClock

logger = logging.getLogger(__name__)

OPEN, HIGH, LOW, CLOSE, VOLUME = range(5)
DAY_MS = 86_400_000
UNREADABLE = (OSError, ValueError, KeyError, TypeError, ArrowError)  # what a bad file raises


class UnknownIntervalError(LookupError):
    """The timeframe is neither stored nor derivable from a stored one."""


@dataclass(frozen=True)
class Candles:
    """Candles in stored time: open times in ms and an (n, 5) OHLCV array, oldest first."""

    open_ms: np.ndarray
    values: np.ndarray
    timeframe_ms: int

    def __len__(self) -> int:
        return len(self.open_ms)


def read_candle_file(path: Path, timeframe: str, kind: str = "spot") -> Candles:
    """Candles of one file, cleaned the way Freqtrade cleans them (see `cleaning`).

    A file that cannot be read at all serves no candles (the pair then has no market
    data, as a delisted one), with an error naming it, instead of failing every request.
    """
    try:
        frame = clean_candle_frame(pd.read_feather(path), path, kind)
    except UNREADABLE as error:
        logger.error("Candle file %s cannot be read, serving no candles from it: %s", path, error)
        empty = np.empty((0, 5), dtype=np.float64)
        return Candles(np.empty(0, dtype=np.int64), empty, timeframe_ms(timeframe))
    open_ms = pd.DatetimeIndex(frame["date"]).as_unit("ms").asi8.astype(np.int64)
    values = frame[["open", "high", "low", "close", "volume"]].to_numpy(dtype=np.float64)
    return Candles(open_ms, values, timeframe_ms(timeframe))


def resample(source: Candles, target_ms: int) -> Candles:
    """Group finer candles into UTC-aligned buckets of `target_ms` (Binance's epoch grid)."""
    bucket = source.open_ms // target_ms * target_ms
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)] - 1
    values = np.column_stack(
        [
            source.values[starts, OPEN],
            np.maximum.reduceat(source.values[:, HIGH], starts),
            np.minimum.reduceat(source.values[:, LOW], starts),
            source.values[ends, CLOSE],
            np.add.reduceat(source.values[:, VOLUME], starts),
        ]
    )
    return Candles(bucket[starts], values, target_ms)


class CandleStore:
    """Serves stored candles of one datadir; thread-safe, each file read at most once."""

    def __init__(self, inventory: DataInventory, clock: ReplayClock | None = None) -> None:
        self.inventory = inventory
        self.clock = clock
        self._cache: dict[tuple[str, str, str, str], Candles] = {}
        self._lock = threading.Lock()
        stored = [timeframe_ms(tf) for tf, _ in inventory.all_files()]
        # The replay offset is a whole number of grid periods, so every timeframe that
        # divides the grid keeps Binance's UTC boundaries: up to a day is always served.
        self.grid_ms = max([DAY_MS, *stored])

    def candles(self, instrument: Instrument, kind: str, timeframe: str) -> Candles:
        """All stored candles (no clock applied) of a stored or derivable timeframe."""
        key = (instrument.symbol, instrument.settle or "", kind, timeframe)
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None:
            return cached
        loaded = self._load(instrument, kind, timeframe)
        with self._lock:
            return self._cache.setdefault(key, loaded)

    def _load(self, instrument: Instrument, kind: str, timeframe: str) -> Candles:
        stored = instrument.timeframes(kind)
        if timeframe in stored:
            logger.debug("Loading %s", stored[timeframe])
            return read_candle_file(stored[timeframe], timeframe, kind)
        try:
            target = timeframe_ms(timeframe)
        except ValueError:
            raise UnknownIntervalError(timeframe) from None
        divisors = [tf for tf in stored if target % timeframe_ms(tf) == 0]
        if not divisors or self.grid_ms % target:
            raise UnknownIntervalError(timeframe)
        source_tf = max(divisors, key=timeframe_ms)
        return resample(self.candles(instrument, kind, source_tf), target)

    def finest_timeframe(self, instrument: Instrument, kind: str) -> str | None:
        stored = instrument.timeframes(kind)
        return min(stored, key=timeframe_ms) if stored else None

    def visible_end(self, candles: Candles) -> int:
        """Number of candles whose open time is not in the future (all in backtest mode)."""
        if self.clock is None:
            return len(candles)
        return int(np.searchsorted(candles.open_ms, self.clock.stored_now_ms(), side="right"))

    def closed_end(self, candles: Candles) -> int:
        """Number of candles that are complete at the current clock."""
        end = self.visible_end(candles)
        if self.clock is not None and end and self._is_forming(candles, end - 1):
            end -= 1
        return end

    def _is_forming(self, candles: Candles, index: int) -> bool:
        assert self.clock is not None
        return int(candles.open_ms[index]) + candles.timeframe_ms > self.clock.stored_now_ms()

    def select(
        self, candles: Candles, start_ms: int | None, end_ms: int | None, limit: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Binance klines selection, in stored time: from start (or the newest) up to limit.

        Returns open times and values; in replay mode the forming candle is flattened.
        """
        visible = self.visible_end(candles)
        high = visible
        if end_ms is not None:
            high = min(high, int(np.searchsorted(candles.open_ms, end_ms, side="right")))
        if start_ms is not None:
            low = int(np.searchsorted(candles.open_ms, start_ms, side="left"))
            high = min(high, low + limit)
        else:
            low = max(0, high - limit)
        if low >= high:
            return candles.open_ms[:0], candles.values[:0]
        times = candles.open_ms[low:high]
        values = candles.values[low:high]
        if self.clock is not None and high == visible and self._is_forming(candles, high - 1):
            values = values.copy()
            values[-1, HIGH : CLOSE + 1] = values[-1, OPEN]
            values[-1, VOLUME] = 0.0
        return times, values

    def latest_stored_ms(self) -> int:
        """Newest candle open time across every file: the replay clock's anchor."""
        newest = 0
        for timeframe, path in self.inventory.all_files():
            try:
                dates = pd.read_feather(path, columns=["date"])["date"].dropna()
            except UNREADABLE:
                continue  # reported once when its candles are read
            if len(dates):
                last = pd.DatetimeIndex(dates).as_unit("ms").asi8.max()
                newest = max(newest, int(last))
            logger.debug("Scanned %s (%s)", path.name, timeframe)
        return newest
