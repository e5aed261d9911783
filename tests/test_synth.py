"""The synthetic market generator: deterministic, consistent, and readable by Freqtrade."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from freqtrade_quant_plugin.cli import main
from freqtrade_quant_plugin.core.validation import QuantConfigError
from freqtrade_quant_plugin.synth import (
    DEFAULT_PAIRS,
    generate_market,
    regime_path,
    write_synthetic_data,
)
from freqtrade_quant_plugin.synth.score import score_detector
from freqtrade_quant_plugin.synth.writer import regimes_path

START = "2024-01-01"
# sha256 of the regime labels (one per line) of BTC/USDT 1h, seed 42, 30 days from START.
# Changing the generator changes this pin ON PURPOSE: update it only with a deliberate change
# of the generator, since everyone's "default data" changes with it.
PINNED_BTC_1H_LABELS = "4c17f10054d98aa826b7e4b72e462d4e265acabfb3919a4a8eb93e4b5ebe8c54"


def label_digest(regimes: pd.DataFrame) -> str:
    return hashlib.sha256("\n".join(regimes["regime"]).encode()).hexdigest()


def relative_files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def default_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default data set (5 pairs, 240 days, 5m + 1h) with futures, written once."""
    datadir = tmp_path_factory.mktemp("synth") / "binance"
    write_synthetic_data(datadir, DEFAULT_PAIRS, ["5m", "1h"], 42, START, 240, futures=True)
    return datadir


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    args = (["BTC/USDT", "DOGE/USDT"], ["5m", "1h"], 7, START, 10)
    first = write_synthetic_data(tmp_path / "a", *args, futures=True)
    write_synthetic_data(tmp_path / "b", *args, futures=True)
    files_a, files_b = relative_files(tmp_path / "a"), relative_files(tmp_path / "b")
    assert len(files_a) == len(first) == 2 * (2 * 2 + 6)
    assert files_a == files_b


def test_regime_labels_match_the_pinned_checksum() -> None:
    _, regimes = generate_market("BTC/USDT", "1h", START, 30 * 24, 42)
    assert len(regimes) == 720
    assert label_digest(regimes) == PINNED_BTC_1H_LABELS


def test_different_seeds_differ() -> None:
    ohlcv_a, regimes_a = generate_market("BTC/USDT", "1h", START, 30 * 24, 42)
    ohlcv_b, regimes_b = generate_market("BTC/USDT", "1h", START, 30 * 24, 43)
    assert not np.allclose(ohlcv_a["close"], ohlcv_b["close"])
    assert label_digest(regimes_a) != label_digest(regimes_b)


def test_adding_a_pair_leaves_the_others_unchanged(tmp_path: Path) -> None:
    write_synthetic_data(tmp_path / "one", ["ETH/USDT"], ["1h"], 42, START, 5)
    write_synthetic_data(tmp_path / "two", ["BTC/USDT", "ETH/USDT"], ["1h"], 42, START, 5)
    name = "ETH_USDT-1h.feather"
    assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_shorter_run_is_a_prefix_of_a_longer_one() -> None:
    short, short_regimes = generate_market("SOL/USDT", "1h", START, 100, 42)
    long, long_regimes = generate_market("SOL/USDT", "1h", START, 1000, 42)
    pd.testing.assert_frame_equal(short, long.iloc[:100])
    pd.testing.assert_frame_equal(short_regimes, long_regimes.iloc[:100])


