"""One validated settings object, read once at start-up.

Sources, later ones winning: the dataclass defaults, the `quant` section of Freqtrade's
config, then the environment variables of the original design (REGIME_*, COST_*,
SYMBOL_PERF_*, EXIT_REGIME_*). Every value is checked before the bot trades; an error names
the key the user actually set (the config path or the environment variable), its value and
what is allowed, because a silently ignored setting is a wrong trade waiting to happen.

Strictness: config values must have their JSON type (the text "0.001" is no fee rate);
environment values must be plain decimal numbers (no "1_0", "nan", "inf"); empty values are
refused, never read as "unset". Environment variables with one of the plugin's prefixes that
name no setting: SYMBOL_PERF_* is an error; REGIME_*, COST_* and RISK_* are an error when
they are a near miss of a known name (a typo) and a start-up warning otherwise, because
such generic prefixes may belong to other software on the user's machine.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import os
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from freqtrade_quant_plugin.core.costs import CostConfig
from freqtrade_quant_plugin.core.exit_modes import ExitsConfig
from freqtrade_quant_plugin.core.exit_params import BOOL_FIELDS
from freqtrade_quant_plugin.core.exit_policy import PROFILE_KEY, ExitParams, resolve_exit_policy
from freqtrade_quant_plugin.core.layers import LAYER_VARIABLES, LayerSwitches
from freqtrade_quant_plugin.core.regime import RegimeDetectorConfig
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.core.validation import (
    QuantConfigError,
    check_writable_file,
    parse_bool,
    parse_int,
    parse_number,
)

logger = logging.getLogger(__name__)

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
            "REGIME_TREND_METHOD": "trend_method",
            "REGIME_TREND_WINDOW": "trend_window",
            "REGIME_TREND_Z_THRESHOLD": "trend_z_threshold",
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
    "layers": (LayerSwitches, LAYER_VARIABLES),
    "exits": (ExitsConfig, {"QUANT_EXITS_MODE": "mode"}),
}
EXIT_POLICY_SECTION = "exit_policy"
QUANT_KEY = "quant"

# Settings that must stay in order within a section: (low, high, strictly below).
ORDERED: dict[str, tuple[tuple[str, str, bool], ...]] = {
    "regime": (
        ("volatility_percentile_low", "volatility_percentile_high", True),
        ("volatility_percentile_high", "volatility_percentile_extreme", False),
        ("atr_period", "atr_long_period", True),
        ("adx_range_threshold", "adx_trend_threshold", False),
    ),
    "symbol_performance": (
        ("poor_winrate_threshold", "good_winrate_threshold", True),
        ("poor_r_threshold", "good_r_threshold", True),
    ),
}
# Environment prefixes of the plugin. STRICT ones belong to it alone; the others are generic
# words, so only a near miss of a known name (difflib ratio >= NEAR_MISS) is an error.
STRICT_PREFIXES = ("SYMBOL_PERF_", "QUANT_LAYER_")
GENERIC_PREFIXES = ("REGIME_", "COST_", "RISK_")
NEAR_MISS = 0.8


@dataclass(frozen=True)
class QuantSettings:
    regime: RegimeDetectorConfig = field(default_factory=RegimeDetectorConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    symbol_performance: SymbolPerformanceConfig = field(default_factory=SymbolPerformanceConfig)
    risk: RiskConfig = field(default_factory=RiskConfig)
    layers: LayerSwitches = field(default_factory=LayerSwitches)
    exits: ExitsConfig = field(default_factory=ExitsConfig)
    exit_policy: dict[str, ExitParams] = field(default_factory=resolve_exit_policy)
    # "section.field" -> the key the user set it with (config path or variable)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(
        cls,
        quant_section: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> QuantSettings:
        """Build the settings from Freqtrade's `quant` config section and the environment.

        `quant_section` None means the config has no `quant` key; anything else that is not
        a mapping (a list, a string, false, 0) is refused.
        """
        if quant_section is not None and not isinstance(quant_section, Mapping):
            raise QuantConfigError(
                QUANT_KEY, quant_section, "a mapping of section -> settings (or no quant key)"
            )
        section = dict(quant_section or {})
        env = os.environ if environ is None else environ
        unknown = set(section) - set(SECTIONS) - {EXIT_POLICY_SECTION}
        if unknown:
            key = sorted(unknown)[0]
            allowed = ", ".join(sorted([*SECTIONS, EXIT_POLICY_SECTION]))
            raise QuantConfigError(f"quant.{key}", section[key], f"one of the sections {allowed}")
        _check_unknown_variables(env)
        sources: dict[str, str] = {}
        parts = {
            name: _build_section(name, config_type, env_map, section, env, sources)
            for name, (config_type, env_map) in SECTIONS.items()
        }
        exit_overrides = section.get(EXIT_POLICY_SECTION)
        if EXIT_POLICY_SECTION in section:
            _check_exit_types(exit_overrides)
        try:
            exit_policy = resolve_exit_policy(overrides=exit_overrides, environ=env)
        except QuantConfigError as error:
            if not error.key.startswith(f"{EXIT_POLICY_SECTION}."):
                raise  # an EXIT_REGIME_* variable, named as the user wrote it
            raise QuantConfigError(f"quant.{error.key}", error.value, error.allowed) from None
        persistence = parts["symbol_performance"].persistence_file
        if persistence is not None:
            check_writable_file(sources["symbol_performance.persistence_file"], persistence)
        return cls(exit_policy=exit_policy, sources=sources, **parts)

    def check_startup_candles(self, startup_candle_count: int, owner: str) -> None:
        """Refuse regime periods the strategy's startup_candle_count cannot warm up.

        Names the setting the user raised (percentile_window first); when the defaults alone
        do not fit, the strategy is at fault and bot_start says so instead.
        """
        regime = self.regime
        needed = regime.startup_candles
        if startup_candle_count >= needed:
            return
        spare = startup_candle_count - needed
        candidates = {
            "percentile_window": regime.atr_period + regime.percentile_window - 1,
            "atr_period": regime.atr_period + regime.percentile_window - 1,
            "atr_long_period": regime.atr_long_period,
            "adx_period": 2 * regime.adx_period - 1,
            "lookback_period": regime.lookback_period,
        }
        for name, rows in candidates.items():
            key = self.sources.get(f"regime.{name}")
            if rows != needed or key is None:
                continue
            value = getattr(regime, name)
            step = 2 if name == "adx_period" else 1
            limit = value + spare // step
            raise QuantConfigError(
                key,
                value,
                f"<= {limit} with {owner}.startup_candle_count={startup_candle_count} (the "
                f"regime detector needs {needed} candles before its first regime); or raise "
                "startup_candle_count in the strategy",
            )


def _build_section(
    name: str,
    config_type: type,
    env_map: dict[str, str],
    section: Mapping[str, Any],
    environ: Mapping[str, str],
    sources: dict[str, str],
) -> Any:
    """Merge config and environment for one dataclass; errors name where the value came from."""
    values = section.get(name)
    if name in section and not isinstance(values, Mapping):
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
    converted = {
        key: _convert(source[key], value, types[key], from_config=source[key].startswith("quant."))
        for key, value in raw.items()
    }
    sources.update({f"{name}.{key}": where for key, where in source.items()})
    try:
        return config_type(**converted)
    except QuantConfigError as error:
        raise _blame(name, error, source, raw, env_map) from None


def _blame(
    name: str,
    error: QuantConfigError,
    source: Mapping[str, str],
    raw: Mapping[str, Any],
    env_map: Mapping[str, str],
) -> QuantConfigError:
    """Re-key an error to the setting the user set, naming its partner when order is wrong."""
    if error.key in source:
        return QuantConfigError(source[error.key], error.value, error.allowed)
    for low, high, strict in ORDERED.get(name, ()):
        if error.key == high and low in source:
            culprit, partner, relation = low, high, "<" if strict else "<="
        elif error.key == low and high in source:
            culprit, partner, relation = high, low, ">" if strict else ">="
        else:
            continue
        key = source[culprit]
        if key.startswith("quant."):
            partner_key = f"quant.{name}.{partner}"
        else:
            partner_key = next(var for var, field in env_map.items() if field == partner)
        value = error.value if not isinstance(error.value, float) else f"{error.value:g}"
        allowed = f"{relation} {partner_key} ({value}, its default)"
        return QuantConfigError(key, raw[culprit], allowed)
    return QuantConfigError(f"quant.{name}.{error.key}", error.value, error.allowed)


def _convert(key: str, value: Any, annotation: Any, *, from_config: bool) -> Any:
    """Config values keep their JSON type; environment values are parsed from text."""
    if annotation is bool:
        if from_config and not isinstance(value, bool):
            raise QuantConfigError(key, value, "true or false (a JSON boolean)")
        return parse_bool(key, value)
    if annotation in (int, float):
        if from_config and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise QuantConfigError(key, value, "a JSON number (not text, true/false or null)")
        return parse_int(key, value) if annotation is int else parse_number(key, value)
    if annotation is str:  # a word the dataclass checks (e.g. exits.mode)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise QuantConfigError(key, value, "a word (a JSON string)")
    if isinstance(value, str) and value.strip():
        return value
    if value is None and from_config:
        return None  # null: no such file, as documented for persistence_file
    allowed = "a file path or null" if from_config else "a file path (unset it for none)"
    raise QuantConfigError(key, value, allowed)


def _check_exit_types(overrides: object) -> None:
    """JSON types of the exit_policy section; names and ranges are checked when resolved."""
    path = f"quant.{EXIT_POLICY_SECTION}"
    if not isinstance(overrides, Mapping):
        raise QuantConfigError(path, overrides, "a mapping of regime -> params")
    for regime, values in overrides.items():
        if regime == PROFILE_KEY or not isinstance(values, Mapping):
            continue  # resolve_exit_policy names it
        for name, value in values.items():
            key = f"{path}.{regime}.{name}"
            if name in BOOL_FIELDS:
                if not isinstance(value, bool):
                    raise QuantConfigError(key, value, "true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise QuantConfigError(key, value, "a JSON number (not text, true/false or null)")


def known_variables() -> list[str]:
    return [variable for _, env_map in SECTIONS.values() for variable in env_map]


def _check_unknown_variables(environ: Mapping[str, str]) -> None:
    """Refuse typos of the plugin's variables; warn about other variables with its prefixes."""
    known = known_variables()
    for variable in sorted(environ):
        if variable in known:
            continue
        strict = variable.startswith(STRICT_PREFIXES)
        if not strict and not variable.startswith(GENERIC_PREFIXES):
            continue
        close = difflib.get_close_matches(variable, known, n=1, cutoff=NEAR_MISS)
        if close:
            allowed = f"a known variable (did you mean {close[0]}?)"
            raise QuantConfigError(variable, environ[variable], allowed)
        if strict:
            names = ", ".join(v for v in known if v.startswith(STRICT_PREFIXES))
            raise QuantConfigError(variable, environ[variable], f"a known variable: {names}")
        if variable not in _warned_variables:
            _warned_variables.add(variable)
            logger.warning(
                "Environment variable %s has a quant setting prefix but names no setting: "
                "ignored (known: %s)",
                variable,
                ", ".join(v for v in known if v.startswith(variable.split("_", 1)[0] + "_")),
            )


_warned_variables: set[str] = set()
