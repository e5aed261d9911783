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
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields

import numpy as np
import pandas as pd
import talib

from freqtrade_quant_plugin.core.trend import log_prices, scaled_move
from freqtrade_quant_plugin.core.validation import (
    QuantConfigError,
    check_range,
    parse_int,
    parse_number,
)

logger = logging.getLogger(__name__)

LOW_VOL = "LOW_VOL"
NORMAL_VOL = "NORMAL_VOL"
HIGH_VOL = "HIGH_VOL"
EXTREME_VOL = "EXTREME_VOL"
TRENDING = "TRENDING"
RANGING = "RANGING"
UNKNOWN = "UNKNOWN"

VOLATILITY_REGIMES: tuple[str, ...] = (LOW_VOL, NORMAL_VOL, HIGH_VOL, EXTREME_VOL)
REGIMES: tuple[str, ...] = (*VOLATILITY_REGIMES, TRENDING, RANGING)

# Labels are computed as small integer codes and turned into strings once per column.
_LABELS = np.array([*REGIMES, UNKNOWN], dtype=object)
_LOW, _NORMAL, _HIGH, _EXTREME, _TRENDING, _RANGING, _UNKNOWN = range(len(_LABELS))

# Rows compared per pass of the rolling percentile: small enough to stay in cache.
_PERCENTILE_CHUNK = 32_768

ADX_ROC = "adx_roc"
SCALED_MOVE = "scaled_move"
TREND_METHODS: tuple[str, ...] = (ADX_ROC, SCALED_MOVE)

_INT_FIELDS = (
    "lookback_period",
    "percentile_window",
    "atr_period",
    "atr_long_period",
    "adx_period",
    "trend_window",
)


@dataclass(frozen=True)
class RegimeDetectorConfig:
    """Thresholds and periods of the detector, validated when built."""

    lookback_period: int = 20
    volatility_percentile_high: float = 75.0
    volatility_percentile_extreme: float = 90.0
    volatility_percentile_low: float = 25.0
    trend_threshold: float = 0.015
    vol_atr_multiplier: float = 1.5
    percentile_window: int = 500
    adx_trend_threshold: float = 25.0
    adx_range_threshold: float = 20.0
    atr_period: int = 14
    atr_long_period: int = 100
    adx_period: int = 14
    trend_method: str = ADX_ROC
    trend_window: int = 336
    trend_z_threshold: float = 1.5

    def __post_init__(self) -> None:
        if self.trend_method not in TREND_METHODS:
            raise QuantConfigError(
                "trend_method", self.trend_method, f"one of {', '.join(TREND_METHODS)}"
            )
        for field in fields(self):
            raw = getattr(self, field.name)
            if field.name == "trend_method":
                continue
            if field.name in _INT_FIELDS:
                value: float = parse_int(field.name, raw)
                check_range(field.name, value, 2)
            else:
                value = parse_number(field.name, raw)
            object.__setattr__(self, field.name, value)

        for name in ("volatility_percentile_low", "volatility_percentile_high"):
            check_range(name, getattr(self, name), 0.0, 100.0)
        check_range("volatility_percentile_extreme", self.volatility_percentile_extreme, 0.0, 100.0)
        if self.volatility_percentile_low >= self.volatility_percentile_high:
            raise QuantConfigError(
                "volatility_percentile_low",
                self.volatility_percentile_low,
                f"< volatility_percentile_high ({self.volatility_percentile_high:g})",
            )
        if self.volatility_percentile_high > self.volatility_percentile_extreme:
            raise QuantConfigError(
                "volatility_percentile_extreme",
                self.volatility_percentile_extreme,
                f">= volatility_percentile_high ({self.volatility_percentile_high:g})",
            )
        if self.atr_long_period <= self.atr_period:
            raise QuantConfigError(
                "atr_long_period", self.atr_long_period, f"> atr_period ({self.atr_period})"
            )
        check_range("trend_threshold", self.trend_threshold, 0.0)
        check_range("trend_z_threshold", self.trend_z_threshold, 0.0)
        check_range("vol_atr_multiplier", self.vol_atr_multiplier, 1.0, low_open=True)
        check_range("adx_trend_threshold", self.adx_trend_threshold, 0.0, 100.0)
        check_range("adx_range_threshold", self.adx_range_threshold, 0.0, 100.0)
        if self.adx_range_threshold > self.adx_trend_threshold:
            raise QuantConfigError(
                "adx_range_threshold",
                self.adx_range_threshold,
                f"<= adx_trend_threshold ({self.adx_trend_threshold:g})",
            )

    @property
    def startup_candles(self) -> int:
        """Rows before the first one whose regime can be defined (TA-Lib's lookbacks)."""
        return max(
            self.atr_period + self.percentile_window - 1,  # ATR, then a full natr window
            self.atr_long_period,
            2 * self.adx_period - 1,
            self.lookback_period,
            self.trend_window,  # trend_z: the move and the volatility over trend_window
        )

    @property
    def trend_lookback(self) -> int:
        """Candles whose net move gives the direction of the trend the method labels."""
        return self.lookback_period if self.trend_method == ADX_ROC else self.trend_window


