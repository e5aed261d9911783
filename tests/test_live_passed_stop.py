"""Issue 8, defect 1: a stop the price has already passed closes the trade at once (live).

The long fills with its ATR stop below the entry; the first stop call comes when the price
is already below that stop (a late loop, a restart, a gap). Freqtrade's own stop logic
(`ft_stoploss_adjust`, `should_exit`) runs on a real `Trade`: the trade must be asked to
exit in that very loop, not left on the -30 % static backstop.
"""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from freqtrade.enums import ExitType, RunMode
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


def _exits(strategy, trade, rate, when):
    return strategy.should_exit(trade, rate, when, enter=False, exit_=False)


def _stop_exit(exits) -> bool:
    return any(
        e.exit_type in (ExitType.STOP_LOSS, ExitType.TRAILING_STOP_LOSS)
        or e.exit_reason == "stop_loss"
        for e in exits
    )


def test_first_stop_call_below_the_stop_exits_the_trade(strategy_class, caplog):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    gap_rate = round(stop - 0.2 * (trade.open_rate - stop), 2)  # below the stop
    now = trade.open_date_utc + timedelta(minutes=1)

    # The entry's after-fill stop call already sees the price beyond the ATR stop.
    profit = trade.calc_profit_ratio(gap_rate)
    strategy.ft_stoploss_adjust(gap_rate, trade, now, profit, 0, after_fill=True)
    assert trade.stop_loss == pytest.approx(gap_rate)  # Freqtrade's stop is on the price
    exits = _exits(strategy, trade, gap_rate, now)
    assert exits and exits[0].exit_type == ExitType.STOP_LOSS, exits
    assert "is already beyond the stop loss" in caplog.text
    # The plugin names it an initial stop-out, not a trailing one.
    trade.exit_reason = exits[0].exit_type.value
    assert strategy._plugin_exit_reason(trade, strategy._trade_state(trade), now) == "stop_loss"


def test_after_a_restart_a_passed_stop_exits_the_trade(strategy_class):
    """The bot died between the fill and its first stop call: Freqtrade's DB still holds
    the static backstop; the restarted bot rebuilds the entry state and exits."""
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    restarted, _, _ = started_strategy(strategy_class)
    gap_rate = round(stop * 0.995, 2)
    now = trade.open_date_utc + timedelta(hours=2)
    exits = _exits(restarted, trade, gap_rate, now)
    assert _stop_exit(exits), exits
    assert trade.stop_loss == pytest.approx(gap_rate)


def test_price_exactly_at_the_stop_exits(strategy_class):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    rate = math.floor(stop * 100) / 100  # the last tick at or below the stop
    now = trade.open_date_utc + timedelta(minutes=30)
    assert _stop_exit(_exits(strategy, trade, rate, now))


def test_without_a_price_tick_custom_exit_asks_for_the_stop(strategy_class):
    """No tick to round the stop onto the price: `custom_exit` (after the stop check)
    asks for the exit itself, with the stop's reason."""
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    trade.price_precision = None
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    exits = _exits(strategy, trade, stop * 0.99, trade.open_date_utc + timedelta(hours=1))
    assert [e.exit_reason for e in exits] == ["stop_loss"], exits


def test_stop_on_the_exchange_live_asks_custom_exit_for_the_stop(strategy_class):
    """Live with the stop on the exchange Freqtrade never checks the stop itself: the
    plugin asks for the exit with the stage's reason."""
    strategy, frame, _ = started_strategy(strategy_class, runmode=RunMode.LIVE, dry_run=False)
    strategy.order_types = {**strategy.order_types, "stoploss_on_exchange": True}
    trade = open_trade(strategy, frame)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    now = trade.open_date_utc + timedelta(hours=2)
    reason = strategy.custom_exit(PAIR, trade, now, stop * 0.99, -0.05)
    assert reason == "stop_loss"
    assert strategy.custom_exit(PAIR, trade, now, stop * 1.001, -0.01) is None


def test_price_above_the_stop_changes_nothing(strategy_class):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    now = trade.open_date_utc + timedelta(minutes=1)
    rate = trade.open_rate
    strategy.ft_stoploss_adjust(rate, trade, now, 0.0, 0, after_fill=True)
    assert trade.stop_loss == pytest.approx(stop, abs=0.011)
    assert _exits(strategy, trade, rate, now) == []


def test_backtests_keep_their_stop_semantics(strategy_class):
    """Backtests fill stops against candle lows: nothing is moved onto a passed stop."""
    strategy, frame, _ = started_strategy(strategy_class, runmode=RunMode.BACKTEST)
    trade = open_trade(strategy, frame)
    state = strategy._trade_state(trade)
    now = trade.open_date_utc + timedelta(minutes=1)
    before = trade.stop_loss
    result = strategy.custom_stoploss(
        PAIR, trade, now, state.stop_price * 0.99, -0.05, after_fill=True
    )
    assert result == 0.0
    assert trade.stop_loss == before
    assert strategy.custom_exit(PAIR, trade, now, state.stop_price * 0.99, -0.05) is None
