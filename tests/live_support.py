"""Live tests: real `freqtrade trade` processes with dry_run false on the rehearsal server.

Built on fault_support (replayed 1m candles whose future is known, bots as processes,
the SQLite trade DB read directly); adds the simulated account of `serve --live`, the
live config fragment and readers of the account's orders.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fault_support import (
    DAY_MS,
    MINUTE_MS,
    PROBLEMS,
    REPLAY_DAYS,
    Bot,
    GapSeries,
    custom_data,
    public_ms,
    quant_section,
    query,
    replay_server,
    timeline_start,
    trades,
    user_data_with,
    wait_for,
    write_pair,
)
from freqtrade_support import write_freqtrade_config
from parallel_support import ceiling

from freqtrade_quant_plugin.offline.account import Order
from freqtrade_quant_plugin.offline.faults import Faults
from freqtrade_quant_plugin.offline.rehearsal import LiveRehearsal
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer
from freqtrade_quant_plugin.offline.signing import REHEARSAL_KEY, REHEARSAL_SECRET

__all__ = ["DAY_MS", "MINUTE_MS", "REPLAY_DAYS", "GapSeries", "public_ms", "timeline_start",
           "trades", "wait_for", "write_pair"]  # fmt: skip

NO_STOP_STATE = "no_stop_state"  # the plugin's exit of a trade it cannot protect
# Freqtrade logs a heartbeat at the end of a loop once `heartbeat_interval` has passed:
# with the interval (1 s) below the loop's throttle (2 s), once after every loop. A loop
# of a running bot (one stopped by an OperationalException still loops, 'STOPPED').
RUNNING_LOOP = re.compile(r"Bot heartbeat\.[^\n]*state='RUNNING'")
LOOP_INTERNALS = {"process_throttle_secs": 2, "heartbeat_interval": 1}

# Live: the exchange holds the stop; the plugin's stop moves it (checked every 5 s).
LIVE_ORDER_TYPES = {
    "entry": "limit",
    "exit": "limit",
    "stoploss": "limit",
    "stoploss_on_exchange": True,
    "stoploss_on_exchange_interval": 5,
}

# A 1m QuantRegimeStrategy that goes long on every known-regime candle above a floor
# (no entries after a gap down), with the exchange stop on.
LIVE_STRATEGY = """
from quant_regime_strategy import QuantRegimeStrategy


class LiveStrategy(QuantRegimeStrategy):
    timeframe = "1m"
    order_types = {order_types!r}
    entry_floor = {floor}
    limit_below = {limit_below!r}  # pair -> how far below the market its entry limit sits

    def populate_entry_trend(self, dataframe, metadata):
        wanted = (dataframe["regime"] != "UNKNOWN") & (dataframe["close"] > self.entry_floor)
        dataframe["enter_long"] = wanted.astype(int)
        dataframe["enter_short"] = 0
        return dataframe

    def custom_entry_price(self, pair, trade, current_time, proposed_rate, entry_tag, side,
                           **kwargs):
        return proposed_rate * (1 - self.limit_below.get(pair, 0.0))
"""


def live_strategy(floor: float = 0.0, limit_below: dict[str, float] | None = None) -> str:
    return LIVE_STRATEGY.format(
        order_types=LIVE_ORDER_TYPES, floor=floor, limit_below=limit_below or {}
    )


def live_server(
    datadir: Path, port: int = 0, faults: Faults | None = None, wallet: float = 10_000.0
) -> OfflineExchangeServer:
    """The replay server of fault_support with a rehearsal account (kept in datadir)."""
    live = LiveRehearsal(wallet=wallet, faults=faults or Faults())
    return replay_server(datadir, port, live=live)


def live_config(path: Path, port: int, pairs: list[str], **overrides) -> Path:
    """The fault tests' bot config, live: rehearsal keys, dry_run false, exchange stops."""
    config = {
        "dry_run": False,
        "timeframe": "1m",
        "max_open_trades": len(pairs),
        "exchange": {"pair_whitelist": pairs, "key": REHEARSAL_KEY, "secret": REHEARSAL_SECRET},
        "entry_pricing": {"price_side": "other"},
        "exit_pricing": {"price_side": "other"},
        "internals": LOOP_INTERNALS,
        "order_types": LIVE_ORDER_TYPES,
        "quant": quant_section(5.0, risk={"max_cost_in_R": 1.0, "risk_per_trade": 0.002}),
    }
    for key, value in overrides.items():
        config[key] = value
    return write_freqtrade_config(path, port, config)


def account_orders(server: OfflineExchangeServer, symbol: str | None = None) -> list[Order]:
    """Every order of the simulated account (matched up to now), oldest first."""
    state = server.api.exchange.synced()
    return [o for o in state.orders.values() if symbol is None or o.symbol == symbol]


