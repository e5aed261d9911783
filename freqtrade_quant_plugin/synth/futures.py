"""Perpetual-futures series derived from the spot path: candles, mark candles, funding.

The perpetual trades at a small basis to spot that leans with the trend (longs pay in a
rally), and funding every 8h follows the basis of the preceding 8h, as on Binance. Mark
candles are the spot (index) candles; exchanges report no volume for them, stored as 0.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from freqtrade_quant_plugin.synth.regime_path import TRENDING_DOWN, TRENDING_UP

BASIS_TREND_PREMIUM = 0.0004
BASIS_PERSISTENCE = 0.99
BASIS_NOISE = 0.00003  # per 5m step, stationary spread ~0.0002
FUTURES_VOLUME_MULTIPLIER = 3.0
BASE_FUNDING_RATE = 0.0001
FUNDING_FROM_BASIS = 0.25
FUNDING_CAP = 0.0075
FUNDING_HOURS = 8


def basis_path(trend: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Log basis futures/spot of every 5m candle."""
    premium = np.select(
        [trend == TRENDING_UP, trend == TRENDING_DOWN], [BASIS_TREND_PREMIUM, -BASIS_TREND_PREMIUM]
    )
    noise = lfilter([1.0], [1.0, -BASIS_PERSISTENCE], BASIS_NOISE * rng.standard_normal(len(trend)))
    return premium + noise


def futures_candles(
    spot: dict[str, np.ndarray], basis: np.ndarray, price_decimals: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """5m futures candles: spot prices times the candle's basis, busier than spot."""
    factor = np.exp(basis)
    candles = {
        name: np.round(spot[name] * factor, price_decimals)
        for name in ("open", "high", "low", "close")
    }
    noise = rng.lognormal(0.0, 0.2, len(basis))
    volume = np.round(spot["volume"] * FUTURES_VOLUME_MULTIPLIER * noise, 3)
    candles["volume"] = np.maximum(volume, 0.001)
    return candles


def funding_rates(basis: np.ndarray, candles_per_period: int) -> np.ndarray:
    """Rate settled at the start of every complete 8h period, from the previous period's basis.

    The first period has no history and gets the exchange's base rate.
    """
    periods = len(basis) // candles_per_period
    mean_basis = basis[: periods * candles_per_period].reshape(periods, -1).mean(axis=1)
    previous = np.concatenate(([0.0], mean_basis[:-1]))
    rates = BASE_FUNDING_RATE + FUNDING_FROM_BASIS * previous
    return np.round(np.clip(rates, -FUNDING_CAP, FUNDING_CAP), 8)
