"""Risk sizing: a stop-out loses the risk money, costs stay within max_cost_in_R."""

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freqtrade_quant_plugin.core.costs import CostConfig, CostModel
from freqtrade_quant_plugin.core.sizing import (
    RiskConfig,
    dust_reason,
    max_leverage_for_stop,
    plan_position,
)

RISK = RiskConfig()
COSTS = CostModel()


def plan(**overrides):
    arguments = {
        "balance": 10_000.0,
        "price": 50_000.0,
        "stop_distance": 1_500.0,
        "volatility_regime": "NORMAL_VOL",
        "risk_modifier": 1.0,
        "atr": 1_000.0,
        "is_short": False,
        "config": RISK,
        "cost_model": COSTS,
    }
    arguments.update(overrides)
    return plan_position(**arguments)


def test_stop_out_loses_exactly_the_risk_money():
    result = plan()
    assert result.skip_reason is None
    assert result.risk_money == pytest.approx(100.0)
    assert result.size * 1_500.0 == pytest.approx(100.0)
    assert result.stop_price == 48_500.0
    assert plan(is_short=True).stop_price == 51_500.0


def test_regime_and_pair_scale_the_risk():
    normal = plan().risk_money
    assert plan(volatility_regime="EXTREME_VOL").risk_money == pytest.approx(normal * 0.5)
    assert plan(volatility_regime="HIGH_VOL").risk_money == pytest.approx(normal * 0.75)
    assert plan(volatility_regime="LOW_VOL").risk_money == pytest.approx(normal * 1.2)
    assert plan(risk_modifier=0.5).risk_money == pytest.approx(normal * 0.5)


@pytest.mark.parametrize(
    "bad",
    [
        {"volatility_regime": "UNKNOWN"},
        {"stop_distance": 0.0},
        {"stop_distance": float("nan")},
        {"price": 0.0},
        {"stop_distance": 60_000.0},
        {"balance": 0.0},
    ],
)
def test_no_trade_without_a_valid_stop_or_regime(bad):
    result = plan(**bad)
    assert result.size == 0.0 and result.skip_reason


def test_costs_that_no_size_can_fix_skip_the_entry():
    # A stop 0.05 % away: fees and slippage alone are more than 0.15 R at any size.
    result = plan(stop_distance=25.0)
    assert result.size == 0.0
    assert "at any size" in result.skip_reason


def test_market_impact_shrinks_the_size_to_the_cost_limit():
    no_minimum = dataclasses.replace(RISK, min_risk_fraction=0.0)
    thin = plan(candle_volume=0.05, config=no_minimum)  # 0.07 BTC into a 0.05 BTC candle
    assert thin.skip_reason is None
    assert thin.size < plan().size
    assert thin.cost.cost_in_R == pytest.approx(RISK.max_cost_in_R, rel=1e-6)
    assert thin.risk_money == plan().risk_money  # the budget; the cut size risks less
    assert thin.size * 1_500.0 < thin.risk_money


def test_a_cost_gate_cut_below_the_minimum_risk_is_skipped_as_dust():
    # The thin candle leaves a size risking under 2 % of the planned 100: dust.
    thin = plan(candle_volume=0.05)
    assert thin.size == 0.0
    assert "below min_risk_fraction 0.5" in thin.skip_reason
    assert "cost gate" in thin.skip_reason
    # A milder cut that keeps more than half the risk is still taken.
    milder = plan(candle_volume=0.1, config=dataclasses.replace(RISK, max_cost_in_R=0.5))
    assert milder.skip_reason is None
    assert 0.5 * milder.risk_money <= milder.size * 1_500.0 < milder.risk_money


@pytest.mark.parametrize(
    ("risk", "expected"), [(50.0, None), (49.99, "below"), (0.0, "below"), (100.0, None)]
)
def test_dust_reason_compares_the_risk_at_stop_with_the_plan(risk, expected):
    reason = dust_reason(risk, 100.0, 0.5, cause="clamped")
    assert reason is None if expected is None else (expected in reason and "clamped" in reason)
    assert dust_reason(risk, 100.0, 0.0, cause="clamped") is None  # 0 disables the minimum


@given(
    balance=st.floats(100, 1e7),
    price=st.floats(1e-6, 1e5),
    stop_fraction=st.floats(0.002, 0.5),
    atr_fraction=st.floats(0.0, 0.2),
    regime=st.sampled_from(["LOW_VOL", "NORMAL_VOL", "HIGH_VOL", "EXTREME_VOL"]),
    modifier=st.floats(0.5, 1.0),
    is_short=st.booleans(),
    volume=st.one_of(st.none(), st.floats(1e-3, 1e9)),
)
def test_planned_loss_never_exceeds_risk_and_costs_stay_in_limit(
    balance, price, stop_fraction, atr_fraction, regime, modifier, is_short, volume
):
    stop_distance = price * stop_fraction
    result = plan(
        balance=balance,
        price=price,
        stop_distance=stop_distance,
        volatility_regime=regime,
        risk_modifier=modifier,
        atr=price * atr_fraction,
        is_short=is_short,
        candle_volume=volume,
    )
    full_risk = balance * RISK.risk_per_trade * RISK.regime_multiplier(regime) * modifier
    if result.skip_reason is None:
        assert result.size > 0
        assert result.size * stop_distance <= full_risk * (1 + 1e-9)
        assert result.size * stop_distance >= full_risk * RISK.min_risk_fraction * (1 - 1e-9)
        assert result.cost.cost_in_R <= RISK.max_cost_in_R * (1 + 1e-9)
    else:
        assert result.size == 0.0


def test_cheaper_costs_allow_tighter_stops():
    cheap = CostModel(
        CostConfig(taker_fee_rate=0.0, base_slippage_bps=0.0, volatility_slippage_factor=0.0)
    )
    assert plan(stop_distance=25.0, cost_model=cheap).skip_reason is None


@given(stop_fraction=st.floats(0.001, 0.5), mmr=st.floats(0.0, 0.05))
def test_liquidation_lies_beyond_the_stop_at_max_leverage(stop_fraction, mmr):
    leverage = max_leverage_for_stop(stop_fraction, mmr)
    liquidation_move = 1.0 / leverage - mmr
    assert liquidation_move > stop_fraction
    assert math.isfinite(leverage) and leverage > 0


def test_risk_config_rejects_bad_values():
    from freqtrade_quant_plugin.core.validation import QuantConfigError

    with pytest.raises(QuantConfigError, match="risk_per_trade"):
        RiskConfig(risk_per_trade=0.5)
    with pytest.raises(QuantConfigError, match="multiplier_high_vol"):
        RiskConfig(multiplier_high_vol=-1)
    with pytest.raises(QuantConfigError, match="min_risk_fraction"):
        RiskConfig(min_risk_fraction=1.5)
    with pytest.raises(QuantConfigError, match="min_risk_fraction"):
        RiskConfig(min_risk_fraction=-0.1)
