"""Regime detection: the documented rules, bad input, settings and the fast percentile."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from freqtrade_quant_plugin.core import regime_series
from freqtrade_quant_plugin.core.regime import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    TRENDING,
    UNKNOWN,
    VOLATILITY_REGIMES,
    RegimeDetector,
    RegimeDetectorConfig,
    RegimeResult,
    detect_regime,
)
from freqtrade_quant_plugin.core.regime_series import rolling_percentile_rank
from freqtrade_quant_plugin.core.validation import QuantConfigError

LABEL_COLUMNS = ("volatility_regime", "trend_regime", "regime")
ALLOWED = {*REGIMES, UNKNOWN}


def ohlcv(close: np.ndarray, spread: np.ndarray | float = 0.004) -> pd.DataFrame:
    """A Freqtrade-shaped frame around a close series."""
    close = np.asarray(close, dtype=float)
    half = np.asarray(spread) * close
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=len(close), freq="5min", tz="UTC"),
            "open": close,
            "high": close + half,
            "low": close - half,
            "close": close,
            "volume": 1.0,
        }
    )


def random_walk(n: int, seed: int = 7) -> pd.DataFrame:
    """Calm, wild, trending and flat stretches so every label occurs."""
    rng = np.random.default_rng(seed)
    vol = np.repeat(rng.choice([0.002, 0.006, 0.02], size=n // 250 + 1), 250)[:n]
    drift = np.repeat(rng.choice([-0.002, 0.0, 0.0, 0.002], size=n // 400 + 1), 400)[:n]
    close = 100 * np.exp(np.cumsum(rng.normal(drift, vol)))
    spread = np.abs(rng.normal(0, vol))
    return ohlcv(close, spread)


def indicators(**values: float) -> dict[str, float]:
    base = {"atr": 1.0, "atr_14": 1.0, "atr_100": 1.0, "adx": 22.0, "roc": 0.0, "close": 100.0}
    base.update(values)
    return base


def reference_labels(row: pd.Series, config: RegimeDetectorConfig) -> tuple[str, str, str]:
    """The module docstring's rules, written out plainly as an independent check."""

    def defined(x: float) -> bool:
        return not math.isnan(x)

    pct, ratio = row["vol_percentile"], row["atr_ratio"]
    if (
        not (defined(pct) and defined(ratio))
        or not row["atr_14"] > 0
        or not row["atr_100"] > 0
        or not row["close"] > 0
    ):
        vol = UNKNOWN
    else:
        if pct >= config.volatility_percentile_extreme:
            vol = EXTREME_VOL
        elif pct >= config.volatility_percentile_high:
            vol = HIGH_VOL
        elif pct <= config.volatility_percentile_low:
            vol = LOW_VOL
        else:
            vol = NORMAL_VOL
        if ratio >= config.vol_atr_multiplier and vol in (LOW_VOL, NORMAL_VOL):
            vol = HIGH_VOL
    adx, roc = row["adx"], row["roc"]
    if not (defined(adx) and defined(roc)):
        trend = UNKNOWN
    elif adx > config.adx_trend_threshold and abs(roc) >= config.trend_threshold:
        trend = TRENDING
    else:
        trend = RANGING
    if UNKNOWN in (vol, trend):
        combined = UNKNOWN
    elif vol in (EXTREME_VOL, HIGH_VOL):
        combined = vol
    elif trend == TRENDING:
        combined = TRENDING
    elif adx < config.adx_range_threshold:
        combined = RANGING
    else:
        combined = vol
    return vol, trend, combined


# --- labels and constants ---------------------------------------------------------------


def test_label_sets():
    assert VOLATILITY_REGIMES == (LOW_VOL, NORMAL_VOL, HIGH_VOL, EXTREME_VOL)
    assert set(REGIMES) == {*VOLATILITY_REGIMES, TRENDING, RANGING}
    assert UNKNOWN not in REGIMES
    assert all(isinstance(label, str) for label in (*REGIMES, UNKNOWN))


def test_guide_smoke_case():
    result = RegimeDetector().detect_regime(
        {"atr": 1000.0, "atr_14": 1000.0, "atr_100": 800.0, "adx": 25.0, "roc": 0.02}
    )
    assert isinstance(result, RegimeResult)
    assert result.regime in [LOW_VOL, NORMAL_VOL, HIGH_VOL]
    assert result.regime == NORMAL_VOL
    assert result.trend_regime == RANGING  # adx 25 is not above the threshold 25
    assert result.atr_current == 1000.0
    assert result.adx == 25.0
    assert result.atr_ratio == pytest.approx(1.25)
    assert result.vol_percentile is None


