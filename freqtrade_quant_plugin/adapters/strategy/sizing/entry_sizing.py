"""Entry sizing and leverage of `QuantMixin`: the risk-sizing, regime-sizing, pair-risk
and cost-gate layers meet here.

`custom_stake_amount` sizes each entry from the signal candle's regime and ATR and skips
it (stake 0, logged, counted in the backtest summary) on an UNKNOWN regime, a cost-gate
refusal, dust or a stake below the exchange minimum - never raising the stake beyond the
risk; `leverage` lowers the wanted leverage so the stop lies before liquidation. The
decision waits in `_pending` for the entry fill (`_PendingEntry`).

A mixin: it reads the strategy base's settings, signal table and cost model.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import datetime
from typing import Any, NamedTuple

from freqtrade.enums import RunMode, TradingMode
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.records import entry_summary
from freqtrade_quant_plugin.adapters.signal_rows import SignalRow
from freqtrade_quant_plugin.adapters.strategy.fail_closed import fail_closed, gated_entries
from freqtrade_quant_plugin.adapters.strategy.gates.staleness import SOURCE as STALE_SOURCE
from freqtrade_quant_plugin.adapters.strategy.sizing.exchange_facts import (
    maintenance_margin_rate,
    min_stake_for_stop,
)
from freqtrade_quant_plugin.core.exit_modes import REPLACE
from freqtrade_quant_plugin.core.sizing import (
    SKIP_COST_GATE,
    SKIP_REGIME,
    PositionPlan,
    dust_reason,
    max_leverage_for_stop,
    plan_position,
)
from freqtrade_quant_plugin.core.stop_levels import StopRules

# Run modes whose sizes are meant as real positions (min_risk_fraction applies).
_SIZING_MODES = (RunMode.LIVE, RunMode.DRY_RUN, RunMode.BACKTEST, RunMode.HYPEROPT)


class _PendingEntry(NamedTuple):
    """A sizing decision waiting for its entry order to fill."""

    row: SignalRow
    rules: StopRules
    planned_risk_money: float
    balance: float
    regime_multiplier: float
    risk_modifier: float


class EntrySizing(IStrategy):
    """custom_stake_amount and leverage of QuantStrategy."""

    def _safe_leverage(self, pair: str, stop_fraction: float, notional: float) -> float:
        mmr = maintenance_margin_rate(self.dp._exchange, pair, notional)
        return max_leverage_for_stop(stop_fraction, mmr)

    @fail_closed(1.0, "leverage 1")
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
        wanted = min(max(proposed_leverage, self.target_leverage), max_leverage)
        row = self._signal_row(pair, current_time)
        if row is None:
            return 1.0  # custom_stake_amount skips this entry
        rules = self.stop_rules(row.regime, self.effective_settings())
        balance = self.wallets.get_total_stake_amount() if self.wallets else 0.0
        distance = self._entry_stop_distance(rules, row, current_rate, wanted)
        safe = self._safe_leverage(pair, distance / current_rate, balance * wanted)
        if safe < wanted:
            self.log_decision(
                "%s: leverage lowered from %.2f to %.2f so the %.2f ATR stop lies before "
                "liquidation",
                pair,
                wanted,
                max(1.0, safe),
                rules.k1_SL,
            )
        return max(1.0, math.floor(min(wanted, safe) * 100) / 100)

    def _failed_entry(self, call: dict[str, Any]) -> float:
        """custom_stake_amount's answer when it raised: no entry, counted as an error."""
        self.entry_summary.skip(entry_summary.ERROR)
        return 0.0

    def note_blocked_entry(self, source: str) -> None:
        """An entry refused by an entry block (`gated_entries`): stale data or a failure."""
        stale = source == STALE_SOURCE
        self.entry_summary.skip(entry_summary.STALE_DATA if stale else entry_summary.ERROR)

    @fail_closed(_failed_entry, "no entry (stake 0)")
    @gated_entries
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
        strategy_stake: float | None = None,
        **kwargs: Any,
    ) -> float:
        """The risk-sized stake, never above `strategy_stake` (the user's own stake)."""
        is_short = side == "short"
        self._pending.pop((pair, is_short), None)
        if not self.pair_performance.tracker.is_enabled(pair):
            self.log_decision("%s: no %s entry: the pair is disabled (losing streak)", pair, side)
            self.entry_summary.skip(entry_summary.PAIR_DISABLED)
            return 0.0
        row = self._signal_row(pair, current_time)
        if row is None:
            self.log_decision("%s: no %s entry: the signal candle's regime is UNKNOWN", pair, side)
            self.entry_summary.skip(entry_summary.UNKNOWN_REGIME)
            return 0.0
        settings = self.effective_settings()
        rules = self.stop_rules(row.regime, settings)
        stop_distance = self._entry_stop_distance(rules, row, current_rate, leverage)
        target_distance = rules.k2_TP * row.atr
        if self.quant_exits_mode == REPLACE and is_short and current_rate - target_distance <= 0:
            self.log_decision("%s: no short entry: the take-profit would lie at or below 0", pair)
            self.entry_summary.skip(entry_summary.INVALID_STOP)
            return 0.0
        if self.config.get("trading_mode") == TradingMode.FUTURES and leverage > 1.0:
            balance_notional = self.wallets.get_total_stake_amount() * leverage
            safe = self._safe_leverage(pair, stop_distance / current_rate, balance_notional)
            if leverage > safe:
                self.log_decision(
                    "%s: no entry: leverage %.2f would liquidate before the stop (safe %.2f)",
                    pair,
                    leverage,
                    safe,
                )
                self.entry_summary.skip(entry_summary.LEVERAGE)
                return 0.0
        risk_config = self.sizing_risk_config(settings)
        if self._runmode not in _SIZING_MODES:
            # lookahead/recursive-analysis force a 1e9 wallet, whose market impact would
            # make every entry dust: they check signals, so the minimum does not apply.
            risk_config = dataclasses.replace(risk_config, min_risk_fraction=0.0)
        modifier = self.pair_risk_modifier(pair)
        balance = self.wallets.get_total_stake_amount()
        plan = plan_position(
            balance=balance,
            price=current_rate,
            stop_distance=stop_distance,
            volatility_regime=row.volatility_regime,
            risk_modifier=modifier,
            atr=row.atr,
            is_short=is_short,
            config=risk_config,
            cost_model=self._cost_model(settings, self._fee_rate(pair, settings)),
            candle_volume=row.volume,
            cost_gate=settings.layers.cost_gate,
        )
        if plan.skip_reason:
            self.log_decision("%s: no %s entry: %s", pair, side, plan.skip_reason)
            self._count_plan_skip(plan, risk_config.max_cost_in_R)
            return 0.0
        if plan.size * stop_distance < plan.risk_money * (1 - 1e-9):
            self.log_decision(
                "%s: cost gate: size cut to %.8g, risking %.2f of %.2f (max_cost_in_R %.2f)",
                pair,
                plan.size,
                plan.size * stop_distance,
                plan.risk_money,
                risk_config.max_cost_in_R,
            )
        stake = plan.size * current_rate / leverage
        cause = "the exchange's amount precision cut the size"
        planned_risk = plan.risk_money
        if strategy_stake is not None and stake > strategy_stake:
            # The strategy's own stake is the ceiling: the plugin only ever scales it down,
            # and a smaller stake the strategy chose is no dust.
            self.log_decision(
                "%s: stake %.2f kept at the strategy's own %.2f (less risk than planned)",
                pair,
                stake,
                strategy_stake,
            )
            stake = strategy_stake
            planned_risk = min(planned_risk, stake * leverage / current_rate * stop_distance)
        if stake > max_stake:
            self.log_decision(
                "%s: stake %.2f clamped to the available maximum %.2f (less risk than planned)",
                pair,
                stake,
                max_stake,
            )
            stake = max_stake
            self.entry_summary.stakes_clamped += 1
            cause = f"the stake was clamped to the available maximum {max_stake:.2f}"
        # Judged on what a stop-out would lose after every cut (cost gate, clamp, precision):
        # a position far below its planned risk is dust, whatever made it small.
        amount = self._amount_at_precision(pair, stake * leverage / current_rate)
        dust = dust_reason(
            amount * stop_distance, planned_risk, risk_config.min_risk_fraction, cause=cause
        )
        if dust:
            self.log_decision("%s: no %s entry: %s", pair, side, dust)
            self.entry_summary.skip(entry_summary.DUST)
            return 0.0
        if min_stake and stake < min_stake:
            own = min_stake_for_stop(
                getattr(self.dp, "_exchange", None),
                pair,
                current_rate,
                stop_distance / current_rate,
                leverage,
            )
            self.log_decision(
                "%s: no %s entry: the risk allows a stake of %.2f, below the exchange minimum "
                "%.2f (never raised beyond the risk; Freqtrade's minimum reserves for the "
                "static stoploss %g, the trade's own %.2f%% stop needs %s)",
                pair,
                side,
                stake,
                min_stake,
                self.stoploss,
                100 * stop_distance / current_rate,
                "an unknown minimum" if own is None else f"{own:.2f}",
            )
            self.entry_summary.skip(entry_summary.BELOW_MIN_STAKE)
            return 0.0
        multiplier = risk_config.regime_multiplier(row.volatility_regime)
        self._pending[(pair, is_short)] = _PendingEntry(
            row=row,
            rules=rules,
            planned_risk_money=balance * risk_config.risk_per_trade * multiplier * modifier,
            balance=balance,
            regime_multiplier=multiplier,
            risk_modifier=modifier,
        )
        return stake

    def _count_plan_skip(self, plan: PositionPlan, max_cost_in_R: float) -> None:
        if plan.skip_kind == SKIP_COST_GATE:
            self.entry_summary.max_cost_in_R = max_cost_in_R
            cost = plan.cost.cost_in_R if plan.cost is not None else None
            self.entry_summary.skip(entry_summary.COST_GATE, cost)
        elif plan.skip_kind == SKIP_REGIME:
            self.entry_summary.skip(entry_summary.UNKNOWN_REGIME)
        else:
            self.entry_summary.skip(entry_summary.INVALID_STOP)

    def _amount_at_precision(self, pair: str, amount: float) -> float:
        """The amount Freqtrade will order: truncated to the market's amount precision.

        Hyperopt workers have no ccxt API and so no precision mode: there the amount stays
        unrounded (at most one amount step more than Freqtrade will order).
        """
        exchange = getattr(self.dp, "_exchange", None)
        if exchange is None:
            return amount
        try:
            return float(exchange.amount_to_contract_precision(pair, amount) or 0.0)
        except AttributeError:
            return amount
