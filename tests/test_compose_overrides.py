"""Review of issue 15's composition: user overrides below the plugin, and the class order.

An override in a subclass of a plugin strategy is wrapped so the plugin's part still runs;
it must also keep the plugin's fail-closed answer (an error means no entry, never
Freqtrade's proposed stake), and an override written as a staticmethod or classmethod must
be called as one. A user class listed before QuantMixin would shadow the plugin's callbacks:
start-up refuses it, naming the order to write.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from freqtrade.exceptions import OperationalException
from freqtrade.strategy import IStrategy
from freqtrade.strategy.strategy_wrapper import strategy_safe_wrapper
from live_trade_support import (  # noqa: F401 (fixture)
    filled_order,
    fresh_pair_trackers,
    load_strategy_class,
    long_stake,
    open_trade,
    signal_candle,
    started_strategy,
)

from freqtrade_quant_plugin import QuantMixin


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _stake(strategy, frame, proposed=5_000.0):
    """custom_stake_amount as Freqtrade calls it (its default is the proposed stake)."""
    from datetime import timedelta

    signal = signal_candle(frame)
    wrapped = strategy_safe_wrapper(strategy.custom_stake_amount, default_retval=proposed)
    when = signal["date"].to_pydatetime() + timedelta(hours=1)
    return long_stake(wrapped, when, float(signal["close"]), proposed)


def test_an_override_below_the_plugin_that_raises_means_no_entry(strategy_class):
    calls = []

    class Mine(strategy_class):
        def custom_stake_amount(self, pair, *args, **kwargs):
            calls.append(pair)
            if len(calls) > 1:
                raise RuntimeError("boom")
            return super().custom_stake_amount(pair, *args, **kwargs)

    strategy, frame, _ = started_strategy(Mine)
    assert _stake(strategy, frame) > 0
    assert _stake(strategy, frame) == 0.0  # not Freqtrade's proposed 5000
    assert len(calls) == 2


def test_static_and_class_method_overrides_below_the_plugin_compose(strategy_class):
    class Mine(strategy_class):
        @classmethod
        def informative_pairs(cls):
            return [("ETH/USDT", "1d")]

        @staticmethod
        def custom_exit_price(pair, trade, current_time, proposed_rate, current_profit, **kw):
            return proposed_rate * 2

    strategy, _, _ = started_strategy(Mine)
    assert set(Mine._quant_wrapped) == {"informative_pairs", "custom_exit_price"}
    assert ("ETH/USDT", "1d") in strategy.informative_pairs()
    answer = strategy.custom_exit_price(
        pair="BTC/USDT",
        trade=None,
        current_time=None,
        proposed_rate=10.0,
        current_profit=0.0,
        exit_tag="exit_signal",
    )
    assert answer == 20.0


class _Plain(IStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    stoploss = -0.10

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe

    def custom_stake_amount(self, proposed_stake, **kwargs):
        return proposed_stake


def test_a_user_class_listed_before_the_mixin_is_refused_at_start():
    class Wrong(_Plain, QuantMixin):
        pass

    class Right(QuantMixin, _Plain):
        pass

    with pytest.raises(OperationalException, match=r"class Wrong\(QuantMixin, _Plain\)"):
        Wrong({"quant": {}, "dry_run": True})
    Right({"quant": {}, "dry_run": True})


def _guard_stop_after_fill(strategy_class, answer):
    """The stop a guard-mode trade has after its fill, the user's custom_stoploss `answer`."""
    from datetime import timedelta

    from freqtrade.persistence import init_db
    from live_trade_support import open_trade

    init_db("sqlite://")  # a trade DB of its own: each call opens the same trade

    class Guarded(strategy_class):
        quant_exits_default = "guard"

        def custom_stoploss(
            self, pair, trade, current_time, current_rate, current_profit, after_fill, **kw
        ):
            return answer()

    strategy, frame, _ = started_strategy(Guarded)
    trade = open_trade(strategy, frame)
    now = trade.open_date_utc + timedelta(minutes=1)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, now, 0.0, 0, after_fill=True)
    return trade


def test_guard_keeps_the_plugins_stop_when_the_users_custom_stoploss_raises(strategy_class, caplog):
    def boom():
        raise RuntimeError("boom")

    quiet = _guard_stop_after_fill(strategy_class, lambda: None)
    static = quiet.open_rate * (1 - 0.30)
    assert quiet.stop_loss > static  # the plugin's ATR stop, tighter than the -30 % stop
    failing = _guard_stop_after_fill(strategy_class, boom)
    assert failing.stop_loss == pytest.approx(quiet.stop_loss)
    assert "custom_stoploss failed for trade" in caplog.text and "RuntimeError: boom" in caplog.text


