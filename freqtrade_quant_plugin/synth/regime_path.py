"""The hidden regime path: a Markov chain over (volatility, trend) phases.

Phases last hours (extreme volatility) to weeks (calm), as on real crypto markets. The
chain is drawn phase by phase from its own generator, so a shorter path is always a
prefix of a longer one with the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CANDLES_PER_HOUR = 12  # the path is drawn on 5m candles

VOLATILITY_STATES = ("CALM", "NORMAL", "VOLATILE", "EXTREME")
TREND_STATES = ("RANGING", "TRENDING_UP", "TRENDING_DOWN")
RANGING, TRENDING_UP, TRENDING_DOWN = range(3)

# Median phase length in hours per volatility state, and the spread of the lognormal.
MEDIAN_HOURS = np.array([60.0, 36.0, 16.0, 6.0])
DURATION_LOG_SIGMA = 0.7
MIN_HOURS, MAX_HOURS = 1.0, 21 * 24.0

# When a phase ends the volatility state changes with this probability, else only the trend.
VOLATILITY_CHANGE_PROBABILITY = 0.5
# Where volatility goes when it changes (rows: from, columns: to; no self-transition).
VOLATILITY_JUMPS = np.array(
    [
        [0.00, 0.85, 0.12, 0.03],
        [0.45, 0.00, 0.45, 0.10],
        [0.10, 0.55, 0.00, 0.35],
        [0.05, 0.25, 0.70, 0.00],
    ]
)
# Where the trend goes when it changes (rows: from, columns: to; no self-transition).
TREND_JUMPS = np.array(
    [
        [0.0, 0.5, 0.5],
        [0.7, 0.0, 0.3],
        [0.7, 0.3, 0.0],
    ]
)
# Chance that the trend also changes when the volatility state does.
TREND_CHANGE_WITH_VOLATILITY = 0.5
# Drift of a trending phase, in units of the phase's per-candle sigma.
DRIFT_STRENGTH_RANGE = (0.07, 0.15)


@dataclass(frozen=True)
class Phase:
    start: int  # first 5m candle
    length: int  # in 5m candles
    volatility: int  # index into VOLATILITY_STATES
    trend: int  # index into TREND_STATES
    drift_strength: float  # signed drift per candle in sigmas; 0 while ranging


def draw_phases(rng: np.random.Generator, n_candles: int) -> list[Phase]:
    """Draw consecutive phases covering n_candles 5m candles (the last one truncated)."""
    phases: list[Phase] = []
    volatility, trend = 1, RANGING
    start = 0
    while start < n_candles:
        hours = MEDIAN_HOURS[volatility] * np.exp(DURATION_LOG_SIGMA * rng.standard_normal())
        length = round(float(np.clip(hours, MIN_HOURS, MAX_HOURS)) * CANDLES_PER_HOUR)
        length = min(length, n_candles - start)
        strength = rng.uniform(*DRIFT_STRENGTH_RANGE)
        drift = {RANGING: 0.0, TRENDING_UP: strength, TRENDING_DOWN: -strength}[trend]
        phases.append(Phase(start, length, volatility, trend, drift))
        start += length
        volatility, trend = _next_state(rng, volatility, trend)
    return phases


def _next_state(rng: np.random.Generator, volatility: int, trend: int) -> tuple[int, int]:
    if rng.random() < VOLATILITY_CHANGE_PROBABILITY:
        volatility = int(rng.choice(4, p=VOLATILITY_JUMPS[volatility]))
        if rng.random() < TREND_CHANGE_WITH_VOLATILITY:
            trend = int(rng.choice(3, p=TREND_JUMPS[trend]))
    else:
        trend = int(rng.choice(3, p=TREND_JUMPS[trend]))
    return volatility, trend


def states_per_candle(phases: list[Phase], n_candles: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-candle volatility and trend state indices (int8) of a phase list."""
    lengths = np.array([p.length for p in phases])
    volatility = np.repeat(np.array([p.volatility for p in phases], dtype=np.int8), lengths)
    trend = np.repeat(np.array([p.trend for p in phases], dtype=np.int8), lengths)
    return volatility[:n_candles], trend[:n_candles]