# --- volatility rules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pct", "ratio", "expected"),
    [
        (95.0, 1.0, EXTREME_VOL),
        (90.0, 1.0, EXTREME_VOL),
        (89.9, 1.0, HIGH_VOL),
        (75.0, 1.0, HIGH_VOL),
        (74.9, 1.0, NORMAL_VOL),
        (50.0, 1.0, NORMAL_VOL),
        (25.1, 1.0, NORMAL_VOL),
        (25.0, 1.0, LOW_VOL),
        (0.0, 1.0, LOW_VOL),
        (20.0, 1.5, HIGH_VOL),  # burst lifts LOW_VOL
        (50.0, 1.6, HIGH_VOL),  # burst lifts NORMAL_VOL
        (50.0, 1.49, NORMAL_VOL),
        (95.0, 3.0, EXTREME_VOL),  # never lowered
        (80.0, 0.5, HIGH_VOL),
    ],
)
def test_volatility_by_percentile(pct, ratio, expected):
    result = detect_regime(indicators(vol_percentile=pct, atr_14=ratio, atr=ratio, atr_100=1.0))
    assert result.volatility_regime == expected
    assert result.vol_percentile == pct


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (1.5**2, EXTREME_VOL),
        (3.0, EXTREME_VOL),
        (2.2, HIGH_VOL),
        (1.5, HIGH_VOL),
        (1.49, NORMAL_VOL),
        (1.0, NORMAL_VOL),
        (0.67, NORMAL_VOL),
        (0.66, LOW_VOL),
        (0.2, LOW_VOL),
    ],
)
def test_volatility_by_atr_ratio_without_percentile(ratio, expected):
    result = detect_regime(indicators(atr_14=ratio, atr=ratio, atr_100=1.0))
    assert result.volatility_regime == expected


@pytest.mark.parametrize(
    "bad",
    [
        {"atr_14": 0.0},
        {"atr_14": -1.0},
        {"atr_14": math.nan},
        {"atr_100": 0.0},
        {"atr_100": -2.0},
        {"atr_100": math.nan},
        {"vol_percentile": math.nan},
        {"vol_percentile": 101.0},
        {"close": 0.0},
        {"close": -5.0},
        {"close": math.nan},
    ],
)
def test_volatility_unknown_where_undefined(bad):
    values = indicators(vol_percentile=50.0, adx=30.0, roc=0.05)
    values.update(bad)
    result = detect_regime(values)
    assert result.volatility_regime == UNKNOWN
    assert result.trend_regime == TRENDING
    assert result.regime == UNKNOWN


def test_ratio_only_unknown_for_non_positive_atr():
    assert detect_regime(indicators(atr_14=0.0)).volatility_regime == UNKNOWN
    assert detect_regime(indicators(atr_100=-1.0)).volatility_regime == UNKNOWN


# --- trend rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("adx", "roc", "expected"),
    [
        (30.0, 0.02, TRENDING),
        (30.0, -0.02, TRENDING),
        (30.0, 0.015, TRENDING),
        (30.0, 0.0149, RANGING),
        (25.0, 0.05, RANGING),  # adx must be strictly above the threshold
        (25.01, 0.05, TRENDING),
        (10.0, 0.5, RANGING),
        (0.0, 0.0, RANGING),
        (math.nan, 0.02, UNKNOWN),
        (30.0, math.nan, UNKNOWN),
        (-1.0, 0.02, UNKNOWN),
        (100.5, 0.02, UNKNOWN),
        (30.0, math.inf, UNKNOWN),
    ],
)
def test_trend_rules(adx, roc, expected):
    assert detect_regime(indicators(adx=adx, roc=roc)).trend_regime == expected


