"""QuantRegimeStrategy: a plain, documented sample on the plugin's `QuantStrategy` base.

Entry rule (signal candle = the last closed candle; the trade opens at the next open):

- TRENDING: follow the trend. Long when ROC > 0, close > EMA(50) and 50 <= RSI(14) < 70;
  short when ROC < 0, close < EMA(50) and 30 < RSI <= 50 (shorts only in futures).
- RANGING, LOW_VOL, NORMAL_VOL: fade the extremes. Long when RSI < 30, short when RSI > 70.
- HIGH_VOL: fade only stronger extremes: long when RSI < 25, short when RSI > 75.
- EXTREME_VOL and UNKNOWN: no entry.

`enter_tag` is "<rule>_<side>:<REGIME>" (e.g. "trend_long:TRENDING"), so Freqtrade's
report breaks results down by regime. Exits, stops and sizing come from the base class.

Hyperopt parameters and the settings they stand for (see `quant_parameters`):
- space "sell": k1_SL and k2_TP per regime (`sell_k1_<regime>`, `sell_k2_<regime>`);
  every k2 range lies above its k1 range, so any sample keeps k2_TP > k1_SL.
- space "buy": regime thresholds (volatility percentiles, trend threshold, ADX thresholds).
  They shape `populate_indicators`, which hyperopt runs once unless given
  `--analyze-per-epoch`: without that flag every epoch would use their start values
  (the strategy warns at start-up).
- space "exit_rules": the rest of the exit layer per regime: breakeven_R
  (`exit_breakeven_<regime>`), trailing_activation_R (`exit_trail_start_<regime>`),
  trailing_distance_atr (`exit_trail_atr_<regime>`) and max_duration_hours
  (`exit_hours_<regime>`). Each breakeven range ends where its activation range starts, so
  every sample keeps trailing_activation_R >= breakeven_R. Breakeven acts only in regimes
  with `breakeven_enabled` and trailing only with `trailing_enabled`: neither in the
  default exit profile ("static"), so there these parameters change nothing unless the
  settings enable them (profile "guide": breakeven everywhere, trailing in TRENDING).
  Parameter defaults are the default profile's values; a profile chosen in the config
  (`quant.exit_policy.profile`) counts as an explicit setting of every row and wins.
- space "risk": `risk_per_trade`.
"risk" and "exit_rules" are custom spaces: part of Freqtrade's "default" and "all", or
chosen alone with `--spaces risk exit_rules`.

Precedence of a value that is both a setting and a parameter: explicit settings (the
config's `quant` section, environment variables) win over the parameter DEFAULTS below;
values from a hyperopt result (the strategy's `quant_regime_strategy.json`, or
`buy_params`/`sell_params` pasted into the class) and the values of a running hyperopt win
over both, with a warning when they override an explicit setting.

`QuantStaticStrategy` is the static twin for comparisons and benchmarks: this strategy with
all regime layers switched off (`quant_layers_off = REGIME_LAYERS`): the same entries,
NORMAL_VOL's k1/k2/max duration for every regime, no regime multiplier, no pair risk
modifier, no breakeven, no trailing.
"""

from __future__ import annotations

from typing import Any, ClassVar

import talib
from freqtrade.enums import TradingMode
from freqtrade.strategy import DecimalParameter, IntParameter
from pandas import DataFrame

from freqtrade_quant_plugin import QuantStrategy
from freqtrade_quant_plugin.adapters.strategy.compose.parameters import exit_rule_spans
from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS
from freqtrade_quant_plugin.core.layers import REGIME_LAYERS
from freqtrade_quant_plugin.core.regime import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    TRENDING,
    RegimeDetectorConfig,
)
from freqtrade_quant_plugin.core.sizing import RiskConfig

EXIT_RULES = "exit_rules"
# attribute prefix of each exit rule in space "exit_rules", e.g. exit_breakeven_trending
_EXIT_RULE_PREFIXES = {
    "breakeven_R": "exit_breakeven",
    "trailing_activation_R": "exit_trail_start",
    "trailing_distance_atr": "exit_trail_atr",
    "max_duration_hours": "exit_hours",
}
_REGIME_DEFAULTS = RegimeDetectorConfig()
_RISK_DEFAULTS = RiskConfig()


def _k1_parameter(regime: str) -> DecimalParameter:
    default = DEFAULT_EXIT_PARAMS[regime].k1_SL
    return DecimalParameter(
        round(default * 0.6, 1), round(default * 1.2, 1), default=default, decimals=1, space="sell"
    )


def _exit_rule_parameter(regime: str, field: str) -> DecimalParameter | IntParameter:
    """A parameter of space "exit_rules"; see exit_rule_spans (adapters/strategy/compose)."""
    span = exit_rule_spans(DEFAULT_EXIT_PARAMS[regime])[field]
    if span.decimals == 0:
        return IntParameter(
            int(span.low), int(span.high), default=int(span.default), space=EXIT_RULES
        )
    return DecimalParameter(
        span.low, span.high, default=span.default, decimals=span.decimals, space=EXIT_RULES
    )


