"""Live and dry-run: a stop the price has already passed closes the trade at once.

`custom_stoploss` speaks in distances below (long) or above (short) the current price, so
it cannot express a stop the price is already beyond: `stoploss_from_absolute` answers 0
there and Freqtrade ignores a 0, keeping the wide static backstop. That happens whenever
the first stop call comes late (a restart or an outage between the entry fill and the
next loop, a fast market, a gap): the trade would ride to the backstop.

Two mechanisms close such a trade instead, both on the plugin's stored stop level:

- `passed_stop_distance` is what `custom_stoploss` returns then: the smallest distance
  Freqtrade accepts (`PASSED_STOP_DISTANCE`). Freqtrade rounds a long's stop UP (a
  short's down) to the price tick, so its stop lands on the current price; its stop
  check runs right after `custom_stoploss` in the same loop, sees the stop reached and
  exits with its stop order type (market by default). The plugin reports the exit as
  stop_loss, breakeven_stop or trailing_stop (the stage of its own level). A callback
  cannot move the stop any other way: Freqtrade hands it a deep copy of the trade.
- `stop_exit_reason` is for `custom_exit`, which runs after the stop check: when
  Freqtrade will not exit on its own stop (live with `stoploss_on_exchange`, where
  Freqtrade leaves stops to the exchange order, or a market without a price tick, where
  no rounding lifts the stop onto the price), the exit is asked for with the stage's
  reason; `ExitCallbacks.should_exit` makes it leave with a stop's order type (market by
  default), never as a limit at the proposed price.

Backtests never come here: Freqtrade's backtester fills stops against candle lows/highs
and its semantics stay as they are.
"""

from __future__ import annotations

import logging
from typing import Protocol

from freqtrade_quant_plugin.core.stop_levels import BREAKEVEN, TRAILING, StopLevel

logger = logging.getLogger(__name__)

STOP_EXIT_REASONS = {BREAKEVEN: "breakeven_stop", TRAILING: "trailing_stop"}
INITIAL_STOP_REASON = "stop_loss"
# Every reason `stop_exit_reason` can give: exits that must leave as stop exits.
STOP_TYPE_REASONS = (INITIAL_STOP_REASON, *STOP_EXIT_REASONS.values())
# Relative distance below (long) / above (short) the price: far under any price tick, so
# Freqtrade's rounding puts the stop on the price; not 0, which Freqtrade ignores.
PASSED_STOP_DISTANCE = 1e-9


class _StopTrade(Protocol):
    id: int
    pair: str
    is_short: bool
    stop_loss: float


def stop_reason(level: StopLevel) -> str:
    """The plugin's exit reason for a stop-out at `level`."""
    return STOP_EXIT_REASONS.get(level.stage, INITIAL_STOP_REASON)


def is_passed(level_price: float, rate: float, is_short: bool) -> bool:
    """True when `rate` is at or beyond the stop (below a long's, above a short's)."""
    return rate >= level_price if is_short else rate <= level_price


class PassedStops:
    """What the stop callbacks answer for a passed stop; each trade is logged once."""

    def __init__(self) -> None:
        self._logged: set[int] = set()

    def passed_stop_distance(self, trade: _StopTrade, level: StopLevel, rate: float) -> float:
        """`custom_stoploss`'s answer: Freqtrade's stop onto the price, so it exits now."""
        if trade.id not in self._logged:
            self._logged.add(trade.id)
            logger.warning(
                "Trade %s %s: price %.8g is already beyond the %s %.8g: exiting now",
                trade.id,
                trade.pair,
                rate,
                stop_reason(level).replace("_", " "),
                level.price,
            )
        return PASSED_STOP_DISTANCE

    @staticmethod
    def stop_exit_reason(
        trade: _StopTrade, level: StopLevel, rate: float, stop_on_exchange_live: bool
    ) -> str | None:
        """The stage's reason when the price passed the stop and Freqtrade will not exit.

        Freqtrade's own stop check exits when its stop is reached, except live with the
        stop on the exchange (the exchange order is trusted, and it may be missing or
        rejected there). Anything else would double the exit.
        """
        if not is_passed(level.price, rate, trade.is_short):
            return None
        if not stop_on_exchange_live and is_passed(trade.stop_loss, rate, trade.is_short):
            return None
        return stop_reason(level)


def advise_stop_on_exchange(order_types: dict, dry_run: bool) -> None:
    """Live without an exchange-side stop: a dead bot leaves its trades unprotected."""
    if not dry_run and not order_types.get("stoploss_on_exchange"):
        logger.warning(
            "order_types.stoploss_on_exchange is false: while this bot is down, nothing "
            "protects its open trades; set it to true (the exchange order follows the "
            "plugin's stop, see README 'Stops in a live bot')"
        )
