"""The offline Binance server over real HTTP: content, paging, replay clock, bad requests."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pandas as pd
import pytest
from freqtrade_support import REPO_ROOT, real_datadir
from parallel_support import ceiling

from freqtrade_quant_plugin.core.validation import QuantConfigError
from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

HOUR_MS = 3_600_000
FIVE_MIN_MS = 300_000
DAY_MS = 86_400_000


def request(server: OfflineExchangeServer, path: str, method: str = "GET") -> tuple[int, object]:
    req = urllib.request.Request(server.url + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def get_ok(server: OfflineExchangeServer, path: str) -> object:
    status, body = request(server, path)
    assert status == 200, body
    return body


def stored(datadir: Path, name: str) -> pd.DataFrame:
    frame = pd.read_feather(datadir / name)
    frame["ms"] = pd.DatetimeIndex(frame["date"]).as_unit("ms").asi8
    return frame.set_index("ms")


def filters_of(symbol: dict) -> dict[str, dict]:
    return {f["filterType"]: f for f in symbol["filters"]}


# -- exchangeInfo ------------------------------------------------------------------------


def spot_pair_count(datadir: Path) -> int:
    """Spot pairs with candles in the data dir (what the server lists)."""
    return len({path.name.split("-")[0] for path in datadir.glob("*-*.feather")})


def test_spot_exchange_info_has_realistic_filters(offline_server, market_datadir: Path) -> None:
    info = get_ok(offline_server, "/api/v3/exchangeInfo")
    symbols = {s["symbol"]: s for s in info["symbols"]}
    assert len(symbols) == spot_pair_count(market_datadir)
    btc = symbols["BTCUSDT"]
    assert (btc["baseAsset"], btc["quoteAsset"], btc["status"]) == ("BTC", "USDT", "TRADING")
    assert filters_of(btc)["PRICE_FILTER"]["tickSize"] == "0.01000000"
    assert filters_of(btc)["LOT_SIZE"]["stepSize"] == "0.00001000"
    assert filters_of(btc)["NOTIONAL"]["minNotional"] == "5"
    for symbol in symbols.values():
        step = float(filters_of(symbol)["LOT_SIZE"]["stepSize"])
        assert 0 < step <= 1


def test_a_sub_cent_coin_gets_the_smallest_tick() -> None:
    datadir = real_datadir("PEPE's real price, about 1e-6 USDT, sets the tick size checked")
    with OfflineExchangeServer(datadir) as server:
        symbols = {s["symbol"]: s for s in get_ok(server, "/api/v3/exchangeInfo")["symbols"]}
    pepe = filters_of(symbols["PEPEUSDT"])
    assert pepe["PRICE_FILTER"]["tickSize"] == "0.00000001"
    assert pepe["LOT_SIZE"]["stepSize"] == "1.00000000"


def test_futures_and_other_market_types(offline_server) -> None:
    futures = get_ok(offline_server, "/fapi/v1/exchangeInfo")["symbols"]
    assert [s["symbol"] for s in futures] == ["XRPUSDT"]
    assert futures[0]["contractType"] == "PERPETUAL"
    assert futures[0]["marginAsset"] == "USDT"
    assert filters_of(futures[0])["MIN_NOTIONAL"]["notional"] == "5"
    assert get_ok(offline_server, "/dapi/v1/exchangeInfo")["symbols"] == []
    assert get_ok(offline_server, "/eapi/v1/exchangeInfo")["optionSymbols"] == []


def test_ccxt_loads_the_markets_as_binance_ones(offline_server) -> None:
    exchange = ccxt.binance(offline_exchange_config(offline_server.port)["exchange"]["ccxt_config"])
    markets = exchange.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["spot"] and btc["active"]
    assert btc["precision"]["price"] == 0.01
    assert btc["limits"]["cost"]["min"] == 5
    xrp = markets["XRP/USDT:USDT"]
    assert xrp["swap"] and xrp["linear"] and xrp["active"] and xrp["settle"] == "USDT"
    candles = exchange.fetch_ohlcv("ETH/USDT", "1h", since=1704067200000, limit=3)
    assert [c[0] for c in candles] == [1704067200000 + i * HOUR_MS for i in range(3)]
    ticker = exchange.fetch_ticker("ETH/USDT")
    assert ticker["bid"] < ticker["last"] < ticker["ask"]
    book = exchange.fetch_order_book("ETH/USDT", limit=5)
    assert len(book["bids"]) == len(book["asks"]) == 5
    assert book["bids"][0][0] < book["asks"][0][0]


def test_ccxt_futures_calls(offline_server, market_datadir: Path) -> None:
    config = offline_exchange_config(offline_server.port)["exchange"]["ccxt_config"]
    exchange = ccxt.binance({**config, "options": {"defaultType": "swap"}})
    exchange.load_markets()
    mark = stored(market_datadir / "futures", "XRP_USDT_USDT-8h-mark.feather")
    candles = exchange.fetch_ohlcv(
        "XRP/USDT:USDT", "8h", since=int(mark.index[0]), limit=2, params={"price": "mark"}
    )
    assert [c[4] for c in candles] == list(mark["close"][:2])
    funding = exchange.fetch_funding_rate_history("XRP/USDT:USDT", limit=3)
    rates = stored(market_datadir / "futures", "XRP_USDT_USDT-8h-funding_rate.feather")["open"]
    assert len(funding) == 3
    assert [f["fundingRate"] for f in funding] == [rates[f["timestamp"]] for f in funding]
    assert exchange.fetch_funding_rate("XRP/USDT:USDT")["markPrice"] > 0
    bids_asks = exchange.fetch_bids_asks(["XRP/USDT:USDT"])
    assert bids_asks["XRP/USDT:USDT"]["bid"] < bids_asks["XRP/USDT:USDT"]["ask"]


def test_every_ccxt_binance_url_points_at_the_server() -> None:
    fragment = offline_exchange_config(4321)["exchange"]
    assert fragment["enable_ws"] is False
    for ccxt_class in (ccxt.binance, ccxt.binanceusdm):
        expected = set(ccxt_class().urls["api"])
        for section in ("ccxt_config", "ccxt_async_config"):
            urls = fragment[section]["urls"]["api"]
            assert set(urls) >= expected
            assert all(url.startswith("http://127.0.0.1:4321/") for url in urls.values())


def test_repository_config_uses_the_offline_server_on_8765() -> None:
    config = json.loads((REPO_ROOT / "config.json").read_text())
    fragment = offline_exchange_config(8765)["exchange"]
    for key in ("ccxt_config", "ccxt_async_config", "enable_ws"):
        assert config["exchange"][key] == fragment[key]
    assert config["exchange"]["key"] == config["exchange"]["secret"] == ""
    assert config["quant"] == {}
    assert config["dry_run"] is True


# -- klines ------------------------------------------------------------------------------


def test_klines_pages_follow_each_other(offline_server, market_datadir: Path) -> None:
    start = 1704067200000  # 2024-01-01
    first = get_ok(
        offline_server, f"/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={start}&limit=4"
    )
    after = first[-1][0] + 1
    second = get_ok(
        offline_server, f"/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime={after}&limit=4"
    )
    times = [row[0] for row in first + second]
    assert times == [start + i * HOUR_MS for i in range(8)]
    row = first[0]
    assert len(row) == 12 and row[6] == start + HOUR_MS - 1
    assert all(isinstance(value, str) for value in row[1:6])
    file = stored(market_datadir, "BTC_USDT-1h.feather")
    assert float(row[4]) == file.loc[start, "close"]
    assert float(row[5]) == file.loc[start, "volume"]


def test_klines_end_time_and_limits(offline_server) -> None:
    end = 1704067200000 + 10 * HOUR_MS
    rows = get_ok(
        offline_server, f"/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime={end}&limit=3"
    )
    assert [r[0] for r in rows] == [end - 2 * HOUR_MS, end - HOUR_MS, end]
    assert (
        len(get_ok(offline_server, "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=1000")) == 1000
    )
    assert len(get_ok(offline_server, "/api/v3/klines?symbol=BTCUSDT&interval=1h")) == 500
    futures = get_ok(offline_server, "/fapi/v1/klines?symbol=XRPUSDT&interval=5m&limit=1500")
    assert len(futures) == 1500


def test_larger_intervals_are_resampled_from_stored_ones(offline_server) -> None:
    start = 1704067200000
    hourly = get_ok(
        offline_server, f"/api/v3/klines?symbol=AAVEUSDT&interval=1h&startTime={start}&limit=2"
    )
    two_hours = get_ok(
        offline_server, f"/api/v3/klines?symbol=AAVEUSDT&interval=2h&startTime={start}&limit=1"
    )
    (candle,) = two_hours
    assert candle[0] == start and candle[6] == start + 2 * HOUR_MS - 1
    assert candle[1] == hourly[0][1] and candle[4] == hourly[1][4]
    assert float(candle[2]) == max(float(r[2]) for r in hourly)
    assert float(candle[3]) == min(float(r[3]) for r in hourly)
    assert float(candle[5]) == pytest.approx(sum(float(r[5]) for r in hourly))


# -- tickers, books, funding ------------------------------------------------------------


def test_book_is_consistent_with_tick_size(offline_server) -> None:
    book = get_ok(offline_server, "/api/v3/depth?symbol=SOLUSDT&limit=10")
    bids = [float(p) for p, _ in book["bids"]]
    asks = [float(p) for p, _ in book["asks"]]
    assert bids == sorted(bids, reverse=True) and asks == sorted(asks)
    assert bids[0] < asks[0]
    info = get_ok(offline_server, "/api/v3/exchangeInfo?symbol=SOLUSDT")["symbols"]
    (tick,) = [
        float(filters_of(s)["PRICE_FILTER"]["tickSize"]) for s in info if s["symbol"] == "SOLUSDT"
    ]
    for price in bids + asks:
        assert round(price / tick, 6) == round(price / tick)
    ticker = get_ok(offline_server, "/api/v3/ticker/bookTicker?symbol=SOLUSDT")
    assert float(ticker["bidPrice"]) == bids[0] and float(ticker["askPrice"]) == asks[0]


def test_all_tickers_and_symbols_filter(offline_server, market_datadir: Path) -> None:
    everything = get_ok(offline_server, "/api/v3/ticker/24hr")
    assert len(everything) == spot_pair_count(market_datadir)
    two = get_ok(offline_server, '/api/v3/ticker/24hr?symbols=["BTCUSDT","ETHUSDT"]')
    assert [t["symbol"] for t in two] == ["BTCUSDT", "ETHUSDT"]
    assert float(two[0]["quoteVolume"]) > 0


def test_funding_history_comes_from_the_stored_series(offline_server, market_datadir) -> None:
    file = stored(market_datadir / "futures", "XRP_USDT_USDT-8h-funding_rate.feather")
    history = get_ok(
        offline_server, f"/fapi/v1/fundingRate?symbol=XRPUSDT&startTime={file.index[0]}&limit=5"
    )
    assert [h["fundingTime"] for h in history] == list(file.index[:5])
    assert [float(h["fundingRate"]) for h in history] == list(file["open"][:5])
    premium = get_ok(offline_server, "/fapi/v1/premiumIndex?symbol=XRPUSDT")
    assert float(premium["markPrice"]) > 0
    assert premium["nextFundingTime"] % (8 * HOUR_MS) == 0


# -- replay clock -----------------------------------------------------------------------


class ManualClock:
    def __init__(self, now_ms: int) -> None:
        self.now = now_ms

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def replay(
    market_datadir: Path, tmp_path: Path
) -> Iterator[tuple[OfflineExchangeServer, ManualClock]]:
    clock = ManualClock(1893456000000 + 2 * 60_000 + 30_000)  # 2030-01-01 00:02:30 UTC
    with OfflineExchangeServer(market_datadir, replay=True, now_ms=clock) as server:
        yield server, clock


def test_replay_serves_no_candle_from_the_future(replay, market_datadir) -> None:
    server, clock = replay
    assert server.store.clock.offset_ms % DAY_MS == 0
    rows = get_ok(server, "/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=3")
    assert rows[-1][0] <= clock.now < rows[-1][6]
    assert rows[-1][0] == 1893456000000
    forming = rows[-1]
    assert forming[1] == forming[2] == forming[3] == forming[4] and float(forming[5]) == 0
    assert rows[-2][6] < clock.now
    later = get_ok(server, f"/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime={clock.now + 1}")
    assert later == []
    stored_now = server.store.clock.to_stored(clock.now)
    ahead = server.store.latest_stored_ms() - stored_now  # the newest data anchors the clock
    assert DAY_MS <= ahead < 2 * DAY_MS  # one day reserved, rounded to the daily grid


def test_later_clock_reveals_the_next_candle(replay, market_datadir) -> None:
    server, clock = replay
    before = get_ok(server, "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=2")
    price_before = get_ok(server, "/api/v3/ticker/price?symbol=ETHUSDT")
    clock.now += FIVE_MIN_MS
    after = get_ok(server, "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=2")
    assert after[0][0] == before[-1][0] and after[-1][0] == before[-1][0] + FIVE_MIN_MS
    file = stored(market_datadir, "ETH_USDT-5m.feather")
    revealed = file.loc[server.store.clock.to_stored(after[0][0])]
    assert [float(v) for v in after[0][1:6]] == list(
        revealed[["open", "high", "low", "close", "volume"]]
    )
    price_after = get_ok(server, "/api/v3/ticker/price?symbol=ETHUSDT")
    assert float(price_after["price"]) == revealed["close"]
    assert price_after["time"] == price_before["time"] + FIVE_MIN_MS


# -- bad requests -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/api/v3/klines?symbol=NOPEUSDT&interval=1h", 400, -1121),
        ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=7x", 400, -1120),
        ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1w", 400, -1120),
        ("GET", "/api/v3/klines?interval=1h", 400, -1102),
        ("GET", "/api/v3/klines?symbol=BTCUSDT", 400, -1102),
        ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=ten", 400, -1100),
        ("GET", "/api/v3/klines?symbol=BTCUSDT&interval=1h&startTime=yesterday", 400, -1100),
        ("GET", "/api/v3/depth", 400, -1102),
        ("GET", "/api/v3/ticker/24hr?symbols=[oops", 400, -1100),
        ("GET", "/api/v3/ticker/price?symbol=%00%ff%%", 400, -1100),
        ("GET", "/fapi/v1/klines?symbol=BTCUSDT&interval=1h", 400, -1121),
        ("GET", "/no/such/path?x=1", 404, -1),
        ("GET", "/api/v3/../../etc/passwd", 404, -1),
        ("POST", "/api/v3/order?symbol=BTCUSDT", 405, -1),
        ("DELETE", "/api/v3/order", 405, -1),
    ],
)
def test_bad_requests_get_binance_errors(offline_server, method, path, status, code) -> None:
    got_status, body = request(offline_server, path, method)
    assert (got_status, body["code"]) == (status, code)
    assert body["msg"]
    assert get_ok(offline_server, "/api/v3/ping") == {}


def test_garbage_http_gets_an_answer_and_a_closed_connection(offline_server) -> None:
    with socket.create_connection(("127.0.0.1", offline_server.port), timeout=10) as raw:
        raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["code"] == -1
    assert get_ok(offline_server, "/api/v3/time")["serverTime"] > 0


@pytest.mark.parametrize("host", ["0.0.0.0", "8.8.8.8", "192.168.1.10"])
def test_only_loopback_addresses_are_accepted(market_datadir, host: str) -> None:
    with pytest.raises(QuantConfigError, match="loopback"):
        OfflineExchangeServer(market_datadir, host=host)


def test_a_silent_client_does_not_block_others(offline_server) -> None:
    with socket.create_connection(("127.0.0.1", offline_server.port), timeout=10) as raw:
        raw.sendall(b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        assert get_ok(offline_server, "/api/v3/ping") == {}


# -- commands ---------------------------------------------------------------------------


SERVING = re.compile(r"Offline Binance server on http://127\.0\.0\.1:(\d+)")


def served_port(log: Path, process: subprocess.Popen, since: int = 0) -> int:
    """The port a `serve --port 0` process reports in its log (from byte `since` on): the
    system picks it at bind time, so no other process can take it first."""
    deadline = time.monotonic() + ceiling(30)
    while True:
        found = SERVING.search(log.read_bytes()[since:].decode(errors="replace"))
        if found:
            return int(found.group(1))
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"serve reported no port:\n{log.read_text()}")
        time.sleep(0.2)


def test_serve_command_runs_until_sigterm(market_datadir: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "serve", "--port", "0",
               "--datadir", str(market_datadir)]  # fmt: skip
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        port = served_port(log, process)
        assert f"{spot_pair_count(market_datadir)} spot and 1 futures pairs" in log.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v3/ping", timeout=10) as reply:
            assert json.loads(reply.read()) == {}
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=ceiling(30)) == 0, log.read_text()


def test_serve_command_refuses_a_public_address(market_datadir: Path) -> None:
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "serve", "--port", "8765",
               "--host", "0.0.0.0", "--datadir", str(market_datadir)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=ceiling(60))
    assert completed.returncode == 2
    assert "loopback" in completed.stderr


def test_offline_config_command_writes_the_fragment(tmp_path: Path) -> None:
    output = tmp_path / "offline.json"
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "offline-config",
               "--port", "9911", "--output", str(output)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=ceiling(60))
    assert json.loads(output.read_text()) == offline_exchange_config(9911)
