"""Exit callbacks of `QuantMixin`: the stop stages (initial, breakeven, trailing), the
take-profit and the time exit, read from the state fixed at the entry fill.

`custom_stoploss` moves the stop to the level `core.stop_levels` allows (only ever tighter);
`custom_exit` gives "take_profit" at k2 * ATR and "max_duration" (never with the time_exit
layer off: its rules carry an infinite duration); `custom_exit_price` fills the
take-profit at its level. A mixin: it reads the strategy base's trade states.

Stop-type exits asked for through `custom_exit` (a passed stop Freqtrade will not close
itself, `no_stop_state`) leave with a stop's order type, not with `order_types["exit"]`
(a limit at the proposed price, which a falling market leaves unfilled while the exchange
stop was cancelled for it). Freqtrade takes the order type from the exit's type, so
`should_exit` hands them on as the type Freqtrade gives its own stop exits: `stop_loss`
(`order_types["stoploss"]`) where Freqtrade checks stops itself, `emergency_exit`
(`order_types["emergency_exit"]`, market unless set) live with `stoploss_on_exchange`,
where `order_types["stoploss"]` is the exchange's resting stop order (a stop-limit on
Binance spot). The exit reason stays the plugin's.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from freqtrade.enums import ExitCheckTuple, ExitType
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy, stoploss_from_absolute

from freqtrade_quant_plugin.adapters.records.trade_state import EntryState
from freqtrade_quant_plugin.adapters.strategy.exits.live_stops import (
    STOP_TYPE_REASONS,
    is_passed,
    stop_reason,
)
from freqtrade_quant_plugin.adapters.strategy.exits.state_recovery import NO_STOP_STATE
from freqtrade_quant_plugin.adapters.strategy.fail_closed import (
    fail_closed,
)
from freqtrade_quant_plugin.core.stop_levels import (
    StopLevel,
    current_stop,
)

TAKE_PROFIT = "take_profit"
MAX_DURATION = "max_duration"


def _first_fill(trade: Trade) -> bool:
    """Whether the trade's only fill so far is its first entry (no add, no partial exit)."""
    return trade.nr_of_successful_entries <= 1 and trade.nr_of_successful_exits == 0


