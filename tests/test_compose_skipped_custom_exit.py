"""Freqtrade calls custom_exit only with `use_exit_signal` on and no exit signal on the
candle (an exit signal that `exit_profit_only` then holds back exits nothing). The plugin's
safety exits asked for through custom_exit (a stop the price passed, live with the stop on
the exchange; a trade left without its stop state) must still act there, in each mode that
has them, with a stop's order type; the user's own custom_exit stays skipped, as without
the plugin.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freqtrade.enums import ExitType, RunMode
from live_trade_support import (  # noqa: F401 (fixture)
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY

# (use_exit_signal, exit signal on the candle): the two ways Freqtrade skips custom_exit
SKIPPED = [(False, False), (True, True)]


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _live_on_exchange(strategy_class, mode, use_exit_signal):
    user_exits = []

    class Mine(strategy_class):
        def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kw):
            user_exits.append(current_time)
            return None

    strategy, frame, _ = started_strategy(
        Mine, runmode=RunMode.LIVE, dry_run=False, quant={"exits": {"mode": mode}}
    )
    strategy.order_types = {**strategy.order_types, "stoploss_on_exchange": True}
    strategy.use_exit_signal = use_exit_signal
    strategy.exit_profit_only = True
    strategy.exit_profit_offset = 0.02
    strategy.bot_start()  # start-up accepts the combination
    trade = open_trade(strategy, frame)
    trade.adjust_stop_loss(trade.open_rate, strategy.stoploss, initial=True)
    trade.open_date = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    return strategy, trade, user_exits


@pytest.mark.parametrize("mode", ["replace", "guard"])
@pytest.mark.parametrize(("use_exit_signal", "signal"), SKIPPED)
def test_a_passed_stop_exits_where_freqtrade_skips_custom_exit(
    strategy_class, mode, use_exit_signal, signal
):
    strategy, trade, user_exits = _live_on_exchange(strategy_class, mode, use_exit_signal)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    rate = round(stop * 0.97, 2)  # a gap through the exchange's stop order
    now = datetime.now(UTC)
    exits = strategy.should_exit(trade, rate, now, enter=False, exit_=signal)
    assert exits, exits
    assert (exits[0].exit_type, exits[0].exit_reason) == (ExitType.EMERGENCY_EXIT, "stop_loss")
    assert not [e for e in exits if e.exit_type == ExitType.EXIT_SIGNAL]  # held back
    assert user_exits == []  # Freqtrade skipped it; the plugin does not call it either


def test_none_mode_adds_nothing(strategy_class):
    strategy, trade, _ = _live_on_exchange(strategy_class, "none", False)
    rate = round(trade.open_rate * 0.9, 2)
    exits = strategy.should_exit(trade, rate, datetime.now(UTC), enter=False, exit_=False)
    assert not [e for e in exits if e.exit_type == ExitType.EMERGENCY_EXIT]
