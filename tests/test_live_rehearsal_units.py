"""The rehearsal exchange in pieces: matching rules, signing, persistence, faults, and
ccxt's own binance class against the server (the calls Freqtrade's live flow makes)."""

from __future__ import annotations

import time
from pathlib import Path

import ccxt
import pytest
from live_support import GapSeries, live_server, timeline_start, write_pair

from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.faults import Faults
from freqtrade_quant_plugin.offline.matching import Bar, market_price, match_resting
from freqtrade_quant_plugin.offline.params import BinanceError
from freqtrade_quant_plugin.offline.signing import (
    REHEARSAL_KEY,
    REHEARSAL_SECRET,
    Credentials,
    sign,
    verify,
)

pytestmark = pytest.mark.live

PAIR, SYMBOL = "UNIT/USDT", "UNITUSDT"


# -- matching ---------------------------------------------------------------------------


def test_a_limit_buy_fills_when_the_low_reaches_it_and_a_gap_fills_it_better() -> None:
    assert match_resting("LIMIT", "BUY", False, 99.0, 0, Bar(100, 101, 99.5, 100, 1)).price is None
    assert match_resting("LIMIT", "BUY", False, 99.0, 0, Bar(100, 101, 98.5, 99, 1)).price == 99.0
    assert match_resting("LIMIT", "BUY", False, 99.0, 0, Bar(97, 98, 96, 97, 1)).price == 97.0
    assert match_resting("LIMIT", "SELL", False, 101.0, 0, Bar(100, 101.5, 99, 100, 1)).price == 101


def test_a_stop_limit_fills_at_its_stop_unless_a_gap_jumps_its_limit() -> None:
    touched = match_resting(
        "STOP_LOSS_LIMIT", "SELL", False, 98.0, 99.0, Bar(100, 100, 98.8, 99, 1)
    )
    assert touched.triggered and touched.price == 99.0
    jumped = match_resting("STOP_LOSS_LIMIT", "SELL", False, 98.0, 99.0, Bar(90, 91, 89, 90, 1))
    assert jumped.triggered and jumped.price is None  # rests as a limit at 98
    later = match_resting("STOP_LOSS_LIMIT", "SELL", True, 98.0, 99.0, Bar(97, 98.5, 96, 98, 1))
    assert later.price == 98.0
    calm = match_resting("STOP_LOSS_LIMIT", "SELL", False, 98.0, 99.0, Bar(100, 101, 99.5, 100, 1))
    assert not calm.triggered and calm.price is None


def test_a_stop_market_fills_at_the_gapped_open() -> None:
    gapped = match_resting("STOP_MARKET", "SELL", False, 0, 99.0, Bar(90, 91, 89, 90, 1))
    assert gapped.triggered and gapped.price == 90.0 and not gapped.is_maker


def test_market_orders_pay_the_plugins_slippage_against_the_taker() -> None:
    buy = market_price("BUY", 99.9, 100.1, atr=0.5, notional=1000, volume=10_000)
    sell = market_price("SELL", 99.9, 100.1, atr=0.5, notional=1000, volume=10_000)
    assert buy > 100.1 and sell < 99.9
    assert market_price("BUY", 99.9, 100.1, 2.0, 1000, None) > market_price(
        "BUY", 99.9, 100.1, 0.5, 1000, None
    )


# -- signing ----------------------------------------------------------------------------


def test_signatures_are_checked_as_binance_checks_them() -> None:
    creds = Credentials()
    now = int(time.time() * 1000)
    payload = f"symbol={SYMBOL}&timestamp={now}"
    good = f"{payload}&signature={sign(payload, REHEARSAL_SECRET)}"
    assert verify(creds, REHEARSAL_KEY, good, "", now)["symbol"] == [SYMBOL]
    # the same parameters sent as a form body (POST) verify the same way
    assert verify(creds, REHEARSAL_KEY, "", good, now)["timestamp"] == [str(now)]
    cases = [
        (None, good, -2014),
        ("short", good, -2014),
        ("k" * 64, good, -2015),
        (REHEARSAL_KEY, payload + "&signature=" + "0" * 64, -1022),
        (REHEARSAL_KEY, good.replace(SYMBOL, "OTHERUSDT"), -1022),
        (REHEARSAL_KEY, payload, -1102),
    ]
    for key, text, code in cases:
        with pytest.raises(BinanceError) as error:
            verify(creds, key, text, "", now)
        assert error.value.code == code, (key, text)
    with pytest.raises(BinanceError) as late:
        verify(creds, REHEARSAL_KEY, good, "", now + 60_000)
    assert late.value.code == -1021


def test_faults_count_down_and_outages_end() -> None:
    clock = [0.0]
    faults = Faults(clock=lambda: clock[0])
    faults.reject_orders(2)
    assert faults.take_rejection().code == -2010
    assert faults.take_rejection() is not None and faults.take_rejection() is None
    faults.partial_fills(1, 0.25)
    assert faults.take_partial() == 0.25 and faults.take_partial() is None
    faults.start_outage(429, 10)
    assert faults.outage() == 429
    clock[0] = 11
    assert faults.outage() is None
    faults.start_outage(503, 10, path="/api/v3/klines")
    assert faults.outage("/api/v3/klines") == 503 and faults.outage("/api/v3/order") is None
    with pytest.raises(ValueError):
        faults.start_outage(418, 5)


