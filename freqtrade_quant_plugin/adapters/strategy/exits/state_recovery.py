"""A trade whose entry state is missing or unreadable: rebuild its stop, or exit it.

The entry state (stop, target, breakeven, rules) is written when the entry fills. It can
be missing: `order_filled` failed, the bot died between the fill and the write, the stored
JSON no longer reads (a field renamed by an upgrade), a forced entry on an UNKNOWN regime.
Such a trade must never ride on the static backstop. In this order, the plugin:

1. rebuilds the state from the trade record's entry fields stored beside it in the trade DB
   (stop, take-profit, ATR, entry regime; the exit rules of that regime), and stores the
   rebuilt state, so the next restart reads it directly;
2. reruns the entry fill from the signal candle of the trade's open time (the regime and
   ATR the sizing would have used), as a late `order_filled`;
3. otherwise keeps Freqtrade's stop when it is a plugin stop (tighter than the static
   backstop: the plugin set it before the state was lost), and exits the trade
   (`NO_STOP_STATE`) when only the backstop is left.

Step 2 needs the pair's analysed candles up to the signal candle. Until the strategy has
them the trade waits, with Freqtrade's stop (the static stoploss, or the exchange's stop
order) in force, and is never exited for want of a state: live, Freqtrade reports an entry
that filled while the bot was down from its start-up, before any candle is analysed, and
the exchange may return no candles for a pair in a loop. The outcome is fixed (and step 3
decided) only once the candles cover the trade.

Each trade is tried once per process (step 2: once its candles are there) and each outcome
is logged once (and sent through `dp.send_msg`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY, EntryState
from freqtrade_quant_plugin.adapters.strategy.fail_closed import notify
from freqtrade_quant_plugin.core.exit_modes import REPLACE
from freqtrade_quant_plugin.core.stop_levels import StopRules

logger = logging.getLogger(__name__)

NO_STOP_STATE = "no_stop_state"
# Relative tolerance of "the stop is the backstop" (Freqtrade rounds the stop to a tick).
_BACKSTOP_TOLERANCE = 1e-6


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def state_from_stored_fields(
    trade: Any, rules_for: Callable[[str], StopRules]
) -> EntryState | None:
    """An entry state from the trade record's entry fields in the trade's custom data, if whole."""
    fields = {
        key: trade.get_custom_data(key)
        for key in ("stop_loss", "take_profit", "atr", "regime_at_entry")
    }
    stop, target, atr = (_number(fields[key]) for key in ("stop_loss", "take_profit", "atr"))
    regime = fields["regime_at_entry"]
    entry = _number(trade.open_rate)
    if None in (stop, target, atr, entry) or not isinstance(regime, str):
        return None
    sign = -1.0 if trade.is_short else 1.0
    if not ((stop - entry) * sign < 0 < (target - entry) * sign) or atr <= 0:
        return None
    try:
        rules = rules_for(regime)
    except (KeyError, ValueError):
        return None
    size = float(trade.amount)
    risk_money = size * abs(entry - stop)
    breakeven = _number(trade.get_custom_data("breakeven_price"))
    # The sizing facts live only in the JSON state (trade_records): neutral values here.
    return EntryState(
        trade_id=int(trade.id),
        pair=trade.pair,
        is_short=bool(trade.is_short),
        regime=regime,
        volatility_regime=regime,
        atr=atr,
        signal_date=0,
        entry_price=entry,
        size=size,
        leverage=float(trade.leverage or 1.0),
        stop_price=stop,
        take_profit_price=target,
        breakeven_price=breakeven,
        risk_money=risk_money,
        planned_risk_money=risk_money,
        balance=0.0,
        regime_multiplier=1.0,
        risk_modifier=1.0,
        entry_slippage=0.0,
        candle_volume=None,
        rules=rules,
    )


def on_backstop(trade: Any, static_stoploss: float) -> bool:
    """True when Freqtrade's stop is (still) the static backstop, or unset."""
    stop = _number(trade.stop_loss)
    if not stop:
        return True
    leverage = float(trade.leverage or 1.0)
    sign = -1.0 if trade.is_short else 1.0
    backstop = float(trade.open_rate) * (1 - sign * abs(static_stoploss) / leverage)
    return (stop - backstop) * sign <= abs(backstop) * _BACKSTOP_TOLERANCE


