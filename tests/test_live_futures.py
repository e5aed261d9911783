"""Live USD-M futures: a real `freqtrade trade` bot (dry_run false, isolated margin) on the
rehearsal server: leverage and margin type set on the account, the entry opens a position,
and the exchange stop is a reduce-only STOP_MARKET (a Binance algo order) at the plugin's
stop.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fault_support import custom_data
from live_support import (
    GapSeries,
    account_orders,
    assert_clean,
    live_bot,
    live_strategy,
    timeline_start,
    trade_amount,
    trades,
    wait_for,
    write_pair,
)
from parallel_support import ceiling

pytestmark = [pytest.mark.freqtrade, pytest.mark.live]

PAIR, SYMBOL = "FUTA/USDT:USDT", "FUTAUSDT"


def _futures_market(datadir: Path) -> None:
    frame = GapSeries(100.0, 1800, 2100, 1.0, seed=13).frame(timeline_start(1800, 60))
    write_pair(datadir, "FUTA/USDT", frame)  # the replay clock anchors on spot files
    futures = datadir / "futures"
    for kind, data in (("futures", frame), ("mark", frame)):
        write_pair(futures, "FUTA/USDT/USDT", data, f"1m-{kind}")
    funding = frame.assign(open=0.0001, high=0.0001, low=0.0001, close=0.0001,
                           volume=np.zeros(len(frame)))  # fmt: skip
    write_pair(futures, "FUTA/USDT/USDT", funding, "1m-funding_rate")


def _stop_at_plugin_stop(db: Path, server) -> dict | None:
    rows = [t for t in trades(db) if t["is_open"]]
    if len(rows) != 1:
        return None
    state = custom_data(db, rows[0]["id"]).get("quant_entry_state")
    stops = [o for o in account_orders(server, SYMBOL) if o.algo and o.is_open]
    if state is None or len(stops) != 1:
        return None
    return rows[0] if abs(stops[0].stop_price / state["stop_price"] - 1) < 2e-3 else None


def test_a_futures_entry_gets_a_reduce_only_stop_market_at_the_plugins_stop(
    tmp_path: Path,
) -> None:
    _futures_market(tmp_path / "data")
    order_types = {"entry": "limit", "exit": "limit", "stoploss": "market",
                   "stoploss_on_exchange": True, "stoploss_on_exchange_interval": 5}  # fmt: skip
    with live_bot(
        tmp_path, [PAIR], live_strategy(), trading_mode="futures", margin_mode="isolated",
        order_types=order_types,
    ) as (server, bot, db):  # fmt: skip
        assert wait_for(
            lambda: _stop_at_plugin_stop(db, server) is not None, timeout=ceiling(150)
        ), (
            trades(db),
            account_orders(server),
            bot.log[-6000:],
        )
        trade = _stop_at_plugin_stop(db, server)
        (stop,) = [o for o in account_orders(server, SYMBOL) if o.algo and o.is_open]
        assert stop.type == "STOP_MARKET" and stop.reduce_only and stop.side == "SELL"
        position = server.api.exchange.synced().positions[SYMBOL]
        assert position.margin_type == "ISOLATED"
        assert position.amount == pytest.approx(trade_amount(db, trade["id"]), rel=1e-6)
        assert stop.quantity == pytest.approx(position.amount, rel=1e-6)
        assert_clean(bot.log)
        assert bot.interrupt() == 130
