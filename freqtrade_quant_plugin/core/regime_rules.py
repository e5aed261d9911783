"""The rules that turn the detector's columns into labels, as small integer codes.

The rules in words are in core/regime.py's docstring; they are the same for the columns
(`RegimeDetector.detect`) and for one candle (`detect_regime`). Codes become strings once
per column through `LABELS`.
"""

from __future__ import annotations

import numpy as np

from freqtrade_quant_plugin.core.regime_config import (
    REGIMES,
    SCALED_MOVE,
    UNKNOWN,
    RegimeDetectorConfig,
)

# Labels are computed as small integer codes and turned into strings once per column.
LABELS = np.array([*REGIMES, UNKNOWN], dtype=object)
_LOW, _NORMAL, _HIGH, _EXTREME, _TRENDING, _RANGING, _UNKNOWN = range(len(LABELS))


def volatility_codes(
    config: RegimeDetectorConfig,
    vol_percentile: np.ndarray,
    atr_ratio: np.ndarray,
    atr_short: np.ndarray,
    atr_long: np.ndarray,
    close: np.ndarray,
) -> np.ndarray:
    undefined = (
        np.isnan(vol_percentile)
        | np.isnan(atr_ratio)
        | ~(atr_short > 0)
        | ~(atr_long > 0)
        | ~(close > 0)
    )
    codes = np.select(
        [
            undefined,
            vol_percentile >= config.volatility_percentile_extreme,
            vol_percentile >= config.volatility_percentile_high,
            vol_percentile <= config.volatility_percentile_low,
        ],
        [_UNKNOWN, _EXTREME, _HIGH, _LOW],
        _NORMAL,
    ).astype(np.int8)
    return _lift_on_atr_burst(config, codes, atr_ratio)


def ratio_only_volatility_codes(
    config: RegimeDetectorConfig, atr_ratio: np.ndarray, atr_short: np.ndarray, atr_long: np.ndarray
) -> np.ndarray:
    """The guide's scalar fallback when no percentile is known: the ATR ratio alone."""
    multiplier = config.vol_atr_multiplier
    undefined = np.isnan(atr_ratio) | ~(atr_short > 0) | ~(atr_long > 0)
    return np.select(
        [
            undefined,
            atr_ratio >= multiplier**2,
            atr_ratio >= multiplier,
            atr_ratio <= 1.0 / multiplier,
        ],
        [_UNKNOWN, _EXTREME, _HIGH, _LOW],
        _NORMAL,
    ).astype(np.int8)


def _lift_on_atr_burst(
    config: RegimeDetectorConfig, codes: np.ndarray, atr_ratio: np.ndarray
) -> np.ndarray:
    calm = (codes == _LOW) | (codes == _NORMAL)
    codes[calm & (atr_ratio >= config.vol_atr_multiplier)] = _HIGH
    return codes


def trend_codes(
    config: RegimeDetectorConfig, adx: np.ndarray, roc: np.ndarray, trend_z: np.ndarray
) -> np.ndarray:
    if config.trend_method == SCALED_MOVE:
        magnitude = np.abs(trend_z)
        return np.select(
            [~np.isfinite(magnitude), magnitude >= config.trend_z_threshold],
            [_UNKNOWN, _TRENDING],
            _RANGING,
        ).astype(np.int8)
    undefined = ~((adx >= 0) & (adx <= 100)) | ~np.isfinite(roc)
    trending = (adx > config.adx_trend_threshold) & (np.abs(roc) >= config.trend_threshold)
    return np.select([undefined, trending], [_UNKNOWN, _TRENDING], _RANGING).astype(np.int8)


def combined_codes(
    config: RegimeDetectorConfig, vol: np.ndarray, trend: np.ndarray, adx: np.ndarray
) -> np.ndarray:
    return np.select(
        [
            (vol == _UNKNOWN) | (trend == _UNKNOWN),
            (vol == _EXTREME) | (vol == _HIGH),
            trend == _TRENDING,
            adx < config.adx_range_threshold,
        ],
        [_UNKNOWN, vol, _TRENDING, _RANGING],
        vol,
    ).astype(np.int8)
