"""How well the regime detector recovers the generator's true regimes.

Agreement per true label, counted only where the detector has left its warm-up: a
detector tuned on synthetic data should at least find the regimes it was built for.
"""

from __future__ import annotations

import pandas as pd

from freqtrade_quant_plugin.core.regime import UNKNOWN, RegimeDetector, RegimeDetectorConfig

COMPARED = {"volatility": "volatility_regime", "trend": "trend_regime", "regime": "regime"}


def score_detector(
    ohlcv: pd.DataFrame, regimes: pd.DataFrame, config: RegimeDetectorConfig | None = None
) -> pd.DataFrame:
    """Rows (part, true label): candles, share the detector labels the same, its usual label."""
    if not ohlcv["date"].reset_index(drop=True).equals(regimes["date"].reset_index(drop=True)):
        raise ValueError("candles and regimes must cover the same dates")
    detected = RegimeDetector(config).detect(ohlcv.reset_index(drop=True).copy())
    known = (detected["regime"] != UNKNOWN).to_numpy()
    rows = []
    for part, column in COMPARED.items():
        truth = regimes[part].to_numpy()[known]
        found = detected[column].to_numpy()[known]
        for label in sorted(set(truth)):
            mask = truth == label
            guesses = pd.Series(found[mask]).value_counts()
            rows.append(
                {
                    "part": part,
                    "true": label,
                    "candles": int(mask.sum()),
                    "agreement": float((found[mask] == label).mean()),
                    "detected_most": guesses.index[0],
                }
            )
    return pd.DataFrame(rows).set_index(["part", "true"])
