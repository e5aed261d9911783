"""When and at what price a resting order fills, one replayed candle at a time.

Pure rules, no state: the account applies them to each candle that closed after the
order was placed (a candle only counts once it is complete, so no fill uses a price the
market has not shown yet).

- A limit buy fills when the candle's low reaches its price, at its price, or at the open
  when the candle opens below it (a gap fills a buy limit at the better price). A limit
  sell mirrors that with the high.
- A stop triggers when the low (sell) or high (buy) reaches its stop price; the trigger
  price is the stop, or the open when the candle opens beyond it (a gap).
- A stop-limit (spot STOP_LOSS_LIMIT, futures STOP) then rests as a limit at its limit
  price: it fills at the trigger price when that is not beyond the limit, else it waits
  as a limit, exactly as Binance leaves a stop-limit that a gap jumped.
- A stop-market (futures STOP_MARKET) fills at the trigger price less slippage.
- Market orders fill at the quote (ask to buy, bid to sell) moved by the plugin's own
  slippage model (`core.costs.CostModel.slippage_bps`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from freqtrade_quant_plugin.core.costs import CostModel

LIMIT_TYPES = frozenset({"LIMIT", "LIMIT_MAKER"})
STOP_LIMIT_TYPES = frozenset({"STOP_LOSS_LIMIT", "STOP"})
STOP_MARKET_TYPES = frozenset({"STOP_MARKET", "STOP_LOSS"})
ATR_CANDLES = 14


@dataclass(frozen=True)
class Bar:
    """One closed candle: open, high, low, close, base volume."""

    open: float
    high: float
    low: float
    close: float
    volume: float


@dataclass(frozen=True)
class Match:
    """What one candle did to an order: triggered it, filled it at `price`, or both."""

    triggered: bool
    price: float | None
    is_maker: bool = True


def limit_fill(side: str, limit: float, bar: Bar) -> float | None:
    """Fill price of a resting limit order during `bar`, or None."""
    if side == "BUY":
        return min(limit, bar.open) if bar.low <= limit else None
    return max(limit, bar.open) if bar.high >= limit else None


def stop_trigger(side: str, stop: float, bar: Bar) -> float | None:
    """Trigger price of a stop during `bar` (the open when it gapped past), or None."""
    if side == "SELL":
        return min(stop, bar.open) if bar.low <= stop else None
    return max(stop, bar.open) if bar.high >= stop else None


def beyond_limit(side: str, price: float, limit: float) -> bool:
    """Whether a sell at `price` is below its limit (a buy above it): no fill there."""
    return price < limit if side == "SELL" else price > limit


def match_resting(
    order_type: str, side: str, triggered: bool, limit: float, stop: float, bar: Bar
) -> Match:
    """Apply one candle to a resting order (see the module docstring)."""
    if order_type in LIMIT_TYPES or (order_type in STOP_LIMIT_TYPES and triggered):
        return Match(triggered, limit_fill(side, limit, bar))
    trigger = stop_trigger(side, stop, bar)
    if trigger is None:
        return Match(False, None)
    if order_type in STOP_MARKET_TYPES:
        return Match(True, trigger, is_maker=False)
    if beyond_limit(side, trigger, limit):
        return Match(True, None)  # jumped: rests as a limit order
    return Match(True, trigger, is_maker=False)


def average_range(bars: np.ndarray) -> float:
    """Mean high-low range of the last candles: the ATR the slippage model is given."""
    recent = bars[-ATR_CANDLES:]
    return float(np.mean(recent[:, 1] - recent[:, 2])) if len(recent) else 0.0


def market_price(
    side: str, bid: float, ask: float, atr: float, notional: float, volume: float | None
) -> float:
    """Fill price of a market order: the touch, moved against the taker by the slippage."""
    touch = ask if side == "BUY" else bid
    bps = CostModel().slippage_bps(touch, max(atr, 0.0), notional, volume)
    move = touch * bps / 10_000
    return touch + move if side == "BUY" else max(touch - move, 0.0)


def slipped(side: str, price: float, atr: float, notional: float) -> float:
    """A triggered stop-market's fill: the trigger price moved by the slippage model."""
    return market_price(side, price, price, atr, notional, None)
