"""The Freqtrade callbacks of a composed strategy: the plugin's part and the user's, each time.

| callback | plugin part | user part |
|---|---|---|
| populate_indicators | regime columns under its own names | first, untouched |
| bot_start / bot_loop_start | start-up checks, pair state, stale data | after the plugin's |
| informative_pairs | disabled pairs (paper trades) | the user's list first |
| custom_stake_amount | risk size, cost gate, pair state: only ever smaller | the cap |
| confirm_trade_entry | refuses disabled pairs and blocked (stale) entries | if the plugin agrees |
| leverage | lowered so the stop lies before liquidation | what is wanted |
| custom_stoploss | ATR stop (guard, replace), only when tighter | as the user set it |
| custom_exit | plugin exits (replace), passed-stop exits (guard) | when the plugin has none |
| should_exit | the same plugin exits where Freqtrade skips custom_exit | Freqtrade's checks |
| custom_exit_price | the take-profit level (replace) | every other exit |
| order_filled | entry state and records | after the plugin's |
| adjust_trade_position | an add cut to the planned money at the stop | what is wanted |

How the user's part is reached, for a user class above or below the plugin: see guarded.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from freqtrade.persistence import Order, Trade
from freqtrade.strategy import IStrategy
from pandas import DataFrame

from freqtrade_quant_plugin.adapters.strategy.compose.guarded import (
    COMPOSE_PREFIX,
    PROCEDURAL,
    call_guard,
    mark_layer,
    user_method,
    wrap_overrides,
)
from freqtrade_quant_plugin.adapters.strategy.exits.exit_composition import (
    ComposedExits,
    is_default,
)
from freqtrade_quant_plugin.adapters.strategy.fail_closed import fail_closed
from freqtrade_quant_plugin.adapters.strategy.fills.fill_records import FillRecords
from freqtrade_quant_plugin.adapters.strategy.sizing.entry_sizing import EntrySizing


def user_indicators(user: Any, named: dict[str, Any]) -> DataFrame:
    """The frame after the user's own populate_indicators below the plugin (if any)."""
    if is_default(user, "populate_indicators"):
        return named["dataframe"]
    return user(named["dataframe"], named["metadata"])


