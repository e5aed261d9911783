"""Cost model: the guide's numbers, the cost model's invariants as properties, and clear errors."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freqtrade_quant_plugin.core.costs import (
    CostConfig,
    CostModel,
    estimate_trade_cost,
    normalize_side,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError

MODEL = CostModel()

prices = st.floats(min_value=1e-6, max_value=1e6)
fractions = st.floats(min_value=0.001, max_value=0.2)
sizes = st.floats(min_value=1e-3, max_value=1e3)
atr_fractions = st.floats(min_value=0.0, max_value=0.1)
volumes = st.one_of(st.none(), st.floats(min_value=1.0, max_value=1e9))
hours = st.floats(min_value=0.0, max_value=500.0)
sides = st.sampled_from(["long", "short"])
makers = st.booleans()


def _stop(entry: float, stop_fraction: float, side: str) -> float:
    return entry * (1 - stop_fraction) if side == "long" else entry * (1 + stop_fraction)


def test_guide_smoke_case_cost_in_r_is_reasonable():
    cost = MODEL.estimate_cost(entry_price=50000.0, exit_price=52000.0, size=0.1, atr=1000.0)
    assert cost.total_cost > 0
    assert 0 < cost.cost_in_R < 0.2
    # No stop: the money at risk is one ATR times size.
    assert cost.risk_amount == pytest.approx(100.0)


def test_components_match_the_formulas():
    cost = MODEL.estimate_cost(50000.0, 52000.0, 0.1, 1000.0, stop_loss=48000.0)
    assert cost.entry_fee == pytest.approx(5000 * 0.0004)
    assert cost.exit_fee == pytest.approx(5200 * 0.0004)
    # 2 bps base + 50 * atr / price bps
    assert cost.entry_slippage == pytest.approx(5000 * (2 + 50 * 1000 / 50000) / 10_000)
    assert cost.exit_slippage == pytest.approx(5200 * (2 + 50 * 1000 / 52000) / 10_000)
    assert cost.funding == 0.0
    parts = cost.entry_fee + cost.exit_fee + cost.entry_slippage + cost.exit_slippage
    assert cost.total_cost == pytest.approx(parts)
    assert cost.risk_amount == pytest.approx(200.0)
    assert cost.cost_in_R == pytest.approx(cost.total_cost / 200.0)


def test_square_root_impact_term():
    # 1 unit of a 10,000-unit candle: sqrt(1e-4) = 0.01 -> 0.01 * 0.01 * 10,000 = 1 bps
    bps = MODEL.slippage_bps(price=100.0, atr=0.0, notional=100.0, candle_volume=10_000.0)
    assert bps == pytest.approx(2.0 + 1.0)
    assert MODEL.slippage_bps(100.0, 0.0, 100.0, candle_volume=None) == pytest.approx(2.0)
    assert MODEL.slippage_bps(100.0, 0.0, 100.0, candle_volume=0.0) == pytest.approx(2.0)


def test_maker_fills_pay_maker_fee_and_no_slippage():
    cost = MODEL.estimate_cost(100.0, 101.0, 1.0, 2.0, is_maker=True)
    assert cost.entry_slippage == cost.exit_slippage == 0.0
    assert cost.entry_fee == pytest.approx(100.0 * 0.0002)


def test_funding_paths():
    est = MODEL.estimate_cost(100.0, 100.0, 2.0, 1.0, hours_held=16.0)
    assert est.funding == pytest.approx(0.0001 * 2 * 200.0)
    assert (
        MODEL.estimate_cost(100.0, 100.0, 2.0, 1.0, hours_held=16.0, is_futures=False).funding == 0
    )
    real = MODEL.estimate_cost(100.0, 100.0, 2.0, 1.0, hours_held=16.0, funding_paid=-0.3)
    assert real.funding == -0.3
    # A negative configured rate is never counted as income by the estimate.
    receiving = CostModel(CostConfig(funding_rate_per_8h=-0.0005))
    assert receiving.estimate_cost(100.0, 100.0, 1.0, 1.0, hours_held=8.0).funding > 0


def test_cost_in_r_without_risk():
    free = CostModel(CostConfig(0, 0, 0, 0, 0, 0))
    assert free.estimate_cost(100.0, 100.0, 1.0, 0.0).cost_in_R == 0.0
    assert MODEL.estimate_cost(100.0, 100.0, 1.0, 0.0).cost_in_R == math.inf


def test_module_level_function_uses_defaults():
    direct = MODEL.estimate_cost(50000.0, 52000.0, 0.1, 1000.0)
    assert estimate_trade_cost(50000.0, 52000.0, 0.1, 1000.0) == direct


@given(
    entry=prices,
    move=st.floats(min_value=-0.5, max_value=0.5),
    size=sizes,
    atr_fraction=atr_fractions,
    is_maker=makers,
    hours_held=hours,
    volume=volumes,
)
def test_every_model_component_is_non_negative(
    entry, move, size, atr_fraction, is_maker, hours_held, volume
):
    cost = MODEL.estimate_cost(
        entry,
        entry * (1 + move),
        size,
        entry * atr_fraction,
        is_maker,
        hours_held=hours_held,
        candle_volume=volume,
    )
    for value in (
        cost.entry_fee,
        cost.exit_fee,
        cost.entry_slippage,
        cost.exit_slippage,
        cost.funding,
        cost.total_cost,
        cost.cost_in_R,
        cost.risk_amount,
    ):
        assert value >= 0


@given(
    entry=prices,
    move=st.floats(min_value=-0.5, max_value=0.5),
    stop_fraction=fractions,
    size=sizes,
    atr_fraction=atr_fractions,
    side=sides,
    is_maker=makers,
    volume=volumes,
)
def test_net_r_never_exceeds_gross_r(
    entry, move, stop_fraction, size, atr_fraction, side, is_maker, volume
):
    exit_price = entry * (1 + move)
    stop = _stop(entry, stop_fraction, side)
    net = MODEL.net_R_after_costs(
        entry,
        exit_price,
        stop,
        size,
        entry * atr_fraction,
        side,
        is_maker=is_maker,
        candle_volume=volume,
    )
    sign = 1 if side == "long" else -1
    gross = (exit_price - entry) * sign / abs(entry - stop)
    assert net < gross


@given(
    entry=prices,
    stop_fraction=fractions,
    size=sizes,
    atr_fraction=atr_fractions,
    side=sides,
    is_maker=makers,
    hours_held=hours,
    volume_per_size=st.one_of(st.none(), st.floats(min_value=1.0, max_value=1e6)),
)
def test_breakeven_is_on_the_profit_side_and_nets_zero(
    entry, stop_fraction, size, atr_fraction, side, is_maker, hours_held, volume_per_size
):
    # Orders up to a whole candle's volume: impact stays a cost, not a total loss.
    volume = None if volume_per_size is None else size * volume_per_size
    stop = _stop(entry, stop_fraction, side)
    atr = entry * atr_fraction
    price = MODEL.breakeven_price(
        entry, stop, size, atr, side.upper(), is_maker, hours_held, volume
    )
    if side == "long":
        assert price > entry
    else:
        assert price < entry
    net = MODEL.net_R_after_costs(
        entry,
        price,
        stop,
        size,
        atr,
        side,
        is_maker=is_maker,
        hours_held=hours_held,
        candle_volume=volume,
    )
    assert net == pytest.approx(0.0, abs=1e-9 * entry / abs(entry - stop))


@given(
    entry=prices,
    move=st.floats(min_value=-0.5, max_value=0.5),
    size=sizes,
    growth=st.floats(min_value=1.0, max_value=100.0),
    atr_fraction=atr_fractions,
    is_maker=makers,
    volume=volumes,
)
def test_costs_grow_with_size(entry, move, size, growth, atr_fraction, is_maker, volume):
    args = (entry, entry * (1 + move))
    atr = entry * atr_fraction
    small = MODEL.estimate_cost(*args, size, atr, is_maker, candle_volume=volume)
    large = MODEL.estimate_cost(*args, size * growth, atr, is_maker, candle_volume=volume)
    assert large.total_cost >= small.total_cost


@given(
    entry=prices,
    move=st.floats(min_value=-0.5, max_value=0.5),
    size=sizes,
    atr_fraction=atr_fractions,
    extra=st.floats(min_value=0.0, max_value=0.2),
    volume=volumes,
)
def test_costs_grow_with_volatility(entry, move, size, atr_fraction, extra, volume):
    calm = MODEL.estimate_cost(
        entry, entry * (1 + move), size, entry * atr_fraction, candle_volume=volume
    )
    wild = MODEL.estimate_cost(
        entry, entry * (1 + move), size, entry * (atr_fraction + extra), candle_volume=volume
    )
    assert wild.total_cost >= calm.total_cost


@given(
    entry=prices,
    move=st.floats(min_value=-0.5, max_value=0.5),
    size=sizes,
    atr_fraction=atr_fractions,
    volume=volumes,
)
def test_maker_is_cheaper_than_taker(entry, move, size, atr_fraction, volume):
    exit_price = entry * (1 + move)
    maker = MODEL.estimate_cost(
        entry, exit_price, size, entry * atr_fraction, True, candle_volume=volume
    )
    taker = MODEL.estimate_cost(
        entry, exit_price, size, entry * atr_fraction, False, candle_volume=volume
    )
    assert maker.total_cost < taker.total_cost


def test_breakeven_closed_form_matches_guide_example():
    price = MODEL.breakeven_price(50000.0, 48000.0, 0.1, 1000.0, action="LONG")
    assert 50000.0 < price < 50100.0
    assert MODEL.net_R_after_costs(50000.0, price, 48000.0, 0.1, 1000.0) == pytest.approx(
        0.0, abs=1e-12
    )
    short = MODEL.breakeven_price(50000.0, 52000.0, 0.1, 1000.0, action="sell")
    assert 49900.0 < short < 50000.0


def test_impossible_breakeven_raises():
    # 10,000 units on a 1-unit candle: impact alone is 100 % of the exit price.
    with pytest.raises(ValueError, match="No breakeven"):
        MODEL.breakeven_price(1.0, 0.9, 10_000.0, 0.0, "LONG", candle_volume=1.0)
    with pytest.raises(ValueError, match="No breakeven"):
        MODEL.breakeven_price(1.0, 1.1, 10_000.0, 0.0, "SHORT", candle_volume=1.0)


@pytest.mark.parametrize("side", ["LONG", "long", "Buy", "SHORT", "short", "SELL"])
def test_side_spellings(side):
    assert normalize_side(side) in ("LONG", "SHORT")


@pytest.mark.parametrize("side", ["up", "", None, 1])
def test_unknown_side_names_the_value(side):
    with pytest.raises(ValueError, match=re.escape(repr(side))):
        MODEL.breakeven_price(100.0, 90.0, 1.0, 1.0, action=side)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"entry_price": math.nan}, "entry_price"),
        ({"entry_price": 0.0}, "entry_price"),
        ({"exit_price": -1.0}, "exit_price"),
        ({"size": 0.0}, "size"),
        ({"size": math.inf}, "size"),
        ({"atr": -1.0}, "atr"),
        ({"atr": math.nan}, "atr"),
        ({"stop_loss": math.nan}, "stop_loss"),
        ({"hours_held": -1.0}, "hours_held"),
        ({"candle_volume": -5.0}, "candle_volume"),
        ({"funding_paid": math.nan}, "funding_paid"),
    ],
)
def test_bad_numbers_raise_naming_the_argument(kwargs, name):
    args = {"entry_price": 100.0, "exit_price": 101.0, "size": 1.0, "atr": 1.0} | kwargs
    with pytest.raises(ValueError, match=name):
        MODEL.estimate_cost(**args)


def test_zero_atr_means_base_slippage_only():
    cost = MODEL.estimate_cost(100.0, 100.0, 1.0, 0.0, stop_loss=99.0)
    assert cost.entry_slippage == pytest.approx(100.0 * 2.0 / 10_000)


def test_net_r_with_stop_at_entry_raises():
    with pytest.raises(ValueError, match="R is undefined"):
        MODEL.net_R_after_costs(100.0, 101.0, 100.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("maker_fee_rate", -0.001),
        ("taker_fee_rate", 0.06),
        ("base_slippage_bps", -1.0),
        ("volatility_slippage_factor", math.nan),
        ("funding_rate_per_8h", 0.02),
        ("impact_coefficient", -0.1),
        ("taker_fee_rate", "abc"),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(QuantConfigError) as info:
        CostConfig(**{field: value})
    assert info.value.key == field


def test_config_accepts_numeric_strings():
    assert CostConfig(taker_fee_rate="0.001").taker_fee_rate == 0.001
