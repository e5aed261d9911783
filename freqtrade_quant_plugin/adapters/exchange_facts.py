"""What the exchange charges and requires, as Freqtrade itself sees it.

The cost model must use the fee Freqtrade will actually charge (a backtest charges
`config["fee"]` or the worse of the exchange's taker and maker fees), or a stop-out would
lose more than the sizing allowed for. Liquidation depends on the maintenance margin of
the pair's leverage tier.
"""

from __future__ import annotations

import logging
from typing import Any

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