def test_hourly_candles_aggregate_the_5m_path() -> None:
    five, five_regimes = generate_market("XRP/USDT", "5m", START, 48 * 12, 42)
    hour, hour_regimes = generate_market("XRP/USDT", "1h", START, 48, 42)
    groups = five.groupby(five.index // 12)
    assert np.array_equal(hour["open"], groups["open"].first())
    assert np.array_equal(hour["high"], groups["high"].max())
    assert np.array_equal(hour["low"], groups["low"].min())
    assert np.array_equal(hour["close"], groups["close"].last())
    assert np.allclose(hour["volume"], groups["volume"].sum())
    assert (hour["date"].to_numpy() == five["date"].to_numpy()[::12]).all()
    # an hour carries the regime in force when it closes
    assert (hour_regimes["regime"].to_numpy() == five_regimes["regime"].to_numpy()[11::12]).all()


def check_candles(frame: pd.DataFrame, step: pd.Timedelta) -> None:
    assert list(frame.columns) == ["date", "open", "high", "low", "close", "volume"]
    assert str(frame["date"].dtype) == "datetime64[ms, UTC]"
    assert (frame.dtypes.iloc[1:] == np.float64).all()
    assert not frame.isna().any().any()
    assert (frame["date"].diff().iloc[1:] == step).all()
    assert (frame["high"] >= frame[["open", "close"]].max(axis=1)).all()
    assert (frame["low"] <= frame[["open", "close"]].min(axis=1)).all()
    assert (frame["low"] > 0).all()


@pytest.mark.parametrize("pair", DEFAULT_PAIRS)
def test_candles_are_consistent(default_set: Path, pair: str) -> None:
    name = pair.replace("/", "_")
    for timeframe, minutes in (("5m", 5), ("1h", 60)):
        spot = pd.read_feather(default_set / f"{name}-{timeframe}.feather")
        check_candles(spot, pd.Timedelta(minutes=minutes))
        assert (spot["volume"] > 0).all()
        assert len(spot) == 240 * 24 * 60 // minutes
        futures = pd.read_feather(
            default_set / "futures" / f"{name}_USDT-{timeframe}-futures.feather"
        )
        check_candles(futures, pd.Timedelta(minutes=minutes))
        assert (futures["volume"] > 0).all()
        basis = futures["close"] / spot["close"] - 1
        assert basis.abs().max() < 0.005  # the perpetual tracks spot
    for timeframe in ("1h", "8h"):
        mark = pd.read_feather(default_set / "futures" / f"{name}_USDT-{timeframe}-mark.feather")
        check_candles(mark, pd.Timedelta(hours=int(timeframe[:-1])))


@pytest.mark.parametrize("pair", DEFAULT_PAIRS)
def test_start_prices_are_realistic(default_set: Path, pair: str) -> None:
    expected = {"BTC": 42000, "ETH": 2300, "SOL": 100, "XRP": 0.6, "DOGE": 0.09}[pair[:-5]]
    first_open = pd.read_feather(default_set / f"{pair.replace('/', '_')}-1h.feather")["open"][0]
    assert first_open == pytest.approx(expected, rel=0.01)


def test_every_regime_phase_occurs_in_a_default_run(default_set: Path) -> None:
    for pair in DEFAULT_PAIRS:
        regimes = pd.read_feather(regimes_path(default_set, pair, "1h"))
        combos = set(zip(regimes["volatility"], regimes["trend"], strict=True))
        volatility = {"LOW_VOL", "NORMAL_VOL", "HIGH_VOL", "EXTREME_VOL"}
        assert combos == {(v, t) for v in volatility for t in ("TRENDING", "RANGING")}, pair
        assert set(regimes["regime"]) == {"EXTREME_VOL", "HIGH_VOL", "TRENDING", "RANGING"}


def test_phases_last_hours_to_weeks_and_cover_all_twelve_states() -> None:
    rng = np.random.default_rng(42)
    phases = regime_path.draw_phases(rng, 5 * 240 * 288)
    hours = np.array([p.length for p in phases[:-1]]) / regime_path.CANDLES_PER_HOUR
    assert hours.min() >= 1 and hours.max() <= 21 * 24
    assert hours.max() > 7 * 24  # some calm phases last more than a week
    assert {(p.volatility, p.trend) for p in phases} == {(v, t) for v in range(4) for t in range(3)}
    assert sum(p.length for p in phases) == 5 * 240 * 288


def test_combined_label_follows_the_detector_precedence(default_set: Path) -> None:
    regimes = pd.read_feather(regimes_path(default_set, "ETH/USDT", "5m"))
    risky = regimes["volatility"].isin(["EXTREME_VOL", "HIGH_VOL"])
    assert (regimes.loc[risky, "regime"] == regimes.loc[risky, "volatility"]).all()
    assert (regimes.loc[~risky, "regime"] == regimes.loc[~risky, "trend"]).all()


def test_funding_rates_on_the_8h_grid(default_set: Path) -> None:
    funding = pd.read_feather(default_set / "futures" / "BTC_USDT_USDT-8h-funding_rate.feather")
    assert len(funding) == 240 * 3
    assert (funding["date"].diff().iloc[1:] == pd.Timedelta(hours=8)).all()
    assert funding["open"].abs().max() <= 0.0075
    assert funding["open"].std() > 0
    assert (funding[["high", "low", "close", "volume"]] == 0).all().all()


def test_freqtrade_reads_the_files_and_ignores_the_labels(default_set: Path) -> None:
    from freqtrade.data.history import load_pair_history
    from freqtrade.data.history.datahandlers.featherdatahandler import FeatherDataHandler
    from freqtrade.enums import CandleType, TradingMode

    written = pd.read_feather(default_set / "BTC_USDT-5m.feather")
    loaded = load_pair_history("BTC/USDT", "5m", default_set, data_format="feather")
    pd.testing.assert_frame_equal(loaded, written, check_dtype=False)

    spot = FeatherDataHandler.ohlcv_get_available_data(default_set, TradingMode.SPOT)
    assert sorted(spot) == sorted(
        (pair, tf, CandleType.SPOT) for pair in DEFAULT_PAIRS for tf in ("5m", "1h")
    )
    futures = FeatherDataHandler.ohlcv_get_available_data(default_set, TradingMode.FUTURES)
    assert ("XRP/USDT:USDT", "8h", CandleType.FUNDING_RATE) in futures
    assert ("XRP/USDT:USDT", "1h", CandleType.FUNDING_RATE) in futures  # what 2026.9 loads
    assert len(futures) == 5 * 6

    for candle_type, timeframe in ((CandleType.FUTURES, "1h"), (CandleType.MARK, "8h")):
        frame = load_pair_history(
            "SOL/USDT:USDT", timeframe, default_set, data_format="feather", candle_type=candle_type
        )
        assert len(frame) == (5760 if timeframe == "1h" else 720)
    stored = pd.read_feather(default_set / "futures" / "BTC_USDT_USDT-8h-funding_rate.feather")
    for timeframe in ("1h", "8h"):
        rates = load_pair_history(
            "BTC/USDT:USDT", timeframe, default_set, data_format="feather",
            candle_type=CandleType.FUNDING_RATE,
        )  # fmt: skip
        assert np.array_equal(rates["funding_rate"], stored["open"])


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"timeframes": ["1m"]}, "timeframe"),
        ({"timeframes": ["1x"]}, "timeframe"),
        ({"days": 0}, "days"),
        ({"pairs": ["BTC/USDT", "btc-usdt"]}, "pairs"),
        ({"seed": -1}, "seed"),
        ({"start": "2024-01-01 00:30", "timeframes": ["5m", "1h"]}, "start"),
        ({"start": "2024-01-01 01:00", "futures": True}, "start"),  # off the 8h funding grid
    ],
)
def test_bad_settings_name_the_key_and_write_nothing(
    tmp_path: Path, kwargs: dict, key: str
) -> None:
    settings = {
        "pairs": ["BTC/USDT"], "timeframes": ["5m"], "seed": 1, "start": START, "days": 1,
    } | kwargs  # fmt: skip
    with pytest.raises(QuantConfigError) as error:
        write_synthetic_data(tmp_path / "data", **settings)
    assert error.value.key == key
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.feather"))


