"""The settings a strategy acts on once the layer switches are applied (core/layers.py).

One place decides what "off" means for the exit rules and the sizing settings, so real
entries, paper trades, state recovery and the static twin all follow the same switches.
"""

from __future__ import annotations

import dataclasses
import math

from freqtrade_quant_plugin.core.regime_config import NORMAL_VOL
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.stop_levels import StopRules

# The exit table every regime takes when `regime_exits` is off.
STATIC_EXIT_REGIME = NORMAL_VOL


def layered_stop_rules(settings: QuantSettings, regime: str) -> StopRules:
    """Exit rules of a trade entered in `regime`, with the switched-off stages removed.

    time_exit off: `max_duration_hours` is infinite (the trade never exits for its age).
    """
    layers = settings.layers
    table = regime if layers.regime_exits else STATIC_EXIT_REGIME
    rules = StopRules.from_exit_params(settings.exit_policy[table])
    changes: dict[str, float | None] = {}
    if not layers.breakeven:
        changes["breakeven_R"] = None
    if not layers.trailing:
        changes["trailing_activation_R"] = None
    if not layers.time_exit:
        changes["max_duration_hours"] = math.inf
    return dataclasses.replace(rules, **changes) if changes else rules


def layered_risk_config(settings: QuantSettings) -> RiskConfig:
    """Risk settings for sizing; `regime_sizing` off: every volatility multiplier is 1.0."""
    if settings.layers.regime_sizing:
        return settings.risk
    return dataclasses.replace(
        settings.risk,
        multiplier_low_vol=1.0,
        multiplier_normal_vol=1.0,
        multiplier_high_vol=1.0,
        multiplier_extreme_vol=1.0,
    )
