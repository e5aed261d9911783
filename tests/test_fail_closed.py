"""Issue 8, defect 2: every plugin callback fails closed.

Callbacks are called the way Freqtrade calls them (through its `strategy_safe_wrapper`,
with its defaults: the proposed stake, no state after a failed `order_filled`), on a real
`Trade` in Freqtrade's trade DB. An error must mean no entry; a trade whose entry state is
missing or unreadable gets its stop rebuilt from the trade DB or is exited; each event is
logged once with its traceback and sent through `dp.send_msg`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from freqtrade.strategy.strategy_wrapper import strategy_safe_wrapper
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    candles_from,
    fresh_pair_trackers,
    load_strategy_class,
    long_stake,
    open_trade,
    signal_candle,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY
from freqtrade_quant_plugin.adapters.strategy.exits.state_recovery import NO_STOP_STATE
from freqtrade_quant_plugin.adapters.strategy.sizing import entry_sizing as sizing_module


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _boom(*args, **kwargs):
    raise RuntimeError("boom")


def _stake(strategy, frame, proposed=5_000.0):
    """custom_stake_amount as Freqtrade calls it (its default is the proposed stake)."""
    signal = signal_candle(frame)
    wrapped = strategy_safe_wrapper(strategy.custom_stake_amount, default_retval=proposed)
    when = signal["date"].to_pydatetime() + timedelta(hours=1)
    return long_stake(wrapped, when, float(signal["close"]), proposed)


def _errors(caplog, text):
    return [r for r in caplog.records if r.levelno >= logging.ERROR and text in r.getMessage()]


def test_an_error_in_custom_stake_amount_means_no_entry(strategy_class, monkeypatch, caplog):
    strategy, frame, messages = started_strategy(strategy_class)
    assert _stake(strategy, frame) > 0
    monkeypatch.setattr(sizing_module, "plan_position", _boom)
    assert _stake(strategy, frame) == 0.0
    assert _stake(strategy, frame) == 0.0
    (record,) = _errors(caplog, "custom_stake_amount failed for BTC/USDT")
    assert record.exc_info is not None  # the traceback is in the log
    assert "RuntimeError: boom" in record.getMessage()
    assert len(messages.sent) == 1 and "no entry (stake 0)" in messages.sent[0]


def test_a_failed_bot_loop_start_blocks_entries_until_a_clean_loop(
    strategy_class, monkeypatch, caplog
):
    strategy, frame, messages = started_strategy(strategy_class)
    now = signal_candle(frame)["date"].to_pydatetime()
    monkeypatch.setattr(strategy.pair_performance, "bot_loop_start", _boom)
    strategy_safe_wrapper(strategy.bot_loop_start, supress_error=True)(current_time=now)
    assert _stake(strategy, frame) == 0.0
    assert _errors(caplog, "bot_loop_start failed")
    assert messages.sent
    monkeypatch.undo()
    strategy.bot_loop_start(current_time=now)
    assert _stake(strategy, frame) > 0


def test_an_error_in_leverage_means_leverage_1(strategy_class, monkeypatch):
    strategy, frame, _ = started_strategy(strategy_class)
    monkeypatch.setattr(strategy, "_safe_leverage", _boom)
    strategy.config["trading_mode"] = "futures"
    leverage = strategy_safe_wrapper(strategy.leverage, default_retval=1.0)(
        pair=PAIR,
        current_time=signal_candle(frame)["date"].to_pydatetime(),
        current_rate=100.0,
        proposed_leverage=5.0,
        max_leverage=20.0,
        entry_tag=None,
        side="long",
    )
    assert leverage == 1.0


def test_a_failed_entry_fill_still_gets_the_atr_stop(strategy_class, monkeypatch, caplog):
    """order_filled raised before any state was stored: the stop comes from the signal
    candle of the trade's open time, not from the -30 % backstop."""
    strategy, frame, messages = started_strategy(strategy_class)
    trade = open_trade(strategy, frame, fill=False)
    monkeypatch.setattr(strategy, "_cost_model", _boom)
    strategy_safe_wrapper(strategy.order_filled, supress_error=True)(
        pair=PAIR, trade=trade, order=trade.orders[0], current_time=trade.open_date_utc
    )
    assert trade.get_custom_data(STATE_KEY) is None
    assert _errors(caplog, "order_filled failed for trade")
    monkeypatch.undo()

    signal = signal_candle(frame)
    k1 = strategy.effective_settings().exit_policy[signal["regime"]].k1_SL
    now = trade.open_date_utc + timedelta(minutes=1)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, now, 0.0, 0, after_fill=True)
    assert trade.stop_loss == pytest.approx(trade.open_rate - k1 * signal["atr"], abs=0.011)
    assert trade.get_custom_data(STATE_KEY)["stop_price"] == pytest.approx(
        trade.open_rate - k1 * signal["atr"]
    )
    assert "entry state was missing; rebuilt from the signal candle" in caplog.text
    assert any("rebuilt from the signal candle" in m for m in messages.sent)


