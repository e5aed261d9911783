"""Paper trades of disabled pairs: the exit rules of real trades, fed closed candles only."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freqtrade_quant_plugin.core.paper_trading import (
    MAX_DURATION,
    STOP_LOSS,
    TAKE_PROFIT,
    Candle,
    PaperTrade,
)
from freqtrade_quant_plugin.core.stop_levels import StopRules

HOUR = 3600
T0 = 1_700_000_000 - 1_700_000_000 % HOUR
RULES = StopRules(
    k1_SL=1.5,
    k2_TP=3.0,
    breakeven_R=1.0,
    trailing_activation_R=None,
    trailing_distance_atr=1.0,
    max_duration_hours=5.0,
)


def paper(is_short: bool = False, rules: StopRules = RULES, breakeven: float | None = 100.2):
    if is_short and breakeven is not None:
        breakeven = 200.0 - breakeven
    return PaperTrade.open(
        pair="BTC/USDT",
        is_short=is_short,
        regime="NORMAL_VOL",
        opened_at=T0,
        timeframe_seconds=HOUR,
        entry_price=100.0,
        atr=2.0,
        rules=rules,
        breakeven_price=breakeven,
    )


def candle(index: int, open_: float, high: float, low: float, close: float) -> Candle:
    return Candle(T0 + index * HOUR, open_, high, low, close)


def test_levels_come_from_the_entry_regime_and_atr():
    trade = paper()
    assert trade.initial_stop == pytest.approx(97.0)
    assert trade.take_profit == pytest.approx(106.0)
    short = paper(is_short=True)
    assert short.initial_stop == pytest.approx(103.0)
    assert short.take_profit == pytest.approx(94.0)


def test_take_profit_is_a_win_of_k2_over_k1_r():
    trade = paper()
    assert trade.feed(candle(0, 100, 101, 99, 100.5)) is None
    outcome = trade.feed(candle(1, 100.5, 106.5, 100, 106))
    assert outcome.exit_reason == TAKE_PROFIT
    assert outcome.exit_price == pytest.approx(106.0)
    assert outcome.r_multiple == pytest.approx(2.0)
    assert outcome.is_win
    assert outcome.exit_time == T0 + 2 * HOUR  # counted when the resolving candle closed


def test_stop_and_target_in_one_candle_counts_the_stop():
    outcome = paper().feed(candle(0, 100, 107, 96, 101))
    assert outcome.exit_reason == STOP_LOSS
    assert outcome.r_multiple == pytest.approx(-1.0)
    assert not outcome.is_win


def test_a_gap_through_the_stop_fills_at_the_open():
    trade = paper()
    trade.feed(candle(0, 100, 100.5, 99, 99.5))
    outcome = trade.feed(candle(1, 95, 96, 94, 95))
    assert outcome.exit_price == pytest.approx(95.0)
    assert outcome.r_multiple == pytest.approx(-5.0 / 3.0)


def test_breakeven_applies_after_the_entry_candle_only():
    trade = paper()
    # The entry candle reaches 1R but only the initial stop applies inside it.
    assert trade.feed(candle(0, 100, 103.5, 99, 103)) is None
    outcome = trade.feed(candle(1, 103, 103.2, 100.1, 100.5))
    assert outcome.exit_reason == "breakeven_stop"
    assert outcome.exit_price == pytest.approx(100.2)
    assert not outcome.is_win  # netting zero is not a win


def test_short_mirrors_long():
    trade = paper(is_short=True)
    assert trade.feed(candle(0, 100, 101, 99, 99.5)) is None
    outcome = trade.feed(candle(1, 99.5, 100, 93.5, 94))
    assert outcome.exit_reason == TAKE_PROFIT
    assert outcome.exit_price == pytest.approx(94.0)
    assert outcome.r_multiple == pytest.approx(2.0)
    assert outcome.is_win


def test_time_limit_exits_at_the_close_of_the_last_allowed_candle():
    trade = paper()
    outcomes = [trade.feed(candle(i, 100, 100.5, 99.5, 100.4)) for i in range(5)]
    assert outcomes[:4] == [None] * 4
    assert outcomes[4].exit_reason == MAX_DURATION
    assert outcomes[4].exit_time == T0 + 5 * HOUR
    assert outcomes[4].exit_price == pytest.approx(100.4)
    assert outcomes[4].is_win  # above the cost-aware breakeven of 100.2


def test_candles_before_entry_or_fed_twice_are_ignored():
    trade = paper()
    assert trade.feed(candle(-1, 100, 200, 1, 100)) is None
    assert trade.feed(candle(0, 100, 101, 99, 100)) is None
    assert trade.feed(candle(0, 100, 200, 1, 100)) is None  # same candle again
    assert trade.last_candle == T0


def test_invalid_openings_are_refused():
    with pytest.raises(ValueError, match="ATR"):
        PaperTrade.open(
            pair="X/USDT",
            is_short=False,
            regime="LOW_VOL",
            opened_at=T0,
            timeframe_seconds=HOUR,
            entry_price=1.0,
            atr=float("nan"),
            rules=RULES,
            breakeven_price=None,
        )
    with pytest.raises(ValueError, match="not a price"):
        PaperTrade.open(
            pair="X/USDT",
            is_short=False,
            regime="LOW_VOL",
            opened_at=T0,
            timeframe_seconds=HOUR,
            entry_price=1.0,
            atr=1.0,
            rules=RULES,
            breakeven_price=None,
        )


@st.composite
def candle_paths(draw):
    """Gapless random walks: each candle opens at the previous close."""
    steps = draw(
        st.lists(
            st.tuples(st.floats(-3, 3), st.floats(0, 2), st.floats(0, 2)), min_size=1, max_size=40
        )
    )
    candles, price = [], 100.0
    for index, (move, up, down) in enumerate(steps):
        close = max(price + move, 1.0)
        high = max(price, close) + up
        low = max(min(price, close) - down, 0.5)
        candles.append(candle(index, price, high, low, close))
        price = close
    return candles


@settings(max_examples=200, deadline=None)
@given(
    path=candle_paths(),
    is_short=st.booleans(),
    trailing=st.booleans(),
    cut=st.integers(0, 40),
)
def test_outcome_bounds_and_resume_after_restart(path, is_short, trailing, cut):
    rules = StopRules(1.5, 3.0, 1.0, 1.5 if trailing else None, 1.0, 30.0)
    trade = paper(is_short=is_short, rules=rules)
    resumed = paper(is_short=is_short, rules=rules)
    outcome = resumed_outcome = None
    for index, item in enumerate(path):
        if index == cut:  # a restart: the stored state carries on
            resumed = PaperTrade.from_dict(resumed.to_dict())
        outcome = trade.feed(item)
        resumed_outcome = resumed.feed(item)
        assert outcome == resumed_outcome
        if outcome is not None:
            break
    if outcome is None:
        return
    assert outcome.exit_time == item.date + HOUR
    # Without gaps a stop never loses more than 1R and a target never gains more than k2/k1.
    assert -1.0 - 1e-9 <= outcome.r_multiple <= rules.k2_TP / rules.k1_SL + 1e-9
    sign = -1.0 if is_short else 1.0
    assert outcome.is_win == ((outcome.exit_price - trade.breakeven_price) * sign > 0)
