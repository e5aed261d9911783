"""Fault test "dirty data": a real backtest and the offline server on candles full of faults.

The data set is built here from the synthetic market (seeded, so the same on every run),
one fault per pair and all of them on one more: gaps of days, duplicated candles, NaN
rows, hundreds of flat zero-volume candles, a pair with 50 candles, x100 spikes and
candles whose high is below their low. Then:

- `freqtrade backtesting` of QuantRegimeStrategy (a real subprocess, markets from the
  offline server) completes with no traceback or exception in its log, trades, takes no
  entry on an UNKNOWN regime and sizes every trade with a positive, finite stop distance
  (read from the plugin's `.quant.json` export, one record per trade of Freqtrade's result);
- the offline server, in backtest and in replay mode, answers klines, tickers and order
  books of every dirty pair with JSON holding finite numbers only, and names every file
  it had to clean.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade_support import start_offline_server
from test_offline_server import get_ok
from test_strategy_backtest import BacktestRun, _backtest

from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer
from freqtrade_quant_plugin.synth import write_synthetic_data

pytestmark = [pytest.mark.freqtrade, pytest.mark.fault]

SEED = 8
DAYS = 150
FAULTS = ["GAPS", "DUPES", "NANS", "FLAT", "SHORT", "SPIKE", "INVERT"]
PAIRS = [f"{name}/USDT" for name in [*FAULTS, "MESSY"]]
PROBLEMS = ("Traceback", "Exception", "exception", "Error")
_NUMBER = re.compile(r"-?[0-9.]+(e-?[0-9]+)?|-?(nan|inf)", re.IGNORECASE)


def _gaps(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Two holes of three and five days."""
    keep = np.ones(len(frame), dtype=bool)
    keep[30 * 24 : 33 * 24] = False
    keep[70 * 24 : 75 * 24] = False
    return frame[keep]


