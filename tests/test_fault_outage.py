"""Fault test: the exchange goes away mid-run and comes back on the same port.

A dry-run bot on a replayed 1m market holds a trade on HOLD/USDT. The offline server
stops; the bot must keep running, the plugin must log that the pairs' candles went stale
(and decide nothing meanwhile), then, once the server is back (same port, same replay
clock), log that they are fresh again and resume: LATE/USDT, whose strategy only enters
on candles dated after the outage began, opens its trade then. Assertions on the DB and
the log.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from fault_support import (
    PROBLEMS,
    Bot,
    GapSeries,
    custom_data,
    epoch_ms_of_db_date,
    quant_section,
    replay_server,
    timeline_start,
    trades,
    user_data_with,
    wait_for,
    write_pair,
)
from freqtrade_support import write_freqtrade_config
from live_support import LOOP_INTERNALS, ran_loops
from parallel_support import ceiling

pytestmark = [pytest.mark.freqtrade, pytest.mark.fault]

HOLD, LATE = "HOLD/USDT", "LATE/USDT"
OUTAGE_LOOPS = 3  # loops the bot runs on stale candles before the exchange comes back

OUTAGE_STRATEGY = """
from pathlib import Path

import pandas as pd
from quant_regime_strategy import QuantRegimeStrategy

ENTER_FROM = Path({enter_from!r})


class OutageStrategy(QuantRegimeStrategy):
    '''HOLD/USDT: long on any known regime. LATE/USDT: only on candles dated at or after
    the instant written to ENTER_FROM (epoch ms), none while that file is missing.'''

    timeframe = "1m"

    def populate_entry_trend(self, dataframe, metadata):
        wanted = dataframe["regime"] != "UNKNOWN"
        if metadata["pair"] == "{late}":
            if not ENTER_FROM.exists():
                wanted = wanted & False
            else:
                start = pd.Timestamp(int(ENTER_FROM.read_text()), unit="ms", tz="UTC")
                wanted = wanted & (dataframe["date"] >= start)
        dataframe["enter_long"] = wanted.astype(int)
        dataframe["enter_short"] = 0
        return dataframe
"""


def test_an_exchange_outage_is_logged_and_survived(tmp_path: Path) -> None:
    datadir = tmp_path / "data"
    calm = GapSeries(price=40.0, gap_index=2000, candles=2100, gap_factor=1.0, seed=3)
    start = timeline_start(1900, 0)  # the replay starts at candle 1900
    for seed, pair in enumerate((HOLD, LATE)):
        write_pair(datadir, pair, dataclasses.replace(calm, seed=seed).frame(start))

    enter_from = tmp_path / "enter_from_ms"
    userdir = user_data_with(
        tmp_path, "outage_strategy", OUTAGE_STRATEGY.format(enter_from=str(enter_from), late=LATE)
    )
    db = tmp_path / "trades.sqlite"

    server = replay_server(datadir)
    port = server.port
    bot = None
    try:
        config = write_freqtrade_config(
            tmp_path / "config.json",
            server.port,
            {
                "timeframe": "1m",
                "max_open_trades": 2,
                "exchange": {"pair_whitelist": [HOLD, LATE]},
                "entry_pricing": {"price_side": "other"},
                "exit_pricing": {"price_side": "other"},
                "internals": LOOP_INTERNALS,  # a heartbeat after every loop
                "quant": quant_section(5.0, risk={"max_cost_in_R": 1.0, "risk_per_trade": 0.002}),
            },
        )
        bot = Bot(tmp_path, "outage", config, "OutageStrategy", db, userdir)

        def holding() -> bool:
            open_hold = [t for t in trades(db) if t["pair"] == HOLD and t["is_open"]]
            return bool(open_hold) and "quant_entry_state" in custom_data(db, open_hold[0]["id"])

        assert wait_for(holding, timeout=ceiling(90)), bot.log[-4000:]

        # The exchange goes away. LATE may enter on candles from now on: none can arrive
        # before the exchange is back.
        outage_start = time.time()
        enter_from.write_text(str(int(outage_start * 1000)))
        server.stop()
        (held,) = [t for t in trades(db) if t["pair"] == HOLD]  # as the outage began
        assert wait_for(lambda: "Stale candles for" in bot.log, timeout=ceiling(150)), bot.log[
            -6000:
        ]
        # whole loops on stale candles (what "nothing opened during the outage" is about)
        assert ran_loops(bot, OUTAGE_LOOPS, 150) and bot.alive(), bot.log[-4000:]
        (through,) = [t for t in trades(db) if t["id"] == held["id"]]  # as it ends
        server = replay_server(datadir, port)  # same port, same history as before
        outage_end = time.time()

        assert wait_for(lambda: "Candles fresh again for" in bot.log, timeout=ceiling(90)), bot.log[
            -6000:
        ]
        # resumed: LATE's entry fills and its entry facts are logged
        assert wait_for(lambda: f"LONG {LATE} ENTRY @" in bot.log, timeout=ceiling(90)), bot.log[
            -6000:
        ]
        log = bot.log
        assert bot.alive(), log[-4000:]

        stale_line = next(line for line in log.splitlines() if "- Stale candles for" in line)
        assert HOLD in stale_line and LATE in stale_line, stale_line
        fresh_line = next(line for line in log.splitlines() if "Candles fresh again for" in line)
        assert HOLD in fresh_line and LATE in fresh_line, fresh_line
        # logged once, not every loop (Freqtrade echoes the message it sends once more)
        assert log.count("staleness - WARNING - Stale candles for") == 1
        # Nothing decided on stale candles: no trade opened during the outage, and the
        # trade held through it is untouched (same stop, still open); after it, the stop
        # of the still open trade may only have tightened on fresh candles.
        for trade in trades(db):
            opened = epoch_ms_of_db_date(trade["open_date"]) / 1000
            assert not (outage_start <= opened <= outage_end), trade
        (late,) = [t for t in trades(db) if t["pair"] == LATE]
        assert epoch_ms_of_db_date(late["open_date"]) / 1000 > outage_end
        assert through["is_open"] == 1 and through["stop_loss"] == pytest.approx(held["stop_loss"])
        (still,) = [t for t in trades(db) if t["id"] == held["id"]]
        assert not still["is_open"] or still["stop_loss"] >= held["stop_loss"] - 1e-9
        assert f"LONG {LATE} ENTRY @" in log
        for problem in PROBLEMS:
            assert problem not in log, log[-6000:]
        assert bot.interrupt() == 130
    finally:
        if bot is not None:
            bot.stop()
        server.stop()