# -- the server through ccxt --------------------------------------------------------------


@pytest.fixture
def rehearsal(tmp_path: Path):
    datadir = tmp_path / "data"
    series = GapSeries(price=100.0, gap_index=1800, candles=2100, gap_factor=1.0, seed=5)
    write_pair(datadir, PAIR, series.frame(timeline_start(series.gap_index, 600)))
    server = live_server(datadir, wallet=1000.0)
    yield server, datadir
    server.stop()


def _client(port: int, key: str = REHEARSAL_KEY, secret: str = REHEARSAL_SECRET):
    urls = offline_exchange_config(port)["exchange"]["ccxt_config"]
    return ccxt.binance({**urls, "apiKey": key, "secret": secret, "timeout": 20_000})


def test_ccxt_places_queries_cancels_and_sees_its_fills(rehearsal) -> None:
    server, _ = rehearsal
    client = _client(server.port)
    client.load_markets()
    assert client.fetch_balance()["USDT"]["free"] == 1000.0
    ticker = client.fetch_ticker(PAIR)
    bought = client.create_order(PAIR, "market", "buy", 2.0)
    assert bought["status"] == "closed" and bought["average"] > ticker["ask"]
    assert bought["fee"] == {"currency": "UNIT", "cost": pytest.approx(0.002)}
    resting = client.create_order(PAIR, "limit", "buy", 1.0, round(ticker["bid"] * 0.95, 3))
    stop = client.create_order(
        PAIR, "stop_loss_limit", "sell", 1.99, round(ticker["last"] * 0.97, 3),
        {"stopPrice": round(ticker["last"] * 0.98, 3)},
    )  # fmt: skip
    assert stop["status"] == "open"
    assert stop["triggerPrice"] == pytest.approx(ticker["last"] * 0.98, rel=1e-3)
    assert {o["id"] for o in client.fetch_open_orders(PAIR)} == {resting["id"], stop["id"]}
    balance = client.fetch_balance()
    assert balance["UNIT"]["used"] == pytest.approx(1.99)
    assert balance["USDT"]["used"] == pytest.approx(resting["price"])
    assert client.cancel_order(resting["id"], PAIR)["status"] == "canceled"
    assert client.fetch_balance()["USDT"]["used"] == 0
    trades = client.fetch_my_trades(PAIR)
    assert [t["order"] for t in trades] == [bought["id"]]
    with pytest.raises(ccxt.OrderNotFound):
        client.fetch_order("999", PAIR)
    with pytest.raises(ccxt.OrderNotFound):
        client.cancel_order(resting["id"], PAIR)
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(PAIR, "limit", "buy", 100.0, ticker["bid"])
    with pytest.raises(ccxt.InvalidOrder):  # a sell stop above the market triggers at once
        client.create_order(PAIR, "stop_loss_limit", "sell", 1.0, ticker["last"] * 1.01,
                            {"stopPrice": ticker["last"] * 1.02})  # fmt: skip


def test_unknown_keys_and_bad_signatures_get_binances_errors(rehearsal) -> None:
    server, _ = rehearsal
    for client, code in (
        (_client(server.port, key="u" * 64), "-2015"),
        (_client(server.port, key="bad key"), "-2014"),
        (_client(server.port, secret="not the secret"), "-1022"),
    ):
        with pytest.raises(ccxt.AuthenticationError, match=code):
            client.fetch_balance()


def test_the_account_survives_a_restart_of_the_server(rehearsal) -> None:
    server, datadir = rehearsal
    client = _client(server.port)
    client.load_markets()
    client.create_order(PAIR, "market", "buy", 1.0)
    price = round(client.fetch_ticker(PAIR)["bid"] * 0.9, 3)
    resting = client.create_order(PAIR, "limit", "buy", 1.0, price)
    before = client.fetch_balance()
    port = server.port
    server.stop()
    again = live_server(datadir, port=port)
    try:
        client = _client(port)
        client.load_markets()
        assert client.fetch_order(resting["id"], PAIR)["status"] == "open"
        after = client.fetch_balance()
        for asset in ("USDT", "UNIT"):
            assert after[asset] == before[asset]
        assert len(client.fetch_my_trades(PAIR)) == 1
        assert int(client.create_order(PAIR, "market", "buy", 1.0)["id"]) == int(resting["id"]) + 1
    finally:
        again.stop()


def test_outages_and_rejections_reach_ccxt_as_its_usual_errors(rehearsal) -> None:
    server, _ = rehearsal
    client = _client(server.port)
    client.load_markets()
    faults = server.api.exchange.faults
    faults.start_outage(429, 30)
    with pytest.raises(ccxt.DDoSProtection):
        client.fetch_balance()
    faults.start_outage(503, 30)
    with pytest.raises(ccxt.ExchangeNotAvailable):
        client.fetch_ticker(PAIR)
    faults.start_outage(503, 0.001)
    time.sleep(0.01)
    faults.reject_orders(1)
    with pytest.raises(ccxt.InsufficientFunds):
        client.create_order(PAIR, "market", "buy", 1.0)
    assert client.create_order(PAIR, "market", "buy", 1.0)["status"] == "closed"


