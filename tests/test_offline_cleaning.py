"""Dirty candle files are served cleaned the way Freqtrade cleans them, with a warning."""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from freqtrade.data.converter import clean_ohlcv_dataframe
from test_offline_server import filters_of, get_ok, request

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

START_MS = 1704067200000  # 2024-01-01
ROWS = 300


def clean_frame(seed: int = 7) -> pd.DataFrame:
    """A plausible hourly series around 40 USDT (tick 0.001 would be wrong: 0.01 expected)."""
    rng = np.random.default_rng(seed)
    close = 40 * np.exp(np.cumsum(rng.normal(0, 0.01, ROWS)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.004, ROWS)) * close
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=ROWS, freq="1h", tz="UTC"),
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": rng.uniform(100, 1000, ROWS),
        }
    )


def with_nan_rows(frame: pd.DataFrame) -> pd.DataFrame:
    dirty = frame.copy()
    dirty.loc[10:29, ["open", "high", "low", "close", "volume"]] = np.nan
    dirty.loc[50, "close"] = np.inf
    dirty.loc[60, "low"] = -1.0
    return dirty


def with_duplicates(frame: pd.DataFrame) -> pd.DataFrame:
    copies = frame.iloc[100:110].copy()  # Freqtrade keeps the first open, the largest volume
    copies["open"] *= 1.001
    copies["high"] *= 1.01
    copies["close"] *= 1.002
    copies["volume"] *= 0.5
    return pd.concat([frame, copies]).sort_values("date", kind="stable").reset_index(drop=True)


def with_inverted_candles(frame: pd.DataFrame) -> pd.DataFrame:
    dirty = frame.copy()
    rows = list(range(200, 205))
    dirty.loc[rows, ["high", "low"]] = dirty.loc[rows, ["low", "high"]].to_numpy()
    dirty.loc[210, "high"] = dirty.loc[210, "close"] * 0.9  # high below the close
    return dirty


@pytest.fixture
def dirty_server(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    clean = clean_frame()
    clean.to_feather(tmp_path / "CLEAN_USDT-1h.feather")
    with_nan_rows(clean).to_feather(tmp_path / "NAN_USDT-1h.feather")
    with_duplicates(clean).to_feather(tmp_path / "DUP_USDT-1h.feather")
    with_inverted_candles(clean).to_feather(tmp_path / "INV_USDT-1h.feather")
    (tmp_path / "BROKEN_USDT-1h.feather").write_bytes(b"not a feather file at all")
    caplog.set_level(logging.WARNING, logger="freqtrade_quant_plugin.offline")
    with OfflineExchangeServer(tmp_path) as server:
        yield server, tmp_path, clean


def klines(server: OfflineExchangeServer, symbol: str) -> list[list]:
    return get_ok(
        server, f"/api/v3/klines?symbol={symbol}&interval=1h&startTime={START_MS}&limit=1000"
    )


def as_frame(rows: list[list]) -> pd.DataFrame:
    values = np.array([[float(v) for v in row[1:6]] for row in rows])
    frame = pd.DataFrame(values, columns=["open", "high", "low", "close", "volume"])
    frame.insert(0, "date", pd.to_datetime([row[0] for row in rows], unit="ms", utc=True))
    return frame


def test_nan_rows_are_dropped_and_precision_is_the_clean_one(dirty_server, caplog) -> None:
    server, _, _ = dirty_server
    rows = klines(server, "NANUSDT")
    assert len(rows) == ROWS - 22
    for row in rows:
        assert all(math.isfinite(float(value)) and float(value) >= 0 for value in row[1:6])
    info = {s["symbol"]: filters_of(s) for s in get_ok(server, "/api/v3/exchangeInfo")["symbols"]}
    assert (
        info["NANUSDT"]["PRICE_FILTER"]["tickSize"] == info["CLEANUSDT"]["PRICE_FILTER"]["tickSize"]
    )
    assert info["NANUSDT"]["LOT_SIZE"]["stepSize"] == info["CLEANUSDT"]["LOT_SIZE"]["stepSize"]
    assert info["NANUSDT"]["PRICE_FILTER"]["tickSize"] == "0.00100000"
    assert "NAN_USDT-1h.feather: dropped 22 rows with a missing or invalid price" in caplog.text


def test_duplicates_are_merged_as_freqtrade_merges_them(dirty_server, caplog) -> None:
    server, datadir, _ = dirty_server
    served = as_frame(klines(server, "DUPUSDT"))
    expected = clean_ohlcv_dataframe(
        pd.read_feather(datadir / "DUP_USDT-1h.feather"), "1h", "DUP/USDT",
        fill_missing=False, drop_incomplete=False,
    )  # fmt: skip
    assert len(served) == ROWS
    pd.testing.assert_frame_equal(served, expected[served.columns], check_exact=False, rtol=1e-9)
    assert "DUP_USDT-1h.feather: merged 10 duplicated candles" in caplog.text


def test_candles_whose_range_misses_a_price_are_repaired(dirty_server, caplog) -> None:
    server, _, clean = dirty_server
    served = as_frame(klines(server, "INVUSDT"))
    prices = served[["open", "high", "low", "close"]]
    assert (served["high"] == prices.max(axis=1)).all()
    assert (served["low"] == prices.min(axis=1)).all()
    assert served.loc[200, "high"] == pytest.approx(clean.loc[200, "high"])
    assert served.loc[200, "low"] == pytest.approx(clean.loc[200, "low"])
    assert "INV_USDT-1h.feather: repaired 6 candles" in caplog.text
    book = get_ok(server, "/api/v3/depth?symbol=INVUSDT&limit=5")
    assert float(book["bids"][0][0]) < float(book["asks"][0][0])


def test_an_unreadable_file_serves_no_candles_and_names_itself(dirty_server, caplog) -> None:
    server, _, _ = dirty_server
    assert klines(server, "BROKENUSDT") == []
    status, body = request(server, "/api/v3/ticker/price?symbol=BROKENUSDT")
    assert status == 400 and body["code"] == -1121
    assert "BROKEN_USDT-1h.feather cannot be read" in caplog.text
    assert get_ok(server, "/api/v3/ticker/price?symbol=CLEANUSDT")["symbol"] == "CLEANUSDT"


def test_funding_rates_without_a_value_are_dropped(tmp_path: Path, caplog) -> None:
    futures = tmp_path / "futures"
    futures.mkdir()
    clean_frame().to_feather(futures / "ABC_USDT_USDT-1h-futures.feather")
    dates = pd.date_range("2024-01-01", periods=12, freq="8h", tz="UTC")
    rates = [0.0001] * 12
    rates[3] = np.nan
    funding = pd.DataFrame({"date": dates.append(dates[:1]), "funding_rate": [*rates, 0.5]})
    funding.to_feather(futures / "ABC_USDT_USDT-8h-funding_rate.feather")
    caplog.set_level(logging.WARNING, logger="freqtrade_quant_plugin.offline")
    with OfflineExchangeServer(tmp_path) as server:
        history = get_ok(server, f"/fapi/v1/fundingRate?symbol=ABCUSDT&startTime={START_MS}")
    assert len(history) == 11
    assert {h["fundingRate"] for h in history} == {"0.0001"}
    assert "dropped 1 rows without a rate; dropped 1 duplicated dates" in caplog.text
