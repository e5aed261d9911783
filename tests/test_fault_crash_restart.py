"""Fault test: a dry-run bot with open trades is killed with SIGKILL and restarted.

Replayed 1m market, three pairs, a bot that goes long on every candle with a known regime:
CALMA and CALMB stay open (calm prices, stops and targets far away); GAPX gaps through its
stop, closes at a loss and, with a disable threshold of one loss, is disabled: its signals
then run as paper trades. With trades open, a disabled pair and a paper trade open, the
bot gets SIGKILL (no shutdown code runs) and a new bot starts on the same DB.

After the restart: every open trade is still open with the stop of its stored entry
state, every trade's custom data is unchanged, the symbol-performance snapshot (whole
JSON) equals the one before the kill, and no paper trade is lost or duplicated.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from fault_support import (
    EVERY_CANDLE_STRATEGY,
    MINUTE_MS,
    PROBLEMS,
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
from parallel_support import slowdown

pytestmark = [pytest.mark.freqtrade, pytest.mark.fault]

CALM, GAPPING = ("CALMA/USDT", "CALMB/USDT"), "GAPX/USDT"
SECONDS_TO_GAP = 45  # on an idle machine; the lead grows with the load


def _paper_trades(db: Path) -> list[tuple]:
    return query(
        db,
        "SELECT id, pair, opened_at, entry_price, status, closed_at, exit_reason "
        "FROM quant_paper_trades ORDER BY id",
    )


def _all_custom_data(db: Path) -> dict[int, dict]:
    return {t["id"]: custom_data(db, t["id"]) for t in trades(db)}


def test_sigkill_and_restart_lose_nothing(tmp_path: Path) -> None:
    slack = slowdown()
    datadir = tmp_path / "data"
    calm = GapSeries(price=50.0, gap_index=1800, candles=2100, gap_factor=1.0, seed=1)
    start = timeline_start(calm.gap_index + 1, SECONDS_TO_GAP * slack)
    for seed, pair in enumerate(CALM):
        write_pair(datadir, pair, dataclasses.replace(calm, seed=seed).frame(start))
    gap = dataclasses.replace(calm, price=80.0, gap_factor=0.9, seed=7)
    write_pair(datadir, GAPPING, gap.frame(start))
    gap_stored_ms = int(start.value // 1_000_000) + gap.gap_index * MINUTE_MS

    userdir = user_data_with(tmp_path, "every_candle_strategy", EVERY_CANDLE_STRATEGY)
    db = tmp_path / "trades.sqlite"
    snapshot = tmp_path / "symbol_performance.json"

    server = replay_server(datadir)
    bots: list[Bot] = []
    try:
        config = write_freqtrade_config(
            tmp_path / "config.json",
            server.port,
            {
                "timeframe": "1m",
                "max_open_trades": 3,
                "exchange": {"pair_whitelist": [*CALM, GAPPING]},
                "entry_pricing": {"price_side": "other"},
                "exit_pricing": {"price_side": "other"},
                "internals": {"process_throttle_secs": 2},
                "quant": quant_section(
                    5.0,
                    risk={"max_cost_in_R": 1.0, "risk_per_trade": 0.002},
                    symbol_performance={
                        "consecutive_loss_disable_threshold": 1,
                        "persistence_file": str(snapshot),
                    },
                ),
            },
        )
        first = Bot(tmp_path, "first", config, "EveryCandleStrategy", db, userdir)
        bots.append(first)

        def ready_to_kill() -> bool:
            rows = trades(db)
            open_calm = {t["pair"] for t in rows if t["is_open"] and t["pair"] in CALM}
            gap_closed = any(t["pair"] == GAPPING and not t["is_open"] for t in rows)
            paper_open = any(p[1] == GAPPING and p[4] == "open" for p in _paper_trades(db))
            return open_calm == set(CALM) and gap_closed and paper_open and snapshot.exists()

        deadline = public_ms(server, gap_stored_ms + MINUTE_MS) / 1000 + 150 * slack
        assert wait_for(ready_to_kill, timeout=deadline - time.time()), (
            trades(db),
            _paper_trades(db),
            first.log[-6000:],
        )
        first.kill()
        log_first = first.log
        before = {
            "trades": trades(db),
            "custom": _all_custom_data(db),
            "paper": _paper_trades(db),
            "snapshot": json.loads(snapshot.read_text()),
        }
        assert f"{GAPPING} disabled after 1 consecutive losses" in log_first
        open_before = {t["id"]: t for t in before["trades"] if t["is_open"]}
        assert {t["pair"] for t in open_before.values()} == set(CALM)

        second = Bot(tmp_path, "second", config, "EveryCandleStrategy", db, userdir)
        bots.append(second)
        rebuilt = [f"Trade {i} {t['pair']}: entry state rebuilt" for i, t in open_before.items()]
        assert wait_for(lambda: all(line in second.log for line in rebuilt), timeout=90 * slack), (
            second.log[-6000:]
        )
        time.sleep(6 * slack)  # a few more 2 s loops on the rebuilt state
        assert second.interrupt() == 130
        log_second = second.log

        after_trades = {t["id"]: t for t in trades(db)}
        for trade_id, trade in open_before.items():
            state = before["custom"][trade_id]["quant_entry_state"]
            now = after_trades[trade_id]
            assert now["is_open"] == 1, now
            assert now["stop_loss"] == pytest.approx(trade["stop_loss"]), now
            assert now["stop_loss"] == pytest.approx(state["stop_price"], rel=1e-3)
        for trade in before["trades"]:  # nothing lost
            assert trade["id"] in after_trades
        for trade_id, data in before["custom"].items():
            after = custom_data(db, trade_id)
            assert {k: after.get(k) for k in data} == data, trade_id
        # No paper trade lost or duplicated: each one from before is still there (the
        # open one may have closed since), and no pair has two open at once.
        after_paper = {row[0]: row for row in _paper_trades(db)}
        for row in before["paper"]:
            assert row[0] in after_paper
            assert after_paper[row[0]][1:4] == row[1:4]
            if row[4] == "closed":
                assert after_paper[row[0]] == row
        opened = [(row[1], row[2]) for row in after_paper.values()]
        assert len(opened) == len(set(opened))
        assert sum(1 for row in after_paper.values() if row[4] == "open") <= 1
        # The symbol-performance state after the restart equals the one before the kill.
        after_snapshot = json.loads(snapshot.read_text())
        assert after_snapshot == before["snapshot"] or _same_but_paper(
            before["snapshot"], after_snapshot, after_paper, before["paper"]
        )
        assert "has no readable entry state" not in log_second
        assert "disabled after" not in log_second  # rebuilt quietly, not a second disable
        for problem in PROBLEMS:
            assert problem not in log_first, log_first[-6000:]
            assert problem not in log_second, log_second[-6000:]
    finally:
        for bot in bots:
            bot.stop()
        server.stop()


def _same_but_paper(before: dict, after: dict, paper_after: dict, paper_before: list) -> bool:
    """The snapshot may only differ by paper results that closed after the restart."""
    closed_since = sum(1 for row in paper_after.values() if row[4] == "closed") - sum(
        1 for row in paper_before if row[4] == "closed"
    )
    if closed_since <= 0:
        return False
    strip = ("paper_consecutive_wins", "paper_trades", "is_enabled")
    return {
        pair: {k: v for k, v in stats.items() if k not in strip}
        for pair, stats in before["symbols"].items()
    } == {
        pair: {k: v for k, v in stats.items() if k not in strip}
        for pair, stats in after["symbols"].items()
    }