class ExitCallbacks(IStrategy):
    """Stops and exits of QuantStrategy."""

    def _plugin_exit_reason(self, trade: Trade, state: EntryState, current_time: datetime) -> str:
        reason = trade.exit_reason or ""
        if reason != "trailing_stop_loss":
            return reason
        return stop_reason(self._stop_level(trade, state, None, current_time))

    def _stop_level(
        self, trade: Trade, state: EntryState, current_rate: float | None, current_time: datetime
    ) -> StopLevel:
        """Where the stop stands now: initial, breakeven or trailing (core.stop_levels)."""
        return current_stop(
            is_short=state.is_short,
            entry_price=state.entry_price,
            initial_stop=state.stop_price,
            breakeven_price=state.breakeven_price,
            atr=state.atr,
            rules=state.rules,
            best_price=self._best_price(trade, state, current_rate),
            after_entry_candle=current_time > trade.open_date_utc,
        )

    def _trade_state(self, trade: Trade) -> EntryState | None:
        state = self._states.get(trade, use_database=self._is_live)
        if state is None:
            state = self._recovery.recover(trade)
            if state is not None:
                self._states.put(state)
        return state

    @staticmethod
    def _best_price(trade: Trade, state: EntryState, current_rate: float | None) -> float:
        prices = [
            p for p in (trade.min_rate if state.is_short else trade.max_rate, current_rate) if p
        ]
        if not prices:
            return state.entry_price
        return min(prices) if state.is_short else max(prices)

    # ----------------------------------------------------------------- exits
    def should_exit(self, *args: Any, **kwargs: Any) -> list[ExitCheckTuple]:
        """Freqtrade's exit checks; the plugin's stop-type custom exits typed as stop exits
        (see the module docstring). Backtests keep Freqtrade's semantics."""
        return self._stop_typed(super().should_exit(*args, **kwargs))

    def _stop_typed(self, exits: list[ExitCheckTuple]) -> list[ExitCheckTuple]:
        if self._is_simulated:
            return exits
        stop_type = ExitType.EMERGENCY_EXIT if self._stop_on_exchange_live else ExitType.STOP_LOSS
        return [
            ExitCheckTuple(exit_type=stop_type, exit_reason=check.exit_reason)
            if check.exit_type == ExitType.CUSTOM_EXIT
            and check.exit_reason in (*STOP_TYPE_REASONS, NO_STOP_STATE)
            else check
            for check in exits
        ]

    @fail_closed(
        lambda self, call: self._recovery.stop_failed(call["trade"]),
        "the trade keeps Freqtrade's last stop if it is a plugin stop, else it exits",
    )
    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        state = self._trade_state(trade)
        if state is None:
            return None
        level = self._stop_level(trade, state, current_rate, current_time)
        sign = -1.0 if state.is_short else 1.0
        # Only a real move is returned: Freqtrade marks any raise as trailing, and a
        # re-rounded copy of the same stop would mislabel an initial stop-out. Freqtrade lets
        # an after-fill answer lower the stop: only the first entry fill may (the plan's stop
        # replaces the backstop); after an add or a partial exit the stop in force stays or
        # tightens (position_adds caps an add to it).
        may_lower = after_fill and _first_fill(trade)
        if not may_lower and (level.price - trade.stop_loss) * sign <= 0:
            return None
        if self._is_live and is_passed(level.price, current_rate, state.is_short):
            # A distance from the price cannot express a passed stop (Freqtrade ignores 0).
            return self._passed_stops.passed_stop_distance(trade, level, current_rate)
        return stoploss_from_absolute(
            level.price, current_rate, is_short=state.is_short, leverage=state.leverage
        )

    @fail_closed(
        lambda self, call: self._recovery.exit_reason(call["trade"], self.stoploss),
        "the trade exits if only the static backstop protects it, else keeps its stop",
    )
    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        state = self._trade_state(trade)
        unprotected = self._recovery.unprotected_exit(trade, state, self.stoploss)
        if unprotected or state is None:
            return unprotected
        if self._is_live:
            level = self._stop_level(trade, state, current_rate, current_time)
            reason = self._passed_stops.stop_exit_reason(
                trade, level, current_rate, self._stop_on_exchange_live
            )
            if reason:
                return reason
        hours = state.rules.max_duration_hours
        if math.isfinite(hours) and current_time - trade.open_date_utc >= timedelta(hours=hours):
            return MAX_DURATION
        sign = -1.0 if state.is_short else 1.0
        # The target counts only while the price is there: live the current rate, in a
        # backtest this candle's range (an earlier touch, `max_rate`, is history: a limit
        # at the target would then sit above the market). The range only with limit exits:
        # the backtester fills those at the target within the candle; any other exit type
        # it fills at the candle's open, where a high reached later is not known yet.
        candle = (
            self._signals.candle_at(pair, current_time)
            if self._is_simulated and self.order_types.get("exit") == "limit"
            else None
        )
        reached = current_rate
        if candle is not None:
            reached = candle.low if state.is_short else candle.high
        if (reached - state.take_profit_price) * sign < 0:
            return None
        if candle is not None:
            # The candle reached the target; if it also reached the stop, the backtest cannot
            # know which came first and assumes the stop (as Freqtrade does for ROI).
            adverse = candle.high if state.is_short else candle.low
            if (adverse - trade.stop_loss) * sign <= 0:
                return None
        return TAKE_PROFIT

    @fail_closed(lambda self, call: call["proposed_rate"], "Freqtrade's exit price")
    def custom_exit_price(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        proposed_rate: float,
        current_profit: float,
        exit_tag: str | None,
        **kwargs: Any,
    ) -> float:
        if exit_tag != TAKE_PROFIT:
            return proposed_rate
        state = self._trade_state(trade)
        if state is None:
            return proposed_rate
        if state.is_short:
            return min(state.take_profit_price, proposed_rate)
        return max(state.take_profit_price, proposed_rate)
