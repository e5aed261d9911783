"""Static stoploss plus Freqtrade's trailing stop, EMA trend entries."""

import talib
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class TrailingStatic(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.2}  # noqa: RUF012
    stoploss = -0.04
    trailing_stop = True
    trailing_stop_positive = 0.01
    trailing_stop_positive_offset = 0.02
    trailing_only_offset_is_reached = True
    startup_candle_count = 60

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema_fast"] = talib.EMA(dataframe["close"], timeperiod=12)
        dataframe["ema_slow"] = talib.EMA(dataframe["close"], timeperiod=48)
        dataframe["regime"] = (dataframe["ema_fast"] > dataframe["ema_slow"]).astype(int)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        cross = (dataframe["regime"] == 1) & (dataframe["regime"].shift(1) == 0)
        dataframe.loc[cross & (dataframe["volume"] > 0), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