class ComposedCallbacks(ComposedExits, IStrategy):
    """Freqtrade's callbacks, each composing the plugin's part with the user's."""

    def __init_subclass__(cls, quant_layer: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if quant_layer:
            mark_layer(cls)
        else:
            cls._quant_wrapped = tuple(wrap_overrides(cls))

    def _composed(self, name: str, **named: Any) -> Any:
        guard = call_guard(self)
        user = guard.overrides.pop(name, None) or user_method(self, name)
        if name in guard.active:  # super() from a user override below the plugin
            if name == "populate_indicators":  # columns for the user to read, not recorded
                frame = user_indicators(user, named)
                return self._quant_indicators(frame, named["metadata"], record=False)
            return self._procedure(name, user, named) if name in PROCEDURAL else user(**named)
        with guard.entered(name):
            if name in PROCEDURAL:
                return self._procedure(name, user, named)
            return getattr(self, COMPOSE_PREFIX + name)(user, **named)

    def _procedure(self, name: str, user: Any, named: dict[str, Any]) -> Any:
        """A procedural callback: the plugin's part, then the user's (indicators: after)."""
        if name == "populate_indicators":
            return self._plugin_part(name, user_indicators(user, named), named)
        self._plugin_part(name, None, named)
        return user(**named)

    def _plugin_part(self, name: str, result: Any, named: dict[str, Any]) -> Any:
        """The plugin's part of a procedural callback, once per call of the callback."""
        guard = call_guard(self)
        if name in guard.done:
            return result
        guard.done.add(name)
        if name == "populate_indicators":
            return self._quant_indicators(result, named["metadata"])
        if name == "bot_start":
            self._quant_bot_start()
        elif name == "bot_loop_start":
            self._quant_bot_loop_start(named["current_time"])
        elif name == "order_filled":
            self._quant_order_filled(named["trade"], named["order"], named["current_time"])
        return result

    # ----------------------------------------------------------------- indicators, start-up
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        return self._composed("populate_indicators", dataframe=dataframe, metadata=metadata)

    def bot_start(self, **kwargs: Any) -> None:
        self._composed("bot_start", **kwargs)

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        self._composed("bot_loop_start", current_time=current_time, **kwargs)

    def informative_pairs(self) -> list[tuple[str, str]]:
        return self._composed("informative_pairs")

    def _compose_informative_pairs(self, user: Any) -> list[Any]:
        pairs = list(user() or [])
        pairs.extend(pair for pair in self._quant_informative_pairs() if pair not in pairs)
        return pairs

    # ----------------------------------------------------------------- entries
    @fail_closed(lambda self, call: self._failed_entry(call), "no entry (stake 0)")
    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return self._composed(
            "custom_stake_amount",
            pair=pair,
            current_time=current_time,
            current_rate=current_rate,
            proposed_stake=proposed_stake,
            min_stake=min_stake,
            max_stake=max_stake,
            leverage=leverage,
            entry_tag=entry_tag,
            side=side,
            **kwargs,
        )

    def _compose_custom_stake_amount(self, user: Any, **call: Any) -> float:
        wanted = user(**call)
        if not wanted or wanted <= 0:
            return 0.0
        # The user's stake is the ceiling; the available maximum stays Freqtrade's clamp.
        return EntrySizing.custom_stake_amount(self, **call, strategy_stake=float(wanted))

    # Freqtrade's default on an error here is True: the entry would go ahead unchecked.
    @fail_closed(False, "no entry")
    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        return self._composed(
            "confirm_trade_entry",
            pair=pair,
            order_type=order_type,
            amount=amount,
            rate=rate,
            time_in_force=time_in_force,
            current_time=current_time,
            entry_tag=entry_tag,
            side=side,
            **kwargs,
        )

    def _compose_confirm_trade_entry(self, user: Any, **call: Any) -> bool:
        if self._quant_entry_refused(call["pair"], call["side"]):
            return False
        return bool(user(**call))

    def leverage(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_leverage: float,
        max_leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        return self._composed(
            "leverage",
            pair=pair,
            current_time=current_time,
            current_rate=current_rate,
            proposed_leverage=proposed_leverage,
            max_leverage=max_leverage,
            entry_tag=entry_tag,
            side=side,
            **kwargs,
        )

    def _compose_leverage(self, user: Any, **call: Any) -> float:
        own = not is_default(user, "leverage")
        wanted = float(user(**call) or 1.0) if own else call["proposed_leverage"]
        answer = EntrySizing.leverage(self, **{**call, "proposed_leverage": wanted})
        return min(answer, max(1.0, wanted)) if own else answer

    # ----------------------------------------------------------------- fills and adds
    def order_filled(
        self, pair: str, trade: Trade, order: Order, current_time: datetime, **kwargs: Any
    ) -> None:
        self._composed(
            "order_filled", pair=pair, trade=trade, order=order, current_time=current_time, **kwargs
        )

    def _quant_order_filled(self, trade: Trade, order: Order, current_time: datetime) -> None:
        FillRecords.order_filled(
            self, pair=trade.pair, trade=trade, order=order, current_time=current_time
        )
        if order.ft_order_side == trade.entry_side and trade.nr_of_successful_entries > 1:
            self._added_entry(trade, order)

    @fail_closed(None, "the trade keeps the entry state of its earlier fills")
    def _added_entry(self, trade: Trade, order: Order) -> None:
        self._quant_entry_added(trade, order)

    @fail_closed(None, "no add or partial exit this time")
    def adjust_trade_position(self, trade: Trade, current_time: datetime, **kwargs: Any) -> Any:
        return self._composed(
            "adjust_trade_position", trade=trade, current_time=current_time, **kwargs
        )

    def _compose_adjust_trade_position(self, user: Any, **call: Any) -> Any:
        return self._quant_cap_position_add(user(**call), call)


mark_layer(ComposedExits)
mark_layer(ComposedCallbacks)
