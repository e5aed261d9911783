"""The true regime of every candle, in the regime detector's vocabulary.

The combined label follows the detector's precedence: EXTREME_VOL and HIGH_VOL first,
then TRENDING, then RANGING. The generator always knows the trend, so the detector's last
fallback (the volatility label when the trend is undecided) never applies to the truth.
An aggregated candle carries the regime in force at its close (its last 5m candle): the
regime a detector could know when that candle closed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.core.regime_config import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    TRENDING,
)
from freqtrade_quant_plugin.synth import regime_path

# Indexed like regime_path.VOLATILITY_STATES (CALM, NORMAL, VOLATILE, EXTREME).
VOLATILITY_LABELS = np.array([LOW_VOL, NORMAL_VOL, HIGH_VOL, EXTREME_VOL], dtype=object)
HIGH_VOLATILITY_STATES = (2, 3)


def regime_frame(
    dates: pd.DatetimeIndex, volatility: np.ndarray, trend: np.ndarray
) -> pd.DataFrame:
    """Columns date, volatility, trend, regime for per-candle state indices."""
    volatility_label = VOLATILITY_LABELS[volatility]
    trend_label = np.where(trend == regime_path.RANGING, RANGING, TRENDING).astype(object)
    regime = np.where(np.isin(volatility, HIGH_VOLATILITY_STATES), volatility_label, trend_label)
    return pd.DataFrame(
        {
            "date": dates,
            "volatility": pd.array(volatility_label, dtype="str"),
            "trend": pd.array(trend_label, dtype="str"),
            "regime": pd.array(regime, dtype="str"),
        }
    )


def states_at_close(states: np.ndarray, factor: int) -> np.ndarray:
    """State of the last 5m candle of every complete group of `factor` candles."""
    n = len(states) // factor * factor
    return states[factor - 1 : n : factor]
