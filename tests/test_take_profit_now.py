"""Issue 16, defect 3: the take-profit acts only while the price is at or beyond the target.

Once the price had touched the target, `custom_exit` answered take_profit on every later
loop (it tested the trade's best price, `max_rate`), with a limit at the target above the
market: an order that hangs, and with a stop on the exchange, cancels it. Freqtrade's own
`should_exit` runs on a real `Trade`.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freqtrade.enums import RunMode
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _reasons(strategy, trade, rate, when):
    exits = strategy.should_exit(trade, rate, when, enter=False, exit_=False)
    return [e.exit_reason for e in exits]


@pytest.mark.parametrize("runmode", [RunMode.DRY_RUN, RunMode.LIVE])
def test_take_profit_only_while_the_price_is_at_the_target(strategy_class, runmode):
    strategy, frame, _ = started_strategy(strategy_class, runmode=runmode, dry_run=True)
    trade = open_trade(strategy, frame)
    state = trade.get_custom_data(STATE_KEY)
    target = state["take_profit_price"]
    start = trade.open_date_utc + timedelta(minutes=5)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, start, 0.0, 0, after_fill=True)

    # The price touched the target in an earlier loop (the exit did not happen then:
    # an order still open, a refused confirm_trade_exit, a loop missed).
    trade.adjust_min_max_rates(target * 1.002, trade.open_rate)
    fell_back = target - 0.25 * (target - trade.open_rate)
    later = start + timedelta(minutes=30)
    assert "take_profit" not in _reasons(strategy, trade, fell_back, later)
    assert strategy.custom_exit(PAIR, trade, later, fell_back, 0.0) is None

    # At and beyond the target it acts, and its limit is the price (never above it).
    for rate in (target, target * 1.001):
        assert _reasons(strategy, trade, rate, later) == ["take_profit"]
        price = strategy.custom_exit_price(PAIR, trade, later, rate, 0.0, "take_profit")
        assert price == pytest.approx(rate)


def test_backtest_take_profit_needs_the_candle_to_reach_the_target(strategy_class):
    """A backtest candle acts on its own high (long), not on an earlier candle's."""
    strategy, frame, _ = started_strategy(strategy_class, runmode=RunMode.BACKTEST)
    trade = open_trade(strategy, frame)
    state = strategy._trade_state(trade)
    signal_time = trade.open_date_utc - timedelta(hours=1)
    candle = strategy._signals.candle_at(PAIR, signal_time)
    assert candle is not None
    # An earlier candle's high reached the target; this candle's high stays below it.
    trade.adjust_min_max_rates(state.take_profit_price * 1.01, trade.open_rate)
    assert candle.high < state.take_profit_price
    assert strategy.custom_exit(PAIR, trade, signal_time, candle.high, 0.0) is None


def test_backtest_take_profit_with_market_exits_needs_the_open_at_the_target(strategy_class):
    """With `order_types["exit"]` other than limit, Freqtrade's backtester fills a custom
    exit at the candle's open (no custom_exit_price): deciding it from the candle's high
    would sell at the open on a rise the strategy could not know yet."""
    strategy, frame, _ = started_strategy(strategy_class, runmode=RunMode.BACKTEST)
    trade = open_trade(strategy, frame)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, trade.open_date_utc, 0.0, 0, True)
    state = strategy._trade_state(trade)
    signal_time = trade.open_date_utc - timedelta(hours=1)
    columns = strategy._signals.columns(PAIR)
    index = int(columns.dates.searchsorted(int(signal_time.timestamp())))
    columns.high[index] = state.take_profit_price * 1.001  # this candle reaches the target
    candle_open = float(columns.open[index])
    assert candle_open < state.take_profit_price
    assert columns.low[index] > trade.stop_loss

    def decide(exit_type: str, rate: float) -> str | None:
        strategy.order_types = {**strategy.order_types, "exit": exit_type}
        return strategy.custom_exit(PAIR, trade, signal_time, rate, 0.0)

    assert decide("limit", candle_open) == "take_profit"  # a limit fills at the target
    assert decide("market", candle_open) is None  # a market exit would fill at the open
    assert decide("market", state.take_profit_price) == "take_profit"  # opened there
