"""Informative pairs and a second timeframe: BTC's daily trend gates 1h entries."""

import talib
from freqtrade.strategy import IStrategy, informative
from pandas import DataFrame


class InformativeDaily(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.03}  # noqa: RUF012
    stoploss = -0.05
    startup_candle_count = 60

    def informative_pairs(self):
        return [("BTC/USDT", "1d")]

    @informative("1d", "BTC/{stake}")
    def populate_indicators_btc_1d(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["ema"] = talib.EMA(dataframe["close"], timeperiod=10)
        dataframe["atr"] = talib.ATR(dataframe["high"], dataframe["low"], dataframe["close"])
        return dataframe

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = talib.RSI(dataframe["close"], timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        daily_up = dataframe["btc_usdt_close_1d"] > dataframe["btc_usdt_ema_1d"]
        dataframe.loc[
            daily_up & (dataframe["rsi"] < 40) & (dataframe["volume"] > 0), "enter_long"
        ] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe
