"""Fault test "server fuzz": 200 malformed requests, each refused as Binance refuses it.

The requests are drawn from a seeded generator (the same 200 on every run): bad symbols,
huge, zero and negative limits, intervals Binance does not have, start after end,
non-numeric numbers, empty and repeated parameters, long urls, wrong methods and unknown
paths. Every answer must be a 4xx with a Binance-style JSON error, and the server must
keep answering: a valid request after every few bad ones is served normally.
"""

from __future__ import annotations

import http.client
import json
import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

pytestmark = pytest.mark.fault

SEED = 20261125
COUNT = 200
VALID_EVERY = 10
START = 1704067200000  # 2024-01-01, inside the shared data
SPOT_SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]

Request = tuple[str, str, str]  # (category, method, path)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _q(value: str) -> str:
    return quote(value, safe="")


def _bad_symbol(rng: random.Random) -> str:
    choices = [
        "NOPEUSDT", "btcusdt", "BTC/USDT", "BTC USDT", "BTCUSDT" * 5, "ÄÖÜUSDT", "'; DROP --",
        "../../etc/passwd", "BTCUSDTX", "XRPUSDT.", "\x00BTC", "%s%s%n", "[\"BTCUSDT\"]",
        "".join(rng.choice(_LETTERS) for _ in range(rng.randint(1, 19))) + "QQ",
    ]  # fmt: skip
    return rng.choice(choices)


def bad_symbols(rng: random.Random) -> Request:
    path = rng.choice(
        ["/api/v3/klines?interval=1h&symbol=", "/api/v3/depth?symbol=",
         "/api/v3/ticker/24hr?symbol=", "/api/v3/ticker/price?symbol=",
         "/api/v3/ticker/bookTicker?symbol=", "/api/v3/exchangeInfo?symbol=",
         "/fapi/v1/klines?interval=1h&symbol=", "/fapi/v1/premiumIndex?symbol=",
         "/fapi/v1/fundingRate?symbol=", "/fapi/v1/exchangeInfo?symbol="]
    )  # fmt: skip
    return "bad symbol", "GET", path + _q(_bad_symbol(rng))


def bad_limits(rng: random.Random) -> Request:
    symbol = rng.choice(SPOT_SYMBOLS)
    limit = rng.choice([0, -1, -500, 1001, 5001, 10**9, 99999999999999999999, -(10**19)])
    path = rng.choice(
        [f"/api/v3/klines?symbol={symbol}&interval=5m&limit={limit}",
         f"/api/v3/depth?symbol={symbol}&limit={rng.choice([limit, 3, 7, 99, 101, 4999])}",
         f"/fapi/v1/klines?symbol=XRPUSDT&interval=5m&limit={rng.choice([0, -1, 1501, 10**7])}",
         f"/fapi/v1/depth?symbol=XRPUSDT&limit={rng.choice([0, 5000, 10**6])}",
         f"/fapi/v1/fundingRate?symbol=XRPUSDT&limit={rng.choice([0, -3, 1001])}"]
    )  # fmt: skip
    return "bad limit", "GET", path


def bad_intervals(rng: random.Random) -> Request:
    interval = rng.choice(
        ["7x", "0m", "10m", "1y", "1H", "5M", "-1h", "1.5h", "60s", "1h ", "2w", "1w", "3d",
         "1M", "1s", "h1", "99999999999999999999m"]
    )  # fmt: skip
    return "bad interval", "GET", f"/api/v3/klines?symbol=BTCUSDT&interval={_q(interval)}"


def start_after_end(rng: random.Random) -> Request:
    start = START + rng.randint(1, 400) * 3_600_000
    end = start - rng.randint(1, 10**9)
    endpoint = rng.choice(
        ["/api/v3/klines?symbol=ETHUSDT&interval=1h", "/fapi/v1/fundingRate?symbol=XRPUSDT",
         "/fapi/v1/markPriceKlines?symbol=XRPUSDT&interval=1h"]
    )  # fmt: skip
    return "start after end", "GET", f"{endpoint}&startTime={start}&endTime={max(end, 0)}"


def non_numeric(rng: random.Random) -> Request:
    name = rng.choice(["limit", "startTime", "endTime"])
    value = rng.choice(["ten", "1e3", "10.5", "0x10", "+5", "1_000", "NaN", "inf", "--1", "5%20"])
    return "non-numeric", "GET", f"/api/v3/klines?symbol=BTCUSDT&interval=1h&{name}={value}"


def empty_params(rng: random.Random) -> Request:
    path = rng.choice(
        ["/api/v3/klines?symbol=&interval=1h", "/api/v3/klines?symbol=BTCUSDT&interval=",
         "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=",
         "/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=",
         "/api/v3/ticker/price?symbol=", "/api/v3/ticker/24hr?symbols=",
         "/api/v3/depth?symbol=", "/api/v3/depth?symbol=BTCUSDT&limit=",
         "/api/v3/exchangeInfo?symbol=", "/fapi/v1/fundingRate?symbol=XRPUSDT&endTime=",
         "/api/v3/klines", "/api/v3/depth", "/api/v3/klines?symbol&interval"]
    )  # fmt: skip
    return "empty param", "GET", path


