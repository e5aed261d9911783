"""Regime evaluation: outcomes, the day bootstrap, and verdicts on markets with known answers.

A market with persistent trends must show continuation, a random walk must not; a market
with volatility clustering must show a forward-volatility spread between its labels.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqtrade_quant_plugin.cli import main
from freqtrade_quant_plugin.core.regime_evaluation import (
    EvaluationConfig,
    RegimeEvaluator,
    block_weights,
    daily_sums,
    outcomes,
)

HOURS = 24 * 240


def _frame(log_close: np.ndarray, sigma: np.ndarray, start: str = "2024-01-01") -> pd.DataFrame:
    """Candles around a log-close path; the wick spread follows the candle's volatility."""
    close = np.exp(log_close)
    open_ = np.concatenate(([close[0]], close[:-1]))
    wick = np.exp(sigma * 0.5)
    return pd.DataFrame(
        {
            "date": pd.date_range(start, periods=close.size, freq="1h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) * wick,
            "low": np.minimum(open_, close) / wick,
            "close": close,
            "volume": np.full(close.size, 1000.0),
        }
    )


def random_walk(seed: int, n: int = HOURS) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sigma = np.full(n, 0.01)
    return _frame(4.0 + np.cumsum(rng.normal(0.0, sigma)), sigma)


def trending_market(seed: int, n: int = HOURS) -> pd.DataFrame:
    """Alternating flat and trending spells of 2-6 days; trends drift 0.25 sigma a candle."""
    rng = np.random.default_rng(seed)
    drift = np.zeros(n)
    at = 0
    while at < n:
        length = int(rng.integers(48, 144))
        if rng.random() < 0.5:
            drift[at : at + length] = rng.choice([-1.0, 1.0]) * 0.0025
        at += length
    sigma = np.full(n, 0.01)
    return _frame(4.0 + np.cumsum(drift + rng.normal(0.0, sigma)), sigma)


def clustered_volatility(seed: int, n: int = HOURS) -> pd.DataFrame:
    """Volatility as a persistent log-AR(1) (half-life about 3 days), no drift."""
    rng = np.random.default_rng(seed)
    log_vol = np.zeros(n)
    shocks = rng.normal(0.0, 0.08, n)
    for t in range(1, n):
        log_vol[t] = 0.99 * log_vol[t - 1] + shocks[t]
    sigma = 0.01 * np.exp(log_vol)
    return _frame(4.0 + np.cumsum(rng.normal(0.0, sigma)), sigma)


def _write(datadir: Path, frames: dict[str, pd.DataFrame]) -> None:
    datadir.mkdir(parents=True, exist_ok=True)
    for pair, frame in frames.items():
        frame.to_feather(datadir / f"{pair.replace('/', '_')}-1h.feather")


def _evaluate(datadir: Path, *extra: str, capsys) -> dict:
    code = main(["regimes", "--evaluate", "--datadir", str(datadir), "--json", *extra])
    assert code == 0
    return json.loads(capsys.readouterr().out)["timeframes"]["1h"]


# --- outcomes ---------------------------------------------------------------------------


def test_forward_values_are_the_outcome_of_the_next_candles_only():
    """Changing candles after t+H leaves row t alone; changing candle t+H moves it."""
    config = EvaluationConfig(horizon=5, lookback=3, typical_window=20)
    close = np.exp(np.cumsum(np.random.default_rng(1).normal(0, 0.01, 200)))
    vol, cont = outcomes(close, config)
    later = close.copy()
    later[106:] *= 1.5
    vol2, cont2 = outcomes(later, config)
    assert np.array_equal(vol[:101], vol2[:101], equal_nan=True)  # 100 + H = 105 < 106
    assert np.array_equal(cont[:101], cont2[:101], equal_nan=True)
    assert cont[101] != cont2[101] and vol[101] != vol2[101]
    assert np.isnan(vol[-5:]).all() and np.isnan(cont[-5:]).all()  # no future to measure


def test_continuation_is_signed_by_the_past_move_in_volatility_units():
    config = EvaluationConfig(horizon=2, lookback=2, typical_window=4)
    returns = np.array([0.0, 0.01, -0.01, 0.01, -0.01, 0.02, 0.02, 0.03, 0.03])
    close = 100 * np.exp(np.cumsum(returns))
    _, cont = outcomes(close, config)
    # t=6: past move r5+r6 = +0.04, forward r7+r8 = +0.06, recent vol sqrt((.02²+.02²)/2)=.02
    assert cont[6] == pytest.approx(0.06 / (0.02 * np.sqrt(2)))
    # t=4: past move r3+r4 = 0: no direction, no continuation either way
    assert cont[4] == 0.0


def test_nan_prices_only_blank_the_windows_that_hold_them():
    config = EvaluationConfig(horizon=3, lookback=2, typical_window=6)
    close = np.exp(np.cumsum(np.random.default_rng(2).normal(0, 0.01, 60)))
    close[30] = np.nan
    vol, cont = outcomes(close, config)
    assert np.isfinite(vol[45:55]).all() and np.isfinite(cont[45:55]).all()


# --- the day bootstrap ------------------------------------------------------------------


def test_block_weights_draw_whole_runs_of_days_and_are_seeded():
    config = EvaluationConfig(horizon=1, block_days=5, resamples=50, seed=3)
    weights = block_weights(23, config)
    assert weights.shape == (50, 23)
    assert (weights.sum(axis=1) == 25).all()  # 5 blocks of 5 days
    assert np.array_equal(weights, block_weights(23, config))
    assert not np.array_equal(weights, block_weights(23, EvaluationConfig(1, seed=4, resamples=50)))


def test_daily_sums_group_by_day_and_label():
    day = np.array([0, 0, 0, 1, 1])
    label = np.array(["A", "B", "A", "A", "C"], dtype=object)
    value = np.array([1.0, 2.0, 3.0, np.nan, 5.0])
    sums = daily_sums(day, label, value, ("A", "B"))
    assert sums.days.tolist() == [0]
    assert sums.sums.tolist() == [[4.0, 2.0]]
    assert sums.counts.tolist() == [[2.0, 1.0]]


def test_known_difference_is_found_and_its_absence_is_not():
    """Labels given by hand: a real gap in outcomes is informative, none is not."""
    rng = np.random.default_rng(5)
    n = 24 * 200
    dates = pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC")
    close = np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame({"date": dates, "close": close})
    frame["volatility_regime"] = rng.choice(["LOW_VOL", "EXTREME_VOL"], n)
    frame["trend_regime"] = rng.choice(["TRENDING", "RANGING"], n)
    evaluator = RegimeEvaluator(EvaluationConfig(horizon=24, typical_window=240))
    evaluator.add_pair(frame)
    result = evaluator.evaluate()
    assert result.volatility.verdict == "not informative"  # random labels
    assert result.trend.verdict == "not informative"
    assert result.days == 198  # day 0: no 24-candle past yet; the last day: no future

    # Labels that peek at the answer (for this test only): the machinery must see it.
    _, continuation = outcomes(close, EvaluationConfig(horizon=24, typical_window=240))
    frame["trend_regime"] = np.where(continuation > 0, "TRENDING", "RANGING")
    evaluator = RegimeEvaluator(EvaluationConfig(horizon=24, typical_window=240))
    evaluator.add_pair(frame)
    result = evaluator.evaluate()
    assert result.trend.verdict == "informative"
    assert result.trend.low > 0.5


# --- markets with known answers, through the command -------------------------------------


def test_persistent_trends_show_continuation(tmp_path: Path, capsys):
    _write(tmp_path, {f"T{i}/USDT": trending_market(seed=i) for i in range(3)})
    result = _evaluate(tmp_path, capsys=capsys)
    trend = result["trend"]
    assert trend["verdict"] == "informative", trend
    assert trend["interval"][0] > 0
    assert trend["means"]["TRENDING"] > 0.2


def test_random_walk_shows_no_continuation_and_no_volatility_spread(tmp_path: Path, capsys):
    _write(tmp_path, {f"R{i}/USDT": random_walk(seed=10 + i) for i in range(3)})
    result = _evaluate(tmp_path, capsys=capsys)
    assert result["trend"]["verdict"] == "not informative", result["trend"]
    assert result["volatility"]["verdict"] == "not informative", result["volatility"]


def test_volatility_clustering_shows_a_forward_volatility_spread(tmp_path: Path, capsys):
    _write(tmp_path, {f"V{i}/USDT": clustered_volatility(seed=20 + i) for i in range(3)})
    result = _evaluate(tmp_path, capsys=capsys)
    vol = result["volatility"]
    assert vol["verdict"] == "informative", vol
    means = [vol["means"][k] for k in ("LOW_VOL", "NORMAL_VOL", "HIGH_VOL", "EXTREME_VOL")]
    assert means == sorted(means)
    assert vol["value"] > 1.5


def test_timerange_evaluates_only_its_candles(tmp_path: Path, capsys):
    _write(tmp_path, {"V0/USDT": clustered_volatility(seed=20)})
    whole = _evaluate(tmp_path, capsys=capsys)
    later = _evaluate(tmp_path, "--timerange", "20240601-", capsys=capsys)
    assert 0 < later["days"] < whole["days"]
    # 240 days from 2024-01-01 end on 2024-08-27, a day without a 24 h future to measure
    assert later["days"] == (pd.Timestamp("2024-08-27") - pd.Timestamp("2024-06-01")).days


def test_table_output_names_the_verdicts_and_the_test(tmp_path: Path, capsys):
    _write(tmp_path, {"V0/USDT": clustered_volatility(seed=20)})
    assert main(["regimes", "--evaluate", "--datadir", str(tmp_path), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    assert "1h: 1 pairs" in out
    assert "Volatility: EXTREME_VOL / LOW_VOL" in out
    assert "Trend: TRENDING - RANGING" in out
    assert "block bootstrap over whole days" in out


def test_unknown_timeframe_or_empty_dir_is_explained(tmp_path: Path, capsys):
    assert main(["regimes", "--evaluate", "--datadir", str(tmp_path)]) == 2
    assert "No candles" in capsys.readouterr().out
