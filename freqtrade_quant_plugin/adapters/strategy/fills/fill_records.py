"""Fills of `QuantMixin`: the entry fill fixes the trade's state (regime, ATR, stop,
target, breakeven, size; `trade_state`) with its trade record and log line; the exit fill
completes the record (costs, MFE/MAE, plugin exit reason) and, in backtests, hands it to
the `.quant.json` export. A mixin: it reads the strategy base's pending entries and
settings. Entries filled are counted in the backtest summary.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.persistence import Order, Trade
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.records import trade_records
from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY, EntryState
from freqtrade_quant_plugin.adapters.strategy.fail_closed import (
    fail_closed,
)
from freqtrade_quant_plugin.adapters.strategy.fills.position_adds import is_final_exit, whole_exit
from freqtrade_quant_plugin.adapters.strategy.sizing.entry_sizing import _PendingEntry
from freqtrade_quant_plugin.core.costs import BPS
from freqtrade_quant_plugin.core.enrichment import format_trade_log_message

logger = logging.getLogger(__name__)

# Runs whose trade records are collected in memory: the backtest export, NetRHyperOptLoss.
RECORDED_RUNS = (RunMode.BACKTEST, RunMode.HYPEROPT)


class FillRecords(IStrategy):
    """order_filled and the entry state and records it builds."""

    @fail_closed(
        None,
        "an entry without its state gets a stop rebuilt from the trade DB or exits; "
        "an exit may lack its SPEC 8 fields",
    )
    def order_filled(
        self, pair: str, trade: Trade, order: Order, current_time: datetime, **kwargs: Any
    ) -> None:
        if order.ft_order_side == trade.entry_side:
            if trade.nr_of_successful_entries == 1:
                self._on_entry_filled(trade)
        elif is_final_exit(trade, order):  # partial exits book their share, no record
            self._on_exit_filled(trade, whole_exit(trade, order), current_time)

    def _on_entry_filled(self, trade: Trade) -> None:
        pending = self._pending.pop((trade.pair, bool(trade.is_short)), None)
        if pending is None:
            pending = self._rebuild_pending(trade)
            if pending is None:
                logger.warning(
                    "%s: entry filled without a known signal candle (not analysed yet, or "
                    "an UNKNOWN regime): trade %s gets its stop rebuilt from the trade DB or "
                    "its candles, or exits",
                    trade.pair,
                    trade.id,
                )
                return
        row, rules = pending.row, pending.rules
        sign = -1.0 if trade.is_short else 1.0
        entry = float(trade.open_rate)
        size = float(trade.amount)
        stop = self._initial_stop(
            entry, bool(trade.is_short), float(trade.leverage or 1.0), rules, row.atr
        )
        cost_model = self._cost_model(self.effective_settings(), float(trade.fee_open))
        breakeven = None
        if rules.breakeven_R is not None:
            try:
                breakeven = cost_model.breakeven_price(
                    entry,
                    stop,
                    size,
                    row.atr,
                    action="SHORT" if trade.is_short else "LONG",
                    candle_volume=row.volume,
                )
            except ValueError as error:
                logger.warning(
                    "%s: no breakeven stop for trade %s: %s", trade.pair, trade.id, error
                )
        notional = entry * size
        state = EntryState(
            trade_id=int(trade.id),
            pair=trade.pair,
            is_short=bool(trade.is_short),
            regime=row.regime,
            volatility_regime=row.volatility_regime,
            atr=row.atr,
            signal_date=row.date,
            entry_price=entry,
            size=size,
            leverage=float(trade.leverage or 1.0),
            stop_price=stop,
            take_profit_price=entry + sign * rules.k2_TP * row.atr,
            breakeven_price=breakeven,
            risk_money=size * abs(entry - stop),
            planned_risk_money=pending.planned_risk_money,
            balance=pending.balance,
            regime_multiplier=pending.regime_multiplier,
            risk_modifier=pending.risk_modifier,
            entry_slippage=notional
            * cost_model.slippage_bps(entry, row.atr, notional, row.volume)
            / BPS,
            candle_volume=row.volume,
            rules=rules,
        )
        self._states.put(state)
        self.entry_summary.taken += 1
        record = trade_records.entry_record(state)
        if self._is_live:
            stored = trade_records.stored_fields(record, trade_records.STORED_ENTRY_KEYS)
            trade_records.store_on_trade(trade, {STATE_KEY: state.to_dict(), **stored})
        else:
            self._entry_records[state.trade_id] = record
        self.log_decision(format_trade_log_message(record, "ENTRY"))

    def _refill_entry(self, trade: Trade) -> EntryState | None:
        """A late entry fill for a trade whose state was lost (`state_recovery`)."""
        self._on_entry_filled(trade)
        return self._states.get(trade, use_database=False)

    def _rebuild_pending(self, trade: Trade) -> _PendingEntry | None:
        """Sizing facts of an entry placed before a restart (or forced): from its signal row."""
        row = self._signal_row(trade.pair, trade.open_date_utc)
        if row is None:
            return None
        settings = self.effective_settings()
        risk_config = self.sizing_risk_config(settings)
        multiplier = risk_config.regime_multiplier(row.volatility_regime)
        modifier = self.pair_risk_modifier(trade.pair)
        balance = self.wallets.get_total_stake_amount() if self.wallets else 0.0
        return _PendingEntry(
            row=row,
            rules=self.stop_rules(row.regime, settings),
            planned_risk_money=balance * risk_config.risk_per_trade * multiplier * modifier,
            balance=balance,
            regime_multiplier=multiplier,
            risk_modifier=modifier,
        )

    def _on_exit_filled(self, trade: Trade, order: Order, current_time: datetime) -> None:
        state = self._trade_state(trade)
        if state is None:
            return
        sign = -1.0 if state.is_short else 1.0
        exit_price = float(order.safe_price)
        amount = float(order.safe_filled or trade.amount)
        fee_close = float(trade.fee_close if trade.fee_close is not None else trade.fee_open)
        fees = state.entry_price * amount * float(trade.fee_open) + exit_price * amount * fee_close
        if self._is_live:
            # Real fills carry their slippage: measure it, never subtract a model again.
            slippage = trade_records.measured_slippage(trade)
        else:
            cost_model = self._cost_model(self.effective_settings(), float(trade.fee_open))
            exit_notional = exit_price * amount
            exit_bps = cost_model.slippage_bps(
                exit_price, state.atr, exit_notional, state.candle_volume
            )
            slippage = state.entry_slippage + exit_notional * exit_bps / BPS
        best, worst = (
            (trade.min_rate, trade.max_rate)
            if state.is_short
            else (
                trade.max_rate,
                trade.min_rate,
            )
        )
        entry = self._entry_records.pop(state.trade_id, None) or trade_records.entry_record(state)
        record = trade_records.exit_record(
            entry,
            exit_price=exit_price,
            exit_reason=self._plugin_exit_reason(trade, state, current_time),
            freqtrade_exit_reason=trade.exit_reason,
            pnl=(exit_price - state.entry_price) * amount * sign,
            fees=fees,
            slippage=slippage,
            funding=-float(trade.funding_fees or 0.0),
            mfe=float(best) if best else None,
            mae=float(worst) if worst else None,
            duration_hours=(current_time - trade.open_date_utc).total_seconds() / 3600,
            slippage_in_fills=self._is_live,
        )
        if self._is_live:
            stored = trade_records.stored_fields(record, trade_records.STORED_EXIT_KEYS)
            trade_records.store_on_trade(trade, stored)
        elif self._runmode in RECORDED_RUNS:
            trade_records.collect(
                self.get_strategy_name(),
                {
                    "trade_id": state.trade_id,
                    "pair": state.pair,
                    "is_short": state.is_short,
                    "open_date": trade_records.iso(trade.open_date_utc),
                    "close_date": trade_records.iso(current_time),
                    **record,
                },
            )
        self.log_decision(format_trade_log_message(record, "EXIT"))