def _dupes(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """300 candles twice: exact copies and copies with other prices, appended unsorted."""
    rows = rng.choice(len(frame), 300, replace=False)
    copies = frame.iloc[rows].copy()
    changed = copies.index[::2]
    copies.loc[changed, ["high", "close"]] *= 1.003
    copies.loc[changed, "volume"] *= 2
    return pd.concat([frame, copies], ignore_index=True)


def _nans(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """40 scattered NaN rows, a NaN day, and rows with one price missing."""
    frame = frame.copy()
    columns = ["open", "high", "low", "close", "volume"]
    for row in rng.choice(np.arange(600, len(frame)), 40, replace=False):
        frame.loc[frame.index[row], columns] = np.nan
    frame.loc[frame.index[2000:2024], columns] = np.nan
    for row, column in zip(rng.choice(len(frame), 10), rng.choice(columns[:4], 10), strict=True):
        frame.loc[frame.index[row], column] = np.nan
    return frame


def _flat(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """400 flat zero-volume candles in a row, and 150 zero-volume candles that move."""
    frame = frame.copy()
    start = 1500
    price = frame["close"].iloc[start - 1]
    frame.iloc[start : start + 400, frame.columns.get_indexer(["open", "high", "low", "close"])] = (
        price
    )
    frame.iloc[start : start + 400, frame.columns.get_loc("volume")] = 0.0
    quiet = rng.choice(np.arange(2200, len(frame)), 150, replace=False)
    frame.iloc[quiet, frame.columns.get_loc("volume")] = 0.0
    return frame


def _short(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """A pair listed two days before the data ends: 50 candles."""
    return frame.iloc[-50:]


def _spike(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """x100 wicks and single candles closing at 100 times the price (and back)."""
    frame = frame.copy()
    for row in rng.choice(np.arange(700, len(frame) - 1), 8, replace=False):
        index = frame.index[row]
        frame.loc[index, "high"] *= 100
        if row % 2:
            frame.loc[index, "close"] = frame.loc[index, "high"]
    for row in rng.choice(np.arange(700, len(frame)), 4, replace=False):
        frame.loc[frame.index[row], "low"] /= 100
    return frame


def _invert(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """60 candles with high and low swapped."""
    frame = frame.copy()
    rows = frame.index[rng.choice(np.arange(600, len(frame)), 60, replace=False)]
    frame.loc[rows, ["high", "low"]] = frame.loc[rows, ["low", "high"]].to_numpy()
    return frame


DIRT = {
    "GAPS": _gaps, "DUPES": _dupes, "NANS": _nans, "FLAT": _flat, "SHORT": _short,
    "SPIKE": _spike, "INVERT": _invert,
}  # fmt: skip
MESSY = ["GAPS", "FLAT", "SPIKE", "INVERT", "NANS", "DUPES"]  # in this order


def build_dirty_datadir(datadir: Path) -> dict[str, Path]:
    """Synthetic 1h candles of every pair, each made dirty as its name says."""
    write_synthetic_data(datadir, PAIRS, ["1h"], seed=SEED, start="2024-01-01", days=DAYS)
    rng = np.random.default_rng(SEED)
    files = {}
    for pair in PAIRS:
        name = pair.split("/")[0]
        path = datadir / f"{name}_USDT-1h.feather"
        frame = pd.read_feather(path)
        for dirt in MESSY if name == "MESSY" else [name]:
            frame = DIRT[dirt](frame, rng).reset_index(drop=True)
        frame.to_feather(path)
        files[name] = path
    return files


@pytest.fixture(scope="module")
def dirty_datadir(tmp_path_factory) -> dict[str, Path]:
    return build_dirty_datadir(tmp_path_factory.mktemp("dirty") / "data" / "binance")


@pytest.fixture(scope="module")
def dirty_backtest(tmp_path_factory, dirty_datadir) -> Iterator[tuple[BacktestRun, str]]:
    datadir = next(iter(dirty_datadir.values())).parent
    messages: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())  # type: ignore[method-assign]
    offline_logger = logging.getLogger("freqtrade_quant_plugin.offline")
    offline_logger.addHandler(handler)
    server = start_offline_server(datadir)
    try:
        run = _backtest(
            tmp_path_factory.mktemp("dirty_backtest"),
            datadir,
            server.port,
            timeframe="1h",
            timerange="20240201-",
            pairs=PAIRS,
            overrides={"max_open_trades": 4},
        )
    finally:
        server.stop()
        offline_logger.removeHandler(handler)
    yield run, "\n".join(messages)


def test_the_data_set_holds_every_fault(dirty_datadir) -> None:
    frames = {name: pd.read_feather(path) for name, path in dirty_datadir.items()}
    for name in ("GAPS", "MESSY"):
        assert frames[name]["date"].sort_values().diff().max() >= pd.Timedelta(days=3)
    for name in ("DUPES", "MESSY"):
        assert frames[name]["date"].duplicated().sum() == 300
    for name in ("NANS", "MESSY"):
        assert frames[name]["close"].isna().sum() >= 60
    for name in ("FLAT", "MESSY"):
        flat = (frames[name]["high"] == frames[name]["low"]) & (frames[name]["volume"] == 0)
        assert flat.sum() >= 400
    assert len(frames["SHORT"]) == 50
    for name in ("SPIKE", "MESSY"):
        ratio = frames[name]["high"] / frames[name]["open"]
        assert (ratio > 50).sum() >= 8
    assert (frames["INVERT"]["high"] < frames["INVERT"]["low"]).sum() == 60
    assert (frames["MESSY"]["high"] < frames["MESSY"]["low"]).sum() >= 40  # some NaN'd later


def test_backtest_completes_cleanly_and_trades(dirty_backtest) -> None:
    run, _ = dirty_backtest
    assert "BACKTESTING REPORT" in run.output
    for problem in PROBLEMS:
        assert problem not in run.output, run.output[-4000:]
    assert len(run.trades) > 0
    assert len(run.records) == len(run.trades)
    traded = {pair for pair, _ in run.trades}
    assert len(traded) >= 3, traded


def test_no_entry_on_unknown_regime_and_every_stop_is_real(dirty_backtest) -> None:
    run, _ = dirty_backtest
    for record in run.records:
        trade = run.trade_of(record)
        assert record["regime_at_entry"] in DEFAULT_EXIT_PARAMS, record
        assert trade["enter_tag"].endswith(":" + record["regime_at_entry"])
        for key in ("sl_distance_dollars", "sl_distance_pct", "sl_distance_atr"):
            value = record[key]
            assert isinstance(value, float) and math.isfinite(value) and value > 0, (key, record)
        stop_distance = abs(record["entry_price"] - record["stop_loss"])
        assert stop_distance > 0 and math.isfinite(stop_distance)


def test_the_server_named_every_file_it_cleaned(dirty_backtest, dirty_datadir) -> None:
    _, warnings = dirty_backtest
    for name in ("DUPES", "NANS", "INVERT", "MESSY"):
        assert f"Cleaned candle file {dirty_datadir[name]}" in warnings, warnings
    for name in ("GAPS", "FLAT", "SHORT", "SPIKE"):  # real markets have these: kept as they are
        assert f"{name}_USDT" not in warnings, warnings


def _finite_numbers(value: object) -> Iterator[float]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _finite_numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _finite_numbers(item)
    elif isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.fullmatch(value)):
        yield float(value)


@pytest.mark.parametrize("replay", [False, True], ids=["backtest", "replay"])
def test_the_server_serves_every_dirty_pair(dirty_datadir, replay: bool) -> None:
    datadir = next(iter(dirty_datadir.values())).parent
    with OfflineExchangeServer(datadir, replay=replay) as server:
        for name in dirty_datadir:
            symbol = f"{name}USDT"
            answers = [
                get_ok(server, f"/api/v3/klines?symbol={symbol}&interval=1h&limit=1000"),
                get_ok(server, f"/api/v3/klines?symbol={symbol}&interval=1d&limit=200"),
                get_ok(server, f"/api/v3/ticker/24hr?symbol={symbol}"),
                get_ok(server, f"/api/v3/ticker/bookTicker?symbol={symbol}"),
                get_ok(server, f"/api/v3/ticker/price?symbol={symbol}"),
                get_ok(server, f"/api/v3/depth?symbol={symbol}&limit=100"),
            ]
            text = json.dumps(answers).lower().replace(symbol.lower(), "")
            assert "nan" not in text and "inf" not in text, symbol
            assert all(math.isfinite(number) for number in _finite_numbers(answers)), symbol
            candles = answers[0]
            assert candles, symbol
            for row in candles:
                o, h, low, c = (float(v) for v in row[1:5])
                assert 0 < low <= min(o, c) <= max(o, c) <= h, (symbol, row)
            book = answers[5]
            assert float(book["bids"][0][0]) < float(book["asks"][0][0]), symbol
        info = get_ok(server, "/api/v3/exchangeInfo")
        assert {s["symbol"] for s in info["symbols"]} == {f"{n}USDT" for n in dirty_datadir}
