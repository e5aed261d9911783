"""No look-ahead on real candles: row t computed from the first t+1 rows equals the full run.

A label that changes once later candles arrive would make backtests lie about live
trading, so every regime column is checked on every deep-set pair, 1h and 5m.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade_support import NO_SHARED_ENV, SHARED_DATA, shared_data_present

from freqtrade_quant_plugin.core.regime import TREND_METHODS as ALL_TREND_METHODS
from freqtrade_quant_plugin.core.regime import RegimeDetector, RegimeDetectorConfig

DATA_DIR = SHARED_DATA / "binance"
DEEP_SET = [
    "BTC",
    "ETH",
    "SOL",
    "XRP",
    "DOGE",
    "LINK",
    "AVAX",
    "LTC",
    "BCH",
    "ATOM",
    "UNI",
    "NEAR",
    "FET",
    "INJ",
    "PEPE",
    "SHIB",
    "TRX",
    "TON",
    "SUI",
    "WIF",
]
FIVE_MINUTE_TAIL = 20_000
PRICE_COLUMNS = ("atr_14", "atr", "atr_100", "adx", "roc", "natr", "atr_ratio")
FLOAT_COLUMNS = (*PRICE_COLUMNS, "vol_percentile", "trend_z")
TREND_METHODS = ("adx_roc", "scaled_move")
LABEL_COLUMNS = ("volatility_regime", "trend_regime", "regime")

# The point is real candles: their gaps, spikes and listings are what could expose it.
pytestmark = pytest.mark.skipif(
    not shared_data_present(),
    reason=f"needs real candles (look-ahead on real data): {DATA_DIR} absent or "
    f"{NO_SHARED_ENV} set",
)


def deep_set_files() -> list[Path]:
    """The 1h and 5m files of the deep set; the pairs are those with a 5m file."""
    if not shared_data_present():
        return []
    pairs = sorted(
        p.name.removesuffix("_USDT-5m.feather") for p in DATA_DIR.glob("*_USDT-5m.feather")
    )
    return [DATA_DIR / f"{pair}_USDT-{tf}.feather" for pair in pairs for tf in ("1h", "5m")]


def sample_rows(length: int, seed: int, config: RegimeDetectorConfig) -> list[int]:
    """Warm-up edges (of the whole regime and of trend_z), a few random rows, the last row."""
    startup = config.startup_candles
    window = config.trend_window
    fixed = [0, 30, window - 1, window, startup - 1, startup, startup + 1, length - 1]
    rng = np.random.default_rng(seed)
    rows = {*fixed, *rng.integers(0, length, size=8).tolist()}
    return sorted(r for r in rows if 0 <= r < length)


def test_deep_set_is_present():
    pairs = {p.name.split("_USDT")[0] for p in deep_set_files()}
    assert pairs == set(DEEP_SET)


def test_every_trend_method_is_covered():
    assert set(TREND_METHODS) == set(ALL_TREND_METHODS)


@pytest.mark.parametrize("method", TREND_METHODS)
@pytest.mark.parametrize("path", deep_set_files(), ids=lambda p: p.stem)
def test_prefix_gives_the_same_row(path: Path, method: str):
    frame = pd.read_feather(path)
    if path.stem.endswith("-5m"):
        frame = frame.iloc[-FIVE_MINUTE_TAIL:].reset_index(drop=True)
    config = RegimeDetectorConfig(trend_method=method)
    detector = RegimeDetector(config)
    full = detector.detect(frame.copy())
    assert (full["regime"] != "UNKNOWN").any(), "sample too short to test anything"
    assert full["trend_z"].notna().any()

    for t in sample_rows(len(frame), seed=len(frame), config=config):
        prefix = detector.detect(frame.iloc[: t + 1].copy())
        for column in LABEL_COLUMNS:
            assert prefix[column].iloc[t] == full[column].iloc[t], (path.name, t, column)
        for column in FLOAT_COLUMNS:
            got, want = prefix[column].iloc[t], full[column].iloc[t]
            same = (np.isnan(got) and np.isnan(want)) or got == pytest.approx(want, rel=1e-12)
            assert same, (path.name, t, column, got, want)
