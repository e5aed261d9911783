"""Risk-based position sizing with a cost gate.

The size is chosen so that a stop-out loses the risk money, no more: risk money is the
balance times risk_per_trade, scaled by the volatility regime and by the pair's
performance. Costs come on top of that loss, so a trade whose costs eat too much of its R
is shrunk where shrinking helps (market impact grows with size) and skipped where it does
not (fees and slippage are proportional to size, so no size makes them smaller in R).
A size cut (by the cost gate, or later by the stake available) that leaves less than
`min_risk_fraction` of the planned risk is dust: it pays fees, holds a trade slot and counts
as a full win or loss in the pair's statistics while risking next to nothing, so it is
skipped too.
"""

from __future__ import annotations

from dataclasses import dataclass

from freqtrade_quant_plugin.core.costs import CostEstimate, CostModel
from freqtrade_quant_plugin.core.regime_config import EXTREME_VOL, HIGH_VOL, LOW_VOL, NORMAL_VOL
from freqtrade_quant_plugin.core.validation import check_range

_BISECTION_STEPS = 60


@dataclass(frozen=True)
class RiskConfig:
    risk_per_trade: float = 0.01
    max_cost_in_R: float = 0.15
    multiplier_low_vol: float = 1.2
    multiplier_normal_vol: float = 1.0
    multiplier_high_vol: float = 0.75
    multiplier_extreme_vol: float = 0.5
    # A position risking less than this fraction of its planned risk money is not taken.
    min_risk_fraction: float = 0.5

    def __post_init__(self) -> None:
        check_range("risk_per_trade", self.risk_per_trade, 0.0, 0.2, low_open=True)
        check_range("max_cost_in_R", self.max_cost_in_R, 0.0, 1.0, low_open=True)
        check_range("min_risk_fraction", self.min_risk_fraction, 0.0, 1.0)
        for name in (
            "multiplier_low_vol",
            "multiplier_normal_vol",
            "multiplier_high_vol",
            "multiplier_extreme_vol",
        ):
            check_range(name, getattr(self, name), 0.0, 3.0, low_open=True)

    def regime_multiplier(self, volatility_regime: str) -> float | None:
        """Risk scale of a volatility label; None for anything else (UNKNOWN: no trade)."""
        return {
            LOW_VOL: self.multiplier_low_vol,
            NORMAL_VOL: self.multiplier_normal_vol,
            HIGH_VOL: self.multiplier_high_vol,
            EXTREME_VOL: self.multiplier_extreme_vol,
        }.get(volatility_regime)


@dataclass(frozen=True)
class PositionPlan:
    """What to buy and why; `skip_reason` set means: take no trade.

    `risk_money` is the budget; a size cut by the cost gate risks less (size x stop distance).
    """

    size: float
    risk_money: float
    stop_price: float
    cost: CostEstimate | None
    skip_reason: str | None = None
    # Why in one word, for counting: see SKIP_* below.
    skip_kind: str | None = None


# Kinds of skip a plan reports (the strategy's backtest summary counts them).
SKIP_REGIME = "unknown_regime"
SKIP_INVALID_STOP = "invalid_stop"
SKIP_COST_GATE = "cost_gate"
SKIP_DUST = "dust"  # set by the strategy: a stake clamp or amount precision cut too much


def plan_position(
    *,
    balance: float,
    price: float,
    stop_distance: float,
    volatility_regime: str,
    risk_modifier: float,
    atr: float,
    is_short: bool,
    config: RiskConfig,
    cost_model: CostModel,
    candle_volume: float | None = None,
    cost_gate: bool = True,
) -> PositionPlan:
    """Size one entry so a stop-out loses the risk money, within the cost limit.

    `cost_gate` False (the layer switched off): the full size whatever its cost in R, so
    nothing is refused or cut for cost (and no dust can come from the gate).
    """
    stop_price = price + stop_distance if is_short else price - stop_distance
    multiplier = config.regime_multiplier(volatility_regime)
    if multiplier is None:
        reason = f"volatility regime {volatility_regime}"
        return PositionPlan(0.0, 0.0, stop_price, None, reason, SKIP_REGIME)
    if not (stop_distance > 0 and price > 0 and stop_price > 0 and balance > 0):
        reason = f"no valid stop (price {price}, stop distance {stop_distance})"
        return PositionPlan(0.0, 0.0, stop_price, None, reason, SKIP_INVALID_STOP)
    risk_money = balance * config.risk_per_trade * multiplier * risk_modifier
    size = risk_money / stop_distance

    def estimate(units: float) -> CostEstimate:
        return cost_model.estimate_cost(
            price, stop_price, units, atr, stop_loss=stop_price, candle_volume=candle_volume
        )

    cost = estimate(size)
    if not cost_gate or cost.cost_in_R <= config.max_cost_in_R:
        return PositionPlan(size, risk_money, stop_price, cost)
    floor = estimate(size * 1e-9)
    if floor.cost_in_R > config.max_cost_in_R:
        reason = (
            f"costs are {floor.cost_in_R:.3f}R at any size, above max_cost_in_R "
            f"{config.max_cost_in_R}: stop too tight for fees and slippage"
        )
        return PositionPlan(0.0, risk_money, stop_price, floor, reason, SKIP_COST_GATE)
    low, high = 0.0, size  # cost_in_R grows with size through market impact only
    for _ in range(_BISECTION_STEPS):
        middle = (low + high) / 2
        if estimate(middle).cost_in_R <= config.max_cost_in_R:
            low = middle
        else:
            high = middle
    full_cost, cost = cost, estimate(low)
    reason = dust_reason(
        low * stop_distance,
        risk_money,
        config.min_risk_fraction,
        cause=f"the cost gate (max_cost_in_R {config.max_cost_in_R:g}) cut the size",
    )
    if reason:
        # Refused for its cost: the estimate is the full size's, as for any gate refusal.
        return PositionPlan(0.0, risk_money, stop_price, full_cost, reason, SKIP_COST_GATE)
    return PositionPlan(low, risk_money, stop_price, cost)


def dust_reason(
    risk_at_stop: float, planned_risk_money: float, min_risk_fraction: float, *, cause: str
) -> str | None:
    """Why a position risking `risk_at_stop` is too small to take, or None when it is not.

    Applies whatever cut the size (cost gate, stake clamp, amount precision): a position
    is judged by what a stop-out would lose, against the risk money it was planned with.
    """
    if not planned_risk_money > 0:
        return None
    fraction = risk_at_stop / planned_risk_money
    if fraction >= min_risk_fraction:
        return None
    return (
        f"{cause}: it would risk {risk_at_stop:.6g} of the planned {planned_risk_money:.6g} "
        f"({fraction:.1%}), below min_risk_fraction {min_risk_fraction:g}"
    )


def max_leverage_for_stop(
    stop_fraction: float, maintenance_margin_rate: float, safety_margin: float = 0.1
) -> float:
    """Highest leverage whose liquidation price still lies beyond the stop.

    Isolated margin liquidates after a move of about 1/leverage - maintenance margin rate;
    the stop must trigger first, with `safety_margin` of its distance to spare for slippage.
    """
    if stop_fraction <= 0:
        return 0.0
    return 1.0 / (stop_fraction * (1.0 + safety_margin) + max(maintenance_margin_rate, 0.0))
