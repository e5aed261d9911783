"""The `quant` config's sections: the settings dataclass of each and its environment variables.

The environment variables are the original design's names (REGIME_*, COST_*, SYMBOL_PERF_*,
RISK_*); docs/configuration.md lists them all (tests/test_docs_configuration.py checks it).
"""

from __future__ import annotations

from freqtrade_quant_plugin.core.costs import CostConfig
from freqtrade_quant_plugin.core.exit_modes import ExitsConfig
from freqtrade_quant_plugin.core.layers import LAYER_VARIABLES, LayerSwitches
from freqtrade_quant_plugin.core.regime_config import RegimeDetectorConfig
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig

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


def known_variables() -> list[str]:
    return [variable for _, env_map in SECTIONS.values() for variable in env_map]
