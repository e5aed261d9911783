"""Paper trades: what a disabled pair's entry signals would have earned.

A disabled pair earns its way back by winning on paper under the exit rules a real trade
would have had, so the simulation uses the same stop arithmetic as live trades
(`current_stop`: initial k1*ATR stop, cost-aware breakeven, trailing) plus the k2*ATR
target and the regime's time limit. It is fed CLOSED candles one by one and never sees a
candle before it has closed, so backtests and live bots get the same answer at the same
moment, without look-ahead.

Conventions:
- Entry at the close of the signal candle, at the instant that candle closes (a live bot
  has no later price at that moment; in a backtest the next open is that same price up to
  the gap).
- The candle opening at the entry instant is the entry candle: only the initial stop
  applies there. Later candles use the stop reached with the best price of the candles
  before them.
- Within one candle the stop is checked before the target (the worst case, since the order
  of high and low is unknown); a candle that opens beyond a level fills at its open.
- Time limit: once a candle closes at or after entry + max_duration_hours, the trade exits
  at that close.
- A paper win is an exit beyond the cost-aware breakeven price (beyond the entry when no
  breakeven price is known): the same meaning as a real trade closing with a net profit.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

from freqtrade_quant_plugin.core.stop_levels import (
    BREAKEVEN,
    TRAILING,
    StopRules,
    current_stop,
)

STOP_REASONS = {BREAKEVEN: "breakeven_stop", TRAILING: "trailing_stop"}
STOP_LOSS = "stop_loss"
TAKE_PROFIT = "take_profit"
MAX_DURATION = "max_duration"


class Candle(NamedTuple):
    """One closed candle; `date` is its opening time in epoch seconds."""

    date: int
    open: float
    high: float
    low: float
    close: float


class PaperTerms(NamedTuple):
    """What a real entry on the same signal would get: its exit rules and its cost-aware
    breakeven price (from the fee Freqtrade charges), None when no breakeven exists."""

    rules: StopRules
    breakeven_price: float | None


class PaperOutcome(NamedTuple):
    exit_time: int  # epoch seconds: the close of the candle that resolved the trade
    exit_price: float
    exit_reason: str
    r_multiple: float  # gross: price move over the initial stop distance
    is_win: bool


@dataclass
class PaperTrade:
    """An open paper trade; `feed` it closed candles until it returns an outcome."""

    pair: str
    is_short: bool
    regime: str
    opened_at: int  # epoch seconds, the close of the signal candle
    timeframe_seconds: int
    entry_price: float
    atr: float
    initial_stop: float
    take_profit: float
    breakeven_price: float | None
    rules: StopRules
    best_price: float
    last_candle: int | None = None  # opening time of the last candle fed

    @classmethod
    def open(
        cls,
        *,
        pair: str,
        is_short: bool,
        regime: str,
        opened_at: int,
        timeframe_seconds: int,
        entry_price: float,
        atr: float,
        rules: StopRules,
        breakeven_price: float | None,
    ) -> PaperTrade:
        """Stop and target from the entry regime's k1/k2 times the signal candle's ATR."""
        if not (math.isfinite(entry_price) and entry_price > 0):
            raise ValueError(f"paper entry price must be positive, got {entry_price!r}")
        if not (math.isfinite(atr) and atr > 0):
            raise ValueError(f"paper trade needs a positive ATR, got {atr!r}")
        if timeframe_seconds <= 0:
            raise ValueError(f"timeframe_seconds must be positive, got {timeframe_seconds!r}")
        sign = -1.0 if is_short else 1.0
        initial_stop = entry_price - sign * rules.k1_SL * atr
        if initial_stop <= 0:
            raise ValueError(
                f"{pair}: a stop {rules.k1_SL:g} ATR ({atr:g}) below {entry_price:g} is not a price"
            )
        return cls(
            pair=pair,
            is_short=is_short,
            regime=regime,
            opened_at=int(opened_at),
            timeframe_seconds=int(timeframe_seconds),
            entry_price=float(entry_price),
            atr=float(atr),
            initial_stop=initial_stop,
            take_profit=entry_price + sign * rules.k2_TP * atr,
            breakeven_price=breakeven_price,
            rules=rules,
            best_price=float(entry_price),
        )

    def feed(self, candle: Candle) -> PaperOutcome | None:
        """Advance by one closed candle; candles before the entry or already fed are ignored."""
        if candle.date < self.opened_at or (
            self.last_candle is not None and candle.date <= self.last_candle
        ):
            return None
        self.last_candle = candle.date
        sign = -1.0 if self.is_short else 1.0
        stop = current_stop(
            is_short=self.is_short,
            entry_price=self.entry_price,
            initial_stop=self.initial_stop,
            breakeven_price=self.breakeven_price,
            atr=self.atr,
            rules=self.rules,
            best_price=self.best_price,
            after_entry_candle=candle.date > self.opened_at,
        )
        worst = candle.high if self.is_short else candle.low
        best = candle.low if self.is_short else candle.high
        closes_at = candle.date + self.timeframe_seconds
        if (worst - stop.price) * sign <= 0:
            price = min(candle.open * sign, stop.price * sign) * sign  # a gap fills worse
            return self._outcome(closes_at, price, STOP_REASONS.get(stop.stage, STOP_LOSS))
        if (best - self.take_profit) * sign >= 0:
            price = max(candle.open * sign, self.take_profit * sign) * sign  # a gap fills better
            return self._outcome(closes_at, price, TAKE_PROFIT)
        if (best - self.best_price) * sign > 0:
            self.best_price = best
        if closes_at - self.opened_at >= self.rules.max_duration_hours * 3600:
            return self._outcome(closes_at, candle.close, MAX_DURATION)
        return None

    def _outcome(self, exit_time: int, exit_price: float, reason: str) -> PaperOutcome:
        sign = -1.0 if self.is_short else 1.0
        r_multiple = (
            (exit_price - self.entry_price) * sign / abs(self.entry_price - self.initial_stop)
        )
        threshold = self.entry_price if self.breakeven_price is None else self.breakeven_price
        return PaperOutcome(
            exit_time=exit_time,
            exit_price=exit_price,
            exit_reason=reason,
            r_multiple=r_multiple,
            is_win=(exit_price - threshold) * sign > 0,
        )

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PaperTrade:
        values = dict(data)
        values["rules"] = StopRules(**values["rules"])
        return cls(**values)