@dataclass(frozen=True)
class RegimeResult:
    """The regime of one candle, with the numbers it was read from."""

    regime: str
    volatility_regime: str
    trend_regime: str
    atr_current: float
    adx: float
    vol_percentile: float | None
    atr_ratio: float | None


def rolling_percentile_rank(values: np.ndarray, window: int) -> np.ndarray:
    """Percent of the trailing ``window`` values (current included) that are <= the current.

    Exact (it counts, it does not interpolate) and equal to
    ``rolling(window).rank(method="max") * 100 / window``; NaN wherever the window is not
    full of finite values. Counting lag by lag is O(n * window) but runs as a few hundred
    cache-friendly vector passes, several times faster than pandas' rolling rank.
    """
    v = np.ascontiguousarray(values, dtype=np.float64)
    n = v.shape[0]
    result = np.full(n, np.nan)
    first = window - 1
    if n <= first:
        return result

    counts = np.empty(n - first, dtype=np.int32)
    for start in range(first, n, _PERCENTILE_CHUNK):
        stop = min(n, start + _PERCENTILE_CHUNK)
        counts[start - first : stop - first] = _count_not_above(v, start, stop, window)

    finite = np.isfinite(v)
    bad_so_far = np.concatenate(([0], np.cumsum(~finite, dtype=np.int64)))
    bad_in_window = bad_so_far[first + 1 :] - bad_so_far[: n - first]
    result[first:] = np.where(bad_in_window == 0, counts * 100.0 / window, np.nan)
    return result


def _count_not_above(v: np.ndarray, start: int, stop: int, window: int) -> np.ndarray:
    """For rows start..stop-1, how many of the trailing ``window`` values are <= the row's.

    Counts build up in a uint8 buffer (flushed before it can overflow) so each lag costs
    one compare and one byte add.
    """
    current = v[start:stop]
    size = stop - start
    total = np.zeros(size, dtype=np.int32)
    partial = np.ones(size, dtype=np.uint8)  # the current value counts itself
    pending = 1
    not_above = np.empty(size, dtype=bool)
    for lag in range(1, window):
        np.less_equal(v[start - lag : stop - lag], current, out=not_above)
        np.add(partial, not_above.view(np.uint8), out=partial)
        pending += 1
        if pending == 255:
            total += partial
            partial.fill(0)
            pending = 0
    total += partial
    return total


def _safe_ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is a positive number, NaN elsewhere."""
    ok = denominator > 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(ok, numerator / np.where(ok, denominator, 1.0), np.nan)
    ratio[~np.isfinite(ratio)] = np.nan
    return ratio


def _trailing_return(close: np.ndarray, lookback: int) -> np.ndarray:
    """(close[t] - close[t-lookback]) / close[t-lookback], NaN unless both are positive."""
    roc = np.full(close.shape[0], np.nan)
    if close.shape[0] > lookback:
        previous, current = close[:-lookback], close[lookback:]
        ok = (previous > 0) & (current > 0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            roc[lookback:] = np.where(
                ok, (current - previous) / np.where(ok, previous, 1.0), np.nan
            )
    return roc


def _volatility_codes(
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


def _ratio_only_volatility_codes(
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


def _trend_codes(
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


def _combined_codes(
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
        roc = _trailing_return(close, config.lookback_period)
        natr = _safe_ratio(atr_short, close)
        atr_ratio = _safe_ratio(atr_short, atr_long)
        vol_percentile = rolling_percentile_rank(natr, config.percentile_window)
        trend_z = scaled_move(
            log_prices(close),
            config.trend_window,
            max(config.trend_window, config.atr_long_period),
        )

        vol = _volatility_codes(config, vol_percentile, atr_ratio, atr_short, atr_long, close)
        trend = _trend_codes(config, adx, roc, trend_z)
        regime = _combined_codes(config, vol, trend, adx)

        dataframe["atr_14"] = atr_short
        dataframe["atr"] = atr_short.copy()
        dataframe["atr_100"] = atr_long
        dataframe["adx"] = adx
        dataframe["roc"] = roc
        dataframe["natr"] = natr
        dataframe["atr_ratio"] = atr_ratio
        dataframe["vol_percentile"] = vol_percentile
        dataframe["trend_z"] = trend_z
        dataframe["volatility_regime"] = _LABELS[vol]
        dataframe["trend_regime"] = _LABELS[trend]
        dataframe["regime"] = _LABELS[regime]
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
            vol = _volatility_codes(
                config, np.array([pct]), ratio, short_arr, long_arr, np.array([close])
            )
            vol_percentile: float | None = None if math.isnan(pct) else pct
        else:
            vol = _ratio_only_volatility_codes(config, ratio, short_arr, long_arr)
            vol_percentile = None
        adx_arr = np.array([adx])
        trend_z = np.array([_number(indicators, "trend_z")])
        trend = _trend_codes(config, adx_arr, np.array([roc]), trend_z)
        regime = _combined_codes(config, vol, trend, adx_arr)
        return RegimeResult(
            regime=str(_LABELS[regime[0]]),
            volatility_regime=str(_LABELS[vol[0]]),
            trend_regime=str(_LABELS[trend[0]]),
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
