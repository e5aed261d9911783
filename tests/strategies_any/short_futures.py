"""Long and short on futures (can_short), leverage 2 from its own leverage()."""

import talib
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class ShortFutures(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True
    minimal_roi = {"0": 0.04}  # noqa: RUF012
    stoploss = -0.08
    startup_candle_count = 30

    def leverage(
        self,
        pair,
        current_time,
        current_rate,
        proposed_leverage,
        max_leverage,
        entry_tag,
        side,
        **kwargs,
    ) -> float:
        return 2.0

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = talib.RSI(dataframe["close"], timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[(dataframe["rsi"] < 33) & (dataframe["volume"] > 0), "enter_long"] = 1
        dataframe.loc[(dataframe["rsi"] > 67) & (dataframe["volume"] > 0), "enter_short"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi"] > 55, "exit_long"] = 1
        dataframe.loc[dataframe["rsi"] < 45, "exit_short"] = 1
        return dataframe
