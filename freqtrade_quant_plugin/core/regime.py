"""Market regime detection: how violent the market is and whether it trends.

Sizing and exits change with the regime, so a wrong or peeked-ahead label moves real
money. Every column is computed from candles at or before its own row only (TA-Lib's
recursions, a trailing window, nothing centred, nothing backfilled, no whole-frame
statistic), so computing on ``df.iloc[:t+1]`` gives the same row ``t`` as computing on
the whole frame.

Columns added by ``RegimeDetector.detect``:

- ``atr_14``: TA-Lib ATR over ``atr_period``; ``atr`` holds the same values.
- ``atr_100``: TA-Lib ATR over ``atr_long_period``.
- ``adx``: TA-Lib ADX over ``adx_period``.
- ``roc``: ``(close[t] - close[t-n]) / close[t-n]`` with ``n = lookback_period`` (a
  fraction, as TA-Lib ROCP); undefined unless both closes are > 0.
- ``natr``: ``atr_14 / close``; undefined unless close > 0.
- ``atr_ratio``: ``atr_14 / atr_100``; undefined unless atr_100 > 0.
- ``vol_percentile``: share of the last ``percentile_window`` natr values, the current one
  included, that are <= the current one, times 100. Undefined until the window holds
  ``percentile_window`` defined values.
- ``trend_z``: ``ln(close[t] / close[t-n]) / (v * sqrt(n))`` with ``n = trend_window`` and
  ``v`` the root mean square of the last ``max(trend_window, atr_long_period)`` log
  returns: the net move in units of what a directionless market would move (about
  N(0, 1) then), so one threshold fits every pair and timeframe. Computed whatever the
  trend method, for plots and research.

Rules (the same for the columns and the scalar ``detect_regime``):

volatility_regime
    UNKNOWN where vol_percentile or atr_ratio is undefined, or atr_14 <= 0, or
    atr_100 <= 0, or close <= 0: without measurable movement no stop can be placed.
    Otherwise EXTREME_VOL if vol_percentile >= volatility_percentile_extreme; HIGH_VOL if
    >= volatility_percentile_high; LOW_VOL if <= volatility_percentile_low; else
    NORMAL_VOL. Then, if atr_ratio >= vol_atr_multiplier and the label is LOW_VOL or
    NORMAL_VOL, it is lifted to HIGH_VOL (a sudden burst of movement counts even
    when the trailing window has seen wilder markets).

trend_regime
    ``trend_method = "adx_roc"`` (default, the original design): UNKNOWN where adx or roc
    is undefined (ADX must lie in [0, 100]). TRENDING if adx > adx_trend_threshold and
    |roc| >= trend_threshold; else RANGING.
    ``trend_method = "scaled_move"``: UNKNOWN where trend_z is undefined; TRENDING if
    |trend_z| >= trend_z_threshold; else RANGING. (Chosen by a walk-forward study,
    bench/trend_walk_forward.py; it did not beat adx_roc on the held-out months, so it is
    not the default.)

regime
    UNKNOWN if either part is UNKNOWN. EXTREME_VOL or HIGH_VOL when the volatility part is
    one of those (risk comes first). Else TRENDING if the trend part is TRENDING. Else
    RANGING if adx < adx_range_threshold (a clear absence of trend). Else the volatility
    label (LOW_VOL or NORMAL_VOL).

The scalar ``detect_regime`` takes ``atr``/``atr_14``, ``atr_100``, ``adx``, ``roc``
(``trend_z`` with the scaled_move method) and optionally ``vol_percentile`` and ``close``.
Without ``vol_percentile`` it classifies volatility by atr_ratio alone: >=
vol_atr_multiplier**2 EXTREME_VOL, >= vol_atr_multiplier HIGH_VOL, <= 1 /
vol_atr_multiplier LOW_VOL, else NORMAL_VOL. Missing, NaN or non-positive numbers give
UNKNOWN where a part becomes undefined; they never raise.

Warm-up: the first ``RegimeDetectorConfig.startup_candles`` rows are UNKNOWN. A NaN
price makes TA-Lib's recursive ATR and ADX undefined from that row on, so every later
row is UNKNOWN too; Freqtrade's own data never holds NaN prices.

This module computes the columns and is the API; the labels and settings are defined in
regime_config.py, the rules above as code in regime_rules.py, the trailing windows in
regime_series.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import talib

# The labels, settings and result are defined in regime_config.py and are part of this
# module's API (the original guide's `regime` module; the sample strategy imports them here).
from freqtrade_quant_plugin.core.regime_config import (
    ADX_ROC,
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    SCALED_MOVE,
    TREND_METHODS,
    TRENDING,
    UNKNOWN,
    VOLATILITY_REGIMES,
    RegimeDetectorConfig,
    RegimeResult,
)
from freqtrade_quant_plugin.core.regime_rules import (
    LABELS,
    combined_codes,
    ratio_only_volatility_codes,
    trend_codes,
    volatility_codes,
)
from freqtrade_quant_plugin.core.regime_series import (
    rolling_percentile_rank,
    safe_ratio,
    trailing_return,
)
from freqtrade_quant_plugin.core.trend import log_prices, scaled_move

__all__ = [
    "ADX_ROC",
    "EXTREME_VOL",
    "HIGH_VOL",
    "LOW_VOL",
    "NORMAL_VOL",
    "RANGING",
    "REGIMES",
    "SCALED_MOVE",
    "TRENDING",
    "TREND_METHODS",
    "UNKNOWN",
    "VOLATILITY_REGIMES",
    "RegimeDetector",
    "RegimeDetectorConfig",
    "RegimeResult",
    "detect_regime",
]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return np.ascontiguousarray(frame[name].to_numpy(dtype=np.float64, na_value=np.nan))


class RegimeDetector:
    """Labels candles with a volatility regime, a trend regime and the combined regime."""

    def __init__(self, config: RegimeDetectorConfig | None = None) -> None:
        self.config = config if config is not None else RegimeDetectorConfig()

    def detect(self, dataframe: pd.DataFrame) -> pd.DataFrame:
        """Add the indicator and regime columns to a Freqtrade OHLCV frame, in place."""
        config = self.config
        high = _column(dataframe, "high")
        low = _column(dataframe, "low")
        close = _column(dataframe, "close")

        atr_short = talib.ATR(high, low, close, timeperiod=config.atr_period)
        atr_long = talib.ATR(high, low, close, timeperiod=config.atr_long_period)
        adx = talib.ADX(high, low, close, timeperiod=config.adx_period)
        roc = trailing_return(close, config.lookback_period)
        natr = safe_ratio(atr_short, close)
        atr_ratio = safe_ratio(atr_short, atr_long)
        vol_percentile = rolling_percentile_rank(natr, config.percentile_window)
        trend_z = scaled_move(
            log_prices(close),
            config.trend_window,
            max(config.trend_window, config.atr_long_period),
        )

        vol = volatility_codes(config, vol_percentile, atr_ratio, atr_short, atr_long, close)
        trend = trend_codes(config, adx, roc, trend_z)
        regime = combined_codes(config, vol, trend, adx)

        dataframe["atr_14"] = atr_short
        dataframe["atr"] = atr_short.copy()
        dataframe["atr_100"] = atr_long
        dataframe["adx"] = adx
        dataframe["roc"] = roc
        dataframe["natr"] = natr
        dataframe["atr_ratio"] = atr_ratio
        dataframe["vol_percentile"] = vol_percentile
        dataframe["trend_z"] = trend_z
        dataframe["volatility_regime"] = LABELS[vol]
        dataframe["trend_regime"] = LABELS[trend]
        dataframe["regime"] = LABELS[regime]
        return dataframe

    def detect_regime(self, indicators: Mapping[str, object] | pd.Series) -> RegimeResult:
        """Classify one set of indicator values, e.g. a dict or one row of an analysed frame."""
        if not isinstance(indicators, Mapping | pd.Series):
            raise TypeError(f"indicators must be a mapping, got {type(indicators).__name__}")
        config = self.config
        short_key = "atr_14" if "atr_14" in indicators else "atr"
        atr_short = _number(indicators, short_key)
        atr_long = _number(indicators, "atr_100")
        adx = _number(indicators, "adx")
        roc = _number(indicators, "roc")
        ratio = np.array([_ratio(atr_short, atr_long)])
        short_arr, long_arr = np.array([atr_short]), np.array([atr_long])

        if "vol_percentile" in indicators:
            pct = _number(indicators, "vol_percentile")
            pct = pct if 0.0 <= pct <= 100.0 else math.nan
            close = _number(indicators, "close") if "close" in indicators else 1.0
            vol = volatility_codes(
                config, np.array([pct]), ratio, short_arr, long_arr, np.array([close])
            )
            vol_percentile: float | None = None if math.isnan(pct) else pct
        else:
            vol = ratio_only_volatility_codes(config, ratio, short_arr, long_arr)
            vol_percentile = None
        adx_arr = np.array([adx])
        trend_z = np.array([_number(indicators, "trend_z")])
        trend = trend_codes(config, adx_arr, np.array([roc]), trend_z)
        regime = combined_codes(config, vol, trend, adx_arr)
        return RegimeResult(
            regime=str(LABELS[regime[0]]),
            volatility_regime=str(LABELS[vol[0]]),
            trend_regime=str(LABELS[trend[0]]),
            atr_current=atr_short,
            adx=adx,
            vol_percentile=vol_percentile,
            atr_ratio=None if math.isnan(ratio[0]) else float(ratio[0]),
        )


def _number(indicators: Mapping[str, object] | pd.Series, key: str) -> float:
    """The value as a float; anything missing or unreadable is NaN, never an exception."""
    try:
        return float(indicators.get(key, math.nan))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _ratio(numerator: float, denominator: float) -> float:
    if not denominator > 0:
        return math.nan
    try:
        ratio = numerator / denominator
    except OverflowError:
        return math.nan
    return ratio if math.isfinite(ratio) else math.nan


def detect_regime(
    indicators: Mapping[str, object] | pd.Series, config: RegimeDetectorConfig | None = None
) -> RegimeResult:
    """Module-level form of ``RegimeDetector.detect_regime``."""
    return RegimeDetector(config).detect_regime(indicators)