def _k2_parameter(regime: str) -> DecimalParameter:
    params = DEFAULT_EXIT_PARAMS[regime]
    low = max(round(params.k2_TP * 0.8, 1), round(params.k1_SL * 1.2, 1) + 0.1)
    return DecimalParameter(
        low, round(params.k2_TP * 1.5, 1), default=params.k2_TP, decimals=1, space="sell"
    )


class QuantRegimeStrategy(QuantStrategy):
    INTERFACE_VERSION = 3
    timeframe = "1h"
    can_short = True  # futures and margin only: switched off in spot (see __init__)
    target_leverage = 3.0  # futures only; lowered per trade so the stop precedes liquidation
    # Covers the regime detector (ATR 14 + a 500-candle percentile window) and EMA(50).
    startup_candle_count = 520
    # Locks a pair disabled by its losing streak (live, and backtests run with
    # --enable-protections); paper wins lift the lock.
    protections: ClassVar[list[dict[str, Any]]] = [{"method": "SymbolPerformanceProtection"}]

    plot_config: ClassVar[dict[str, Any]] = {
        "main_plot": {"ema_slow": {"color": "purple"}},
        "subplots": {
            # regime_code: 0 LOW_VOL, 1 NORMAL_VOL, 2 HIGH_VOL, 3 EXTREME_VOL, 4 TRENDING,
            # 5 RANGING, -1 UNKNOWN
            "regime": {"regime_code": {"color": "orange", "type": "scatter"}},
            "volatility": {"vol_percentile": {"color": "blue"}},
            "rsi": {"rsi": {"color": "green"}},
        },
    }

    sell_k1_low_vol = _k1_parameter(LOW_VOL)
    sell_k2_low_vol = _k2_parameter(LOW_VOL)
    sell_k1_normal_vol = _k1_parameter(NORMAL_VOL)
    sell_k2_normal_vol = _k2_parameter(NORMAL_VOL)
    sell_k1_high_vol = _k1_parameter(HIGH_VOL)
    sell_k2_high_vol = _k2_parameter(HIGH_VOL)
    sell_k1_extreme_vol = _k1_parameter(EXTREME_VOL)
    sell_k2_extreme_vol = _k2_parameter(EXTREME_VOL)
    sell_k1_trending = _k1_parameter(TRENDING)
    sell_k2_trending = _k2_parameter(TRENDING)
    sell_k1_ranging = _k1_parameter(RANGING)
    sell_k2_ranging = _k2_parameter(RANGING)

    exit_breakeven_low_vol = _exit_rule_parameter(LOW_VOL, "breakeven_R")
    exit_trail_start_low_vol = _exit_rule_parameter(LOW_VOL, "trailing_activation_R")
    exit_trail_atr_low_vol = _exit_rule_parameter(LOW_VOL, "trailing_distance_atr")
    exit_hours_low_vol = _exit_rule_parameter(LOW_VOL, "max_duration_hours")
    exit_breakeven_normal_vol = _exit_rule_parameter(NORMAL_VOL, "breakeven_R")
    exit_trail_start_normal_vol = _exit_rule_parameter(NORMAL_VOL, "trailing_activation_R")
    exit_trail_atr_normal_vol = _exit_rule_parameter(NORMAL_VOL, "trailing_distance_atr")
    exit_hours_normal_vol = _exit_rule_parameter(NORMAL_VOL, "max_duration_hours")
    exit_breakeven_high_vol = _exit_rule_parameter(HIGH_VOL, "breakeven_R")
    exit_trail_start_high_vol = _exit_rule_parameter(HIGH_VOL, "trailing_activation_R")
    exit_trail_atr_high_vol = _exit_rule_parameter(HIGH_VOL, "trailing_distance_atr")
    exit_hours_high_vol = _exit_rule_parameter(HIGH_VOL, "max_duration_hours")
    exit_breakeven_extreme_vol = _exit_rule_parameter(EXTREME_VOL, "breakeven_R")
    exit_trail_start_extreme_vol = _exit_rule_parameter(EXTREME_VOL, "trailing_activation_R")
    exit_trail_atr_extreme_vol = _exit_rule_parameter(EXTREME_VOL, "trailing_distance_atr")
    exit_hours_extreme_vol = _exit_rule_parameter(EXTREME_VOL, "max_duration_hours")
    exit_breakeven_trending = _exit_rule_parameter(TRENDING, "breakeven_R")
    exit_trail_start_trending = _exit_rule_parameter(TRENDING, "trailing_activation_R")
    exit_trail_atr_trending = _exit_rule_parameter(TRENDING, "trailing_distance_atr")
    exit_hours_trending = _exit_rule_parameter(TRENDING, "max_duration_hours")
    exit_breakeven_ranging = _exit_rule_parameter(RANGING, "breakeven_R")
    exit_trail_start_ranging = _exit_rule_parameter(RANGING, "trailing_activation_R")
    exit_trail_atr_ranging = _exit_rule_parameter(RANGING, "trailing_distance_atr")
    exit_hours_ranging = _exit_rule_parameter(RANGING, "max_duration_hours")

    buy_vol_percentile_low = IntParameter(
        10, 35, default=int(_REGIME_DEFAULTS.volatility_percentile_low), space="buy"
    )
    buy_vol_percentile_high = IntParameter(
        65, 85, default=int(_REGIME_DEFAULTS.volatility_percentile_high), space="buy"
    )
    buy_vol_percentile_extreme = IntParameter(
        86, 98, default=int(_REGIME_DEFAULTS.volatility_percentile_extreme), space="buy"
    )
    buy_trend_threshold = DecimalParameter(
        0.005, 0.030, default=_REGIME_DEFAULTS.trend_threshold, decimals=3, space="buy"
    )
    buy_adx_trend_threshold = IntParameter(
        20, 35, default=int(_REGIME_DEFAULTS.adx_trend_threshold), space="buy"
    )
    buy_adx_range_threshold = IntParameter(
        12, 20, default=int(_REGIME_DEFAULTS.adx_range_threshold), space="buy"
    )
    risk_per_trade = DecimalParameter(
        0.0025, 0.02, default=_RISK_DEFAULTS.risk_per_trade, decimals=4, space="risk"
    )

    quant_parameters: ClassVar[dict[str, str]] = {
        **{
            f"sell_k{n}_{regime.lower()}": f"exit_policy.{regime}.k{n}_{'SL' if n == 1 else 'TP'}"
            for regime in REGIMES
            for n in (1, 2)
        },
        "buy_vol_percentile_low": "regime.volatility_percentile_low",
        "buy_vol_percentile_high": "regime.volatility_percentile_high",
        "buy_vol_percentile_extreme": "regime.volatility_percentile_extreme",
        "buy_trend_threshold": "regime.trend_threshold",
        "buy_adx_trend_threshold": "regime.adx_trend_threshold",
        "buy_adx_range_threshold": "regime.adx_range_threshold",
        "risk_per_trade": "risk.risk_per_trade",
        **{
            f"{prefix}_{regime.lower()}": f"exit_policy.{regime}.{field}"
            for regime in REGIMES
            for field, prefix in _EXIT_RULE_PREFIXES.items()
        },
    }

    def __init__(self, config: dict) -> None:
        super().__init__(config)
        # Freqtrade refuses a shorting strategy in spot; the same class serves both markets.
        if TradingMode(config.get("trading_mode") or TradingMode.SPOT) == TradingMode.SPOT:
            self.can_short = False

    def populate_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        dataframe = super().populate_indicators(dataframe, metadata)
        dataframe["rsi"] = talib.RSI(dataframe["close"], timeperiod=14)
        dataframe["ema_slow"] = talib.EMA(dataframe["close"], timeperiod=50)
        return dataframe

    def populate_entry_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        regime = dataframe["regime"]
        rsi = dataframe["rsi"]
        close = dataframe["close"]
        trending = regime == TRENDING
        calm = regime.isin([RANGING, LOW_VOL, NORMAL_VOL])
        volatile = regime == HIGH_VOL
        above_trend = close > dataframe["ema_slow"]
        below_trend = close < dataframe["ema_slow"]
        rules = [
            (
                "trend",
                "long",
                trending & (dataframe["roc"] > 0) & above_trend & rsi.between(50, 70, "left"),
            ),
            (
                "trend",
                "short",
                trending & (dataframe["roc"] < 0) & below_trend & rsi.between(30, 50, "right"),
            ),
            ("revert", "long", (calm & (rsi < 30)) | (volatile & (rsi < 25))),
            ("revert", "short", (calm & (rsi > 70)) | (volatile & (rsi > 75))),
        ]
        dataframe["enter_long"] = 0
        dataframe["enter_short"] = 0
        dataframe["enter_tag"] = None
        for rule, side, mask in rules:
            mask = mask & (dataframe["volume"] > 0)
            dataframe.loc[mask, f"enter_{side}"] = 1
            dataframe.loc[mask, "enter_tag"] = f"{rule}_{side}:" + regime[mask]
        return dataframe

    def populate_exit_trend(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        # Exits come from the regime exit rules of the base class.
        dataframe["exit_long"] = 0
        dataframe["exit_short"] = 0
        return dataframe


class QuantStaticStrategy(QuantRegimeStrategy):
    """Same entries with every regime layer off (core/layers.REGIME_LAYERS): NORMAL_VOL's
    exits for every regime, no breakeven, no trailing, no regime multiplier, no pair risk
    modifier. Not a separate code path: the base class honours the switches. The settings
    cannot turn these layers back on here; they can turn further layers off."""

    quant_layers_off: ClassVar[tuple[str, ...]] = REGIME_LAYERS
