"""Issue 16, defect 1: an entry that filled while the bot was down keeps its position.

Live only, Freqtrade's start-up (`startup_update_open_orders` -> `update_trade_state` ->
`_update_trade_after_fill`) reports the fill through `order_filled` and the after-fill
`custom_stoploss` before any candle is analysed. The steps below are those of
freqtradebot.py, in its order, on a real `Trade` in Freqtrade's trade DB: the entry state
cannot be built yet, so the trade keeps Freqtrade's stop (the static stoploss, on the
exchange with `stoploss_on_exchange`) and the state is built on the first loop, once the
candles are analysed. Only a trade whose candles, once analysed, still give no state is
exited as `no_stop_state`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import Trade
from freqtrade.strategy.strategy_wrapper import strategy_safe_wrapper
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    candles_from,
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    signal_candle,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY
from freqtrade_quant_plugin.adapters.signal_rows import SignalTable
from freqtrade_quant_plugin.adapters.strategy.exits.state_recovery import NO_STOP_STATE


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _order_placed_before_the_restart(strategy_class):
    """The first bot sized the entry and placed its order (Freqtrade set the static stop on
    the new trade), then died; the order filled while it was down."""
    first, frame, _ = started_strategy(strategy_class, runmode=RunMode.LIVE, dry_run=False)
    trade = open_trade(first, frame, fill=False)
    # A bot places its order seconds after the signal candle closed; the restarted bot's
    # newest analysed candle is then still that signal candle.
    trade.open_date = trade.open_date + timedelta(seconds=7)
    trade.adjust_stop_loss(trade.open_rate, first.stoploss, initial=True)  # execute_entry
    Trade.commit()
    return trade, frame


def _startup(strategy, trade, now):
    """FreqtradeBot.startup(): stoploss re-initialisation, then the open orders' update."""
    Trade.stoploss_reinitialization(strategy.stoploss)
    strategy_safe_wrapper(strategy.order_filled, supress_error=True)(
        pair=trade.pair, trade=trade, order=trade.orders[0], current_time=now
    )
    trade.adjust_stop_loss(trade.open_rate, strategy.stoploss, initial=True)
    rate = trade.open_rate
    strategy.ft_stoploss_adjust(rate, trade, now, trade.calc_profit_ratio(rate), 0, after_fill=True)


def _loop(strategy, candles, trade, now, rate):
    """FreqtradeBot.process(): bot_loop_start, analyze, then exit_positions -> should_exit.

    `candles` None: the exchange returned none for the pair this loop, so Freqtrade skips
    its analysis ("Empty candle (OHLCV) data for pair").
    """
    strategy_safe_wrapper(strategy.bot_loop_start, supress_error=True)(current_time=now)
    if candles is not None:
        strategy.populate_indicators(candles.copy(), {"pair": PAIR})
    return strategy.should_exit(trade, rate, now, enter=False, exit_=False)


def test_an_entry_filled_while_down_keeps_its_position_and_gets_its_stop(strategy_class, caplog):
    """Start-up, a first loop without the pair's candles, then the loop that has them."""
    trade, frame = _order_placed_before_the_restart(strategy_class)
    restarted, candles, messages = started_strategy(
        strategy_class, runmode=RunMode.LIVE, dry_run=False, analyse=False
    )
    now = trade.open_date_utc + timedelta(minutes=20)
    _startup(restarted, trade, now)
    static_stop = trade.stop_loss
    assert static_stop == pytest.approx(trade.open_rate * (1 - abs(restarted.stoploss)), rel=1e-4)
    # The first loop gets no candles for the pair (an exchange hiccup): still no state.
    assert _loop(restarted, None, trade, now, trade.open_rate) == []
    assert trade.stop_loss == static_stop
    waiting = [m for m in messages.sent if "waiting for" in m]
    assert len(waiting) == 1, messages.sent  # said once, with what protects it meanwhile

    # The next loop analyses the pair's candles: the state is built, the plan's stop set.
    exits = _loop(restarted, candles, trade, now + timedelta(minutes=1), trade.open_rate)
    assert exits == []  # a healthy position is not sold
    signal = signal_candle(frame)
    k1 = restarted.effective_settings().exit_policy[signal["regime"]].k1_SL
    plan_stop = trade.open_rate - k1 * float(signal["atr"])
    assert trade.stop_loss == pytest.approx(plan_stop, abs=0.011)
    assert trade.get_custom_data(STATE_KEY)["stop_price"] == pytest.approx(plan_stop)
    assert "rebuilt from the signal candle" in caplog.text
    assert NO_STOP_STATE not in caplog.text
    # Later loops keep it.
    for minutes in (25, 30):
        later = trade.open_date_utc + timedelta(minutes=minutes)
        assert _loop(restarted, candles, trade, later, trade.open_rate) == []
    assert not any("exiting" in message for message in messages.sent)


def test_the_first_loop_with_candles_builds_the_state(strategy_class):
    trade, _ = _order_placed_before_the_restart(strategy_class)
    restarted, candles, _ = started_strategy(
        strategy_class, runmode=RunMode.LIVE, dry_run=False, analyse=False
    )
    now = trade.open_date_utc + timedelta(minutes=20)
    _startup(restarted, trade, now)
    assert _loop(restarted, candles, trade, now, trade.open_rate) == []
    assert trade.get_custom_data(STATE_KEY) is not None
    assert trade.stop_loss > trade.open_rate * (1 - abs(restarted.stoploss)) * 1.01


def test_a_trade_its_analysed_candles_cannot_rebuild_exits(strategy_class, caplog):
    """The candles arrive but do not reach back to the trade's signal candle: no state can
    ever be built, and only the static stoploss protects it: it exits (no_stop_state)."""
    trade, _ = _order_placed_before_the_restart(strategy_class)
    restarted, _, _ = started_strategy(
        strategy_class, runmode=RunMode.LIVE, dry_run=False, analyse=False
    )
    now = trade.open_date_utc + timedelta(minutes=20)
    _startup(restarted, trade, now)
    later = candles_from(trade.open_date_utc + timedelta(hours=2))
    exits = _loop(restarted, later, trade, now, trade.open_rate)
    assert [e.exit_reason for e in exits] == [NO_STOP_STATE]
    assert "only the static backstop protects it" in caplog.text


@pytest.mark.parametrize(
    ("newest", "covered"),
    [("11:00", True), ("12:00", True), ("10:00", False)],
)
def test_the_candles_cover_a_trade_from_its_signal_candle_on(newest, covered):
    """An order placed at 12:00:07 on 1h candles: its signal candle opened at 11:00."""
    table = SignalTable()
    dates = pd.date_range("2024-03-03 08:00", f"2024-03-03 {newest}", freq="1h", tz="UTC")
    frame = pd.DataFrame({"date": dates, "atr": 1.0, "regime": "NORMAL_VOL"})
    frame["volatility_regime"] = "NORMAL_VOL"
    for column in ("open", "high", "low", "close", "volume"):
        frame[column] = 1.0
    table.record(PAIR, frame)
    opened = datetime(2024, 3, 3, 12, 0, 7, tzinfo=UTC)
    assert table.covers(PAIR, opened, 3600) is covered
    assert not table.covers("ETH/USDT", opened, 3600)
