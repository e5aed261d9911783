"""What the exchange charges and requires, as Freqtrade itself sees it.

The cost model must use the fee Freqtrade will actually charge (a backtest charges
`config["fee"]` or the worse of the exchange's taker and maker fees), or a stop-out would
lose more than the sizing allowed for. Liquidation depends on the maintenance margin of
the pair's leverage tier.

Freqtrade's minimum stake holds a reserve so a position can still be sold after its stop:
it is sized for the strategy's static stoploss (the plugin's -0.30 backstop gives the
largest reserve, 1.5x the exchange's minimum order value), not for the trade's own stop.
`min_stake_for_stop` asks Freqtrade for the minimum with a given stop instead.
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade_quant_plugin.core.exit_modes import GUARD, NONE, REPLACE

logger = logging.getLogger(__name__)

# Used when the exchange cannot tell a pair's maintenance margin: above Binance's lowest
# tiers for majors (0.4-1.0 %), so a guessed leverage errs towards a farther liquidation.
DEFAULT_MAINTENANCE_MARGIN_RATE = 0.025


def freqtrade_fee_rate(config: dict[str, Any], market: dict[str, Any] | None) -> float | None:
    """The fee rate per fill Freqtrade charges in a backtest (and expects live), if known.

    Read from the market dict rather than the exchange API, which hyperopt workers lack.
    """
    if config.get("fee") is not None:
        return float(config["fee"])
    rates = [market.get(side) for side in ("taker", "maker")] if market else []
    known = [float(rate) for rate in rates if rate is not None]
    return max(known) if known else None


def maintenance_margin_rate(exchange: Any, pair: str, notional: float) -> float:
    """The pair's maintenance margin rate at this notional, or the conservative default."""
    try:
        rate, _ = exchange.get_maintenance_ratio_and_amt(pair, notional)
    except Exception as error:  # no leverage tiers known for this pair/exchange
        logger.debug("No maintenance margin for %s (%s): using the default", pair, error)
        return DEFAULT_MAINTENANCE_MARGIN_RATE
    if rate is None or not rate > 0:
        return DEFAULT_MAINTENANCE_MARGIN_RATE
    return float(rate)


def min_stake_for_stop(
    exchange: Any, pair: str, price: float, stop_fraction: float, leverage: float
) -> float | None:
    """Freqtrade's minimum stake for this pair had the static stoploss been `stop_fraction`
    (the trade's own stop distance over the price); None where the exchange cannot say."""
    try:
        value = exchange.get_min_pair_stake_amount(pair, price, -abs(stop_fraction), leverage)
    except Exception as error:  # no markets in this process (hyperopt workers)
        logger.debug("No minimum stake for %s (%s)", pair, error)
        return None
    return None if value is None else float(value)


# What the static stoploss is to a filled trade, per quant.exits.mode (core/exit_modes.py).
_STATIC_STOP_ROLE = {
    REPLACE: "is a backstop only (the plugin's ATR stop replaces it when the entry fills)",
    GUARD: "stays in force (the plugin's ATR stop tightens it where it is tighter)",
    NONE: "is the trade's stop with the strategy's own exits (the plugin adds no stop)",
}


def static_stoploss_notice(stoploss: float, mode: str) -> str:
    """Said at start-up: what the static stoploss is to a trade in exit `mode` and what it
    does to the smallest entry."""
    return (
        f"The static stoploss {stoploss:g} {_STATIC_STOP_ROLE[mode]}; Freqtrade also sizes "
        "its minimum stake to survive it, up to 1.5x the exchange's minimum order value. An "
        "entry whose risk-sized stake is below that minimum is not taken (a stake is never "
        "raised beyond its risk); the skip line names the minimum the trade's own stop would "
        "need"
    )
