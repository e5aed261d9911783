"""The table of invalid settings every start-up must refuse (unit and process tests share it).

Each entry: the `quant` config section (or NO_SECTION to leave Freqtrade's config without
it), the environment, and what the one error line must show: the key the user set and the
value as written (`key=value`).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

UNWRITABLE = "/proc/nonexistent_dir/perf.json"


class BadSetting(NamedTuple):
    id: str
    quant: Any  # the config's "quant" value
    env: dict[str, str]
    key: str
    shown: str  # how the value appears after "key=" in the message


def _config(id_: str, quant: Any, key: str, shown: str) -> BadSetting:
    return BadSetting(id_, quant, {}, key, shown)


def _env(variable: str, value: str, key: str | None = None, shown: str | None = None):
    return BadSetting(
        f"env-{variable}={value}", {}, {variable: value}, key or variable, shown or repr(value)
    )


BAD_SETTINGS: list[BadSetting] = [
    # the section itself
    _config("quant-list", ["regime"], "quant", "['regime']"),
    _config("quant-text", "abc", "quant", "'abc'"),
    _config("quant-false", False, "quant", "False"),
    _config("quant-empty-text", "", "quant", "''"),
    _config("quant-zero", 0, "quant", "0"),
    _config("unknown-section", {"regimes": {}}, "quant.regimes", "{}"),
    _config("section-null", {"regime": None}, "quant.regime", "None"),
    _config("section-number", {"costs": 0.1}, "quant.costs", "0.1"),
    _config("unknown-key", {"regime": {"lookback": 20}}, "quant.regime.lookback", "20"),
    # wrong types
    _config(
        "fee-as-text",
        {"costs": {"taker_fee_rate": "0.001"}},
        "quant.costs.taker_fee_rate",
        "'0.001'",
    ),
    _config(
        "risk-as-text", {"risk": {"max_cost_in_R": "0.1"}}, "quant.risk.max_cost_in_R", "'0.1'"
    ),
    _config(
        "period-bool", {"regime": {"lookback_period": True}}, "quant.regime.lookback_period", "True"
    ),
    _config(
        "period-fraction",
        {"regime": {"lookback_period": 2.5}},
        "quant.regime.lookback_period",
        "2.5",
    ),
    _config(
        "threshold-null",
        {"regime": {"trend_threshold": None}},
        "quant.regime.trend_threshold",
        "None",
    ),
    _config(
        "threshold-nan",
        {"regime": {"trend_threshold": math.nan}},
        "quant.regime.trend_threshold",
        "nan",
    ),
    _config(
        "impact-inf",
        {"costs": {"impact_coefficient": math.inf}},
        "quant.costs.impact_coefficient",
        "inf",
    ),
    _config(
        "persistence-number",
        {"symbol_performance": {"persistence_file": 5}},
        "quant.symbol_performance.persistence_file",
        "5",
    ),
    _config(
        "persistence-empty",
        {"symbol_performance": {"persistence_file": ""}},
        "quant.symbol_performance.persistence_file",
        "''",
    ),
    _config(
        "persistence-unwritable",
        {"symbol_performance": {"persistence_file": UNWRITABLE}},
        "quant.symbol_performance.persistence_file",
        repr(UNWRITABLE),
    ),
    # ranges
    _config(
        "fee-negative",
        {"costs": {"taker_fee_rate": -0.001}},
        "quant.costs.taker_fee_rate",
        "-0.001",
    ),
    _config("fee-huge", {"costs": {"maker_fee_rate": 0.5}}, "quant.costs.maker_fee_rate", "0.5"),
    _config("period-one", {"regime": {"lookback_period": 1}}, "quant.regime.lookback_period", "1"),
    _config(
        "percentile-150",
        {"regime": {"volatility_percentile_extreme": 150}},
        "quant.regime.volatility_percentile_extreme",
        "150",
    ),
    _config(
        "atr-multiplier-one",
        {"regime": {"vol_atr_multiplier": 1.0}},
        "quant.regime.vol_atr_multiplier",
        "1.0",
    ),
    _config(
        "min-trades-zero",
        {"symbol_performance": {"min_trades_for_adjustment": 0}},
        "quant.symbol_performance.min_trades_for_adjustment",
        "0",
    ),
    _config("risk-zero", {"risk": {"risk_per_trade": 0}}, "quant.risk.risk_per_trade", "0"),
    _config("risk-90pct", {"risk": {"risk_per_trade": 0.9}}, "quant.risk.risk_per_trade", "0.9"),
    _config(
        "multiplier-negative",
        {"risk": {"multiplier_high_vol": -1}},
        "quant.risk.multiplier_high_vol",
        "-1",
    ),
    _config(
        "window-beyond-startup",
        {"regime": {"percentile_window": 700}},
        "quant.regime.percentile_window",
        "700",
    ),
    # order between settings: the key the user set is named
    _config(
        "percentile-low-above-high",
        {"regime": {"volatility_percentile_low": 80}},
        "quant.regime.volatility_percentile_low",
        "80",
    ),
    _config(
        "atr-long-below-short",
        {"regime": {"atr_long_period": 10}},
        "quant.regime.atr_long_period",
        "10",
    ),
    _config(
        "poor-r-above-good",
        {"symbol_performance": {"poor_r_threshold": 2}},
        "quant.symbol_performance.poor_r_threshold",
        "2",
    ),
    # exit policy
    _config(
        "k2-below-k1",
        {"exit_policy": {"HIGH_VOL": {"k1_SL": 3.0, "k2_TP": 2.0}}},
        "quant.exit_policy.HIGH_VOL.k2_TP",
        "2.0",
    ),
    _config(
        "exit-unknown-regime",
        {"exit_policy": {"SIDEWAYS": {"k1_SL": 2.0}}},
        "quant.exit_policy.SIDEWAYS",
        "{'k1_SL': 2.0}",
    ),
    _config(
        "exit-unknown-param",
        {"exit_policy": {"HIGH_VOL": {"stop": 2.0}}},
        "quant.exit_policy.HIGH_VOL.stop",
        "2.0",
    ),
    _config(
        "exit-k1-text",
        {"exit_policy": {"HIGH_VOL": {"k1_SL": "2"}}},
        "quant.exit_policy.HIGH_VOL.k1_SL",
        "'2'",
    ),
    _config(
        "exit-trailing-text",
        {"exit_policy": {"HIGH_VOL": {"trailing_enabled": "yes"}}},
        "quant.exit_policy.HIGH_VOL.trailing_enabled",
        "'yes'",
    ),
    _config("exit-list", {"exit_policy": ["HIGH_VOL"]}, "quant.exit_policy", "['HIGH_VOL']"),
    _config(
        "exit-duration-zero",
        {"exit_policy": {"LOW_VOL": {"max_duration_hours": 0}}},
        "quant.exit_policy.LOW_VOL.max_duration_hours",
        "0",
    ),
    _config(
        "exit-profile-unknown",
        {"exit_policy": {"profile": "aggressive"}},
        "quant.exit_policy.profile",
        "'aggressive'",
    ),
    _config(
        "exit-profile-number", {"exit_policy": {"profile": 1}}, "quant.exit_policy.profile", "1"
    ),
    _config(
        "exit-breakeven-enabled-text",
        {"exit_policy": {"LOW_VOL": {"breakeven_enabled": "no"}}},
        "quant.exit_policy.LOW_VOL.breakeven_enabled",
        "'no'",
    ),
    # environment: empty, malformed, non-finite, out of range
    _env("REGIME_LOOKBACK_PERIOD", ""),
    _env("REGIME_LOOKBACK_PERIOD", "1_0"),
    _env("REGIME_LOOKBACK_PERIOD", "twenty"),
    _env("REGIME_TREND_THRESHOLD", "nan"),
    _env("COST_TAKER_FEE_RATE", "inf"),
    _env("SYMBOL_PERF_POOR_MULTIPLIER", "Infinity"),
    _env("COST_MAKER_FEE_RATE", "-0.0002", shown="-0.0002"),
    _env("RISK_PER_TRADE", "0.5", shown="0.5"),
    _env("SYMBOL_PERF_CONSECUTIVE_LOSS_DISABLE", "-3", shown="-3"),
    _env("REGIME_PERCENTILE_WINDOW", "700", shown="700"),
    _env("SYMBOL_PERF_PERSISTENCE_FILE", ""),
    _env("SYMBOL_PERF_PERSISTENCE_FILE", UNWRITABLE),
    # environment: order, blamed on the variable the user set
    _env("SYMBOL_PERF_POOR_WINRATE_THRESHOLD", "0.9"),
    _env("REGIME_ADX_TREND_THRESHOLD", "15"),
    _env("REGIME_VOL_PERCENTILE_HIGH", "95"),
    _env("EXIT_REGIME_HIGH_VOL_K2_TP", "1.0", shown="1.0"),
    # environment: names that are no setting
    _env("REGIME_LOOKBAK_PERIOD", "5"),
    _env("RISK_PER_TRADES", "0.5"),
    _env("SYMBOL_PERF_MIN_TRADE", "5"),
    _env("EXIT_REGIME_SIDEWAYS_K1_SL", "2"),
    _env("EXIT_REGIME_LOW_VOL_TRAILING_ENABLED", "maybe"),
    _env("EXIT_REGIME_LOW_VOL_BREAKEVEN_ENABLED", "maybe"),
]

# The partner a refused order names after the key the user set.
ORDER_PARTNERS = {
    "env-SYMBOL_PERF_POOR_WINRATE_THRESHOLD=0.9": "SYMBOL_PERF_GOOD_WINRATE_THRESHOLD",
    "env-REGIME_ADX_TREND_THRESHOLD=15": "REGIME_ADX_RANGE_THRESHOLD",
    "env-REGIME_VOL_PERCENTILE_HIGH=95": "REGIME_VOL_PERCENTILE_EXTREME",
    "poor-r-above-good": "quant.symbol_performance.good_r_threshold",
    "percentile-low-above-high": "volatility_percentile_high",
}
