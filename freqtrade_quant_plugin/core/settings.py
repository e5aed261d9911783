"""One validated settings object, read once at start-up.

Sources, later ones winning: the dataclass defaults, the `quant` section of Freqtrade's
config, then the environment variables of the original design (REGIME_*, COST_*,
SYMBOL_PERF_*, EXIT_REGIME_*). Every value is checked before the bot trades; an error names
the key the user actually set (the config path or the environment variable), its value and
what is allowed, because a silently ignored setting is a wrong trade waiting to happen.

The sections and their variables are in settings_sections.py; how one section is read
(strict types, errors naming the user's key, unknown variables) in settings_reading.py.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from freqtrade_quant_plugin.core.costs import CostConfig
from freqtrade_quant_plugin.core.exit_modes import ExitsConfig
from freqtrade_quant_plugin.core.exit_policy import ExitParams, resolve_exit_policy
from freqtrade_quant_plugin.core.layers import LayerSwitches
from freqtrade_quant_plugin.core.regime_config import RegimeDetectorConfig
from freqtrade_quant_plugin.core.settings_reading import (
    build_section,
    check_exit_types,
    check_unknown_variables,
)
from freqtrade_quant_plugin.core.settings_sections import (
    EXIT_POLICY_SECTION,
    QUANT_KEY,
    SECTIONS,
)
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.core.validation import QuantConfigError, check_writable_file


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
        check_unknown_variables(env)
        sources: dict[str, str] = {}
        parts = {
            name: build_section(name, config_type, env_map, section, env, sources)
            for name, (config_type, env_map) in SECTIONS.items()
        }
        exit_overrides = section.get(EXIT_POLICY_SECTION)
        if EXIT_POLICY_SECTION in section:
            check_exit_types(exit_overrides)
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
