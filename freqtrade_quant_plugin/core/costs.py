"""Trading-cost model: fees, slippage, market impact and funding.

A strategy that ignores costs overstates every R it reports; tight stops on small moves
are where that bites hardest. The model is deliberately conservative: its own estimates
never count on earning anything back (no maker rebates, no received funding), so a cost
estimate is never below what the trade is likely to pay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from freqtrade_quant_plugin.core.validation import (
    check_range,
    parse_number,
    require_finite,
    require_non_negative,
    require_positive,
)

BPS = 10_000.0
HOURS_PER_FUNDING_PERIOD = 8.0

Side = Literal["LONG", "SHORT"]
_SIDE_ALIASES: dict[str, Side] = {
    "long": "LONG",
    "buy": "LONG",
    "short": "SHORT",
    "sell": "SHORT",
}


def normalize_side(side: object) -> Side:
    """Map the spellings callers use (LONG/long/buy, SHORT/short/sell) to LONG or SHORT."""
    label = _SIDE_ALIASES.get(side.lower()) if isinstance(side, str) else None
    if label is None:
        raise ValueError(f"Unknown trade side {side!r}: expected LONG/SHORT, long/short, buy/sell")
    return label


def side_sign(side: object) -> int:
    """+1 for a long, -1 for a short: price moves times this sign are profits."""
    return 1 if normalize_side(side) == "LONG" else -1


@dataclass(frozen=True)
class CostConfig:
    """Fee rates are fractions (0.0004 = 0.04 %), slippage in basis points per side."""

    maker_fee_rate: float = 0.0002
    taker_fee_rate: float = 0.0004
    base_slippage_bps: float = 2.0
    volatility_slippage_factor: float = 50.0
    funding_rate_per_8h: float = 0.0001
    # Square-root impact: bps = coefficient * sqrt(order size / candle volume) * 10,000.
    impact_coefficient: float = 0.01

    def __post_init__(self) -> None:
        limits = {
            "maker_fee_rate": (0.0, 0.05),
            "taker_fee_rate": (0.0, 0.05),
            "base_slippage_bps": (0.0, None),
            "volatility_slippage_factor": (0.0, None),
            "funding_rate_per_8h": (-0.01, 0.01),
            "impact_coefficient": (0.0, None),
        }
        for name, (low, high) in limits.items():
            value = check_range(name, parse_number(name, getattr(self, name)), low, high)
            object.__setattr__(self, name, value)


@dataclass(frozen=True)
class CostEstimate:
    """All money amounts in the quote currency; cost_in_R = total_cost / risk_amount."""

    entry_fee: float
    exit_fee: float
    entry_slippage: float
    exit_slippage: float
    funding: float
    total_cost: float
    cost_in_R: float
    risk_amount: float


class CostModel:
    """Estimates what a round trip costs, and what that does to the trade's R."""

    def __init__(self, config: CostConfig | None = None) -> None:
        self.config = config or CostConfig()

    def slippage_bps(
        self, price: float, atr: float, notional: float = 0.0, candle_volume: float | None = None
    ) -> float:
        """Expected slippage of one taker fill, in basis points of the fill price.

        Volatile markets move between decision and fill (the ATR term); large orders walk
        the book (the square-root impact term, only when the candle's base volume is known).
        """
        price = require_positive("price", price)
        atr = require_non_negative("atr", atr)
        notional = require_non_negative("notional", notional)
        cfg = self.config
        bps = cfg.base_slippage_bps + cfg.volatility_slippage_factor * atr / price
        if candle_volume is not None:
            volume = require_non_negative("candle_volume", candle_volume)
            if volume > 0:
                bps += cfg.impact_coefficient * math.sqrt(notional / (volume * price)) * BPS
        return bps

    def estimate_cost(
        self,
        entry_price: float,
        exit_price: float,
        size: float,
        atr: float,
        is_maker: bool = False,
        *,
        stop_loss: float | None = None,
        hours_held: float = 0.0,
        funding_paid: float | None = None,
        candle_volume: float | None = None,
        is_futures: bool | None = None,
    ) -> CostEstimate:
        """Cost of one round trip of `size` base units.

        - is_maker applies to both fills: maker fee, no slippage.
        - Money at risk is |entry - stop| * size; without a stop it is one ATR times size,
          the usual distance of a volatility stop.
        - Funding: `funding_paid` (what the exchange really charged, positive = paid by us)
          wins when given. Otherwise futures pay |funding_rate_per_8h| * hours_held / 8 on
          the entry notional; is_futures=None means "futures if hours_held > 0", False
          means spot (no funding).
        """
        entry_price = require_positive("entry_price", entry_price)
        exit_price = require_positive("exit_price", exit_price)
        size = require_positive("size", size)
        atr = require_non_negative("atr", atr)
        hours_held = require_non_negative("hours_held", hours_held)

        entry_fee, entry_slippage = self._fill_costs(
            entry_price, size, atr, is_maker, candle_volume
        )
        exit_fee, exit_slippage = self._fill_costs(exit_price, size, atr, is_maker, candle_volume)
        if funding_paid is not None:
            funding = require_finite("funding_paid", funding_paid)
        elif is_futures is False:
            funding = 0.0
        else:
            funding = self._funding_estimate(entry_price * size, hours_held)
        total = entry_fee + exit_fee + entry_slippage + exit_slippage + funding

        if stop_loss is None:
            risk_amount = atr * size
        else:
            risk_amount = abs(entry_price - require_positive("stop_loss", stop_loss)) * size
        return CostEstimate(
            entry_fee=entry_fee,
            exit_fee=exit_fee,
            entry_slippage=entry_slippage,
            exit_slippage=exit_slippage,
            funding=funding,
            total_cost=total,
            cost_in_R=_cost_in_r(total, risk_amount),
            risk_amount=risk_amount,
        )

    def net_R_after_costs(
        self,
        entry_price: float,
        exit_price: float,
        stop_loss: float,
        size: float,
        atr: float,
        side: str = "long",
        **cost_kwargs: object,
    ) -> float:
        """(gross pnl - total cost) / money at risk; cost_kwargs go to estimate_cost."""
        sign = side_sign(side)
        estimate = self.estimate_cost(
            entry_price, exit_price, size, atr, stop_loss=stop_loss, **cost_kwargs
        )
        if estimate.risk_amount == 0:
            raise ValueError(f"stop_loss {stop_loss} equals entry_price: R is undefined")
        gross = (exit_price - entry_price) * sign * size
        return (gross - estimate.total_cost) / estimate.risk_amount

    def breakeven_price(
        self,
        entry_price: float,
        stop_loss: float,
        size: float,
        atr: float,
        action: str = "LONG",
        is_maker: bool = False,
        hours_held: float = 0.0,
        candle_volume: float | None = None,
    ) -> float:
        """Exit price at which the trade nets exactly zero after every modelled cost.

        The exit fill's costs are linear in the exit price X: fee and the base/impact
        slippage scale with X * size, while the ATR slippage term (factor * atr / X bps of
        X * size) is a constant factor * atr * size / 10,000. So with
        rate = fee + (base + impact) / 10,000 and fixed = entry costs + funding + ATR term,
        a long solves (X - E) * size = fixed + rate * X * size and a short
        (E - X) * size = fixed + rate * X * size, both in closed form.
        The stop does not change costs; it is checked so callers cannot pass nonsense.
        """
        sign = side_sign(action)
        entry_price = require_positive("entry_price", entry_price)
        require_positive("stop_loss", stop_loss)
        size = require_positive("size", size)
        atr = require_non_negative("atr", atr)
        hours_held = require_non_negative("hours_held", hours_held)
        cfg = self.config

        entry_fee, entry_slippage = self._fill_costs(
            entry_price, size, atr, is_maker, candle_volume
        )
        funding = self._funding_estimate(entry_price * size, hours_held)
        if is_maker:
            rate, exit_fixed = cfg.maker_fee_rate, 0.0
        else:
            # atr=0 leaves base + impact, the part that scales with the exit price.
            proportional_bps = self.slippage_bps(
                entry_price, 0.0, entry_price * size, candle_volume
            )
            rate = cfg.taker_fee_rate + proportional_bps / BPS
            exit_fixed = cfg.volatility_slippage_factor * atr * size / BPS
        fixed_per_unit = (entry_fee + entry_slippage + funding + exit_fixed) / size
        price = (entry_price + sign * fixed_per_unit) / (1.0 - sign * rate)
        if not (price > 0 and math.isfinite(price)):
            raise ValueError(
                f"No breakeven exists for a {normalize_side(action)} of {size} at {entry_price}: "
                "costs exceed what any exit price can earn back"
            )
        return price

    def _fill_costs(
        self, price: float, size: float, atr: float, is_maker: bool, candle_volume: float | None
    ) -> tuple[float, float]:
        """(fee, slippage) of one fill in quote currency."""
        notional = price * size
        if is_maker:
            return notional * self.config.maker_fee_rate, 0.0
        slippage = notional * self.slippage_bps(price, atr, notional, candle_volume) / BPS
        return notional * self.config.taker_fee_rate, slippage

    def _funding_estimate(self, notional: float, hours_held: float) -> float:
        rate = abs(self.config.funding_rate_per_8h)
        return rate * hours_held / HOURS_PER_FUNDING_PERIOD * notional


_DEFAULT_MODEL = CostModel()


def estimate_trade_cost(
    entry_price: float,
    exit_price: float,
    size: float,
    atr: float,
    is_maker: bool = False,
    **kwargs: object,
) -> CostEstimate:
    """The guide's function API: estimate_cost of a model with default settings."""
    return _DEFAULT_MODEL.estimate_cost(entry_price, exit_price, size, atr, is_maker, **kwargs)


def _cost_in_r(total: float, risk_amount: float) -> float:
    if risk_amount > 0:
        return total / risk_amount
    return math.inf if total > 0 else 0.0
