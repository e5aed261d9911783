"""Does a regime label say anything about the next hours? Measured, with an interval.

A label is worth trading on only if what follows it differs: an EXTREME_VOL candle should
be followed by more volatility than a LOW_VOL one, a TRENDING candle by more continuation
than a RANGING one. The labels come from the detector (no look-ahead); the forward values
below are the outcome being measured and never feed a label.

Per candle t, with log returns r and the horizon H (candles):

- ``forward_vol``: the realised volatility of r[t+1..t+H] (root mean square per candle)
  divided by the pair's typical volatility at t: the trailing median, over
  ``typical_window`` candles, of the realised volatility of the H candles up to t. Scale-
  free, so pairs and timeframes pool; 1.0 means "as usual".
- ``continuation``: log(close[t+H] / close[t]) signed by the past return
  log(close[t] / close[t-lookback]), in units of recent volatility (the realised
  volatility of the H candles up to t, times sqrt(H)). Positive: the move went on.

The verdict is a moving-block bootstrap over whole days (all pairs' candles of a day stay
together, ``block_days`` consecutive days per block, seeded), giving a 95 % interval for
(a) the EXTREME_VOL / LOW_VOL forward-volatility ratio, informative when it lies above 1,
and (b) TRENDING minus RANGING continuation, informative when it lies above 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.core.regime_config import (
    EXTREME_VOL,
    LOW_VOL,
    RANGING,
    TRENDING,
    VOLATILITY_REGIMES,
)
from freqtrade_quant_plugin.core.trend import lagged, log_prices, realised_volatility

TREND_REGIMES: tuple[str, ...] = (TRENDING, RANGING)
NANOSECONDS_PER_DAY = 86_400 * 10**9


@dataclass(frozen=True)
class EvaluationConfig:
    """How outcomes are measured and how sure the verdict must be."""

    horizon: int  # candles ahead (24 h by default, converted by the caller)
    lookback: int = 20  # candles behind that give the direction of the move
    typical_window: int = 720  # candles of the trailing median (30 days at 1h)
    block_days: int = 5
    resamples: int = 2000
    seed: int = 0
    confidence: float = 0.95

    def __post_init__(self) -> None:
        for name in ("horizon", "lookback", "typical_window", "block_days", "resamples"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence must lie in (0, 1), got {self.confidence!r}")


def continuation(log_close: np.ndarray, horizon: int, lookback: int) -> np.ndarray:
    """Forward log move over `horizon` signed by the past `lookback` move, in volatility units.

    The unit is the realised volatility of the `horizon` candles up to t times
    sqrt(horizon): what a random walk would move over the horizon.
    """
    scale = realised_volatility(log_close, horizon) * np.sqrt(horizon)
    past_move = log_close - lagged(log_close, lookback)
    forward_move = lagged(log_close, -horizon) - log_close
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(scale > 0, np.sign(past_move) * forward_move / scale, np.nan)
    value[~np.isfinite(value)] = np.nan
    return value


def outcomes(close: np.ndarray, config: EvaluationConfig) -> tuple[np.ndarray, np.ndarray]:
    """Per candle: (forward volatility / typical, continuation); NaN where undefined."""
    log_close = log_prices(close)
    past_vol = realised_volatility(log_close, config.horizon)  # candles t-H+1..t
    forward_vol = lagged(past_vol, -config.horizon)  # candles t+1..t+H
    typical = (
        pd.Series(past_vol)
        .rolling(config.typical_window, min_periods=config.typical_window // 2)
        .median()
        .to_numpy()
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        vol_ratio = np.where(typical > 0, forward_vol / typical, np.nan)
    vol_ratio[~np.isfinite(vol_ratio)] = np.nan
    return vol_ratio, continuation(log_close, config.horizon, config.lookback)


@dataclass
class DailySums:
    """Per day and label: sum of the outcome and number of candles (pairs pooled)."""

    labels: tuple[str, ...]
    days: np.ndarray  # day number (days since 1970-01-01), sorted
    sums: np.ndarray  # (days, labels)
    counts: np.ndarray  # (days, labels)

    def means(self) -> np.ndarray:
        total = self.counts.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, self.sums.sum(axis=0) / total, np.nan)


def daily_sums(
    day: np.ndarray, label: np.ndarray, value: np.ndarray, labels: tuple[str, ...]
) -> DailySums:
    """Group candles by (day, label); rows with another label or an undefined value drop."""
    code = np.full(label.shape[0], -1, dtype=np.int64)
    for index, name in enumerate(labels):
        code[label == name] = index
    keep = (code >= 0) & np.isfinite(value)
    day, code, value = day[keep], code[keep], value[keep]
    if day.size == 0:
        empty = np.zeros((0, len(labels)))
        return DailySums(labels, np.zeros(0, dtype=np.int64), empty, empty.copy())
    days, day_index = np.unique(day, return_inverse=True)
    flat = day_index * len(labels) + code
    size = days.size * len(labels)
    sums = np.bincount(flat, weights=value, minlength=size).reshape(days.size, len(labels))
    counts = np.bincount(flat, minlength=size).reshape(days.size, len(labels)).astype(float)
    return DailySums(labels, days, sums, counts)


def merge_daily(parts: list[DailySums]) -> DailySums:
    """Pool pairs: add the sums of the same day."""
    labels = parts[0].labels
    days = np.unique(np.concatenate([p.days for p in parts]))
    sums = np.zeros((days.size, len(labels)))
    counts = np.zeros_like(sums)
    for part in parts:
        rows = np.searchsorted(days, part.days)
        sums[rows] += part.sums
        counts[rows] += part.counts
    return DailySums(labels, days, sums, counts)


def block_weights(n_days: int, config: EvaluationConfig) -> np.ndarray:
    """(resamples, n_days): how often each day is drawn, in blocks of consecutive days."""
    block = min(config.block_days, n_days)
    n_blocks = -(-n_days // block)
    rng = np.random.default_rng(config.seed)
    starts = rng.integers(0, n_days - block + 1, size=(config.resamples, n_blocks))
    drawn = (starts[:, :, None] + np.arange(block)).reshape(config.resamples, -1)
    flat = (np.arange(config.resamples)[:, None] * n_days + drawn).ravel()
    return np.bincount(flat, minlength=config.resamples * n_days).reshape(config.resamples, n_days)


def resampled_means(daily: DailySums, weights: np.ndarray) -> np.ndarray:
    """(resamples, labels) means over the drawn days; NaN where a label was never drawn."""
    sums = weights @ daily.sums
    counts = weights @ daily.counts
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, sums / counts, np.nan)


@dataclass(frozen=True)
class PartResult:
    """One part (volatility or trend) of the evaluation."""

    labels: tuple[str, ...]
    means: tuple[float, ...]
    counts: tuple[int, ...]
    statistic_name: str
    statistic: float
    low: float
    high: float
    null_value: float
    verdict: str  # "informative", "not informative", "contrary", "too little data"

    def as_dict(self) -> dict[str, object]:
        return {
            "means": dict(zip(self.labels, _plain(self.means), strict=True)),
            "counts": dict(zip(self.labels, self.counts, strict=True)),
            "statistic": self.statistic_name,
            "value": _plain((self.statistic,))[0],
            "interval": _plain((self.low, self.high)),
            "null_value": self.null_value,
            "verdict": self.verdict,
        }


def _plain(values: tuple[float, ...]) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in values]


def _verdict(low: float, high: float, null_value: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "too little data"
    if low > null_value:
        return "informative"
    if high < null_value:
        return "contrary"
    return "not informative"


def _part(
    daily: DailySums,
    weights: np.ndarray,
    config: EvaluationConfig,
    statistic_name: str,
    top: str,
    bottom: str,
    ratio: bool,
) -> PartResult:
    means = daily.means()
    i, j = daily.labels.index(top), daily.labels.index(bottom)

    def statistic(values: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return values[..., i] / values[..., j] if ratio else values[..., i] - values[..., j]

    value = float(statistic(means))
    low = high = float("nan")
    if daily.days.size >= 2:
        replicates = statistic(resampled_means(daily, weights))
        replicates = replicates[np.isfinite(replicates)]
        if replicates.size >= 0.95 * weights.shape[0]:  # a label rarely drawn: no verdict
            tail = (1.0 - config.confidence) / 2 * 100
            low, high = (float(x) for x in np.percentile(replicates, [tail, 100 - tail]))
    null_value = 1.0 if ratio else 0.0
    return PartResult(
        labels=daily.labels,
        means=tuple(float(m) for m in means),
        counts=tuple(int(c) for c in daily.counts.sum(axis=0)),
        statistic_name=statistic_name,
        statistic=value,
        low=low,
        high=high,
        null_value=null_value,
        verdict=_verdict(low, high, null_value),
    )


@dataclass(frozen=True)
class Evaluation:
    """Both parts for one timeframe."""

    volatility: PartResult
    trend: PartResult
    days: int

    def as_dict(self) -> dict[str, object]:
        return {
            "days": self.days,
            "volatility": self.volatility.as_dict(),
            "trend": self.trend.as_dict(),
        }


class RegimeEvaluator:
    """Collects labelled candles pair by pair, then measures both parts at once."""

    def __init__(self, config: EvaluationConfig) -> None:
        self.config = config
        self._volatility: list[DailySums] = []
        self._trend: list[DailySums] = []

    def add_pair(self, frame: pd.DataFrame, start: pd.Timestamp | None = None) -> None:
        """One pair's analysed frame (date, close, volatility_regime, trend_regime).

        Rows before ``start`` only serve as history (warm-up of the typical volatility).
        """
        vol_ratio, continuation = outcomes(frame["close"].to_numpy(np.float64), self.config)
        dates = pd.DatetimeIndex(frame["date"])
        day = dates.as_unit("ns").asi8 // NANOSECONDS_PER_DAY
        keep = np.ones(len(frame), dtype=bool) if start is None else np.asarray(dates >= start)
        vol_label = frame["volatility_regime"].to_numpy(dtype=object)[keep]
        trend_label = frame["trend_regime"].to_numpy(dtype=object)[keep]
        self._volatility.append(
            daily_sums(day[keep], vol_label, vol_ratio[keep], VOLATILITY_REGIMES)
        )
        self._trend.append(daily_sums(day[keep], trend_label, continuation[keep], TREND_REGIMES))

    def evaluate(self) -> Evaluation:
        if not self._volatility:
            raise ValueError("no pair was added")
        volatility = merge_daily(self._volatility)
        trend = merge_daily(self._trend)
        days = np.union1d(volatility.days, trend.days)
        weights = block_weights(max(days.size, 1), self.config)
        return Evaluation(
            volatility=_part(
                _align(volatility, days),
                weights,
                self.config,
                "EXTREME_VOL / LOW_VOL forward volatility",
                EXTREME_VOL,
                LOW_VOL,
                ratio=True,
            ),
            trend=_part(
                _align(trend, days),
                weights,
                self.config,
                "TRENDING - RANGING continuation",
                TRENDING,
                RANGING,
                ratio=False,
            ),
            days=int(days.size),
        )


def _align(daily: DailySums, days: np.ndarray) -> DailySums:
    """The same sums on a given day axis (zeros on days without candles)."""
    sums = np.zeros((days.size, len(daily.labels)))
    counts = np.zeros_like(sums)
    rows = np.searchsorted(days, daily.days)
    sums[rows] = daily.sums
    counts[rows] = daily.counts
    return DailySums(daily.labels, days, sums, counts)