# --- how the parts combine -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("pct", "adx", "roc", "expected"),
    [
        (95.0, 40.0, 0.05, EXTREME_VOL),  # risk before trend
        (80.0, 40.0, 0.05, HIGH_VOL),
        (50.0, 40.0, 0.05, TRENDING),
        (10.0, 40.0, -0.05, TRENDING),
        (50.0, 15.0, 0.0, RANGING),  # clear absence of trend
        (10.0, 19.9, 0.0, RANGING),
        (50.0, 20.0, 0.0, NORMAL_VOL),  # between the ADX thresholds
        (10.0, 22.0, 0.0, LOW_VOL),
        (10.0, 30.0, 0.001, LOW_VOL),  # strong ADX but no move
        (math.nan, 40.0, 0.05, UNKNOWN),
        (50.0, math.nan, 0.05, UNKNOWN),
    ],
)
def test_regime_combination(pct, adx, roc, expected):
    assert detect_regime(indicators(vol_percentile=pct, adx=adx, roc=roc)).regime == expected


def test_custom_thresholds_are_used():
    config = RegimeDetectorConfig(
        volatility_percentile_high=60.0, adx_trend_threshold=40.0, trend_threshold=0.1
    )
    result = detect_regime(indicators(vol_percentile=65.0, adx=35.0, roc=0.05), config)
    assert result.volatility_regime == HIGH_VOL
    assert result.trend_regime == RANGING


# --- the scalar API never raises for bad numbers ------------------------------------------


def test_scalar_api_tolerates_missing_and_garbage_values():
    assert detect_regime({}).regime == UNKNOWN
    result = detect_regime({"atr": "n/a", "atr_100": None, "adx": "30", "roc": 0.05})
    assert result.volatility_regime == UNKNOWN
    assert result.trend_regime == TRENDING  # "30" reads as a number
    assert math.isnan(result.atr_current)
    assert result.atr_ratio is None


def test_scalar_api_falls_back_to_atr_when_atr_14_missing():
    result = detect_regime({"atr": 2.0, "atr_100": 1.0, "adx": 22.0, "roc": 0.0})
    assert result.atr_current == 2.0
    assert result.volatility_regime == HIGH_VOL


def test_scalar_api_rejects_non_mappings():
    with pytest.raises(TypeError, match="mapping"):
        detect_regime([("atr", 1.0)])  # type: ignore[arg-type]


# --- vectorised detect --------------------------------------------------------------------


@pytest.fixture(scope="module")
def detected() -> pd.DataFrame:
    return RegimeDetector().detect(random_walk(6_000))


def test_detect_adds_columns_in_place(detected):
    frame = random_walk(800)
    returned = RegimeDetector().detect(frame)
    assert returned is frame
    for column in (
        "atr_14",
        "atr",
        "atr_100",
        "adx",
        "roc",
        "natr",
        "atr_ratio",
        "vol_percentile",
        "trend_z",
        *LABEL_COLUMNS,
    ):
        assert column in frame.columns


def test_detect_indicator_columns_match_talib_and_pandas(detected):
    config = RegimeDetectorConfig()
    high, low, close = (detected[c].to_numpy() for c in ("high", "low", "close"))
    atr = talib.ATR(high, low, close, timeperiod=config.atr_period)
    np.testing.assert_array_equal(detected["atr_14"], atr)
    np.testing.assert_array_equal(detected["atr"], atr)
    np.testing.assert_array_equal(detected["atr_100"], talib.ATR(high, low, close, 100))
    np.testing.assert_array_equal(detected["adx"], talib.ADX(high, low, close, 14))
    np.testing.assert_allclose(detected["roc"], talib.ROCP(close, 20), rtol=1e-12)
    np.testing.assert_array_equal(detected["natr"], atr / close)
    np.testing.assert_array_equal(detected["atr_ratio"], atr / detected["atr_100"])
    ranks = pd.Series(atr / close).rolling(500).rank(method="max").to_numpy()
    np.testing.assert_array_equal(detected["vol_percentile"], ranks * 100.0 / 500)


def test_detect_labels_follow_the_written_rules(detected):
    config = RegimeDetectorConfig()
    for _, row in detected.iterrows():
        assert tuple(row[c] for c in LABEL_COLUMNS) == reference_labels(row, config)
    # the sample must exercise every label, else this test proves little
    assert set(detected["regime"]) == ALLOWED


def test_scalar_api_agrees_with_vectorised_rows(detected):
    detector = RegimeDetector()
    for index in range(0, len(detected), 97):
        row = detected.iloc[index]
        from_dict = detector.detect_regime(row.to_dict())
        from_row = detector.detect_regime(row)
        assert repr(from_dict) == repr(from_row)  # NaN fields compare unequal
        assert (from_dict.volatility_regime, from_dict.trend_regime, from_dict.regime) == tuple(
            row[c] for c in LABEL_COLUMNS
        )


