"""exchangeInfo documents built from the instruments of a datadir.

Precision and limits follow from each pair's own prices, so that Freqtrade's rounding,
minimum stake and amount checks behave as they would against the real exchange: a tick
of about five significant digits of the median close (at most 0.01, at least 1e-8), a
lot step worth between 0.1 and 1 quote unit (at most one whole coin), and a 5 USDT
minimum notional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from freqtrade_quant_plugin.offline.candles import CLOSE, CandleStore
from freqtrade_quant_plugin.offline.datadir import Instrument, timeframe_ms

MIN_NOTIONAL = "5"
PERPETUAL_DELIVERY_MS = 4133404800000  # Binance's "no delivery" date for perpetuals
_MAX_TICK_EXP, _MIN_TICK_EXP = -2, -8
_MAX_QTY = "90000000000"


@dataclass(frozen=True)
class Precision:
    tick_size: float
    step_size: float

    @property
    def price_decimals(self) -> int:
        return decimals_of(self.tick_size)

    @property
    def quantity_decimals(self) -> int:
        return decimals_of(self.step_size)


def decimals_of(step: float) -> int:
    return max(0, -round(math.log10(step)))


def as_decimal_string(value: float, decimals: int = 8) -> str:
    """Binance sends numbers as fixed-point strings; never scientific notation."""
    return format(Decimal(repr(round(value, decimals))).quantize(Decimal(1).scaleb(-decimals)), "f")


def precision_for_price(price: float) -> Precision:
    """Tick and step from the price magnitude alone (see module docstring)."""
    if not math.isfinite(price) or price <= 0:
        return Precision(10.0**_MIN_TICK_EXP, 1.0)
    tick_exp = min(_MAX_TICK_EXP, max(_MIN_TICK_EXP, math.floor(math.log10(price)) - 4))
    step_exp = min(0, math.floor(math.log10(1.0 / price)))
    return Precision(10.0**tick_exp, 10.0**step_exp)


def reference_price(store: CandleStore, instrument: Instrument, kind: str) -> float:
    """Median close of the coarsest stored file: the cheapest read that reflects magnitude."""
    stored = instrument.timeframes(kind)
    coarsest = max(stored, key=timeframe_ms)
    closes = store.candles(instrument, kind, coarsest).values[:, CLOSE]
    return float(np.median(closes)) if len(closes) else math.nan


def _price_and_lot_filters(precision: Precision) -> list[dict]:
    tick = as_decimal_string(precision.tick_size)
    step = as_decimal_string(precision.step_size)
    return [
        {
            "filterType": "PRICE_FILTER",
            "minPrice": tick,
            "maxPrice": "1000000.00000000",
            "tickSize": tick,
        },
        {"filterType": "LOT_SIZE", "minQty": step, "maxQty": _MAX_QTY, "stepSize": step},
        {"filterType": "MARKET_LOT_SIZE", "minQty": step, "maxQty": _MAX_QTY, "stepSize": step},
    ]


def spot_symbol(instrument: Instrument, precision: Precision) -> dict:
    filters = _price_and_lot_filters(precision)
    filters.append(
        {
            "filterType": "NOTIONAL",
            "minNotional": MIN_NOTIONAL,
            "applyMinToMarket": True,
            "maxNotional": "9000000.00000000",
            "applyMaxToMarket": False,
            "avgPriceMins": 5,
        }
    )
    return {
        "symbol": instrument.symbol,
        "status": "TRADING",
        "baseAsset": instrument.base,
        "baseAssetPrecision": 8,
        "quoteAsset": instrument.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": [
            "LIMIT",
            "LIMIT_MAKER",
            "MARKET",
            "STOP_LOSS",
            "STOP_LOSS_LIMIT",
            "TAKE_PROFIT",
            "TAKE_PROFIT_LIMIT",
        ],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": filters,
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def futures_symbol(instrument: Instrument, precision: Precision, onboard_ms: int) -> dict:
    filters = _price_and_lot_filters(precision)
    filters.append({"filterType": "MIN_NOTIONAL", "notional": MIN_NOTIONAL})
    filters.append({"filterType": "MAX_NUM_ORDERS", "limit": 200})
    return {
        "symbol": instrument.symbol,
        "pair": instrument.symbol,
        "contractType": "PERPETUAL",
        "deliveryDate": PERPETUAL_DELIVERY_MS,
        "onboardDate": onboard_ms,
        "status": "TRADING",
        "maintMarginPercent": "2.5000",
        "requiredMarginPercent": "5.0000",
        "baseAsset": instrument.base,
        "quoteAsset": instrument.quote,
        "marginAsset": instrument.settle,
        "pricePrecision": precision.price_decimals,
        "quantityPrecision": precision.quantity_decimals,
        "baseAssetPrecision": 8,
        "quotePrecision": 8,
        "underlyingType": "COIN",
        "underlyingSubType": [],
        "triggerProtect": "0.0500",
        "liquidationFee": "0.012500",
        "marketTakeBound": "0.05",
        "filters": filters,
        "orderTypes": [
            "LIMIT",
            "MARKET",
            "STOP",
            "STOP_MARKET",
            "TAKE_PROFIT",
            "TAKE_PROFIT_MARKET",
            "TRAILING_STOP_MARKET",
        ],
        "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
    }


def exchange_info(symbols: list[dict], server_time_ms: int) -> dict:
    return {
        "timezone": "UTC",
        "serverTime": server_time_ms,
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": 6000,
            },
        ],
        "exchangeFilters": [],
        "assets": [],
        "symbols": symbols,
    }