def test_a_partial_fill_leaves_the_rest_open_until_cancelled(rehearsal) -> None:
    server, _ = rehearsal
    client = _client(server.port)
    client.load_markets()
    server.api.exchange.faults.partial_fills(1, 0.4)
    ask = client.fetch_ticker(PAIR)["ask"]
    order = client.create_order(PAIR, "limit", "buy", 5.0, ask)
    assert order["status"] == "open" and order["filled"] == pytest.approx(2.0)
    cancelled = client.cancel_order(order["id"], PAIR)
    assert cancelled["status"] == "canceled" and cancelled["filled"] == pytest.approx(2.0)
    assert client.fetch_balance()["USDT"]["used"] == 0


def test_the_control_endpoint_switches_faults_over_http(rehearsal) -> None:
    import json
    import urllib.request

    server, _ = rehearsal
    request = urllib.request.Request(f"{server.url}/rehearsal/reject?count=2", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.load(answer)["reject_next"] == 2
    with urllib.request.urlopen(f"{server.url}/rehearsal/account", timeout=10) as answer:
        assert json.load(answer)["balances"]["USDT"]["free"] == 1000.0


def test_offline_config_live_writes_keys_and_dry_run_false(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    output = tmp_path / "rehearsal.json"
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "offline-config",
               "--port", "9912", "--live", "--output", str(output)]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    fragment = json.loads(output.read_text())
    assert fragment["dry_run"] is False
    assert fragment["exchange"]["key"] == REHEARSAL_KEY
    assert fragment["exchange"]["secret"] == REHEARSAL_SECRET
    assert (
        fragment["exchange"]["ccxt_config"]
        == offline_exchange_config(9912)["exchange"]["ccxt_config"]
    )


def test_serve_live_needs_replay(rehearsal) -> None:
    import subprocess
    import sys

    _, datadir = rehearsal
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "serve", "--port", "0",
               "--live", "--datadir", str(datadir)]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 2
    assert "--replay" in completed.stderr


def test_usdm_futures_leverage_positions_and_a_stop_market_algo_order(tmp_path: Path) -> None:
    """ccxt's USD-M flow: leverage, margin type, a position, a reduce-only STOP_MARKET
    (a conditional "algo" order) that a gap triggers: it places its market order."""
    from fault_support import replay_server

    from freqtrade_quant_plugin.offline.rehearsal import LiveRehearsal

    datadir = tmp_path / "data"
    series = GapSeries(price=100.0, gap_index=1800, candles=2100, gap_factor=0.9, seed=12)
    frame = series.frame(timeline_start(series.gap_index, 120))
    write_pair(datadir, "UNIT/USDT", frame)  # replay_server anchors on the spot files
    write_pair(datadir / "futures", "UNIT/USDT", frame, "1m-futures")
    (datadir / "futures" / "UNIT_USDT-1m-futures.feather").rename(
        datadir / "futures" / "UNIT_USDT_USDT-1m-futures.feather"
    )
    clock = [int(time.time() * 1000)]
    server = replay_server(datadir, live=LiveRehearsal(wallet=1000.0), now_ms=lambda: clock[0])
    try:
        client = _client(server.port)
        client.options["defaultType"] = "future"
        client.options["adjustForTimeDifference"] = True
        client.load_markets()
        pair = "UNIT/USDT:USDT"
        client.set_leverage(3, pair)
        client.set_margin_mode("isolated", pair)
        client.create_order(pair, "market", "buy", 6.0)
        (position,) = [p for p in client.fetch_positions([pair]) if p["contracts"]]
        assert position["contracts"] == 6.0 and position["leverage"] == 3
        assert position["marginMode"] == "isolated"
        with pytest.raises(ccxt.ExchangeError, match="-2022"):  # would grow the long
            client.create_order(pair, "market", "buy", 1.0, params={"reduceOnly": True})
        last = client.fetch_ticker(pair)["last"]
        stop = client.create_order(
            pair, "market", "sell", 6.0, params={"stopPrice": last * 0.97, "reduceOnly": True}
        )
        assert client.fetch_order(stop["id"], pair, {"stop": True})["status"] == "open"
        clock[0] += 10 * 60_000  # past the gap candle (opens 10 % lower)
        client.load_time_difference()
        stopped = client.fetch_order(stop["id"], pair, {"stop": True})
        assert stopped["status"] == "closed"
        actual = client.fetch_order(stopped["info"]["actualOrderId"], pair)
        assert actual["status"] == "closed" and actual["filled"] == 6.0
        assert actual["average"] < 100.0 * 0.9 * 1.01  # the gapped price, not the stop
        assert not [p for p in client.fetch_positions([pair]) if p["contracts"]]
        balance = client.fetch_balance()["USDT"]["total"]
        assert 1000.0 - 6 * 100 * 0.12 < balance < 1000.0 - 6 * 100 * 0.08  # lost the gap
    finally:
        server.stop()
