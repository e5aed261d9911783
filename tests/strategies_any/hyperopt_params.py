"""Hyperopt parameters in the buy and sell spaces."""

import talib
from freqtrade.strategy import DecimalParameter, IntParameter, IStrategy
from pandas import DataFrame


class HyperoptParams(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.04}  # noqa: RUF012
    stoploss = -0.05
    startup_candle_count = 30

    buy_rsi = IntParameter(20, 40, default=33, space="buy")
    sell_rsi = IntParameter(52, 75, default=58, space="sell")
    buy_volume_factor = DecimalParameter(0.0, 1.0, default=0.0, decimals=1, space="buy")

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = talib.RSI(dataframe["close"], timeperiod=14)
        dataframe["volume_mean"] = dataframe["volume"].rolling(24).mean()
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        volume_ok = dataframe["volume"] > dataframe["volume_mean"] * self.buy_volume_factor.value
        oversold = dataframe["rsi"] < self.buy_rsi.value
        dataframe.loc[oversold & volume_ok & (dataframe["volume"] > 0), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[dataframe["rsi"] > self.sell_rsi.value, "exit_long"] = 1
        return dataframe
