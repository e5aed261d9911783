"""`QuantStrategy`: the Freqtrade strategy base that carries the plugin's core into a bot.

A user strategy inherits it, calls `super().populate_indicators(...)` first and writes its
entry signals; the base does the rest:

- regime columns on every analysed frame (`RegimeDetector`), recorded per pair as arrays
  so callbacks look a candle up in O(log n) without pandas;
- `custom_stake_amount`: risk-based size (SPEC 5) from the signal candle's regime and ATR,
  skipped (stake 0, logged) on an UNKNOWN regime, a cost gate failure or a stake below
  the exchange minimum - the stake is never raised beyond the risk;
- `order_filled`: the entry's regime, ATR, stop, target, breakeven and size are fixed when
  the entry fills (`trade_state`), with the SPEC 8 record and log line; the exit fill
  completes the record and feeds the pair's performance;
- `custom_stoploss`: initial stop k1 * ATR from the entry, set on the entry fill itself
  (`after_fill`), so the entry candle already trades against the ATR stop and not the wide
  static `stoploss`; then cost-aware breakeven and trailing (`stop_levels`);
- `custom_exit`: "take_profit" at k2 * ATR and "max_duration"; `custom_exit_price` fills
  the take-profit at its level;
- `leverage` (futures): the wanted leverage, lowered so the stop lies before liquidation.

Exit reasons in the SPEC 8 records: take_profit, max_duration, stop_loss (initial stop),
breakeven_stop and trailing_stop (Freqtrade reports both as trailing_stop_loss), or
Freqtrade's own reason (force_exit, liquidation, ...); `freqtrade_exit_reason` keeps
Freqtrade's.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
from datetime import datetime, timedelta
from typing import Any, ClassVar, NamedTuple

import numpy as np
from freqtrade.enums import RunMode, TradingMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Order, Trade
from freqtrade.strategy import IStrategy, stoploss_from_absolute
from pandas import DataFrame

from freqtrade_quant_plugin.adapters import trade_records
from freqtrade_quant_plugin.adapters.exchange_facts import (
    freqtrade_fee_rate,
    maintenance_margin_rate,
)
from freqtrade_quant_plugin.adapters.fail_closed import (
    blocks_entries_on_failure,
    entry_blocks,
    fail_closed,
    gated_entries,
)
from freqtrade_quant_plugin.adapters.live_stops import (
    PassedStops,
    advise_stop_on_exchange,
    is_passed,
    stop_reason,
)
from freqtrade_quant_plugin.adapters.pair_performance import PairPerformanceHooks
from freqtrade_quant_plugin.adapters.parameters import (
    Tunable,
    apply_overrides,
    chosen_overrides,
    explicit_setting_paths,
)
from freqtrade_quant_plugin.adapters.signal_rows import SignalRow, SignalTable
from freqtrade_quant_plugin.adapters.staleness import StaleCandles, newest_closed_opens
from freqtrade_quant_plugin.adapters.state_recovery import StateRecovery
from freqtrade_quant_plugin.adapters.trade_state import STATE_KEY, EntryState, TradeStateCache
from freqtrade_quant_plugin.core.costs import BPS, CostConfig, CostModel
from freqtrade_quant_plugin.core.enrichment import format_trade_log_message
from freqtrade_quant_plugin.core.paper_trading import PaperTerms
from freqtrade_quant_plugin.core.regime import REGIMES, UNKNOWN, RegimeDetector
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.sizing import (
    RiskConfig,
    dust_reason,
    max_leverage_for_stop,
    plan_position,
)
from freqtrade_quant_plugin.core.stop_levels import (
    StopLevel,
    StopRules,
    current_stop,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError

logger = logging.getLogger(__name__)

TAKE_PROFIT = "take_profit"
MAX_DURATION = "max_duration"
# regime -> the number plotted in the `regime_code` column (UNKNOWN is -1)
REGIME_CODES: dict[str, int] = {regime: code for code, regime in enumerate(REGIMES)}
# Run modes whose sizes are meant as real positions (min_risk_fraction applies).
_SIZING_MODES = (RunMode.LIVE, RunMode.DRY_RUN, RunMode.BACKTEST, RunMode.HYPEROPT)
# Runs whose SPEC 8 records are collected in memory: the backtest export, NetRHyperOptLoss.
_RECORDED_RUNS = (RunMode.BACKTEST, RunMode.HYPEROPT)


class _PendingEntry(NamedTuple):
    """A sizing decision waiting for its entry order to fill."""

    row: SignalRow
    rules: StopRules
    planned_risk_money: float
    balance: float
    regime_multiplier: float
    risk_modifier: float


class QuantStrategy(IStrategy):
    """Base class: regime detection, risk sizing, regime exits and trade enrichment."""

    INTERFACE_VERSION = 3
    use_custom_stoploss = True
    # A wide backstop only: the ATR stop replaces it as soon as the entry fills.
    stoploss = -0.30
    # Exits come from the regime rules (custom_exit / custom_stoploss), not from ROI.
    minimal_roi: ClassVar[dict[str, float]] = {"0": 100.0}
    trailing_stop = False
    process_only_new_candles = True
    order_types: ClassVar[dict[str, Any]] = {
        "entry": "limit",
        "exit": "limit",
        "stoploss": "market",
        "stoploss_on_exchange": False,
    }
    # Futures leverage the strategy wants; `leverage()` lowers it when the stop needs it.
    target_leverage: float = 1.0
    # Hyperopt parameters that stand for settings: attribute name -> setting path
    # (see adapters/parameters.py for the precedence).
    quant_parameters: ClassVar[dict[str, str]] = {}

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        section = config.get("quant")
        try:
            self.quant_settings = QuantSettings.load(section, os.environ)
            startup = config.get("startup_candle_count", self.startup_candle_count)
            self.quant_settings.check_startup_candles(startup, type(self).__name__)
        except QuantConfigError as error:
            # OperationalException: Freqtrade exits 0 on its own ConfigurationError.
            raise OperationalException(str(error)) from error
        if self.quant_settings.layers.off:
            logger.warning(
                "quant.layers switches %s are validated but not yet applied by this version of "
                "QuantStrategy: every layer still runs",
                ", ".join(self.quant_settings.layers.off),
            )
        self._explicit_paths = explicit_setting_paths(section, os.environ)
        self._warned_overrides: set[str] = set()
        self._effective: dict[str, tuple[tuple[Tunable, ...], QuantSettings]] = {}
        self._cost_models: dict[CostConfig, CostModel] = {}
        self._fee_rates: dict[str, float] = {}
        self._signals = SignalTable()
        self._states = TradeStateCache()
        self._pending: dict[tuple[str, bool], _PendingEntry] = {}
        self._entry_records: dict[int, dict[str, Any]] = {}
        self._last_loop_time: datetime | None = None
        self._passed_stops = PassedStops()
        self._recovery = StateRecovery(
            self,
            rules_for=lambda regime: self.stop_rules(regime, self.effective_settings()),
            refill=self._refill_entry,
            use_database=self._is_live,
        )

    # ----------------------------------------------------------------- start-up and runs
    @property
    def _runmode(self) -> RunMode | None:
        return self.config.get("runmode")

    @property
    def _is_live(self) -> bool:
        return self._runmode in (RunMode.LIVE, RunMode.DRY_RUN)

    @property
    def _stop_on_exchange_live(self) -> bool:
        """Freqtrade leaves stops to the exchange order (and never checks them itself)."""
        return bool(self.order_types.get("stoploss_on_exchange")) and not self.config.get(
            "dry_run", True
        )

    @property
    def _is_simulated(self) -> bool:
        """Backtests, hyperopt and Freqtrade's analysis commands (which run backtests)."""
        return not self._is_live

    def log_decision(self, message: str, *args: Any) -> None:
        """Skips, clamps and trade lines: INFO for a bot, DEBUG (shown with -v) in backtests."""
        logger.log(logging.DEBUG if self._is_simulated else logging.INFO, message, *args)

    def bot_start(self, **kwargs: Any) -> None:
        needed = self.quant_settings.regime.startup_candles
        if self.startup_candle_count < needed:
            raise OperationalException(
                f"{type(self).__name__}.startup_candle_count={self.startup_candle_count} is "
                f"below the {needed} candles the regime detector needs before its first "
                "defined regime: raise startup_candle_count"
            )
        self._timeframe_seconds = timeframe_to_seconds(self.timeframe)
        self._stale_candles = StaleCandles(self._timeframe_seconds, entry_blocks(self))
        if self._runmode == RunMode.LIVE:
            advise_stop_on_exchange(self.order_types, bool(self.config.get("dry_run")))
        self._reset_run_state()
        self.pair_performance = PairPerformanceHooks(self, self.quant_settings, self._risk_money)

    @blocks_entries_on_failure
    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        # A new run (trade ids start again at 1): hyperopt reruns backtests on the same
        # object (time goes backwards) or on a fresh copy in a worker process (first loop).
        if self._last_loop_time is None or current_time < self._last_loop_time:
            self._reset_run_state()
        self._last_loop_time = current_time
        if self._is_live:
            pairs = self.dp.current_whitelist()
            self._stale_candles.update(self, newest_closed_opens(self, pairs), current_time)
        self.pair_performance.bot_loop_start(current_time)

    def informative_pairs(self) -> list[tuple[str, str]]:
        """Disabled pairs stay informative: their signals feed paper trades (SPEC 7)."""
        return self.pair_performance.informative_pairs()

    def _reset_run_state(self) -> None:
        self._states.clear()
        self._recovery.clear()
        self._pending.clear()
        self._entry_records.clear()
        self._last_loop_time = None
        if self._runmode in _RECORDED_RUNS:
            trade_records.start_collecting(self.get_strategy_name())

    # ----------------------------------------------------------------- settings
    def effective_settings(self, section: str = "") -> QuantSettings:
        """The settings with hyperopt parameters applied (memoised on their values).

        `section` limits which parameters are read, e.g. "regime." in populate_indicators:
        Freqtrade warns about every optimised parameter read while hyperopt computes
        indicators, and only the regime ones belong there.
        """
        tunables = tuple(
            Tunable(name, path, getattr(self, name).value, self._from_hyperopt_result(name))
            for name, path in self.quant_parameters.items()
            if path.startswith(section)
        )
        cached = self._effective.get(section)
        if cached is None or cached[0] != tunables:
            overrides = chosen_overrides(tunables, self._explicit_paths, self._warned_overrides)
            cached = (tunables, apply_overrides(self.quant_settings, overrides))
            self._effective[section] = cached
        return cached[1]

    def _from_hyperopt_result(self, name: str) -> bool:
        parameter = getattr(self, name)
        space = parameter.space or ""
        from_file = name in self._ft_params_from_file.get(space, {})
        from_strategy_dict = name in (getattr(self, f"{space}_params", None) or {})
        running = bool(getattr(parameter, "in_space", False) and parameter.optimize)
        return from_file or from_strategy_dict or running

    def stop_rules(self, regime: str, settings: QuantSettings) -> StopRules:
        """Exit rules of a trade entered in `regime` (the static twin overrides this)."""
        return StopRules.from_exit_params(settings.exit_policy[regime])

    def sizing_risk_config(self, settings: QuantSettings) -> RiskConfig:
        """Risk settings used for sizing, regime multipliers included."""
        return settings.risk

    def pair_risk_modifier(self, pair: str) -> float:
        """The pair's performance-based risk scale (SPEC 7), from its closed trades."""
        return self.pair_performance.risk_modifier(pair)

    def _risk_money(self, trade: Trade) -> float | None:
        """Risk money a backtest trade was sized with (Freqtrade keeps no custom data there)."""
        state = self._states.get(trade, use_database=False)
        return None if state is None else state.risk_money

    def _cost_model(self, settings: QuantSettings, fee_rate: float) -> CostModel:
        explicit_fees = {"costs.taker_fee_rate", "costs.maker_fee_rate"} & self._explicit_paths
        costs = settings.costs
        if not explicit_fees:
            costs = dataclasses.replace(costs, taker_fee_rate=fee_rate, maker_fee_rate=fee_rate)
        if costs not in self._cost_models:
            self._cost_models[costs] = CostModel(costs)
        return self._cost_models[costs]

    def _fee_rate(self, pair: str, settings: QuantSettings) -> float:
        if pair not in self._fee_rates:
            rate = freqtrade_fee_rate(self.config, self.dp.market(pair))
            if rate is None:
                rate = settings.costs.taker_fee_rate
                logger.warning(
                    "%s: Freqtrade's fee is unknown (no config fee, no market fee): the cost "
                    "model uses taker_fee_rate %.4f",
                    pair,
                    rate,
                )
            self._fee_rates[pair] = rate
        return self._fee_rates[pair]

    # ----------------------------------------------------------------- indicators
    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Regime columns (SPEC 3) plus `regime_code` for plotting; subclasses call super()."""
        RegimeDetector(self.effective_settings("regime.").regime).detect(dataframe)
        labels = dataframe["regime"].to_numpy(dtype=object)
        codes = np.full(labels.shape[0], -1, dtype=np.int8)
        for regime, code in REGIME_CODES.items():
            codes[labels == regime] = code
        dataframe["regime_code"] = codes
        self._signals.record(metadata["pair"], dataframe)
        return dataframe

    def advise_entry(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Freqtrade's entry signals, also recorded: paper trades of disabled pairs follow
        them without touching pandas on every candle."""
        dataframe = super().advise_entry(dataframe, metadata)
        self._signals.record_signals(metadata["pair"], dataframe)
        return dataframe

    @property
    def signal_table(self) -> SignalTable:
        """The analysed candles recorded per pair (read by the paper-trade engine)."""
        return self._signals

    def _signal_row(self, pair: str, current_time: datetime) -> SignalRow | None:
        row = self._signals.signal_row(pair, current_time, self._timeframe_seconds)
        if row is None or row.regime == UNKNOWN or not row.atr > 0:
            return None
        return row

    # ----------------------------------------------------------------- sizing and leverage
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
        safe = self._safe_leverage(pair, rules.k1_SL * row.atr / current_rate, balance * wanted)
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

    @fail_closed(0.0, "no entry (stake 0)")
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
        **kwargs: Any,
    ) -> float:
        is_short = side == "short"
        self._pending.pop((pair, is_short), None)
        row = self._signal_row(pair, current_time)
        if row is None:
            self.log_decision("%s: no %s entry: the signal candle's regime is UNKNOWN", pair, side)
            return 0.0
        settings = self.effective_settings()
        rules = self.stop_rules(row.regime, settings)
        stop_distance = rules.k1_SL * row.atr
        target_distance = rules.k2_TP * row.atr
        if is_short and current_rate - target_distance <= 0:
            self.log_decision("%s: no short entry: the take-profit would lie at or below 0", pair)
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
        )
        if plan.skip_reason:
            self.log_decision("%s: no %s entry: %s", pair, side, plan.skip_reason)
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
        if stake > max_stake:
            self.log_decision(
                "%s: stake %.2f clamped to the available maximum %.2f (less risk than planned)",
                pair,
                stake,
                max_stake,
            )
            stake = max_stake
            cause = f"the stake was clamped to the available maximum {max_stake:.2f}"
        # Judged on what a stop-out would lose after every cut (cost gate, clamp, precision):
        # a position far below its planned risk is dust, whatever made it small.
        amount = self._amount_at_precision(pair, stake * leverage / current_rate)
        dust = dust_reason(
            amount * stop_distance, plan.risk_money, risk_config.min_risk_fraction, cause=cause
        )
        if dust:
            self.log_decision("%s: no %s entry: %s", pair, side, dust)
            return 0.0
        if min_stake and stake < min_stake:
            self.log_decision(
                "%s: no %s entry: the risk allows a stake of %.2f, below the exchange minimum "
                "%.2f (never raised beyond the risk)",
                pair,
                side,
                stake,
                min_stake,
            )
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

    # ----------------------------------------------------------------- paper trades
    def paper_entry_terms(self, pair: str, row: SignalRow, *, is_short: bool) -> PaperTerms | None:
        """Exit rules and breakeven of a paper trade on `row`: those a real entry gets.

        Same `stop_rules` (a twin's overrides and hyperopt results included), same fee
        (Freqtrade's), breakeven priced for the size the entry would have been planned
        with; None where the strategy would not enter (UNKNOWN regime, no ATR, sizing skip).
        """
        if row.regime == UNKNOWN or not row.atr > 0 or not row.close > 0:
            return None
        settings = self.effective_settings()
        rules = self.stop_rules(row.regime, settings)
        if is_short and row.close - rules.k2_TP * row.atr <= 0:
            return None
        cost_model = self._cost_model(settings, self._fee_rate(pair, settings))
        plan = plan_position(
            balance=self.wallets.get_total_stake_amount() if self.wallets else 0.0,
            price=row.close,
            stop_distance=rules.k1_SL * row.atr,
            volatility_regime=row.volatility_regime,
            risk_modifier=self.pair_risk_modifier(pair),
            atr=row.atr,
            is_short=is_short,
            config=self.sizing_risk_config(settings),
            cost_model=cost_model,
            candle_volume=row.volume,
        )
        if plan.skip_reason:
            logger.debug("No paper trade for %s: %s", pair, plan.skip_reason)
            return None
        try:
            breakeven = cost_model.breakeven_price(
                row.close,
                plan.stop_price,
                plan.size,
                row.atr,
                action="SHORT" if is_short else "LONG",
                candle_volume=row.volume,
            )
        except ValueError as error:
            logger.debug("No breakeven for a paper trade of %s: %s", pair, error)
            breakeven = None
        return PaperTerms(rules, breakeven)

    # ----------------------------------------------------------------- fills
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
        elif not trade.is_open or order.safe_amount_after_fee >= trade.amount:
            self._on_exit_filled(trade, order, current_time)

    def _on_entry_filled(self, trade: Trade) -> None:
        pending = self._pending.pop((trade.pair, bool(trade.is_short)), None)
        if pending is None:
            pending = self._rebuild_pending(trade)
            if pending is None:
                logger.warning(
                    "%s: entry filled without a known regime: trade %s gets a stop rebuilt "
                    "from the trade DB or exits",
                    trade.pair,
                    trade.id,
                )
                return
        row, rules = pending.row, pending.rules
        sign = -1.0 if trade.is_short else 1.0
        entry = float(trade.open_rate)
        size = float(trade.amount)
        stop = entry - sign * rules.k1_SL * row.atr
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
        record = trade_records.entry_record(state)
        if self._is_live:
            trade_records.store_on_trade(trade, {STATE_KEY: state.to_dict(), **record})
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
            trade_records.store_on_trade(trade, {k: v for k, v in record.items() if k not in entry})
        elif self._runmode in _RECORDED_RUNS:
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
        # re-rounded copy of the same stop would mislabel an initial stop-out.
        if not after_fill and (level.price - trade.stop_loss) * sign <= 0:
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
        if current_time - trade.open_date_utc >= timedelta(hours=state.rules.max_duration_hours):
            return MAX_DURATION
        sign = -1.0 if state.is_short else 1.0
        if (self._best_price(trade, state, current_rate) - state.take_profit_price) * sign < 0:
            return None
        if self._is_simulated:
            # The candle reached the target; if it also reached the stop, the backtest cannot
            # know which came first and assumes the stop (as Freqtrade does for ROI).
            candle = self._signals.candle_at(pair, current_time)
            if candle is not None:
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
