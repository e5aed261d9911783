"""The settings a composed strategy acts on: hyperopt parameters applied, layer switches
honoured, Freqtrade's fee in the cost model. One place, read by sizing, exits, paper
trades and state recovery alike (a twin's overrides included)."""

from __future__ import annotations

import dataclasses
import logging

from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.strategy.compose.parameters import (
    Tunable,
    apply_overrides,
    chosen_overrides,
)
from freqtrade_quant_plugin.adapters.strategy.sizing.exchange_facts import freqtrade_fee_rate
from freqtrade_quant_plugin.core.costs import CostModel
from freqtrade_quant_plugin.core.layered_rules import layered_risk_config, layered_stop_rules
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.stop_levels import StopRules

logger = logging.getLogger(__name__)


class SettingsLayer(IStrategy):
    """Effective settings, exit rules, risk config and cost model of QuantMixin."""

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
        """Exit rules of a trade entered in `regime`, as the layer switches leave them."""
        return layered_stop_rules(settings, regime)

    def sizing_risk_config(self, settings: QuantSettings) -> RiskConfig:
        """Risk settings used for sizing; regime multipliers 1.0 with regime_sizing off."""
        return layered_risk_config(settings)

    def pair_risk_modifier(self, pair: str) -> float:
        """The pair's performance-based risk scale; 1.0 with the layer off."""
        if not self.quant_settings.layers.pair_risk_modifier:
            return 1.0
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
