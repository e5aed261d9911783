"""Live: a bot killed with open trades and open orders, and an entry filled while it is down.

Both run real `freqtrade trade` processes (dry_run false, exchange stops on) against the
rehearsal server, and SIGKILL the bot: no shutdown code runs. The first also restarts the
server, whose account comes back from its state file. After the restart: nothing lost,
no healthy position sold, the exchange stop at the plugin's stop, no `no_stop_state`
and no traceback in any log.

The second is issue 16's defect 1: an entry limit order fills while the bot is down;
Freqtrade's `startup_update_open_orders` reports the fill before any candle is analysed,
and the klines endpoint stays down for the bot's first loops (the order endpoints answer).
Before the fix the plugin answered `no_stop_state` there and the position was sold.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fault_support import Bot, user_data_with
from live_support import (
    MINUTE_MS,
    GapSeries,
    account_orders,
    assert_clean,
    db_orders,
    live_config,
    live_server,
    live_strategy,
    open_stops,
    protected,
    public_ms,
    ran_loops,
    recorded_open_entry,
    sells,
    symbol,
    timeline_start,
    trades,
    wait_for,
    write_pair,
)
from parallel_support import ceiling, slowdown

pytestmark = [pytest.mark.freqtrade, pytest.mark.live]

KLINES_DOWN_S = 40
QUIET_LOOPS = 10  # 2 s loops on the restarted bot, the exchange stop checked every 5 s


def test_sigkill_with_open_trades_and_orders_and_a_server_restart_lose_nothing(
    tmp_path: Path,
) -> None:
    filled, waiting = "KILA/USDT", "KILB/USDT"
    datadir = tmp_path / "data"
    start = timeline_start(1800, 60)
    write_pair(datadir, filled, GapSeries(50.0, 1800, 2100, 1.0, seed=6).frame(start))
    write_pair(datadir, waiting, GapSeries(80.0, 1800, 2100, 1.0, seed=7).frame(start))
    strategy = live_strategy(limit_below={waiting: 0.03})
    userdir = user_data_with(tmp_path, "live_strategy", strategy)
    db = tmp_path / "trades.sqlite"
    server = live_server(datadir)
    bots: list[Bot] = []
    try:
        config = live_config(tmp_path / "config.json", server.port, [filled, waiting])
        first = Bot(tmp_path, "first", config, "LiveStrategy", db, userdir)
        bots.append(first)

        def ready() -> bool:
            recorded = recorded_open_entry(db, server, waiting) is not None
            return protected(db, server, filled) is not None and recorded

        assert wait_for(ready, timeout=ceiling(150)), (
            trades(db),
            account_orders(server),
            first.log[-6000:],
        )
        first.kill()
        trade = protected(db, server, filled)
        stop_before = open_stops(server, symbol(filled))[0]
        orders_before = {(o["order_id"], o["ft_order_side"]) for o in db_orders(db)}
        balances_before = server.api.exchange.synced().to_json()["balances"]

        port = server.port
        server.stop()  # the exchange restarts too: its account comes back from disk
        server = live_server(datadir, port=port)
        assert server.api.exchange.synced().to_json()["balances"] == balances_before
        second = Bot(tmp_path, "second", config, "LiveStrategy", db, userdir)
        bots.append(second)
        rebuilt = f"Trade {trade['id']} {filled}: entry state rebuilt"
        assert wait_for(lambda: rebuilt in second.log, timeout=ceiling(120)), second.log[-6000:]
        # whole loops on the rebuilt state: the position is not sold (a sale stays on the account)
        assert ran_loops(second, QUIET_LOOPS, 60), second.log[-6000:]
        assert not sells(server, filled), second.log[-6000:]

        assert protected(db, server, filled) is not None, (trades(db), account_orders(server))
        now = next(t for t in trades(db) if t["id"] == trade["id"])
        assert now["stop_loss"] == pytest.approx(trade["stop_loss"])
        assert [s.stop_price for s in open_stops(server, symbol(filled))] == [
            pytest.approx(stop_before.stop_price)
        ]
        entry = [o for o in account_orders(server, symbol(waiting)) if o.side == "BUY"]
        assert len(entry) == 1 and entry[0].is_open  # not lost, not placed twice
        assert orders_before <= {(o["order_id"], o["ft_order_side"]) for o in db_orders(db)}
        assert second.interrupt() == 130
        assert_clean(first.log, second.log)
    finally:
        for bot in bots:
            bot.stop()
        server.stop()


def test_an_entry_that_fills_while_the_bot_is_down_keeps_its_position_and_stop(
    tmp_path: Path,
) -> None:
    """Issue 16, defect 1: a position found filled at start-up must not be sold."""
    pair, below, dip_index = "DIPA/USDT", 0.015, 1800
    datadir = tmp_path / "data"
    start = timeline_start(dip_index, 60 * slowdown())  # the entry must rest before the dip
    frame = GapSeries(100.0, 2050, 2100, 1.0, seed=8).frame(start)
    frame.loc[dip_index, "low"] = 100.0 * (1 - below - 0.003)  # one wick reaches the limit
    write_pair(datadir, pair, frame)
    dip_close_ms = int(start.value // 1_000_000) + (dip_index + 1) * MINUTE_MS
    userdir = user_data_with(tmp_path, "live_strategy", live_strategy(limit_below={pair: below}))
    db = tmp_path / "trades.sqlite"
    server = live_server(datadir)
    bots: list[Bot] = []
    try:
        config = live_config(tmp_path / "config.json", server.port, [pair])
        first = Bot(tmp_path, "first", config, "LiveStrategy", db, userdir)
        bots.append(first)

        dip_seen = public_ms(server, dip_close_ms) / 1000
        assert wait_for(
            lambda: recorded_open_entry(db, server, pair) is not None,
            timeout=dip_seen - time.time() - 5,
        ), first.log[-6000:]
        first.kill()
        (entry,) = [o for o in account_orders(server) if o.side == "BUY"]
        assert wait_for(
            lambda: server.api.exchange.order(entry.order_id).status == "FILLED",
            timeout=dip_seen - time.time() + ceiling(30),
        ), account_orders(server)
        # filled while the bot was down, at the candle that reached it
        assert server.api.exchange.order(entry.order_id).updated_ms == dip_close_ms + (
            public_ms(server, 0)
        )

        # The market data endpoint is down while the bot comes back (the order endpoints
        # answer): its first loops run without the pair's candles, as after a long outage.
        server.api.exchange.faults.start_outage(503, ceiling(KLINES_DOWN_S), path="/api/v3/klines")
        second = Bot(tmp_path, "second", config, "LiveStrategy", db, userdir)
        bots.append(second)
        assert wait_for(lambda: "Updating 1 open orders" in second.log, timeout=ceiling(90))
        assert wait_for(lambda: protected(db, server, pair) is not None, timeout=ceiling(150)), (
            trades(db),
            account_orders(server),
            second.log[-6000:],
        )
        # whole loops with the filled position: it is not sold
        assert ran_loops(second, QUIET_LOOPS, 60), second.log[-6000:]
        assert not sells(server, pair), second.log[-6000:]
        (trade,) = trades(db)
        assert trade["is_open"] and trade["open_rate"] == pytest.approx(entry.price)
        assert trade["stop_loss"] < trade["open_rate"]
        assert server.api.exchange.faults.describe()["outage_requests"] > 0
        assert second.interrupt() == 130
        assert_clean(first.log, second.log)
    finally:
        for bot in bots:
            bot.stop()
        server.stop()
