"""The exit callbacks of a composed strategy: the user's exits, and the plugin's by mode.

- custom_stoploss: the user's answer where Freqtrade would have asked for it (their
  `use_custom_stoploss`, and `after_fill` only if their method takes it); the plugin's ATR
  stop in guard and replace, returned only when it is tighter than the user's answer (and,
  in guard, than the stop in force: the user's static and trailing stops; core/exit_modes.py);
  in guard and replace an after-fill answer (Freqtrade lets it lower the stop) never goes
  below the plugin's stop; once the trade has an add, it never lowers the stop the add was
  sized to;
- custom_exit: the plugin's exits first (replace: take-profit, time exit, fail-closed
  exits; guard: only a stop the price already passed), else the user's; where Freqtrade
  skips custom_exit (`use_exit_signal` false, an exit signal on the candle that
  `exit_profit_only` may hold back), `should_exit` adds the plugin's exit itself;
- custom_exit_price: the take-profit level for the plugin's take-profit, else the user's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from freqtrade.enums import ExitCheckTuple, ExitType
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy, stoploss_from_absolute

from freqtrade_quant_plugin.adapters.strategy.exits.exit_callbacks import TAKE_PROFIT, ExitCallbacks
from freqtrade_quant_plugin.adapters.strategy.exits.live_stops import (
    INITIAL_STOP_REASON,
    STOP_EXIT_REASONS,
)
from freqtrade_quant_plugin.adapters.strategy.fail_closed import failure_log
from freqtrade_quant_plugin.core.exit_modes import NONE, REPLACE, stop_level, tighter_stoploss

# custom_exit answers of the plugin that guard mode keeps: a stop the price already passed.
_GUARD_EXITS = frozenset({INITIAL_STOP_REASON, *STOP_EXIT_REASONS.values()})


def is_default(method: Any, name: str) -> bool:
    """Whether `method` is Freqtrade's own default (the user defines no `name`)."""
    return getattr(method, "__func__", None) is getattr(IStrategy, name)


