"""Live: what the exchange does on a bad day, met by real `freqtrade trade` bots (dry_run
false, exchange stops on) on the rehearsal server.

- a gap jumps the exchange's stop-limit (triggered, its limit above the market): the
  trade must still close, near the gapped price, with nothing left on the exchange;
- an entry fills partially and the rest is cancelled: the stop covers what was bought;
- the exchange answers 429, then 5xx, then nothing for a while: afterwards the trade
  still has its one stop, no order was doubled;
- an entry order is rejected: no trade without a stop, the next entry goes through.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from fault_support import custom_data
from live_support import (
    MINUTE_MS,
    GapSeries,
    account_orders,
    assert_clean,
    live_bot,
    live_strategy,
    loops,
    open_stops,
    protected,
    public_ms,
    symbol,
    timeline_start,
    trade_amount,
    trades,
    wait_for,
    write_pair,
)
from parallel_support import ceiling, slowdown

from freqtrade_quant_plugin.offline.faults import Faults

pytestmark = [pytest.mark.freqtrade, pytest.mark.live]

PRICE = 100.0
FAULT_LOOPS = 2  # loops the bot finishes while each fault is in force


def _calm_market(tmp_path: Path, pair: str, seconds_to_event: float = 60) -> None:
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=1.0, seed=9)
    write_pair(tmp_path / "data", pair, series.frame(timeline_start(1800, seconds_to_event)))


def _wait_protected(server, bot, db: Path, pair: str, timeout: float | None = None) -> dict:
    timeout = ceiling(150) if timeout is None else timeout
    assert wait_for(lambda: protected(db, server, pair) is not None, timeout=timeout), (
        trades(db),
        account_orders(server),
        bot.log[-6000:],
    )
    return protected(db, server, pair)


def test_a_gap_through_the_exchange_stop_limit_still_closes_the_trade(tmp_path: Path) -> None:
    pair = "GAPL/USDT"
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=0.9, seed=10)
    start = timeline_start(series.gap_index + 1, 75 * slowdown())  # protected before it
    write_pair(tmp_path / "data", pair, series.frame(start))
    gap_closed_ms = int(start.value // 1_000_000) + (series.gap_index + 1) * MINUTE_MS
    strategy = live_strategy(floor=PRICE * 0.95)
    with live_bot(tmp_path, [pair], strategy) as (server, bot, db):
        gap_seen = public_ms(server, gap_closed_ms) / 1000
        _wait_protected(server, bot, db, pair, timeout=gap_seen - time.time())
        (stop,) = open_stops(server, symbol(pair))
        assert stop.price > PRICE * 0.9  # the gap opens below the stop's limit

        assert wait_for(
            lambda: not trades(db)[0]["is_open"], timeout=gap_seen - time.time() + ceiling(90)
        ), (trades(db), account_orders(server), bot.log[-6000:])
        (trade,) = trades(db)
        assert trade["close_rate"] >= PRICE * 0.9 * 0.98, trade
        jumped = server.api.exchange.order(stop.order_id)
        assert jumped.triggered and jumped.executed == 0 and jumped.status == "CANCELED"
        account = server.api.exchange.synced()
        assert not account.open_orders(), account.open_orders()
        coins = account.balances["GAPL"]
        assert coins["free"] + coins["locked"] < 0.01  # all sold
        assert custom_data(db, trade["id"])["exit_reason"] == "stop_loss"
        assert_clean(bot.log)
        assert bot.interrupt() == 130


def test_a_partial_fill_is_protected_for_what_was_bought(tmp_path: Path) -> None:
    pair = "PART/USDT"
    _calm_market(tmp_path, pair)
    faults = Faults()
    faults.partial_fills(1, 0.4)
    timeout = {"entry": 1, "exit": 10, "unit": "minutes"}
    with live_bot(tmp_path, [pair], live_strategy(), faults, unfilledtimeout=timeout) as (
        server, bot, db,
    ):  # fmt: skip

        def rest_cancelled() -> bool:
            entry = [o for o in account_orders(server) if o.side == "BUY"]
            return bool(entry) and entry[0].status == "CANCELED"

        assert wait_for(rest_cancelled, timeout=ceiling(200)), (
            account_orders(server),
            bot.log[-6000:],
        )
        trade = _wait_protected(server, bot, db, pair, timeout=ceiling(60))
        (entry,) = [o for o in account_orders(server) if o.side == "BUY"]
        assert entry.executed == pytest.approx(0.4 * entry.quantity, rel=0.01)
        (stop,) = open_stops(server, symbol(pair))
        held = server.api.exchange.synced().balances["PART"]
        assert stop.quantity == pytest.approx(trade_amount(db, trade["id"]), rel=1e-6)
        assert stop.quantity <= held["locked"] + held["free"] + 1e-9
        assert stop.quantity >= 0.99 * entry.executed * (1 - 0.001)  # all of it, less the fee
        assert_clean(bot.log)
        assert bot.interrupt() == 130


def test_429_5xx_and_timeouts_for_a_while_leave_the_trade_and_its_stop(tmp_path: Path) -> None:
    pair = "DOWN/USDT"
    _calm_market(tmp_path, pair, seconds_to_event=200)
    with live_bot(tmp_path, [pair], live_strategy()) as (server, bot, db):
        before = _wait_protected(server, bot, db, pair)
        orders_before = len(account_orders(server))
        faults = server.api.exchange.faults
        # Each fault lasts until the bot has met it twice (a bot in a retry back-off may
        # send nothing for a while) and finished whole loops meanwhile, still running.
        for status in (429, 503, 0):
            faults.start_outage(status, ceiling(600))
            begun = loops(bot.log)

            def lived(status: int = status, begun: int = begun) -> bool:
                met = faults.outage_answers.get(status, 0) >= 2
                return met and loops(bot.log) >= begun + FAULT_LOOPS

            assert wait_for(lived, ceiling(240)) and bot.alive(), (
                faults.describe(),
                bot.log[-4000:],
            )
            faults.end_outage()
        # the bot comes back: it asks the account again, and the trade keeps its single stop
        answered = server.api.answered
        assert wait_for(lambda: server.api.answered > answered + 5, timeout=ceiling(120)), bot.log[
            -4000:
        ]
        after = _wait_protected(server, bot, db, pair, timeout=ceiling(60))
        assert after["id"] == before["id"]
        assert after["stop_loss"] == pytest.approx(before["stop_loss"])
        assert len([o for o in account_orders(server) if o.side == "BUY"]) == 1
        assert len(account_orders(server)) <= orders_before + 2  # at most a stop replaced
        log = bot.log
        seen = " ".join(log.split())  # an HTML answer may wrap inside the message
        assert "429 Too Many Requests" in seen and "503 Service Temporarily Unavailable" in seen
        assert_clean(log)
        assert bot.interrupt() == 130


def test_a_rejected_entry_leaves_no_trade_and_the_next_one_is_protected(tmp_path: Path) -> None:
    pair = "REJT/USDT"
    _calm_market(tmp_path, pair)
    faults = Faults()
    faults.reject_orders(1)
    with live_bot(tmp_path, [pair], live_strategy(), faults) as (server, bot, db):
        _wait_protected(server, bot, db, pair)
        log = bot.log
        assert "insufficient balance" in log.lower(), log[-6000:]
        assert faults.describe()["reject_next"] == 0
        assert len(trades(db)) == 1  # the rejected order left no trade behind
        assert len([o for o in account_orders(server) if o.side == "BUY"]) == 1
        assert_clean(log)
        assert bot.interrupt() == 130