def repeated_params(rng: random.Random) -> Request:
    first, second = rng.sample(SPOT_SYMBOLS, 2)
    path = rng.choice(
        [f"/api/v3/klines?symbol={first}&interval=1h&symbol={second}",
         f"/api/v3/klines?symbol={first}&interval=1h&interval=5m",
         f"/api/v3/klines?symbol={first}&interval=1h&limit=5&limit=5",
         f"/api/v3/ticker/price?symbol={first}&symbol={second}",
         f"/api/v3/depth?symbol={first}&symbol={first}",
         f"/api/v3/ticker/24hr?symbol={first}&symbols=[\"{second}\"]",
         "/api/v3/ticker/24hr?symbols=" + _q(f'["{first}","{first}"]'),
         "/api/v3/ticker/bookTicker?symbols=" + _q("[1, 2]")]
    )  # fmt: skip
    return "repeated param", "GET", path


def long_urls(rng: random.Random) -> Request:
    size = rng.choice([300, 5_000, 60_000, 70_000])
    path = rng.choice(
        [f"/api/v3/klines?interval=1h&symbol={'A' * size}",
         f"/api/v3/{'x' * size}",
         f"/api/v3/klines?symbol=BTCUSDT&interval=1h&limit={'9' * size}",
         "/api/v3/ticker/price?" + "&".join(f"p{i}=1" for i in range(size // 5))
         + "&symbol=NOPE"]
    )  # fmt: skip
    return "long url", "GET", path


def wrong_methods(rng: random.Random) -> Request:
    method = rng.choice(["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "FOO", "CONNECT"])
    path = rng.choice(
        ["/api/v3/klines?symbol=BTCUSDT&interval=1h", "/api/v3/order?symbol=BTCUSDT&side=BUY",
         "/api/v3/ping", "/fapi/v1/order", "/api/v3/exchangeInfo"]
    )  # fmt: skip
    return "wrong method", method, path


def unknown_paths(rng: random.Random) -> Request:
    path = rng.choice(
        ["/api/v3/klinez?symbol=BTCUSDT", "/api/v9/ping", "/", "/admin", "/api/v3/account",
         "/fapi/v1/positionRisk", "/api/v3/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
         "/api/v3/klines/../depth?symbol=BTCUSDT"]
    )  # fmt: skip
    return "unknown path", "GET", path


GENERATORS: list[Callable[[random.Random], Request]] = [
    bad_symbols, bad_limits, bad_intervals, start_after_end, non_numeric, empty_params,
    repeated_params, long_urls, wrong_methods, unknown_paths,
]  # fmt: skip


def malformed_requests(seed: int = SEED, count: int = COUNT) -> list[Request]:
    """`count` requests, every category in turn then at random: the same list for a seed."""
    rng = random.Random(seed)
    chosen = [GENERATORS[i % len(GENERATORS)] for i in range(len(GENERATORS))]
    chosen += [rng.choice(GENERATORS) for _ in range(count - len(chosen))]
    return [generate(rng) for generate in chosen]


def send(server: OfflineExchangeServer, method: str, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection.putrequest(method, path, skip_accept_encoding=True)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def assert_valid_request_served(server: OfflineExchangeServer) -> None:
    status, body = send(server, "GET", "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=3")
    assert status == 200, body
    rows = json.loads(body)
    assert len(rows) == 3
    assert all(math.isfinite(float(value)) for row in rows for value in row[1:6])


@pytest.fixture(params=["backtest", "replay"])
def fuzzed_server(request, market_datadir: Path) -> Iterator[OfflineExchangeServer]:
    with OfflineExchangeServer(market_datadir, replay=request.param == "replay") as server:
        yield server


def test_the_requests_are_deterministic_and_cover_every_category() -> None:
    requests = malformed_requests()
    assert requests == malformed_requests()
    assert len(requests) == COUNT
    categories = Counter(category for category, _, _ in requests)
    assert set(categories) == {generate(random.Random(0))[0] for generate in GENERATORS}
    assert min(categories.values()) >= 5


def test_every_malformed_request_gets_a_binance_error(fuzzed_server) -> None:
    failures = []
    for number, (category, method, path) in enumerate(malformed_requests(), start=1):
        status, raw = send(fuzzed_server, method, path)
        try:
            body = json.loads(raw) if method != "HEAD" else {}
        except ValueError:
            body = None
        well_formed = (
            isinstance(body, dict)
            and isinstance(body.get("code"), int)
            and body["code"] < 0
            and isinstance(body.get("msg"), str)
            and body["msg"]
        )
        if not (400 <= status < 500 and well_formed):
            failures.append((category, method, path[:120], status, raw[:200]))
        if number % VALID_EVERY == 0:
            assert_valid_request_served(fuzzed_server)
    assert failures == [], "\n".join(map(str, failures))
    assert_valid_request_served(fuzzed_server)