def test_cli_writes_the_requested_set(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    datadir = tmp_path / "binance"
    argv = ["synth", "--datadir", str(datadir), "--pairs", "BTC/USDT,ADA/USDT", "--days", "3"]
    assert main([*argv, "--timeframes", "15m,4h"]) == 0
    names = sorted(p.name for p in datadir.glob("*.feather"))
    assert names == [f"{b}_USDT-{tf}.feather" for b in ("ADA", "BTC") for tf in ("15m", "4h")]
    assert len(pd.read_feather(datadir / "ADA_USDT-4h.feather")) == 18
    assert main([*argv, "--days", "two"]) == 2
    assert "days='two'" in capsys.readouterr().out


def test_detector_score_covers_every_true_label() -> None:
    ohlcv, regimes = generate_market("BTC/USDT", "1h", START, 2000, 42)
    score = score_detector(ohlcv, regimes)
    for part in ("volatility", "trend", "regime"):
        rows = score.loc[part]
        assert set(rows.index) == set(regimes[part])
        assert rows["agreement"].between(0, 1).all()
    volatility = score.loc["volatility"]
    overall = (volatility["agreement"] * volatility["candles"]).sum() / volatility["candles"].sum()
    assert overall > 0.4  # well above the 0.25 of guessing among four labels
