"""Issue 16, defect 7: what the -0.30 static stoploss does to the smallest entry, exactly.

Freqtrade sizes its minimum stake to survive the strategy's static stoploss
(`Exchange.get_min_pair_stake_amount`): with the plugin's -0.30 backstop that is 1.5x the
exchange's minimum order value, whatever the trade's own (ATR) stop. The plugin never
raises a stake beyond its risk, so an entry whose risk-sized stake lies between the
minimum its own stop needs and Freqtrade's minimum is not taken, and the skip line says
so with both numbers. The static stoploss does not govern the filled trade: the
after-fill `custom_stoploss` sets the plan's stop, wider or tighter.

Freqtrade's own minimum-stake code runs here on a stand-in exchange holding one market.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from types import MethodType, SimpleNamespace

import pytest
from freqtrade.exchange import Exchange
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    fresh_pair_trackers,
    load_strategy_class,
    long_stake,
    open_trade,
    signal_candle,
    started_strategy,
)

MIN_ORDER_VALUE = 5.0  # Binance spot's usual minimum notional, USDT


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _exchange() -> SimpleNamespace:
    """Freqtrade's minimum-stake methods over one market with a 5 USDT minimum."""
    exchange = SimpleNamespace(
        markets={PAIR: {"limits": {"cost": {"min": MIN_ORDER_VALUE}, "amount": {"min": None}}}},
        _config={},
        _contracts_to_amount=lambda pair, amount: amount,
        amount_to_contract_precision=lambda pair, amount: amount,
    )
    for name in (
        "get_min_pair_stake_amount",
        "_get_stake_amount_limit",
        "_get_stake_amount_considering_leverage",
    ):
        setattr(exchange, name, MethodType(getattr(Exchange, name), exchange))
    return exchange


def test_freqtrade_s_minimum_reserves_1_5x_for_the_backstop(strategy_class, caplog):
    caplog.set_level(logging.INFO)
    strategy, frame, _ = started_strategy(strategy_class)
    exchange = strategy.dp._exchange = _exchange()
    signal = signal_candle(frame)
    when = signal["date"].to_pydatetime() + timedelta(hours=1)
    rate = float(signal["close"])
    k1 = strategy.effective_settings().exit_policy[signal["regime"]].k1_SL
    stop_fraction = k1 * float(signal["atr"]) / rate

    freqtrade_min = exchange.get_min_pair_stake_amount(PAIR, rate, strategy.stoploss)
    own_min = exchange.get_min_pair_stake_amount(PAIR, rate, -stop_fraction)
    assert strategy.stoploss == -0.30
    assert freqtrade_min == pytest.approx(1.5 * MIN_ORDER_VALUE)  # the exact effect
    assert own_min == pytest.approx(1.05 / (1 - stop_fraction) * MIN_ORDER_VALUE)
    assert own_min < freqtrade_min

    # A balance whose risk gives a stake between the two minimums (the stake is
    # proportional to the balance).
    full = long_stake(strategy.custom_stake_amount, when, rate, proposed=9_000.0)
    wanted = (own_min + freqtrade_min) / 2
    balance = 10_000.0 * wanted / full
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: balance)

    def stake(min_stake: float) -> float:
        return strategy.custom_stake_amount(
            pair=PAIR,
            current_time=when,
            current_rate=rate,
            proposed_stake=balance,
            min_stake=min_stake,
            max_stake=balance,
            leverage=1.0,
            entry_tag=None,
            side="long",
        )

    assert stake(freqtrade_min) == 0.0  # refused: never raised to Freqtrade's minimum
    skip = next(
        r.getMessage() for r in caplog.records if "below the exchange minimum" in r.getMessage()
    )
    assert f"minimum {freqtrade_min:.2f}" in skip
    assert "static stoploss -0.3" in skip
    assert f"needs {own_min:.2f}" in skip
    assert stake(own_min) == pytest.approx(wanted, rel=1e-3)  # what its own stop allows


def test_the_start_up_says_it(strategy_class, caplog):
    caplog.set_level(logging.INFO)
    started_strategy(strategy_class)
    assert "Freqtrade also sizes its minimum stake to survive it" in caplog.text


def test_the_filled_trade_has_the_plan_s_stop_whatever_the_static_one(strategy_class):
    """The after-fill stop call sets the plan's stop even where it is wider than a static
    stoploss a user set tighter: the static value only holds until then."""
    strategy, frame, _ = started_strategy(strategy_class)
    strategy.stoploss = -0.001  # a user's `stoploss`, tighter than any plan
    trade = open_trade(strategy, frame)
    trade.adjust_stop_loss(trade.open_rate, strategy.stoploss, initial=True)
    assert trade.stop_loss == pytest.approx(trade.open_rate * 0.999, rel=1e-4)
    now = trade.open_date_utc + timedelta(seconds=5)
    strategy.ft_stoploss_adjust(trade.open_rate, trade, now, 0.0, 0, after_fill=True)
    signal = signal_candle(frame)
    k1 = strategy.effective_settings().exit_policy[signal["regime"]].k1_SL
    assert trade.stop_loss == pytest.approx(trade.open_rate - k1 * signal["atr"], abs=0.011)