def test_replace_never_loosens_its_stop_at_an_adds_fill(strategy_class):
    """A pyramid add raises the average: the trailing stop, armed on the first entry's gain,
    is no longer armed on the averaged one. Freqtrade lets an after-fill answer lower the
    stop: the plugin must keep the stop it had (the add was capped to that stop)."""
    strategy, frame, _ = started_strategy(strategy_class)
    assert strategy.quant_exits_mode == "replace"
    trade = open_trade(strategy, frame)
    state = strategy._trade_state(trade)
    rules = replace(state.rules, trailing_activation_R=1.0, trailing_distance_atr=1.5)
    strategy._states.put(replace(state, rules=rules))
    opened = trade.open_date_utc
    strategy.ft_stoploss_adjust(trade.open_rate, trade, opened, 0.0, 0, after_fill=True)
    assert trade.stop_loss == pytest.approx(state.stop_price, rel=1e-4)
    high = state.entry_price + 2 * (state.entry_price - state.stop_price)
    trade.adjust_min_max_rates(high, high)
    later = opened + timedelta(hours=3)
    strategy.ft_stoploss_adjust(high, trade, later, trade.calc_profit_ratio(high), 0)
    trailed = float(trade.stop_loss)
    assert trailed > state.entry_price  # the trailing stop is in force

    add_rate = high * 0.995
    add = filled_order("buy", add_rate, trade.amount, later + timedelta(hours=1))
    add.order_id = "add-1"
    trade.orders.append(add)
    trade.recalc_trade_from_orders()
    assert trade.nr_of_successful_entries == 2
    strategy.order_filled(pair=trade.pair, trade=trade, order=add, current_time=add.order_date)
    assert strategy._trade_state(trade).entry_price == pytest.approx(trade.open_rate)
    strategy.ft_stoploss_adjust(
        add_rate, trade, add.order_date_utc, trade.calc_profit_ratio(add_rate), 0, after_fill=True
    )
    assert trade.stop_loss >= trailed - 1e-6  # kept (or tightened), never lowered


@pytest.mark.parametrize("mode", ["none", "guard"])
def test_the_users_after_fill_stop_cannot_lower_the_stop_an_add_was_capped_to(strategy_class, mode):
    """The add is cut so the money at the stop in force fits the plan; a user's after-fill
    custom_stoploss that widens the stop at the add's fill would take it above the plan."""

    class Widening(strategy_class):
        def custom_stoploss(
            self, pair, trade, current_time, current_rate, current_profit, after_fill, **kw
        ):
            if after_fill:
                return -0.15 if trade.nr_of_successful_entries > 1 else -0.02
            return None

        def adjust_trade_position(self, trade, current_time, **kwargs):
            return 50_000.0

    strategy, frame, _ = started_strategy(Widening, quant={"exits": {"mode": mode}})
    trade = open_trade(strategy, frame)
    opened = trade.open_date_utc
    strategy.ft_stoploss_adjust(trade.open_rate, trade, opened, 0.0, 0, after_fill=True)
    before = float(trade.stop_loss)
    assert before == pytest.approx(trade.open_rate * 0.98, rel=1e-3)
    add_rate = trade.open_rate * 0.99
    later = opened + timedelta(hours=2)
    stake = strategy.adjust_trade_position(
        trade=trade, current_time=later, current_rate=add_rate, current_profit=-0.01,
        min_stake=5.0, max_stake=50_000.0, current_entry_rate=add_rate,
        current_exit_rate=add_rate, current_entry_profit=-0.01, current_exit_profit=-0.01,
    )  # fmt: skip
    assert 0 < stake < 50_000.0  # cut to the plan at the stop in force
    add = filled_order("buy", add_rate, stake / add_rate, later)
    add.order_id = "add-1"
    trade.orders.append(add)
    trade.recalc_trade_from_orders()
    strategy.order_filled(pair=trade.pair, trade=trade, order=add, current_time=later)
    strategy.ft_stoploss_adjust(
        add_rate, trade, later, trade.calc_profit_ratio(add_rate), 0, after_fill=True
    )
    assert trade.stop_loss >= before - 1e-6
    at_stop = trade.amount * (trade.open_rate - trade.stop_loss)
    assert at_stop <= strategy._trade_state(trade).planned_risk_money * 1.001