def test_label_columns_are_strings(detected):
    for column in LABEL_COLUMNS:
        assert pd.api.types.is_string_dtype(detected[column])
        assert isinstance(detected[column].iloc[-1], str)


def test_startup_candles_is_the_first_defined_row(detected):
    startup = RegimeDetectorConfig().startup_candles
    assert startup == 513  # ATR(14) then a full 500-candle window
    assert (detected["regime"].iloc[:startup] == UNKNOWN).all()
    assert (detected["regime"].iloc[startup:] != UNKNOWN).all()


def test_startup_candles_follows_the_longest_chain():
    config = RegimeDetectorConfig(percentile_window=50, atr_long_period=200, trend_window=100)
    assert config.startup_candles == 200
    frame = RegimeDetector(config).detect(random_walk(600))
    assert (frame["volatility_regime"].iloc[:200] == UNKNOWN).all()
    assert frame["volatility_regime"].iloc[200] != UNKNOWN
    assert RegimeDetectorConfig(adx_period=400, atr_long_period=500).startup_candles == 799
    # trend_z counts whatever the method, so Freqtrade's recursive analysis finds it stable
    assert RegimeDetectorConfig(trend_window=900).startup_candles == 900


# --- bad input --------------------------------------------------------------------------


def detect_quietly(frame: pd.DataFrame) -> pd.DataFrame:
    """detect() with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return RegimeDetector().detect(frame)


def test_empty_frame():
    frame = detect_quietly(random_walk(10).iloc[0:0].copy())
    assert len(frame) == 0
    assert "regime" in frame.columns


def test_ten_candles_are_unknown():
    frame = detect_quietly(random_walk(10))
    assert (frame["regime"] == UNKNOWN).all()
    assert frame["vol_percentile"].isna().all()


def test_constant_prices_are_unknown():
    frame = detect_quietly(ohlcv(np.full(700, 50.0), spread=0.0))
    assert (frame["atr_14"].iloc[14:] == 0).all()
    assert (frame["volatility_regime"] == UNKNOWN).all()
    assert (frame["regime"] == UNKNOWN).all()


def test_nan_prices_give_unknown_not_errors():
    clean = random_walk(1_500)
    dirty = clean.copy()
    dirty.loc[900, ["high", "low", "close"]] = np.nan
    frame = detect_quietly(dirty)
    reference = RegimeDetector().detect(clean)
    # rows before the gap are untouched by it
    pd.testing.assert_frame_equal(frame.iloc[:900], reference.iloc[:900])
    assert frame.loc[900, "regime"] == UNKNOWN
    assert set(frame["regime"]) <= ALLOWED


def test_non_positive_prices_give_unknown_volatility():
    frame = random_walk(1_200)
    frame.loc[1000:1004, ["open", "high", "low", "close"]] = 0.0
    frame.loc[1100, ["open", "high", "low", "close"]] = -3.0
    result = detect_quietly(frame)
    assert (result.loc[1000:1004, "volatility_regime"] == UNKNOWN).all()
    assert result.loc[1100, "volatility_regime"] == UNKNOWN
    assert np.isnan(result.loc[1000:1004, "roc"]).all()
    # a return measured from a zero price is undefined too
    assert np.isnan(result.loc[1020:1024, "roc"]).all()
    assert set(result["regime"]) <= ALLOWED


def test_missing_price_column_is_a_clear_error():
    with pytest.raises(KeyError, match="high"):
        RegimeDetector().detect(random_walk(50).drop(columns=["high"]))


# --- settings ---------------------------------------------------------------------------


def test_default_config_matches_the_guide():
    config = RegimeDetectorConfig()
    assert config.lookback_period == 20
    assert config.volatility_percentile_high == 75.0
    assert config.volatility_percentile_extreme == 90.0
    assert config.trend_threshold == 0.015
    assert config.vol_atr_multiplier == 1.5


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"volatility_percentile_high": 101.0}, "volatility_percentile_high"),
        ({"volatility_percentile_low": -1.0}, "volatility_percentile_low"),
        ({"volatility_percentile_extreme": 100.5}, "volatility_percentile_extreme"),
        ({"volatility_percentile_low": 75.0}, "volatility_percentile_low"),
        ({"volatility_percentile_low": 80.0}, "volatility_percentile_low"),
        ({"volatility_percentile_extreme": 70.0}, "volatility_percentile_extreme"),
        ({"volatility_percentile_high": "high"}, "volatility_percentile_high"),
        ({"lookback_period": 1}, "lookback_period"),
        ({"lookback_period": 2.5}, "lookback_period"),
        ({"percentile_window": 0}, "percentile_window"),
        ({"atr_period": 1}, "atr_period"),
        ({"atr_long_period": 14}, "atr_long_period"),
        ({"adx_period": True}, "adx_period"),
        ({"trend_threshold": -0.01}, "trend_threshold"),
        ({"trend_threshold": math.nan}, "trend_threshold"),
        ({"vol_atr_multiplier": 1.0}, "vol_atr_multiplier"),
        ({"adx_trend_threshold": 120.0}, "adx_trend_threshold"),
        ({"adx_range_threshold": -5.0}, "adx_range_threshold"),
        ({"adx_range_threshold": 30.0}, "adx_range_threshold"),
    ],
)
def test_config_errors_name_the_key(changes, key):
    with pytest.raises(QuantConfigError) as caught:
        RegimeDetectorConfig(**changes)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_config_accepts_equal_high_and_extreme_and_normalises_numbers():
    config = RegimeDetectorConfig(
        volatility_percentile_high=90, volatility_percentile_extreme=90, atr_period="10"
    )
    assert config.atr_period == 10
    assert isinstance(config.volatility_percentile_high, float)
    assert detect_regime(indicators(vol_percentile=90.0), config).volatility_regime == EXTREME_VOL


# --- the fast rolling percentile --------------------------------------------------------


def pandas_percentile(values: np.ndarray, window: int) -> np.ndarray:
    ranks = pd.Series(values).rolling(window).rank(method="max").to_numpy()
    return ranks * 100.0 / window


def test_rolling_percentile_equals_pandas_across_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    values = np.round(rng.random(2_000) * 20) / 4  # plenty of ties
    values[[50, 900]] = np.nan
    # a tiny chunk exercises chunk edges; a window over 255 exercises the byte-counter flush
    monkeypatch.setattr(regime_series, "_PERCENTILE_CHUNK", 37)
    for window in (2, 3, 255, 256, 300, 700):
        np.testing.assert_array_equal(
            rolling_percentile_rank(values, window), pandas_percentile(values, window)
        )


def test_rolling_percentile_short_input():
    assert np.isnan(rolling_percentile_rank(np.arange(4.0), 5)).all()
    assert rolling_percentile_rank(np.array([]), 5).shape == (0,)
    np.testing.assert_array_equal(
        rolling_percentile_rank(np.array([3.0, 1.0, 2.0, 2.0]), 2), [np.nan, 50.0, 100.0, 100.0]
    )


@settings(max_examples=60, deadline=None)
@given(
    values=arrays(
        np.float64,
        st.integers(0, 80),
        elements=st.one_of(
            st.sampled_from([0.0, 1.0, 2.5, np.nan]), st.floats(-1e6, 1e6, allow_nan=False)
        ),
    ),
    window=st.integers(2, 30),
)
def test_rolling_percentile_property(values, window):
    result = rolling_percentile_rank(values, window)
    np.testing.assert_array_equal(result, pandas_percentile(values, window))
    defined = result[~np.isnan(result)]
    assert ((defined > 0) & (defined <= 100)).all()


@settings(max_examples=25, deadline=None)
@given(
    steps=arrays(np.float64, st.integers(0, 700), elements=st.floats(-0.2, 0.2)),
    spreads=st.floats(0.0, 0.05),
    zero_at=st.one_of(st.none(), st.integers(0, 699)),
)
def test_detect_outputs_stay_in_range(steps, spreads, zero_at):
    close = 10 * np.exp(np.cumsum(steps))
    if zero_at is not None and zero_at < len(close):
        close[zero_at] = 0.0
    frame = detect_quietly(ohlcv(close, spreads))
    pct = frame["vol_percentile"].to_numpy()
    assert ((pct >= 0) & (pct <= 100) | np.isnan(pct)).all()
    for column in LABEL_COLUMNS:
        assert set(frame[column]) <= ALLOWED
    assert set(frame["volatility_regime"]) <= {*VOLATILITY_REGIMES, UNKNOWN}
    assert set(frame["trend_regime"]) <= {TRENDING, RANGING, UNKNOWN}
