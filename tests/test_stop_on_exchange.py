"""`order_types.stoploss_on_exchange: true`: the exchange-side stop follows the plugin's stop.

Dry-run bot on a replayed 1m market (Freqtrade simulates the exchange's stop order in
dry-run; the offline server needs no order endpoint). After the entry the open stop
order's price is the plugin's ATR stop; after the price steps up by 0.8 R (breakeven at
0.5 R, trailing off) Freqtrade replaces the order at the plugin's breakeven price.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
import talib
from fault_support import (
    EVERY_CANDLE_STRATEGY,
    MINUTE_MS,
    PROBLEMS,
    Bot,
    GapSeries,
    custom_data,
    public_ms,
    query,
    replay_server,
    timeline_start,
    trades,
    user_data_with,
    wait_for,
    write_pair,
)
from freqtrade_support import write_freqtrade_config
from parallel_support import slowdown

from freqtrade_quant_plugin.core.regime import REGIMES

pytestmark = [pytest.mark.freqtrade, pytest.mark.fault]

PAIR = "STEP/USDT"
K1 = 5.0
SECONDS_TO_STEP = 50  # on an idle machine; the lead grows with the load


def _open_stop_orders(db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT ft_trade_id, stop_price, ft_price, status FROM orders "
        "WHERE ft_order_side = 'stoploss' AND ft_is_open = 1",
    )


def test_the_exchange_stop_follows_the_plugin_stop(tmp_path: Path) -> None:
    slack = slowdown()
    datadir = tmp_path / "data"
    series = GapSeries(price=20.0, gap_index=1800, candles=2100, gap_factor=1.0, seed=5)
    start = timeline_start(series.gap_index + 1, SECONDS_TO_STEP * slack)
    # Step up by about 0.8 R (R = k1 * ATR at the entry): past breakeven (0.5 R), far
    # from the take-profit (3 R). The calm stretch before the step sets the ATR.
    calm = series.frame(start)
    atr = talib.ATR(calm["high"], calm["low"], calm["close"], timeperiod=14)
    entry_atr = float(atr.iloc[series.gap_index - 60 : series.gap_index].mean())
    step = dataclasses.replace(series, gap_factor=1 + 0.8 * K1 * entry_atr / series.price)
    write_pair(datadir, PAIR, step.frame(start))
    step_stored_ms = int(start.value // 1_000_000) + series.gap_index * MINUTE_MS

    userdir = user_data_with(tmp_path, "every_candle_strategy", EVERY_CANDLE_STRATEGY)
    db = tmp_path / "trades.sqlite"
    exit_policy = {
        regime: {
            "k1_SL": K1,
            "k2_TP": 3 * K1,
            "breakeven_R": 0.5,
            "breakeven_enabled": True,
            "trailing_enabled": False,
        }
        for regime in REGIMES
    }

    server = replay_server(datadir)
    bot = None
    try:
        config = write_freqtrade_config(
            tmp_path / "config.json",
            server.port,
            {
                "timeframe": "1m",
                "max_open_trades": 1,
                "exchange": {"pair_whitelist": [PAIR]},
                "entry_pricing": {"price_side": "other"},
                "exit_pricing": {"price_side": "other"},
                "internals": {"process_throttle_secs": 2},
                "order_types": {
                    "entry": "limit",
                    "exit": "limit",
                    "stoploss": "limit",  # Binance spot has stop-limit orders only
                    "stoploss_on_exchange": True,
                    "stoploss_on_exchange_interval": 5,
                },
                "quant": {
                    "risk": {"max_cost_in_R": 1.0, "risk_per_trade": 0.002},
                    "exit_policy": exit_policy,
                },
            },
        )
        bot = Bot(tmp_path, "on_exchange", config, "EveryCandleStrategy", db, userdir)

        def stop_placed() -> bool:
            rows = trades(db)
            return bool(rows and _open_stop_orders(db)) and "quant_entry_state" in custom_data(
                db, rows[0]["id"]
            )

        step_seen = public_ms(server, step_stored_ms + MINUTE_MS) / 1000
        assert wait_for(stop_placed, timeout=step_seen - time.time() - 5), bot.log[-4000:]
        (trade,) = trades(db)
        state = custom_data(db, trade["id"])["quant_entry_state"]
        ((trade_id, stop_price, _, _),) = _open_stop_orders(db)
        assert trade_id == trade["id"]
        tick = 0.001  # the server's tick for a price of 20
        assert stop_price == pytest.approx(state["stop_price"], abs=tick)
        assert stop_price == pytest.approx(trade["stop_loss"])

        # The market steps up by about 0.8 R: breakeven (0.5 R) arms, trailing is off.
        assert state["breakeven_price"] is not None
        gained = (series.price * step.gap_factor - state["entry_price"]) / (
            state["entry_price"] - state["stop_price"]
        )
        assert 0.55 < gained < 2.5, gained
        assert time.time() < step_seen, "the step came too early"

        def stop_at_breakeven() -> bool:
            orders = _open_stop_orders(db)
            return bool(orders) and orders[-1][1] == pytest.approx(
                state["breakeven_price"], abs=tick
            )

        deadline = step_seen + 45 * slack
        assert wait_for(stop_at_breakeven, timeout=deadline - time.time()), (
            _open_stop_orders(db),
            state["breakeven_price"],
            bot.log[-5000:],
        )
        (after,) = trades(db)
        assert after["is_open"] == 1
        assert after["stop_loss"] == pytest.approx(state["breakeven_price"], abs=tick)
        assert len(_open_stop_orders(db)) == 1  # replaced, not added
        log = bot.log
        assert "Cancelling current stoploss on exchange" in log
        for problem in PROBLEMS:
            assert problem not in log, log[-6000:]
        assert bot.interrupt() == 130
    finally:
        if bot is not None:
            bot.stop()
        server.stop()
