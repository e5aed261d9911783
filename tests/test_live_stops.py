"""Live: the exchange holds the plugin's stop, and moves with it (dry_run false).

A real `freqtrade trade` bot with `stoploss_on_exchange` on the rehearsal server: the entry
fills on the simulated account, a STOP_LOSS_LIMIT order rests there at the plugin's ATR
stop; when the price steps up past the breakeven trigger, the plugin's breakeven stop
replaces the exchange order (cancelled, placed again higher).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fault_support import (
    PROBLEMS,
    Bot,
    custom_data,
    public_ms,
    trades,
    user_data_with,
)
from live_support import (
    MINUTE_MS,
    GapSeries,
    account_orders,
    live_config,
    live_server,
    live_strategy,
    open_db_stop,
    open_stops,
    timeline_start,
    wait_for,
    write_pair,
)

from freqtrade_quant_plugin.core.regime import REGIMES

pytestmark = [pytest.mark.freqtrade, pytest.mark.live]

PAIR = "LIVA/USDT"
PRICE = 100.0
SECONDS_TO_STEP = 75


def _stop_in_place(db: Path, server, trade_id: int | None = None):
    """(trade, its open DB stop order, the account's open stop orders) once all exist."""
    rows = [t for t in trades(db) if t["pair"] == PAIR and t["is_open"]]
    if not rows or (trade_id is not None and rows[0]["id"] != trade_id):
        return None
    trade = rows[0]
    stop = open_db_stop(db, trade["id"])
    on_exchange = open_stops(server, PAIR.replace("/", ""))
    if (
        stop is None
        or len(on_exchange) != 1
        or "quant_entry_state" not in custom_data(db, trade["id"])
    ):
        return None
    return trade, stop, on_exchange[0]


def test_entry_fills_and_the_exchange_stop_sits_at_the_plugins_stop(tmp_path: Path) -> None:
    datadir = tmp_path / "data"
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=1.0, seed=3)
    write_pair(datadir, PAIR, series.frame(timeline_start(series.gap_index, 60)))
    userdir = user_data_with(tmp_path, "live_strategy", live_strategy())
    db = tmp_path / "trades.sqlite"
    server = live_server(datadir)
    bot = None
    try:
        config = live_config(tmp_path / "config.json", server.port, [PAIR], max_open_trades=1)
        bot = Bot(tmp_path, "bot", config, "LiveStrategy", db, userdir)
        assert wait_for(lambda: _stop_in_place(db, server) is not None, timeout=150), (
            trades(db),
            account_orders(server),
            bot.log[-6000:],
        )
        trade, db_stop, exchange_stop = _stop_in_place(db, server)
        state = custom_data(db, trade["id"])["quant_entry_state"]
        # The exchange order is the plugin's stop: Freqtrade's trade stop, the stored
        # entry state and the resting STOP_LOSS_LIMIT agree (to the price tick).
        assert trade["stop_loss"] == pytest.approx(state["stop_price"], rel=1e-3)
        assert exchange_stop.stop_price == pytest.approx(trade["stop_loss"], rel=1e-3)
        assert db_stop["order_id"] == str(exchange_stop.order_id)
        assert exchange_stop.side == "SELL" and exchange_stop.price < exchange_stop.stop_price
        # The entry filled on the account; the stop holds what the trade owns.
        account = server.api.exchange.synced()
        entry = [o for o in account_orders(server) if o.side == "BUY"]
        assert entry and entry[0].status == "FILLED"
        assert exchange_stop.quantity == pytest.approx(trade_amount(db, trade["id"]), rel=1e-6)
        assert account.balances["LIVA"]["locked"] == pytest.approx(exchange_stop.quantity)
        log = bot.log
        assert "stoploss_on_exchange is false" not in log
        for problem in PROBLEMS:
            assert problem not in log, log[-6000:]
        assert bot.interrupt() == 130
    finally:
        if bot is not None:
            bot.stop()
        server.stop()


def trade_amount(db: Path, trade_id: int) -> float:
    from fault_support import query

    return query(db, f"SELECT amount FROM trades WHERE id = {trade_id}")[0][0]


def test_breakeven_moves_the_exchange_stop(tmp_path: Path) -> None:
    datadir = tmp_path / "data"
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=1.03, seed=4)
    start = timeline_start(series.gap_index + 1, SECONDS_TO_STEP)
    write_pair(datadir, PAIR, series.frame(start))
    step_ms = int(start.value // 1_000_000) + (series.gap_index + 1) * MINUTE_MS
    userdir = user_data_with(tmp_path, "live_strategy", live_strategy())
    db = tmp_path / "trades.sqlite"
    server = live_server(datadir)
    bot = None
    rules = {"k1_SL": 5.0, "k2_TP": 200.0, "breakeven_enabled": True, "breakeven_R": 0.5,
             "trailing_enabled": False}  # fmt: skip
    try:
        config = live_config(
            tmp_path / "config.json", server.port, [PAIR], max_open_trades=1,
            quant={"risk": {"max_cost_in_R": 1.0, "risk_per_trade": 0.002},
                   "exit_policy": dict.fromkeys(REGIMES, rules)},
        )  # fmt: skip
        bot = Bot(tmp_path, "bot", config, "LiveStrategy", db, userdir)
        seen_ms = public_ms(server, step_ms)
        assert wait_for(
            lambda: _stop_in_place(db, server) is not None, timeout=seen_ms / 1000 - time.time()
        ), (trades(db), account_orders(server), bot.log[-6000:])
        trade, _, first_stop = _stop_in_place(db, server)
        assert first_stop.stop_price < trade["open_rate"]

        def moved_to_breakeven() -> bool:
            placed = _stop_in_place(db, server, trade["id"])
            return placed is not None and placed[2].stop_price > trade["open_rate"]

        assert wait_for(moved_to_breakeven, timeout=seen_ms / 1000 - time.time() + 90), (
            trades(db),
            account_orders(server),
            bot.log[-6000:],
        )
        now, db_stop, exchange_stop = _stop_in_place(db, server, trade["id"])
        assert now["is_open"] and now["stop_loss"] > trade["open_rate"]
        assert exchange_stop.stop_price == pytest.approx(now["stop_loss"], rel=1e-3)
        assert db_stop["order_id"] == str(exchange_stop.order_id)
        replaced = [o for o in account_orders(server) if o.order_id == first_stop.order_id]
        assert replaced[0].status == "CANCELED"
        log = bot.log
        assert "breakeven" in log.lower()
        for problem in PROBLEMS:
            assert problem not in log, log[-6000:]
        assert bot.interrupt() == 130
    finally:
        if bot is not None:
            bot.stop()
        server.stop()
