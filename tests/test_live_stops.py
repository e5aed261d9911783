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
from live_support import (
    MINUTE_MS,
    GapSeries,
    account_orders,
    assert_clean,
    live_bot,
    live_strategy,
    open_db_stop,
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

from freqtrade_quant_plugin.core.regime import REGIMES

pytestmark = [pytest.mark.freqtrade, pytest.mark.live]

PAIR = "LIVA/USDT"
PRICE = 100.0
SECONDS_TO_STEP = 75  # on an idle machine: the bot's lead to protect its entry


def test_entry_fills_and_the_exchange_stop_sits_at_the_plugins_stop(tmp_path: Path) -> None:
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=1.0, seed=3)
    write_pair(tmp_path / "data", PAIR, series.frame(timeline_start(series.gap_index, 60)))
    with live_bot(tmp_path, [PAIR], live_strategy()) as (server, bot, db):
        assert wait_for(lambda: protected(db, server, PAIR) is not None, timeout=ceiling(150)), (
            trades(db),
            account_orders(server),
            bot.log[-6000:],
        )
        trade = protected(db, server, PAIR)
        (stop,) = open_stops(server, symbol(PAIR))
        # Freqtrade's trade stop is the plugin's (protected() compared the exchange order
        # with the stored entry state), a sell stop-limit with its limit below the stop.
        assert stop.stop_price == pytest.approx(trade["stop_loss"], rel=1e-3)
        assert stop.side == "SELL" and stop.price < stop.stop_price
        assert open_db_stop(db, trade["id"])["stop_price"] == pytest.approx(stop.stop_price)
        # The entry filled on the account; the stop holds all the trade owns.
        (entry,) = [o for o in account_orders(server) if o.side == "BUY"]
        assert entry.status == "FILLED"
        assert stop.quantity == pytest.approx(trade_amount(db, trade["id"]), rel=1e-6)
        held = server.api.exchange.synced().balances["LIVA"]
        assert held["locked"] == pytest.approx(stop.quantity) and held["free"] < 0.01
        assert "stoploss_on_exchange is false" not in bot.log
        assert_clean(bot.log)
        assert bot.interrupt() == 130


def test_breakeven_moves_the_exchange_stop(tmp_path: Path) -> None:
    series = GapSeries(price=PRICE, gap_index=1800, candles=2100, gap_factor=1.03, seed=4)
    start = timeline_start(series.gap_index + 1, SECONDS_TO_STEP * slowdown())
    write_pair(tmp_path / "data", PAIR, series.frame(start))
    step_ms = int(start.value // 1_000_000) + (series.gap_index + 1) * MINUTE_MS
    rules = {"k1_SL": 5.0, "k2_TP": 200.0, "breakeven_enabled": True, "breakeven_R": 0.5,
             "trailing_enabled": False}  # fmt: skip
    quant = {"risk": {"max_cost_in_R": 1.0, "risk_per_trade": 0.002},
             "exit_policy": dict.fromkeys(REGIMES, rules)}  # fmt: skip
    with live_bot(tmp_path, [PAIR], live_strategy(), quant=quant) as (server, bot, db):
        seen = public_ms(server, step_ms) / 1000
        assert wait_for(
            lambda: protected(db, server, PAIR) is not None, timeout=seen - time.time()
        ), (trades(db), account_orders(server), bot.log[-6000:])
        trade = protected(db, server, PAIR)
        (first_stop,) = open_stops(server, symbol(PAIR))
        assert first_stop.stop_price < trade["open_rate"]

        def at_breakeven() -> bool:
            now = protected(db, server, PAIR, moved=True)
            return now is not None and now["stop_loss"] > trade["open_rate"]

        assert wait_for(at_breakeven, timeout=seen - time.time() + ceiling(90)), (
            trades(db),
            account_orders(server),
            bot.log[-6000:],
        )
        now = protected(db, server, PAIR, moved=True)
        (stop,) = open_stops(server, symbol(PAIR))
        assert now["id"] == trade["id"] and now["stop_loss"] > trade["open_rate"]
        assert stop.stop_price == pytest.approx(now["stop_loss"], rel=1e-3)
        assert server.api.exchange.order(first_stop.order_id).status == "CANCELED"
        assert "breakeven" in bot.log.lower()
        assert_clean(bot.log)
        assert bot.interrupt() == 130
