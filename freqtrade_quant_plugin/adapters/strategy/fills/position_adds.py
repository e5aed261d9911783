"""Position adjustment (DCA) and partial exits, first-class.

An add (`adjust_trade_position` answering a positive stake) is cut so the money at the
stop in force stays within the entry's plan, or refused when nothing fits:

    money at the stop after the add = amount * |avg - stop| + add * |rate - stop|
    add <= (planned_risk_money - amount * |avg - stop|) / |rate - stop|

(The plugin's stop never moves down at an add's fill, exits/: it stays or tightens.) In futures an
add is also refused when the averaged position would liquidate before that stop. Each filled
add updates the trade's entry state: average price, size, risk money, breakeven and target
(`_quant_entry_added`). A partial exit books its share; the record is written once, when the
last of the position is sold (`is_final_exit`), from all exit fills together (`whole_exit`),
so R is the whole trade's.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

from freqtrade.persistence import Order, Trade
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.records import trade_records
from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY
from freqtrade_quant_plugin.core.costs import BPS

_FILLED_TOLERANCE = 1e-6


class ExitFills(NamedTuple):
    """Every exit fill of a trade as one: volume-weighted price, total amount."""

    safe_price: float
    safe_filled: float
    safe_amount_after_fee: float


def _filled(trade: Trade, side: str) -> list[Order]:
    return [o for o in trade.orders if o.ft_order_side == side and (o.safe_filled or 0) > 0]


def _holds(orders: list[Order], order: Order) -> bool:
    """Whether `order` is among `orders` (by id: Freqtrade may hand over a copy)."""
    return any(o is order or o.order_id == order.order_id for o in orders)


def is_final_exit(trade: Trade, order: Order) -> bool:
    """True when this exit fill sold what is left of the position (not a partial exit)."""
    if not trade.is_open:
        return True
    entered = sum(o.safe_amount_after_fee for o in _filled(trade, trade.entry_side))
    exited = sum(o.safe_amount_after_fee for o in _filled(trade, trade.exit_side))
    if not _holds(_filled(trade, trade.exit_side), order):
        exited += order.safe_amount_after_fee
    return exited >= entered * (1 - _FILLED_TOLERANCE)


def whole_exit(trade: Trade, order: Order) -> ExitFills:
    """The trade's exit fills (this one included) as one fill, for the whole trade's record."""
    fills = _filled(trade, trade.exit_side)
    if not _holds(fills, order):
        fills.append(order)
    amount = sum(float(o.safe_filled) for o in fills)
    if amount <= 0:
        return ExitFills(float(order.safe_price), float(order.safe_filled), float(amount))
    price = sum(float(o.safe_price) * float(o.safe_filled) for o in fills) / amount
    return ExitFills(price, amount, amount)


class PositionAdds(IStrategy):
    """Caps the user's adds to the plan and keeps the entry state whole across fills."""

    def _quant_cap_position_add(self, answer: Any, call: dict[str, Any]) -> Any:
        stake, tag = answer if isinstance(answer, tuple) else (answer, None)
        if stake is None or stake <= 0:
            return answer  # nothing, or a partial exit: the user's decision
        trade: Trade = call["trade"]
        rate = float(call["current_rate"])
        state = self._trade_state(trade)
        pair = trade.pair
        if state is None:
            self.log_decision("%s: add refused: trade %s has no entry state", pair, trade.id)
            return None
        sign = -1.0 if trade.is_short else 1.0
        stop = float(trade.stop_loss or state.stop_price)
        at_stop = float(trade.amount) * (float(trade.open_rate) - stop) * sign
        room = state.planned_risk_money - at_stop
        per_unit = (rate - stop) * sign
        leverage = float(trade.leverage or 1.0)
        if room <= 0 or per_unit <= 0:
            self.log_decision(
                "%s: add refused: money at the stop %.2f already at the plan %.2f",
                pair,
                at_stop,
                state.planned_risk_money,
            )
            return None
        most = room / per_unit * rate / leverage
        min_stake = call.get("min_stake")
        # Freqtrade raises an add below the minimum stake to it (by up to 30 %): one whose
        # minimum does not fit the plan is refused, whether or not it needs a cut.
        if min_stake and most < min_stake:
            self.log_decision(
                "%s: add refused: %.2f fits the plan, below the minimum stake %.2f",
                pair,
                most,
                min_stake,
            )
            return None
        if stake > most:
            self.log_decision(
                "%s: add cut from %.2f to %.2f: money at the stop stays within %.2f",
                pair,
                stake,
                most,
                state.planned_risk_money,
            )
            stake = most
        if leverage > 1.0 and not self._add_keeps_stop_before_liquidation(trade, stake, rate, stop):
            return None
        return (stake, tag) if isinstance(answer, tuple) else stake

    def _add_keeps_stop_before_liquidation(
        self, trade: Trade, stake: float, rate: float, stop: float
    ) -> bool:
        """Futures: after the add, the averaged position's stop still lies before liquidation."""
        leverage = float(trade.leverage or 1.0)
        added = stake * leverage / rate
        amount = float(trade.amount) + added
        average = (float(trade.amount) * float(trade.open_rate) + added * rate) / amount
        safe = self._safe_leverage(trade.pair, abs(average - stop) / average, amount * average)
        if leverage <= safe:
            return True
        self.log_decision(
            "%s: add refused: at leverage %.2f the averaged position would liquidate before its "
            "stop %.8g (safe %.2f)",
            trade.pair,
            leverage,
            stop,
            safe,
        )
        return False

    def _quant_entry_added(self, trade: Trade, order: Order) -> None:
        """An add filled: average price, size, risk money, breakeven and target follow it."""
        state = self._trade_state(trade)
        if state is None:
            return
        sign = -1.0 if trade.is_short else 1.0
        average, size = float(trade.open_rate), float(trade.amount)
        cost_model = self._cost_model(self.effective_settings(), float(trade.fee_open))
        breakeven = state.breakeven_price
        if state.rules.breakeven_R is not None:
            try:
                breakeven = cost_model.breakeven_price(
                    average,
                    state.stop_price,
                    size,
                    state.atr,
                    action="SHORT" if trade.is_short else "LONG",
                    candle_volume=state.candle_volume,
                )
            except ValueError:
                breakeven = None
        added = float(order.safe_price) * float(order.safe_filled)
        slippage = added * cost_model.slippage_bps(
            float(order.safe_price), state.atr, added, state.candle_volume
        )
        state = dataclasses.replace(
            state,
            entry_price=average,
            size=size,
            risk_money=size * abs(average - state.stop_price),
            breakeven_price=breakeven,
            take_profit_price=average + sign * state.rules.k2_TP * state.atr,
            entry_slippage=state.entry_slippage + slippage / BPS,
        )
        self._states.put(state)
        record = trade_records.entry_record(state)
        if self._is_live:
            trade_records.store_on_trade(trade, {STATE_KEY: state.to_dict(), **record})
        else:
            self._entry_records[state.trade_id] = record
        self.log_decision(
            "%s: trade %s added to: average %.8g, size %.8g, money at the stop %.2f of %.2f "
            "planned",
            trade.pair,
            trade.id,
            average,
            size,
            state.risk_money,
            state.planned_risk_money,
        )
