"""The scale-free trend measures and the `scaled_move` trend method."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqtrade_quant_plugin.cli import main
from freqtrade_quant_plugin.core import trend
from freqtrade_quant_plugin.core.regime import (
    RANGING,
    TRENDING,
    UNKNOWN,
    RegimeDetector,
    RegimeDetectorConfig,
    detect_regime,
)
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.validation import QuantConfigError

SCALED = RegimeDetectorConfig(trend_method="scaled_move", trend_window=48)


def candles(n: int = 1500, seed: int = 3, scale: float = 1.0, level: float = 100.0):
    """Trending and flat spells; `scale` multiplies every log return, `level` the price."""
    rng = np.random.default_rng(seed)
    drift = np.repeat(rng.choice([-0.003, 0.0, 0.0, 0.003], size=n // 200 + 1), 200)[:n]
    log_close = np.cumsum(rng.normal(drift, 0.01)) * scale
    close = level * np.exp(log_close)
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close * np.exp(0.004 * scale),
            "low": close * np.exp(-0.004 * scale),
            "close": close,
            "volume": 1.0,
        }
    )


# --- the measures against plain loops -----------------------------------------------------


@pytest.fixture(scope="module")
def path() -> np.ndarray:
    return np.log(candles(300)["close"].to_numpy())


def test_scaled_move_is_the_move_over_its_random_walk_size(path):
    z = trend.scaled_move(path, 20, 50)
    t = 120
    returns = np.diff(path)[t - 50 : t]
    expected = (path[t] - path[t - 20]) / (np.sqrt(np.mean(returns**2)) * np.sqrt(20))
    assert z[t] == pytest.approx(expected, rel=1e-12)
    assert np.isnan(z[:50]).all() and np.isfinite(z[50:]).all()


def test_efficiency_ratio_is_net_move_over_path_length(path):
    er = trend.efficiency_ratio(path, 10)
    t = 77
    expected = abs(path[t] - path[t - 10]) / np.abs(np.diff(path[t - 10 : t + 1])).sum()
    assert er[t] == pytest.approx(expected, rel=1e-12)
    assert ((er[10:] >= 0) & (er[10:] <= 1 + 1e-12)).all()


def test_regression_tstat_matches_a_least_squares_fit(path):
    tstat = trend.regression_tstat(path, 30)
    t = 200
    y = path[t - 29 : t + 1]
    x = np.arange(30.0)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    stderr = np.sqrt(residual @ residual / 28 / ((x - x.mean()) ** 2).sum())
    assert tstat[t] == pytest.approx(slope / stderr, rel=1e-8)
    assert np.isnan(tstat[:29]).all()


def test_variance_ratio_is_near_one_on_a_random_walk():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(0, 0.01, 200_000))
    ratio = trend.variance_ratio(walk, 10, 100_000)
    assert ratio[-1] == pytest.approx(1.0, abs=0.05)


# --- the trend method ----------------------------------------------------------------------


def test_trend_z_is_scale_free():
    """The same path at another price level or with 3x the volatility: the same trend_z."""
    base = RegimeDetector(SCALED).detect(candles())
    for other in (candles(level=0.00002), candles(scale=3.0)):
        frame = RegimeDetector(SCALED).detect(other)
        np.testing.assert_allclose(frame["trend_z"], base["trend_z"], rtol=1e-9)
        assert (frame["trend_regime"] == base["trend_regime"]).all()


def test_scaled_move_labels_follow_trend_z():
    frame = RegimeDetector(SCALED).detect(candles())
    z = frame["trend_z"].to_numpy()
    label = frame["trend_regime"].to_numpy()
    assert (label[np.isnan(z)] == UNKNOWN).all()
    assert (label[np.abs(z) >= 1.5] == TRENDING).all()
    assert (label[np.abs(z) < 1.5] == RANGING).all()
    assert {TRENDING, RANGING} <= set(label)
    assert np.isnan(z[:100]).all() and np.isfinite(z[100:]).all()  # max(48, atr_long_period)


def test_adx_roc_stays_the_default_and_ignores_trend_z():
    default = RegimeDetector().detect(candles())
    explicit = RegimeDetector(RegimeDetectorConfig(trend_method="adx_roc")).detect(candles())
    assert RegimeDetectorConfig().trend_method == "adx_roc"
    pd.testing.assert_frame_equal(default, explicit)
    trending = (default["adx"] > 25) & (default["roc"].abs() >= 0.015)
    defined = default["trend_regime"] != UNKNOWN
    assert ((default["trend_regime"] == TRENDING) == trending)[defined].all()


def test_startup_candles_covers_the_trend_window():
    config = RegimeDetectorConfig(trend_method="scaled_move", trend_window=700)
    assert config.startup_candles == 700
    frame = RegimeDetector(config).detect(candles(900))
    assert (frame["trend_regime"].iloc[:700] == UNKNOWN).all()
    assert (frame["trend_regime"].iloc[700:] != UNKNOWN).all()


def test_scalar_api_reads_trend_z():
    base = {"atr": 1.0, "atr_100": 1.0, "adx": 10.0, "roc": 0.0, "vol_percentile": 50.0}
    assert detect_regime({**base, "trend_z": -1.6}, SCALED).trend_regime == TRENDING
    assert detect_regime({**base, "trend_z": 1.4}, SCALED).trend_regime == RANGING
    assert detect_regime(base, SCALED).trend_regime == UNKNOWN  # no trend_z given
    assert detect_regime({**base, "trend_z": "x"}, SCALED).regime == UNKNOWN


def test_scalar_api_agrees_with_the_vectorised_rows():
    frame = RegimeDetector(SCALED).detect(candles())
    for t in (0, 99, 100, 500, 1499):
        row = frame.iloc[t]
        result = detect_regime(row, SCALED)
        assert (result.regime, result.trend_regime) == (row["regime"], row["trend_regime"])


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"trend_method": "ema"}, "trend_method"),
        ({"trend_method": 3}, "trend_method"),
        ({"trend_window": 1}, "trend_window"),
        ({"trend_window": 2.5}, "trend_window"),
        ({"trend_z_threshold": -1}, "trend_z_threshold"),
    ],
)
def test_bad_trend_settings_name_the_key(values, key):
    with pytest.raises(QuantConfigError) as error:
        QuantSettings.load({"regime": values}, environ={})
    assert error.value.key == f"quant.regime.{key}"


def test_trend_settings_from_the_environment():
    env = {"REGIME_TREND_METHOD": "scaled_move", "REGIME_TREND_WINDOW": "96"}
    settings = QuantSettings.load({}, environ=env)
    assert settings.regime.trend_method == "scaled_move"
    assert settings.regime.trend_window == 96
    assert settings.regime.trend_lookback == 96
    with pytest.raises(QuantConfigError) as error:
        QuantSettings.load({}, environ={"REGIME_TREND_METHOD": ""})
    assert error.value.key == "REGIME_TREND_METHOD"


def test_evaluate_signs_continuation_by_the_methods_window(tmp_path: Path, capsys):
    candles(2000).to_feather(tmp_path / "T_USDT-1h.feather")
    args = ["regimes", "--evaluate", "--datadir", str(tmp_path), "--json", "--resamples", "50"]
    assert main([*args, "--trend-method", "scaled_move"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["trend_method"] == "scaled_move"
    assert result["timeframes"]["1h"]["lookback_candles"] == 336
    assert main([*args, "--trend-method", "nope"]) == 2
    assert "trend_method" in capsys.readouterr().out
