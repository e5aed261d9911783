"""After a fill without an add (a partial exit), Freqtrade lets a custom_stoploss answer
lower the stop (`after_fill=True`). A user's answer that widens the stop there must not take
it below the plugin's stop in `replace` and `guard` (the plugin never loosens a stop), and in
`none` it stays the user's own answer, as without the plugin.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from live_trade_support import (  # noqa: F401 (fixture)
    filled_order,
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    started_strategy,
)

WIDE = -0.25  # the user's after-fill answer at the partial exit: far below any ATR stop


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _stop_after_partial_exit(strategy_class, mode):
    """(trade, stop before, stop after) around a half exit, the user widening after it."""

    class Widening(strategy_class):
        def custom_stoploss(
            self, pair, trade, current_time, current_rate, current_profit, after_fill, **kw
        ):
            return WIDE if after_fill and trade.nr_of_successful_exits else None

    strategy, frame, _ = started_strategy(Widening, quant={"exits": {"mode": mode}})
    trade = open_trade(strategy, frame)
    opened = trade.open_date_utc
    strategy.ft_stoploss_adjust(trade.open_rate, trade, opened, 0.0, 0, after_fill=True)
    before = float(trade.stop_loss)
    rate = trade.open_rate * 1.002
    later = opened + timedelta(hours=2)
    half = filled_order("sell", rate, trade.amount / 2, later)
    half.order_id = "half-exit"
    trade.orders.append(half)
    trade.recalc_trade_from_orders()
    assert trade.is_open and trade.nr_of_successful_exits == 1
    strategy.order_filled(pair=trade.pair, trade=trade, order=half, current_time=later)
    strategy.ft_stoploss_adjust(
        rate, trade, later, trade.calc_profit_ratio(rate), 0, after_fill=True
    )
    return strategy, trade, before, rate


@pytest.mark.parametrize("mode", ["replace", "guard"])
def test_a_users_wider_after_fill_stop_never_goes_below_the_plugins(strategy_class, mode):
    strategy, trade, before, rate = _stop_after_partial_exit(strategy_class, mode)
    plugin = strategy._stop_level(trade, strategy._trade_state(trade), rate, trade.open_date_utc)
    assert before > trade.open_rate * (1 + WIDE)  # the plugin's stop was the tighter one
    assert trade.stop_loss >= min(before, plugin.price) - 1e-9 * rate
    assert trade.stop_loss > rate * (1 + WIDE) + 1e-6 * rate  # the wide answer not applied


def test_none_mode_applies_the_users_after_fill_answer_as_it_is(strategy_class):
    """No plugin stop in `none`: the user's answer acts as without the plugin (lowered)."""
    _, trade, _, rate = _stop_after_partial_exit(strategy_class, "none")
    assert trade.stop_loss == pytest.approx(rate * (1 + WIDE), rel=1e-6)