def test_an_unreadable_state_is_rebuilt_from_the_stored_entry_fields(strategy_class, caplog):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    stored = trade.get_custom_data(STATE_KEY)
    trade.set_custom_data(STATE_KEY, {"renamed_by_an_upgrade": 1})
    # A restarted bot whose analysed candles do not cover the trade's pair.
    restarted, _, _ = started_strategy(strategy_class, pair="ETH/USDT")
    now = trade.open_date_utc + timedelta(hours=1)
    assert restarted.should_exit(trade, trade.open_rate, now, enter=False, exit_=False) == []
    assert trade.stop_loss == pytest.approx(stored["stop_price"], abs=0.011)
    assert "rebuilt from the stored entry fields" in caplog.text
    rebuilt = trade.get_custom_data(STATE_KEY)
    for key in ("stop_price", "take_profit_price", "atr", "regime", "breakeven_price"):
        assert rebuilt[key] == pytest.approx(stored[key]) if key != "regime" else True
    assert rebuilt["regime"] == stored["regime"]


def _restarted_without_its_signal_candle(strategy_class, trade, **config):
    """A restarted bot whose analysed candles of the pair begin after the trade's signal
    candle: no state can be built from them (a bot down longer than its candle history)."""
    restarted, _, messages = started_strategy(strategy_class, analyse=False, **config)
    later = candles_from(trade.open_date_utc + timedelta(hours=2))
    restarted.populate_indicators(later, {"pair": PAIR})
    return restarted, messages


def test_a_trade_without_any_state_on_the_backstop_exits(strategy_class, caplog):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame, fill=False)  # no fill handled, nothing stored
    restarted, messages = _restarted_without_its_signal_candle(strategy_class, trade)
    now = trade.open_date_utc + timedelta(hours=1)
    for _ in range(3):
        exits = restarted.should_exit(trade, trade.open_rate, now, enter=False, exit_=False)
        assert [e.exit_reason for e in exits] == [NO_STOP_STATE]
    assert len(_errors(caplog, "only the static backstop protects it: exiting")) == 1
    assert len(messages.sent) == 1


def test_guard_says_a_trade_without_any_state_keeps_the_strategys_own_stop(strategy_class, caplog):
    """Guard adds the plugin's stop to the strategy's own: without a state it does not exit
    the trade (the strategy's stop stays in force), and the log must say so."""
    guard = {"quant": {"exits": {"mode": "guard"}}}
    strategy, frame, _ = started_strategy(strategy_class, **guard)
    trade = open_trade(strategy, frame, fill=False)
    restarted, messages = _restarted_without_its_signal_candle(strategy_class, trade, **guard)
    now = trade.open_date_utc + timedelta(hours=1)
    assert restarted.should_exit(trade, trade.open_rate, now, enter=False, exit_=False) == []
    assert "exiting the trade" not in caplog.text
    (record,) = _errors(caplog, "the strategy's own stop")
    assert "stays in force" in record.getMessage()
    assert len(messages.sent) == 1


def test_a_trade_without_state_keeps_a_plugin_stop_it_already_has(strategy_class, caplog):
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    now = trade.open_date_utc + timedelta(minutes=1)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, now, 0.0, 0, after_fill=True)
    plugin_stop = trade.stop_loss
    trade.set_custom_data(STATE_KEY, "unreadable")
    trade.set_custom_data("stop_loss", "lost")
    restarted, _ = _restarted_without_its_signal_candle(strategy_class, trade)
    exits = restarted.should_exit(trade, trade.open_rate, now, enter=False, exit_=False)
    assert exits == []
    assert trade.stop_loss == plugin_stop
    assert "keeps its last plugin stop" in caplog.text


def test_an_error_in_custom_stoploss_on_the_backstop_exits(strategy_class, monkeypatch, caplog):
    strategy, frame, messages = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    monkeypatch.setattr(strategy, "_stop_level", _boom)
    now = trade.open_date_utc + timedelta(minutes=1)
    exits = strategy.should_exit(trade, trade.open_rate, now, enter=False, exit_=False)
    assert [e.exit_reason for e in exits] == [NO_STOP_STATE]
    assert _errors(caplog, "custom_stoploss failed for trade")
    assert any("custom_stoploss failed" in m for m in messages.sent)


def _confirm(strategy, frame):
    """confirm_trade_entry as Freqtrade calls it (its default on an error is True)."""
    signal = signal_candle(frame)
    wrapped = strategy_safe_wrapper(strategy.confirm_trade_entry, default_retval=True)
    return wrapped(
        pair=PAIR,
        order_type="limit",
        amount=0.1,
        rate=float(signal["close"]),
        time_in_force="GTC",
        current_time=signal["date"].to_pydatetime() + timedelta(hours=1),
        entry_tag=None,
        side="long",
    )


def test_an_error_in_confirm_trade_entry_means_no_entry(strategy_class, monkeypatch, caplog):
    strategy, frame, messages = started_strategy(strategy_class)
    assert _confirm(strategy, frame) is True
    monkeypatch.setattr(strategy, "_quant_entry_refused", _boom)
    assert _confirm(strategy, frame) is False  # not Freqtrade's default True
    assert _confirm(strategy, frame) is False
    (record,) = _errors(caplog, "confirm_trade_entry failed for BTC/USDT")
    assert record.exc_info is not None
    assert len(messages.sent) == 1 and "no entry" in messages.sent[0]


def test_an_error_in_the_users_confirm_trade_entry_means_no_entry(strategy_class, caplog):
    class Mine(strategy_class):
        def confirm_trade_entry(self, pair, *args, **kwargs):
            raise RuntimeError("boom")

    strategy, frame, messages = started_strategy(Mine)
    assert _confirm(strategy, frame) is False
    assert _errors(caplog, "confirm_trade_entry failed for BTC/USDT")
    assert len(messages.sent) == 1
