"""Requests the real Binance refuses are refused offline too; restarts keep the port."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from test_offline_server import get_ok, request

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

HOUR_MS = 3_600_000
START = 1704067200000  # 2024-01-01


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=0", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=-1", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1001", -1130),
        ("/fapi/v1/klines?symbol=XRPUSDT&interval=1h&limit=1501", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=", -1105),
        (f"/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={START + 1}&endTime={START}", -1023),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=-5", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime=99999999999999999999", -1130),
        ("/api/v3/klines?symbol=BTCUSDT&interval=10m", -1120),  # derivable, not Binance's
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h&symbol=ETHUSDT", -1101),
        ("/api/v3/depth?symbol=BTCUSDT&limit=99999999", -1130),
        ("/api/v3/depth?symbol=BTCUSDT&limit=7", -1130),
        ("/fapi/v1/depth?symbol=XRPUSDT&limit=5000", -1130),
        ("/api/v3/exchangeInfo?symbol=NOPEUSDT", -1121),
        ("/api/v3/ticker/price?symbol=", -1105),
        ("/api/v3/ticker/price?symbol=BTCUSDT&symbol=ETHUSDT", -1101),
        ('/api/v3/ticker/24hr?symbol=BTCUSDT&symbols=["ETHUSDT"]', -1128),
        ('/api/v3/ticker/24hr?symbols=["BTCUSDT","BTCUSDT"]', -1101),
        ("/fapi/v1/fundingRate?symbol=XRPUSDT&limit=0", -1130),
    ],
)
def test_requests_binance_refuses_are_refused(offline_server, path: str, code: int) -> None:
    status, body = request(offline_server, path)
    assert (status, body["code"]) == (400, code), body
    assert body["msg"]


def test_limits_at_the_documented_bounds_are_served(offline_server) -> None:
    one = get_ok(offline_server, "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1")
    assert len(one) == 1
    book = get_ok(offline_server, "/api/v3/depth?symbol=BTCUSDT&limit=5000")
    assert len(book["asks"]) == 5000
    same = f"startTime={START}&endTime={START}"
    assert len(get_ok(offline_server, f"/api/v3/klines?symbol=BTCUSDT&interval=1h&{same}")) == 1


def test_exchange_info_for_one_symbol(offline_server) -> None:
    info = get_ok(offline_server, "/api/v3/exchangeInfo?symbol=BTCUSDT")
    assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT"]
    two = get_ok(offline_server, '/api/v3/exchangeInfo?symbols=["ETHUSDT","BTCUSDT"]')
    assert sorted(s["symbol"] for s in two["symbols"]) == ["BTCUSDT", "ETHUSDT"]


def test_prices_are_plain_decimals(offline_server) -> None:
    prices = get_ok(offline_server, "/api/v3/ticker/price")
    for price in prices:
        assert re.fullmatch(r"[0-9]+\.[0-9]+", price["price"]), price
    btc = get_ok(offline_server, "/api/v3/ticker/price?symbol=BTCUSDT")
    assert re.fullmatch(r"[0-9]+\.[0-9]{2}", btc["price"]), btc


def test_day_and_four_hour_candles_from_hourly_only_data(tmp_path: Path) -> None:
    """The docs promise larger timeframes resampled, also when no file is larger than 1h."""
    hourly = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=72, freq="1h", tz="UTC"),
            "open": [100.0 + i for i in range(72)],
            "high": [101.0 + i for i in range(72)],
            "low": [99.0 + i for i in range(72)],
            "close": [100.5 + i for i in range(72)],
            "volume": [10.0] * 72,
        }
    )
    hourly.to_feather(tmp_path / "ABC_USDT-1h.feather")
    with OfflineExchangeServer(tmp_path) as server:
        daily = get_ok(server, f"/api/v3/klines?symbol=ABCUSDT&interval=1d&startTime={START}")
        four = get_ok(server, f"/api/v3/klines?symbol=ABCUSDT&interval=4h&startTime={START}")
        _, weekly = request(server, "/api/v3/klines?symbol=ABCUSDT&interval=1w")
    assert [row[0] for row in daily] == [START, START + 24 * HOUR_MS, START + 48 * HOUR_MS]
    assert float(daily[0][1]) == 100.0 and float(daily[0][4]) == 123.5
    assert float(daily[0][2]) == 124.0 and float(daily[0][3]) == 99.0
    assert float(daily[0][5]) == 240.0
    assert len(four) == 18 and four[1][0] == START + 4 * HOUR_MS
    assert weekly["code"] == -1120  # a week does not divide the day grid: refused, not guessed


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "TRACE", "BREW"])
def test_other_methods_get_405(offline_server, method: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", offline_server.port, timeout=10)
    try:
        connection.request(method, "/api/v3/klines?symbol=BTCUSDT&interval=1h")
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 405
    if method != "HEAD":  # HTTP: an answer to HEAD has headers only
        assert json.loads(body)["code"] == -1
    assert get_ok(offline_server, "/api/v3/ping") == {}


# -- restarts -----------------------------------------------------------------------------


def test_stop_then_start_serves_again_on_the_same_port(market_datadir: Path) -> None:
    server = OfflineExchangeServer(market_datadir).start()
    try:
        port = server.port
        keep_alive = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        keep_alive.request("GET", "/api/v3/ping")
        assert keep_alive.getresponse().read() == b"{}"
        server.stop()
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            keep_alive.request("GET", "/api/v3/ping")  # a stopped exchange answers nobody
            keep_alive.getresponse().read()
        keep_alive.close()
        with pytest.raises(OSError):
            request(server, "/api/v3/ping")
        server.start()
        assert server.port == port
        assert get_ok(server, "/api/v3/ping") == {}
    finally:
        server.stop()


def test_a_new_server_binds_the_port_a_stopped_one_released(market_datadir) -> None:
    first = OfflineExchangeServer(market_datadir).start()
    port = first.port
    assert get_ok(first, "/api/v3/time")["serverTime"] > 0  # leaves a connection in TIME_WAIT
    first.stop()
    with OfflineExchangeServer(market_datadir, port=port) as second:
        assert get_ok(second, "/api/v3/ping") == {}