def open_stops(server: OfflineExchangeServer, symbol: str) -> list[Order]:
    return [o for o in account_orders(server, symbol) if o.is_open and o.type == "STOP_LOSS_LIMIT"]


def db_orders(db: Path, trade_id: int | None = None) -> list[dict]:
    keys = ("ft_trade_id", "ft_order_side", "order_id", "status", "order_type", "price",
            "stop_price", "amount", "filled", "ft_is_open")  # fmt: skip
    where = "" if trade_id is None else f" WHERE ft_trade_id = {trade_id}"
    rows = query(db, f"SELECT {', '.join(keys)} FROM orders{where} ORDER BY id")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def open_db_stop(db: Path, trade_id: int) -> dict | None:
    stops = [o for o in db_orders(db, trade_id) if o["ft_order_side"] == "stoploss"]
    stops = [o for o in stops if o["ft_is_open"]]
    return stops[-1] if stops else None


def trade_amounts(db: Path) -> dict[int, float]:
    return dict(query(db, "SELECT id, amount FROM trades"))


def symbol(pair: str) -> str:
    return pair.replace("/", "")


def trade_amount(db: Path, trade_id: int) -> float:
    return query(db, f"SELECT amount FROM trades WHERE id = {trade_id}")[0][0]


def protected(
    db: Path, server: OfflineExchangeServer, pair: str, moved: bool = False
) -> dict | None:
    """The open trade of `pair` once exactly one exchange stop rests at the plugin's stop
    and the trade DB knows that order. The plugin's stop is the stored entry state's, or
    with `moved` the trade's current stop (after breakeven or trailing moved it)."""
    rows = [t for t in trades(db) if t["pair"] == pair and t["is_open"]]
    if len(rows) != 1:
        return None
    state = custom_data(db, rows[0]["id"]).get("quant_entry_state")
    stops = open_stops(server, symbol(pair))
    db_stop = open_db_stop(db, rows[0]["id"])
    if state is None or len(stops) != 1 or db_stop is None:
        return None
    if db_stop["order_id"] != str(stops[0].order_id):
        return None
    wanted = rows[0]["stop_loss"] if moved else state["stop_price"]
    return rows[0] if abs(stops[0].stop_price / wanted - 1) < 2e-3 else None


def recorded_open_entry(db: Path, server: OfflineExchangeServer, pair: str) -> Order | None:
    """The pair's one open entry order on the account once the trade DB holds it too.

    Freqtrade places an order before it commits the trade: a bot killed in between leaves
    an order its DB never knew (Freqtrade's own window, not the plugin's), so a test that
    kills a bot "with an open order" waits for both."""
    waiting = [o for o in account_orders(server, symbol(pair)) if o.is_open and o.side == "BUY"]
    known = {o["order_id"] for o in db_orders(db) if o["ft_order_side"] == "buy"}
    return waiting[0] if len(waiting) == 1 and str(waiting[0].order_id) in known else None


def sells(server: OfflineExchangeServer, pair: str) -> list[Order]:
    """Sell orders of `pair` that filled (any part) on the account."""
    return [o for o in account_orders(server, symbol(pair)) if o.side == "SELL" and o.executed]


def loops(log: str) -> int:
    """Loops a running bot with LOOP_INTERNALS has finished, read from its log."""
    return len(RUNNING_LOOP.findall(log))


def ran_loops(bot: Bot, count: int, seconds: float) -> bool:
    """Whether `bot` finishes `count` more loops from now within ceiling(`seconds`).

    The evidence a quiet window needs: "nothing happened for N s" passes by itself when a
    slow bot never looped in those N s; "nothing happened in `count` loops" does not."""
    begun = loops(bot.log)
    return wait_for(lambda: loops(bot.log) >= begun + count, ceiling(seconds))


def assert_clean(*logs: str) -> None:
    """No trade exited for want of a stop state, no traceback, in any of the logs."""
    for log in logs:
        assert NO_STOP_STATE not in log, log[-6000:]
        for problem in PROBLEMS:
            assert problem not in log, log[-6000:]


@contextmanager
def live_bot(
    tmp_path: Path, pairs: list[str], strategy: str, faults: Faults | None = None, **config
) -> Iterator[tuple[OfflineExchangeServer, Bot, Path]]:
    """(server, bot, trade DB) for the market already written to tmp_path/data; the bot
    runs LiveStrategy from `strategy` (see `live_strategy`); both end with the block."""
    userdir = user_data_with(tmp_path, "live_strategy", strategy)
    db = tmp_path / "trades.sqlite"
    server = live_server(tmp_path / "data", faults=faults)
    bot = None
    try:
        path = live_config(tmp_path / "config.json", server.port, pairs, **config)
        bot = Bot(tmp_path, "bot", path, "LiveStrategy", db, userdir)
        yield server, bot, db
    finally:
        if bot is not None:
            bot.stop()
        server.stop()