class StateRecovery:
    """Tries to rebuild missing entry states, once per trade, and says what it did."""

    def __init__(
        self,
        strategy: Any,
        rules_for: Callable[[str], StopRules],
        refill: Callable[[Any], EntryState | None],
        use_database: bool,
        candles_cover: Callable[[Any], bool],
    ) -> None:
        self._strategy = strategy
        self._rules_for = rules_for
        self._refill = refill
        self._use_database = use_database
        self._candles_cover = candles_cover
        self._outcomes: dict[int, EntryState | None] = {}
        self._fields_tried: set[int] = set()
        self._waiting: set[int] = set()
        self._reported_exit: set[int] = set()
        self._stop_failed: set[int] = set()

    def clear(self) -> None:
        self._outcomes.clear()
        self._fields_tried.clear()
        self._waiting.clear()
        self._reported_exit.clear()
        self._stop_failed.clear()

    def stop_failed(self, trade: Any) -> None:
        """`custom_stoploss` raised for this trade: its stop may be the backstop."""
        self._stop_failed.add(trade.id)

    def unprotected_exit(
        self, trade: Any, state: EntryState | None, static_stoploss: float
    ) -> str | None:
        """`NO_STOP_STATE` for a trade without a state or a working stop, on the backstop.

        None while the state still waits for the pair's candles (`recover`).
        """
        if state is not None and trade.id not in self._stop_failed:
            return None
        if state is None and trade.id not in self._outcomes:
            return None
        why = "its plugin stop failed" if state is not None else "no entry state could be rebuilt"
        return self.exit_reason(trade, static_stoploss, why)

    def recover(self, trade: Any) -> EntryState | None:
        """The rebuilt state, or None (then `exit_reason` says whether the trade exits)."""
        if trade.id in self._outcomes:
            return self._outcomes[trade.id]
        state, source = None, ""
        if self._use_database and trade.id not in self._fields_tried:
            self._fields_tried.add(trade.id)
            state = self._attempt(trade, "the stored entry fields", self._from_fields)
            source = "the stored entry fields (stop, take-profit, ATR, regime)"
        if state is None:
            if not self._candles_cover(trade):
                self._wait(trade)
                return None
            state = self._attempt(trade, "the signal candle", self._refill)
            source = "the signal candle of its open time"
        self._outcomes[trade.id] = state
        if state is not None:
            self._say(
                logging.WARNING,
                f"Trade {trade.id} {trade.pair}: entry state was missing; rebuilt from {source}: "
                f"stop {state.stop_price:.8g}, take-profit {state.take_profit_price:.8g}",
            )
        return state

    def exit_reason(
        self, trade: Any, static_stoploss: float, why: str = "its exits failed"
    ) -> str | None:
        """For a trade without a working state: exit it unless a plugin stop protects it.
        In guard the static stop is the strategy's own, not a backstop: it stays in force."""
        backstop = on_backstop(trade, static_stoploss)
        mode = getattr(self._strategy, "quant_exits_mode", REPLACE)
        exits = backstop and mode == REPLACE
        if trade.id not in self._reported_exit:
            self._reported_exit.add(trade.id)
            if exits:
                text = "only the static backstop protects it: exiting the trade"
            elif backstop:
                text = (
                    f"the strategy's own stop {float(trade.stop_loss or 0):.8g} stays in force "
                    f"(exits.mode {mode}: the plugin does not exit the trade)"
                )
            else:
                text = (
                    f"it keeps its last plugin stop {float(trade.stop_loss):.8g} "
                    "(no take-profit, breakeven, trailing or time exit)"
                )
            self._say(
                logging.ERROR,
                f"Trade {trade.id} {trade.pair}: {why}; {text}",
            )
        return NO_STOP_STATE if exits else None

    def _wait(self, trade: Any) -> None:
        if trade.id in self._waiting:
            return
        self._waiting.add(trade.id)
        self._say(
            logging.WARNING,
            f"Trade {trade.id} {trade.pair}: no entry state yet, waiting for the pair's "
            f"analysed candles to rebuild it; until then Freqtrade's stop "
            f"{float(trade.stop_loss or 0):.8g} protects it (the static stoploss, or the "
            "exchange's stop order with stoploss_on_exchange)",
        )

    def _from_fields(self, trade: Any) -> EntryState | None:
        state = state_from_stored_fields(trade, self._rules_for)
        if state is not None:
            trade.set_custom_data(STATE_KEY, state.to_dict())
        return state

    def _attempt(
        self, trade: Any, what: str, build: Callable[[Any], EntryState | None]
    ) -> EntryState | None:
        try:
            return build(trade)
        except Exception:
            logger.exception("Trade %s: rebuilding its entry state from %s failed", trade.id, what)
            return None

    def _say(self, level: int, message: str) -> None:
        logger.log(level, message)
        notify(self._strategy, message)
