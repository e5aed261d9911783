"""The plugin's part of the analysed frame: its columns, and the candles the callbacks read.

A layer of QuantMixin of its own so mixin.py stays the composition of the layers: the
regime columns join the user's frame (columns.py), and the frame of the strategy's own
timeframe, with its entry signals, is recorded per pair (`SignalTable`) for the callbacks
and paper trades, which must not touch pandas on every candle.
"""

from __future__ import annotations

from datetime import datetime

from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import IStrategy
from pandas import DataFrame

from freqtrade_quant_plugin.adapters.signal_rows import SignalRow, SignalTable
from freqtrade_quant_plugin.adapters.strategy.compose.columns import (
    add_plugin_columns,
    reused_regime_frame,
)
from freqtrade_quant_plugin.core.regime_config import UNKNOWN


class PluginIndicators(IStrategy):
    """Regime columns in the analysed frame and the per-pair record of it (QuantMixin)."""

    def _quant_indicators(
        self, dataframe: DataFrame, metadata: dict, *, record: bool = True
    ) -> DataFrame:
        """Regime columns plus `regime_code` for plotting, under the plugin's names.

        Recorded per pair for the callbacks only from the frame the strategy's
        populate_indicators returns (`record`; the strategy's own timeframe): a user's
        `super()` call may pass an informative pair's frame under the traded pair's name."""
        config = self.effective_settings("regime.").regime
        regimes = reused_regime_frame(self, dataframe, config, keep=not record)
        if record and "pair" in metadata and self._own_timeframe(dataframe, metadata):
            self._signals.record(metadata["pair"], regimes)
        return add_plugin_columns(self, dataframe, regimes, self.quant_column_prefix)

    def _own_timeframe(self, dataframe: DataFrame, metadata: dict) -> bool:
        """An informative frame (another timeframe) must not replace the pair's candles."""
        if metadata.get("timeframe", self.timeframe) != self.timeframe:
            return False
        if len(dataframe) < 2:
            return True
        step = (dataframe["date"].iloc[-1] - dataframe["date"].iloc[-2]).total_seconds()
        return step == timeframe_to_seconds(self.timeframe)

    def advise_entry(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Freqtrade's entry signals, also recorded: paper trades of disabled pairs follow
        them without touching pandas on every candle."""
        dataframe = super().advise_entry(dataframe, metadata)
        self._signals.record_signals(metadata["pair"], dataframe)
        return dataframe

    @property
    def signal_table(self) -> SignalTable:
        """The analysed candles recorded per pair (read by the paper-trade engine)."""
        return self._signals

    def _signal_row(self, pair: str, current_time: datetime) -> SignalRow | None:
        row = self._signals.signal_row(pair, current_time, self._timeframe_seconds)
        if row is None or row.regime == UNKNOWN or not row.atr > 0:
            return None
        return row
