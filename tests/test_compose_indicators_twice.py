"""A user's populate_indicators that calls `super().populate_indicators()` more than once
(on an informative pair's frame, then on the main frame): the plugin's columns must be on
the frame the strategy returns, and what the callbacks read for the pair (its ATR and
regime) must come from that frame, never from the informative one.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from freqtrade.strategy import IStrategy
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    candles,
    fresh_pair_trackers,
    load_strategy_class,
    started_strategy,
)
from mixin_support import run_backtest

from freqtrade_quant_plugin import QuantMixin
from freqtrade_quant_plugin.adapters.strategy.compose.columns import regime_frame


def _informative() -> object:
    """Another pair's candles on the same timeframe: other prices, so another ATR."""
    frame = candles(seed=11)
    for column in ("open", "high", "low", "close"):
        frame[column] = frame[column] / 20
    return frame


def _check(strategy, frame, prefix: str) -> None:
    expected = regime_frame(frame, strategy.effective_settings("regime.").regime)
    assert f"{prefix}regime" in frame.columns and f"{prefix}atr" in frame.columns
    np.testing.assert_allclose(frame[f"{prefix}atr"], expected["atr"], equal_nan=True)
    recorded = strategy.signal_table._pairs[PAIR]
    np.testing.assert_allclose(recorded.atr, expected["atr"].to_numpy(), equal_nan=True)
    np.testing.assert_allclose(recorded.close, frame["close"].to_numpy())


def test_two_super_calls_below_a_plugin_strategy():
    base = load_strategy_class()

    class Twice(base):
        def populate_indicators(self, dataframe, metadata):
            self.informative = super().populate_indicators(_informative(), metadata)
            return super().populate_indicators(dataframe, metadata)

    strategy, frame, _ = started_strategy(Twice)
    _check(strategy, frame, "")
    assert "regime" in strategy.informative.columns  # the user asked for them there too
    assert "rsi" in frame.columns


class Plain(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    stoploss = -0.1
    minimal_roi: ClassVar[dict[str, float]] = {"0": 0.05}

    def populate_indicators(self, dataframe, metadata):
        dataframe["mine"] = dataframe["close"].rolling(3).mean()
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 0
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = 0
        return dataframe


def test_two_super_calls_in_a_mixin_subclass():
    class PlainQuant(QuantMixin, Plain):
        def populate_indicators(self, dataframe, metadata):
            super().populate_indicators(_informative(), {"pair": "ETH/USDT"})
            return super().populate_indicators(dataframe, metadata)

    strategy, frame, _ = started_strategy(PlainQuant)
    _check(strategy, frame, "quant_")
    assert "mine" in frame.columns
    assert "ETH/USDT" not in strategy.signal_table._pairs  # not the pair the bot trades


TWICE = '''

class ExitSignalsTwice(QuantMixin, ExitSignals):
    """super() on another pair's candles (same timeframe, the traded pair's metadata),
    then on the pair's own frame: what a strategy with an informative pair may write."""

    quant_exits_default = "guard"

    def populate_indicators(self, dataframe, metadata):
        other = "ETH/USDT" if metadata["pair"] == "BTC/USDT" else "BTC/USDT"
        informative = self.dp.get_pair_dataframe(other, self.timeframe).copy()
        super().populate_indicators(informative, metadata)
        return super().populate_indicators(dataframe, metadata)
'''


@pytest.mark.freqtrade
def test_a_backtest_with_two_super_calls_trades_as_with_one(
    tmp_path, offline_server, market_datadir
):
    """The guard-mode trades (stakes sized to the ATR, stops) are those of the same
    strategy without the informative call: the pair's own candles decide them."""
    names = ["ExitSignalsGuard", "ExitSignalsTwice"]
    run = run_backtest(
        tmp_path, market_datadir, offline_server.port, names,
        pairs=["BTC/USDT", "ETH/USDT"], timerange="20240301-20240501",
        stems=("exit_signals",), append={"exit_signals": TWICE},
    )  # fmt: skip
    keys = ("pair", "open_date", "close_date", "stake_amount", "exit_reason", "profit_abs")
    expected = [tuple(t[k] for k in keys) for t in run.trades["ExitSignalsGuard"]]
    assert expected
    assert [tuple(t[k] for k in keys) for t in run.trades["ExitSignalsTwice"]] == expected
