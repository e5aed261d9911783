"""The regime labels, and the detector's thresholds and periods, validated when built.

Lowest of the regime modules (no TA-Lib, no pandas), so sizing, exits and settings can
name a regime without loading the detector. core/regime.py describes what each setting
does to the labels.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from freqtrade_quant_plugin.core.validation import (
    QuantConfigError,
    check_range,
    parse_int,
    parse_number,
)

LOW_VOL = "LOW_VOL"
NORMAL_VOL = "NORMAL_VOL"
HIGH_VOL = "HIGH_VOL"
EXTREME_VOL = "EXTREME_VOL"
TRENDING = "TRENDING"
RANGING = "RANGING"
UNKNOWN = "UNKNOWN"

VOLATILITY_REGIMES: tuple[str, ...] = (LOW_VOL, NORMAL_VOL, HIGH_VOL, EXTREME_VOL)
REGIMES: tuple[str, ...] = (*VOLATILITY_REGIMES, TRENDING, RANGING)

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
