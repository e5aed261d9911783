"""Stored candles read through Freqtrade's own data loader.

The regime labels a command prints must be the ones a backtest on the same files would
see, so the candles go through the very loader Freqtrade backtests with: sorted by date,
duplicate dates merged into one candle, gaps and NaN rows filled with flat zero-volume
candles at the previous close. Freqtrade is imported only when candles are read, so
`--help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_DATA_FORMAT = "feather"


def load_candles(
    datadir: Path,
    pair: str,
    timeframe: str,
    *,
    timerange: str | None = None,
    startup_candles: int = 0,
    data_format: str = DEFAULT_DATA_FORMAT,
) -> pd.DataFrame:
    """One pair's cleaned candles (empty frame when there are none).

    With a timerange, `startup_candles` more candles are read before its start (as a
    backtest does for the indicators' warm-up) and none after its end.
    """
    from freqtrade.configuration import TimeRange
    from freqtrade.data.history import load_pair_history
    from freqtrade.data.history.datahandlers import get_datahandler

    handler = get_datahandler(datadir, data_format)
    return load_pair_history(
        pair,
        timeframe,
        datadir,
        timerange=TimeRange.parse_timerange(timerange) if timerange else None,
        fill_up_missing=True,
        startup_candles=startup_candles,
        data_handler=handler,
    )


def available_data(datadir: Path, data_format: str = DEFAULT_DATA_FORMAT) -> dict[str, list[str]]:
    """Timeframe -> the spot pairs with stored candles of it, sorted."""
    from freqtrade.data.history.datahandlers import get_datahandler
    from freqtrade.enums import CandleType, TradingMode

    handler = get_datahandler(datadir, data_format)
    found: dict[str, set[str]] = {}
    for pair, timeframe, kind in handler.ohlcv_get_available_data(datadir, TradingMode.SPOT):
        if kind == CandleType.SPOT:
            found.setdefault(timeframe, set()).add(pair)
    return {timeframe: sorted(pairs) for timeframe, pairs in found.items()}