class ComposedExits(IStrategy):
    """custom_stoploss, custom_exit and custom_exit_price of QuantMixin."""

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
        return self._composed(
            "custom_stoploss",
            pair=pair,
            trade=trade,
            current_time=current_time,
            current_rate=current_rate,
            current_profit=current_profit,
            after_fill=after_fill,
            **kwargs,
        )

    def _compose_custom_stoploss(self, user: Any, **call: Any) -> float | None:
        user_answer = None
        if self._quant_user_stoploss and (not call["after_fill"] or self._quant_user_after_fill):
            user_answer = self._user_stoploss(user, call)
        plugin = None
        plugin_mode = self.quant_exits_mode != NONE
        if plugin_mode:
            plugin = ExitCallbacks.custom_stoploss(self, **call)
        trade = call["trade"]
        # In replace the static stop is the plugin's own backstop, not the user's: the plan's
        # stop may replace it after the fill (wider or tighter), as in QuantStrategy.
        current = None if self.quant_exits_mode == REPLACE else trade.stop_loss
        answer = tighter_stoploss(
            user_answer,
            plugin,
            rate=call["current_rate"],
            leverage=float(trade.leverage or 1.0),
            is_short=bool(trade.is_short),
            current_stop=current,
        )
        if call["after_fill"] and answer is not None and answer != plugin and plugin_mode:
            answer = self._above_plugin_stop(answer, trade, call)
        if call["after_fill"] and trade.nr_of_successful_entries > 1:
            return self._kept_after_add(answer, trade, call["current_rate"])
        return answer

    def _above_plugin_stop(self, answer: float, trade: Trade, call: dict[str, Any]) -> float | None:
        """The user's after-fill answer (Freqtrade lets it lower the stop; e.g. the user's after a
        partial exit) never goes below the plugin's stop: its level now, or in replace, with
        no entry state, the stop in force (the plugin's backstop)."""
        rate, is_short = call["current_rate"], bool(trade.is_short)
        sign = -1.0 if is_short else 1.0
        state = self._trade_state(trade)
        if state is not None:
            floor = self._stop_level(trade, state, rate, call["current_time"]).price
        elif self.quant_exits_mode == REPLACE and trade.stop_loss:
            floor = float(trade.stop_loss)
        else:
            return answer
        leverage = float(trade.leverage or 1.0)
        if (stop_level(answer, rate, leverage, is_short) - floor) * sign >= -1e-9 * rate:
            return answer
        self.log_decision(
            "%s: trade %s: an after-fill stop below the plugin's %.8g is not applied",
            trade.pair,
            trade.id,
            floor,
        )
        if (rate - floor) * sign <= 0:  # passed: keep the stop in force
            return None
        return stoploss_from_absolute(floor, rate, is_short=is_short, leverage=leverage)

    def _kept_after_add(self, answer: float | None, trade: Trade, rate: float) -> float | None:
        """An add was cut to fit the plan at the stop in force (fills/position_adds.py): an
        after-fill answer that would lower that stop is not applied (the stop is kept)."""
        if answer is None or not trade.stop_loss:
            return answer
        leverage = float(trade.leverage or 1.0)
        level = stop_level(answer, rate, leverage, bool(trade.is_short))
        if (level - float(trade.stop_loss)) * (-1.0 if trade.is_short else 1.0) >= 0:
            return answer
        self.log_decision(
            "%s: trade %s keeps its stop %.8g after an add (the add was sized to it), not %.8g",
            trade.pair,
            trade.id,
            trade.stop_loss,
            level,
        )
        return None

    def _user_stoploss(self, user: Any, call: dict[str, Any]) -> float | None:
        """The user's answer; when it raises, None (Freqtrade's own default for it), logged
        once: the plugin's stop must not be lost with it (guard sizes to that stop)."""
        try:
            return user(**call)
        except Exception as error:
            trade = call["trade"]
            failure_log(self).report(
                self,
                "custom_stoploss",
                f"trade {getattr(trade, 'id', '?')} {call['pair']}",
                error,
                "the strategy's own answer is ignored this time; the plugin's stop still applies",
            )
            return None

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | bool | None:
        return self._composed(
            "custom_exit",
            pair=pair,
            trade=trade,
            current_time=current_time,
            current_rate=current_rate,
            current_profit=current_profit,
            **kwargs,
        )

    def _compose_custom_exit(self, user: Any, **call: Any) -> str | bool | None:
        return self._plugin_exit(call) or user(**call)

    def _plugin_exit(self, call: dict[str, Any]) -> str | None:
        """The plugin's custom exit in this mode (replace: all; guard: a passed stop)."""
        if self.quant_exits_mode == NONE:
            return None
        reason = ExitCallbacks.custom_exit(self, **call)
        if reason and (self.quant_exits_mode == REPLACE or reason in _GUARD_EXITS):
            return reason
        return None

    def should_exit(
        self,
        trade: Trade,
        rate: float,
        current_time: datetime,
        *,
        enter: bool,
        exit_: bool,
        **kwargs: Any,
    ) -> list[ExitCheckTuple]:
        """Freqtrade's exit checks, plus the plugin's custom exit where Freqtrade skipped
        custom_exit: `use_exit_signal` false, or an exit signal on the candle (which
        `exit_profit_only` may then hold back). Only the plugin's part: the user's
        custom_exit stays skipped there, as without the plugin."""
        exits = super().should_exit(trade, rate, current_time, enter=enter, exit_=exit_, **kwargs)
        skipped = not self.use_exit_signal or (exit_ and not enter)
        if not skipped or any(check.exit_type == ExitType.EXIT_SIGNAL for check in exits):
            return exits
        call = {"pair": trade.pair, "trade": trade, "current_time": current_time,
                "current_rate": rate, "current_profit": trade.calc_profit_ratio(rate)}  # fmt: skip
        reason = self._plugin_exit(call)
        if not reason:
            return exits
        exit_check = ExitCheckTuple(exit_type=ExitType.CUSTOM_EXIT, exit_reason=reason)
        return [*self._stop_typed([exit_check]), *exits]

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
        return self._composed(
            "custom_exit_price",
            pair=pair,
            trade=trade,
            current_time=current_time,
            proposed_rate=proposed_rate,
            current_profit=current_profit,
            exit_tag=exit_tag,
            **kwargs,
        )

    def _compose_custom_exit_price(self, user: Any, **call: Any) -> float:
        if self.quant_exits_mode == REPLACE and call["exit_tag"] == TAKE_PROFIT:
            return ExitCallbacks.custom_exit_price(self, **call)
        return user(**call)
