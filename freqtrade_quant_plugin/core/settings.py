"""One validated settings object, read once at start-up.

Sources, later ones winning: the dataclass defaults, the `quant` section of Freqtrade's
config, then the environment variables of the original design (REGIME_*, COST_*,
SYMBOL_PERF_*, EXIT_REGIME_*). Every value is checked before the bot trades; an error names
the key the user actually set (the config path or the environment variable), its value and
what is allowed, because a silently ignored setting is a wrong trade waiting to happen.
"""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from freqtrade_quant_plugin.core.costs import CostConfig
from freqtrade_quant_plugin.core.exit_policy import ExitParams, resolve_exit_policy
from freqtrade_quant_plugin.core.regime import RegimeDetectorConfig
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.core.validation import QuantConfigError, parse_int, parse_number

# section name in the `quant` config -> (dataclass, {environment variable: field})
SECTIONS: dict[str, tuple[type, dict[str, str]]] = {
    "regime": (
        RegimeDetectorConfig,
        {
            "REGIME_LOOKBACK_PERIOD": "lookback_period",
            "REGIME_VOL_PERCENTILE_HIGH": "volatility_percentile_high",
            "REGIME_VOL_PERCENTILE_EXTREME": "volatility_percentile_extreme",
            "REGIME_VOL_PERCENTILE_LOW": "volatility_percentile_low",
            "REGIME_TREND_THRESHOLD": "trend_threshold",
            "REGIME_VOL_ATR_MULTIPLIER": "vol_atr_multiplier",
            "REGIME_PERCENTILE_WINDOW": "percentile_window",
            "REGIME_ADX_TREND_THRESHOLD": "adx_trend_threshold",
            "REGIME_ADX_RANGE_THRESHOLD": "adx_range_threshold",
            "REGIME_ATR_PERIOD": "atr_period",
            "REGIME_ATR_LONG_PERIOD": "atr_long_period",
            "REGIME_ADX_PERIOD": "adx_period",
        },
    ),
    "costs": (
        CostConfig,
        {
            "COST_MAKER_FEE_RATE": "maker_fee_rate",
            "COST_TAKER_FEE_RATE": "taker_fee_rate",
            "COST_BASE_SLIPPAGE_BPS": "base_slippage_bps",
            "COST_VOLATILITY_SLIPPAGE_FACTOR": "volatility_slippage_factor",
            "COST_FUNDING_RATE_PER_8H": "funding_rate_per_8h",
            "COST_IMPACT_COEFFICIENT": "impact_coefficient",
        },
    ),
    "symbol_performance": (
        SymbolPerformanceConfig,
        {
            "SYMBOL_PERF_MIN_TRADES": "min_trades_for_adjustment",
            "SYMBOL_PERF_POOR_WINRATE_THRESHOLD": "poor_winrate_threshold",
            "SYMBOL_PERF_GOOD_WINRATE_THRESHOLD": "good_winrate_threshold",
            "SYMBOL_PERF_POOR_R_THRESHOLD": "poor_r_threshold",
            "SYMBOL_PERF_GOOD_R_THRESHOLD": "good_r_threshold",
            "SYMBOL_PERF_POOR_MULTIPLIER": "poor_performance_multiplier",
            "SYMBOL_PERF_CONSECUTIVE_LOSS_DISABLE": "consecutive_loss_disable_threshold",
            "SYMBOL_PERF_CONSECUTIVE_WIN_REENABLE": "consecutive_win_reenable_threshold",
            "SYMBOL_PERF_PERSISTENCE_FILE": "persistence_file",
        },
    ),
    "risk": (
        RiskConfig,
        {
            "RISK_PER_TRADE": "risk_per_trade",
            "RISK_MAX_COST_IN_R": "max_cost_in_R",
            "RISK_MULTIPLIER_LOW_VOL": "multiplier_low_vol",
            "RISK_MULTIPLIER_NORMAL_VOL": "multiplier_normal_vol",
            "RISK_MULTIPLIER_HIGH_VOL": "multiplier_high_vol",
            "RISK_MULTIPLIER_EXTREME_VOL": "multiplier_extreme_vol",
            "RISK_MIN_RISK_FRACTION": "min_risk_fraction",
        },
    ),
}
EXIT_POLICY_SECTION = "exit_policy"


@dataclass(frozen=True)
class QuantSettings:
    regime: RegimeDetectorConfig = field(default_factory=RegimeDetectorConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    symbol_performance: SymbolPerformanceConfig = field(default_factory=SymbolPerformanceConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    exit_policy: dict[str, ExitParams] = field(default_factory=resolve_exit_policy)

    @classmethod
    def load(
        cls,
        quant_section: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> QuantSettings:
        """Build the settings from Freqtrade's `quant` config section and the environment."""
        section = dict(quant_section or {})
        env = os.environ if environ is None else environ
        unknown = set(section) - set(SECTIONS) - {EXIT_POLICY_SECTION}
        if unknown:
            key = sorted(unknown)[0]
            allowed = ", ".join(sorted([*SECTIONS, EXIT_POLICY_SECTION]))
            raise QuantConfigError(f"quant.{key}", section[key], f"one of the sections {allowed}")
        parts = {
            name: _build_section(name, config_type, env_map, section.get(name), env)
            for name, (config_type, env_map) in SECTIONS.items()
        }
        exit_overrides = section.get(EXIT_POLICY_SECTION)
        if exit_overrides is not None and not isinstance(exit_overrides, Mapping):
            raise QuantConfigError(
                f"quant.{EXIT_POLICY_SECTION}", exit_overrides, "a mapping of regime -> params"
            )
        try:
            exit_policy = resolve_exit_policy(overrides=exit_overrides, environ=env)
        except QuantConfigError as error:
            if not error.key.startswith(f"{EXIT_POLICY_SECTION}."):
                raise  # an EXIT_REGIME_* variable, named as the user wrote it
            raise QuantConfigError(f"quant.{error.key}", error.value, error.allowed) from None
        return cls(exit_policy=exit_policy, **parts)


def _build_section(
    name: str,
    config_type: type,
    env_map: dict[str, str],
    values: Mapping[str, Any] | None,
    environ: Mapping[str, str],
) -> Any:
    """Merge config and environment for one dataclass; errors name where the value came from."""
    if values is not None and not isinstance(values, Mapping):
        raise QuantConfigError(f"quant.{name}", values, "a mapping of setting -> value")
    types = typing.get_type_hints(config_type)
    names = {f.name for f in dataclasses.fields(config_type)}
    source = {}  # field -> key the user set
    raw: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if key not in names:
            raise QuantConfigError(
                f"quant.{name}.{key}", value, f"one of {', '.join(sorted(names))}"
            )
        raw[key], source[key] = value, f"quant.{name}.{key}"
    for variable, field_name in env_map.items():
        if variable in environ:
            raw[field_name], source[field_name] = environ[variable], variable
    converted = {key: _convert(source[key], value, types[key]) for key, value in raw.items()}
    try:
        return config_type(**converted)
    except QuantConfigError as error:
        where = source.get(error.key, f"quant.{name}.{error.key}")
        raise QuantConfigError(where, error.value, error.allowed) from None


def _convert(key: str, value: Any, annotation: Any) -> Any:
    if annotation is int:
        return parse_int(key, value)
    if annotation is float:
        return parse_number(key, value)
    if value is None or isinstance(value, str):
        return value or None
    raise QuantConfigError(key, value, "a text value")
