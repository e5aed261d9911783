"""Partial exits: half the position out at 2 % profit, the rest on ROI or the stop."""

import talib
from freqtrade.strategy import IStrategy
from pandas import DataFrame


class PartialExit(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    minimal_roi = {"0": 0.05}  # noqa: RUF012
    stoploss = -0.05
    position_adjustment_enable = True
    startup_candle_count = 30

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe["rsi"] = talib.RSI(dataframe["close"], timeperiod=14)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe.loc[(dataframe["rsi"] < 33) & (dataframe["volume"] > 0), "enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return dataframe

    def adjust_trade_position(
        self,
        trade,
        current_time,
        current_rate,
        current_profit,
        min_stake,
        max_stake,
        current_entry_rate,
        current_exit_rate,
        current_entry_profit,
        current_exit_profit,
        **kwargs,
    ):
        if trade.has_open_orders or trade.nr_of_successful_exits > 0:
            return None
        if current_profit > 0.02:
            return -(trade.stake_amount / 2), "half_out"
        return None
