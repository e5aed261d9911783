"""O(log n) lookups of the analysed candles a callback needs, without pandas per call.

Freqtrade calls the per-trade callbacks once per candle and open trade; a DataFrame lookup
there costs more than the whole decision. `populate_indicators` records each pair's
columns as numpy arrays once, `advise_entry` adds the entry signals, and callbacks and the
paper-trade engine binary-search the candle dates.

The signal candle of an entry at `current_time` is the last CLOSED candle, dated
`<= current_time - timeframe`: backtesting enters at the open of the candle after the
signal, and a live bot only analyses closed candles.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)


class SignalRow(NamedTuple):
    """The regime columns of one analysed candle."""

    date: int  # epoch seconds of the candle's open
    atr: float
    regime: str
    volatility_regime: str
    close: float
    volume: float


class CandleRange(NamedTuple):
    high: float
    low: float


class PairColumns(NamedTuple):
    """One pair's analysed candles; the signals are None until `advise_entry` ran."""

    dates: np.ndarray  # int64 epoch seconds, ascending
    atr: np.ndarray
    regime: np.ndarray
    volatility_regime: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    enter_long: np.ndarray | None = None  # bool, aligned with `dates`
    enter_short: np.ndarray | None = None


def epoch_seconds(dates: pd.Series) -> np.ndarray:
    """Candle dates (tz-aware, any resolution) as int64 seconds since the epoch."""
    values = (
        dates.to_numpy(dtype="datetime64[ns]")
        if dates.dt.tz is None
        else (dates.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"))
    )
    return values.astype("datetime64[s]").astype(np.int64)


def _floats(dataframe: pd.DataFrame, column: str) -> np.ndarray:
    return dataframe[column].to_numpy(dtype=np.float64, copy=True)


def _entry_flags(dataframe: pd.DataFrame, column: str) -> np.ndarray:
    """Freqtrade's rule: a signal is a 1 in the column (absent column: no signal)."""
    if column not in dataframe.columns:
        return np.zeros(len(dataframe), dtype=bool)
    return dataframe[column].fillna(0).to_numpy(dtype=np.float64) == 1


class SignalTable:
    """Per pair: the analysed candles' dates, ATR, regimes, OHLCV and entry signals."""

    def __init__(self) -> None:
        self._pairs: dict[str, PairColumns] = {}

    def record(self, pair: str, dataframe: pd.DataFrame) -> None:
        """Keep the columns of a freshly analysed frame (replaces the pair's previous ones).

        Signals present in it are stale (left from an earlier run), so none are kept.
        """
        self._pairs[pair] = PairColumns(
            dates=epoch_seconds(dataframe["date"]),
            atr=_floats(dataframe, "atr"),
            regime=dataframe["regime"].to_numpy(dtype=object, copy=True),
            volatility_regime=dataframe["volatility_regime"].to_numpy(dtype=object, copy=True),
            open=_floats(dataframe, "open"),
            high=_floats(dataframe, "high"),
            low=_floats(dataframe, "low"),
            close=_floats(dataframe, "close"),
            volume=_floats(dataframe, "volume"),
        )

    def record_signals(self, pair: str, dataframe: pd.DataFrame) -> None:
        """Add the entry signals of the frame `advise_entry` returned.

        They are attached to the recorded candles only when the dates are the same; a
        frame that differs (or an unrecorded pair) is recorded whole first, so a signal
        can never sit on another candle's row.
        """
        columns = self._pairs.get(pair)
        if columns is None or not np.array_equal(columns.dates, epoch_seconds(dataframe["date"])):
            self.record(pair, dataframe)
            columns = self._pairs[pair]
        self._pairs[pair] = columns._replace(
            enter_long=_entry_flags(dataframe, "enter_long"),
            enter_short=_entry_flags(dataframe, "enter_short"),
        )

    def columns(self, pair: str) -> PairColumns | None:
        """The pair's recorded arrays (shared, not copied: read them, never write)."""
        return self._pairs.get(pair)

    def covers(self, pair: str, current_time: datetime, timeframe_seconds: int) -> bool:
        """True when the analysed candles reach the signal candle at `current_time`, so
        `signal_row` answers from them (None there then means: no usable candle).

        The signal candle opens within one timeframe before the cutoff (`signal_row`): a
        newest candle opening after `cutoff - timeframe` is that candle or a later one.
        """
        columns = self._pairs.get(pair)
        if columns is None or not columns.dates.size:
            return False
        cutoff = int(current_time.timestamp()) - timeframe_seconds
        return bool(columns.dates[-1] > cutoff - timeframe_seconds)

    def signal_row(
        self, pair: str, current_time: datetime, timeframe_seconds: int
    ) -> SignalRow | None:
        """The last closed candle at `current_time`, or None when nothing is known yet."""
        columns = self._pairs.get(pair)
        if columns is None:
            return None
        cutoff = int(current_time.timestamp()) - timeframe_seconds
        index = int(np.searchsorted(columns.dates, cutoff, side="right")) - 1
        if index < 0:
            return None
        return SignalRow(
            date=int(columns.dates[index]),
            atr=float(columns.atr[index]),
            regime=str(columns.regime[index]),
            volatility_regime=str(columns.volatility_regime[index]),
            close=float(columns.close[index]),
            volume=float(columns.volume[index]),
        )

    def candle_at(self, pair: str, candle_time: datetime) -> CandleRange | None:
        """High and low of the candle opening exactly at `candle_time`, if it was analysed.

        Only a backtest has the candle in progress in its frame; live this returns None.
        """
        columns = self._pairs.get(pair)
        if columns is None:
            return None
        stamp = int(candle_time.timestamp())
        index = int(np.searchsorted(columns.dates, stamp, side="left"))
        if index >= columns.dates.shape[0] or columns.dates[index] != stamp:
            return None
        return CandleRange(high=float(columns.high[index]), low=float(columns.low[index]))
