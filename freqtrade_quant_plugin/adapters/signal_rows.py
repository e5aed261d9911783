"""O(log n) lookups of the analysed candles a callback needs, without pandas per call.

Freqtrade calls the per-trade callbacks once per candle and open trade; a DataFrame lookup
there costs more than the whole decision. `populate_indicators` records each pair's
columns as numpy arrays once, and callbacks binary-search the candle dates.

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


class _PairColumns(NamedTuple):
    dates: np.ndarray  # int64 epoch seconds, ascending
    atr: np.ndarray
    regime: np.ndarray
    volatility_regime: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    high: np.ndarray
    low: np.ndarray


def epoch_seconds(dates: pd.Series) -> np.ndarray:
    """Candle dates (tz-aware, any resolution) as int64 seconds since the epoch."""
    values = (
        dates.to_numpy(dtype="datetime64[ns]")
        if dates.dt.tz is None
        else (dates.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]"))
    )
    return values.astype("datetime64[s]").astype(np.int64)


class SignalTable:
    """Per pair: the analysed candles' dates, ATR, regimes, close, volume, high and low."""

    def __init__(self) -> None:
        self._pairs: dict[str, _PairColumns] = {}

    def record(self, pair: str, dataframe: pd.DataFrame) -> None:
        """Keep the columns of a freshly analysed frame (replaces the pair's previous ones)."""
        self._pairs[pair] = _PairColumns(
            dates=epoch_seconds(dataframe["date"]),
            atr=dataframe["atr"].to_numpy(dtype=np.float64, copy=True),
            regime=dataframe["regime"].to_numpy(dtype=object, copy=True),
            volatility_regime=dataframe["volatility_regime"].to_numpy(dtype=object, copy=True),
            close=dataframe["close"].to_numpy(dtype=np.float64, copy=True),
            volume=dataframe["volume"].to_numpy(dtype=np.float64, copy=True),
            high=dataframe["high"].to_numpy(dtype=np.float64, copy=True),
            low=dataframe["low"].to_numpy(dtype=np.float64, copy=True),
        )

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
