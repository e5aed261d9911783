"""5m OHLCV candles along a regime path, and their aggregation to longer timeframes.

Returns are fat-tailed (Student t) with a per-phase sigma modulated by a slowly mean-
reverting log-volatility (volatility clustering). Trending phases drift; ranging phases
mean-revert (Ornstein-Uhlenbeck) around the price the phase started at. Every random
stream is drawn in one pass from its own generator, so shorter paths are prefixes of
longer ones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.signal import lfilter

from freqtrade_quant_plugin.synth.profiles import PairProfile
from freqtrade_quant_plugin.synth.regime_path import RANGING, Phase

# Per-candle (5m) sigma of log returns for BTC by volatility state; altcoins scale it.
PHASE_SIGMA = np.array([0.0008, 0.0015, 0.0028, 0.0055])
NORMAL_SIGMA = PHASE_SIGMA[1]
STUDENT_DF = 5.0
# Log-volatility AR(1): persistence per 5m candle (half-life ~3h) and stationary spread.
LOG_VOL_PERSISTENCE = 0.98
LOG_VOL_SPREAD = 0.2
# Mean reversion per 5m candle while ranging (half-life ~4h), around the phase's start.
RANGING_REVERSION = np.log(2) / 48
# Weak pull towards the start price while trending (half-life ~20 days), so that eight
# months of alternating trends keep prices in a plausible band instead of drifting to dust.
LONG_RUN_REVERSION = np.log(2) / (20 * 288)
# Wick beyond the candle body, in per-candle sigmas (exponential mean).
WICK_SCALE = 0.5
VOLUME_NOISE = 0.3


@dataclass(frozen=True)
class Streams:
    """One generator per random ingredient, so changing one leaves the others intact."""

    shocks: np.random.Generator
    log_vol: np.random.Generator
    wicks: np.random.Generator
    volume: np.random.Generator


def candle_sigma(
    volatility: np.ndarray, profile: PairProfile, rng: np.random.Generator
) -> np.ndarray:
    """Sigma of every 5m candle: phase level times a clustered, mean-one modulation."""
    n = len(volatility)
    innovation = LOG_VOL_SPREAD * np.sqrt(1 - LOG_VOL_PERSISTENCE**2) * rng.standard_normal(n)
    log_vol = lfilter([1.0], [1.0, -LOG_VOL_PERSISTENCE], innovation)
    modulation = np.exp(log_vol - LOG_VOL_SPREAD**2 / 2)
    return PHASE_SIGMA[volatility] * profile.volatility_scale * modulation


def log_close_path(
    phases: list[Phase], sigma: np.ndarray, start_price: float, rng: np.random.Generator
) -> np.ndarray:
    """Log close of every 5m candle: drift while trending, OU around the anchor while ranging."""
    n = len(sigma)
    shocks = rng.standard_t(STUDENT_DF, n) * np.sqrt((STUDENT_DF - 2) / STUDENT_DF) * sigma
    log_start = np.log(start_price)
    log_close = np.empty(n)
    anchor = log_start
    for phase in phases:
        part = slice(phase.start, min(phase.start + phase.length, n))
        noise = shocks[part]
        if phase.trend == RANGING:
            log_close[part] = anchor + _ar1(noise, 1.0 - RANGING_REVERSION, 0.0)
        else:
            steps = noise + phase.drift_strength * sigma[part]
            keep = 1.0 - LONG_RUN_REVERSION
            log_close[part] = log_start + _ar1(steps, keep, anchor - log_start)
        anchor = log_close[part][-1]
    return log_close


def _ar1(steps: np.ndarray, keep: float, initial: float) -> np.ndarray:
    """x[t] = keep * x[t-1] + steps[t], starting from x[-1] = initial."""
    return lfilter([1.0], [1.0, -keep], steps, zi=[keep * initial])[0]


def build_candles(
    phases: list[Phase],
    volatility: np.ndarray,
    profile: PairProfile,
    streams: Streams,
) -> dict[str, np.ndarray]:
    """Consistent 5m OHLCV arrays (prices on the pair's tick, open = previous close)."""
    sigma = candle_sigma(volatility, profile, streams.log_vol)
    log_close = log_close_path(phases, sigma, profile.start_price, streams.shocks)
    close = np.round(np.exp(log_close), profile.price_decimals)
    open_ = np.concatenate(([round(profile.start_price, profile.price_decimals)], close[:-1]))
    wicks = streams.wicks.exponential(WICK_SCALE, size=(len(close), 2)) * sigma[:, None]
    tick = 10.0**-profile.price_decimals
    high = np.round(np.maximum(open_, close) * np.exp(wicks[:, 0]), profile.price_decimals)
    low = np.round(np.minimum(open_, close) * np.exp(-wicks[:, 1]), profile.price_decimals)
    low = np.maximum(low, tick)
    body = np.abs(np.log(close / open_)) / sigma
    noise = streams.volume.lognormal(0.0, VOLUME_NOISE, len(close))
    activity = sigma / (NORMAL_SIGMA * profile.volatility_scale)
    volume = profile.volume_per_5m * activity**0.9 * (0.6 + 0.4 * body) * noise
    min_volume = 10.0**-profile.volume_decimals
    volume = np.maximum(np.round(volume, profile.volume_decimals), min_volume)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def aggregate(candles: dict[str, np.ndarray], factor: int) -> dict[str, np.ndarray]:
    """Merge every `factor` consecutive candles into one; an incomplete tail is dropped."""
    n = len(candles["close"]) // factor * factor

    def blocks(name: str) -> np.ndarray:
        return candles[name][:n].reshape(-1, factor)

    return {
        "open": blocks("open")[:, 0],
        "high": blocks("high").max(axis=1),
        "low": blocks("low").min(axis=1),
        "close": blocks("close")[:, -1],
        "volume": np.round(blocks("volume").sum(axis=1), 8),
    }
