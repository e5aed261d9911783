"""Best bid/ask, order books and 24h statistics derived from candles.

A candle has no spread, so one is modelled: the half-spread is a small fraction of the
candle's high-low range (never less than one tick), and the book's sizes are a small
fraction of the candle's volume, growing with depth. Wide, thin candles give wide, thin
books, which is what the cost model and dry-run fills should see.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from freqtrade_quant_plugin.offline.candles import CLOSE, HIGH, LOW, OPEN, VOLUME
from freqtrade_quant_plugin.offline.markets import Precision, as_decimal_string

HALF_SPREAD_OF_RANGE = 0.005
TOP_SIZE_OF_VOLUME = 0.002
SIZE_GROWTH_PER_LEVEL = 0.25


@dataclass(frozen=True)
class Quote:
    bid: float
    ask: float
    last: float
    bid_qty: float
    ask_qty: float
    level_gap: float


def _snap(value: float, step: float) -> float:
    return round(round(value / step) * step, 12)


def quote_from_candle(row: np.ndarray, precision: Precision) -> Quote:
    """Top of book around the candle's close."""
    tick, step = precision.tick_size, precision.step_size
    half = max(tick, math.ceil(HALF_SPREAD_OF_RANGE * (row[HIGH] - row[LOW]) / tick) * tick)
    last = max(tick, _snap(row[CLOSE], tick))
    bid = max(tick, _snap(last - half, tick))
    ask = _snap(last + half, tick)
    qty = max(step, _snap(row[VOLUME] * TOP_SIZE_OF_VOLUME, step))
    return Quote(bid, ask, last, qty, qty, half)


def order_book(quote: Quote, levels: int, precision: Precision) -> tuple[list, list]:
    """Bids descending and asks ascending, `levels` each (bids stop before a zero price)."""
    price_dec, qty_dec = precision.price_decimals, precision.quantity_decimals
    bids, asks = [], []
    for i in range(levels):
        size = max(
            precision.step_size,
            _snap(quote.bid_qty * (1 + SIZE_GROWTH_PER_LEVEL * i), precision.step_size),
        )
        qty = as_decimal_string(size, qty_dec)
        bid = _snap(quote.bid - i * quote.level_gap, precision.tick_size)
        if bid > 0:
            bids.append([as_decimal_string(bid, price_dec), qty])
        asks.append([as_decimal_string(quote.ask + i * quote.level_gap, price_dec), qty])
    return bids, asks


def book_ticker(symbol: str, quote: Quote, precision: Precision, time_ms: int) -> dict:
    price_dec, qty_dec = precision.price_decimals, precision.quantity_decimals
    return {
        "symbol": symbol,
        "bidPrice": as_decimal_string(quote.bid, price_dec),
        "bidQty": as_decimal_string(quote.bid_qty, qty_dec),
        "askPrice": as_decimal_string(quote.ask, price_dec),
        "askQty": as_decimal_string(quote.ask_qty, qty_dec),
        "time": time_ms,
    }


def ticker_24h(
    symbol: str,
    window: np.ndarray,
    quote: Quote,
    precision: Precision,
    open_ms: int,
    close_ms: int,
    with_book: bool = True,
) -> dict:
    """Binance's rolling 24h statistics over the candles of the last day."""
    price_dec, qty_dec = precision.price_decimals, precision.quantity_decimals
    first_open = float(window[0, OPEN])
    volume = float(window[:, VOLUME].sum())
    quote_volume = float((window[:, VOLUME] * window[:, CLOSE]).sum())
    change = quote.last - first_open
    ticker = {
        "symbol": symbol,
        "priceChange": as_decimal_string(change, price_dec),
        "priceChangePercent": as_decimal_string(100 * change / first_open, 3),
        "weightedAvgPrice": as_decimal_string(
            quote_volume / volume if volume else quote.last, price_dec
        ),
        "lastPrice": as_decimal_string(quote.last, price_dec),
        "lastQty": as_decimal_string(precision.step_size, qty_dec),
        "openPrice": as_decimal_string(first_open, price_dec),
        "highPrice": as_decimal_string(float(window[:, HIGH].max()), price_dec),
        "lowPrice": as_decimal_string(float(window[:, LOW].min()), price_dec),
        "volume": as_decimal_string(volume, qty_dec),
        "quoteVolume": as_decimal_string(quote_volume, 8),
        "openTime": open_ms,
        "closeTime": close_ms,
        "firstId": 0,
        "lastId": len(window),
        "count": len(window),
    }
    if with_book:
        ticker.update(
            prevClosePrice=as_decimal_string(first_open, price_dec),
            bidPrice=as_decimal_string(quote.bid, price_dec),
            bidQty=as_decimal_string(quote.bid_qty, qty_dec),
            askPrice=as_decimal_string(quote.ask, price_dec),
            askQty=as_decimal_string(quote.ask_qty, qty_dec),
        )
    return ticker
