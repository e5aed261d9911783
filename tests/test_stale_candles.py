"""Issue 8, defect 12: the plugin notices stale candles, logs it, and enters nothing on them.

The candle cache Freqtrade hands the strategy (`dp.ohlcv`) stops growing during an
exchange outage. The loop start must log the pairs that went stale (once), block their
entries (stake 0), and log their recovery (once) when candles arrive again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    fresh_pair_trackers,
    load_strategy_class,
    long_stake,
    signal_candle,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.strategy.fail_closed import EntryBlocks
from freqtrade_quant_plugin.adapters.strategy.gates.staleness import (
    StaleCandles,
    expected_last_open,
)


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


def _stake(strategy, when: datetime, rate: float) -> float:
    return long_stake(strategy.custom_stake_amount, when, rate)


def _lines(caplog, text: str, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level and text in r.getMessage()]


def test_expected_candle_allows_a_grace_for_arrival():
    hour = 3600
    start = datetime(2024, 3, 1, 10, 0, tzinfo=UTC).timestamp()
    # 10:04: the 09:00 candle closed 4 min ago, within the 5 min grace: 08:00 must exist
    assert expected_last_open(start + 240, hour) == start - 2 * hour
    # 10:06: the 09:00-10:00 candle must be there
    assert expected_last_open(start + 360, hour) == start - hour
    minute = 60
    assert expected_last_open(start + 14, minute) == start - 2 * minute
    assert expected_last_open(start + 16, minute) == start - minute


def test_transitions_are_logged_once_and_block_entries(caplog):
    caplog.set_level(logging.INFO)
    blocks = EntryBlocks()
    stale = StaleCandles(60, blocks)
    sent = []
    strategy = type("S", (), {"dp": type("D", (), {"send_msg": lambda self, m: sent.append(m)})()})
    now = datetime(2024, 3, 1, 10, 0, 30, tzinfo=UTC)
    fresh_open = int(now.timestamp()) - 90  # 09:59: the newest closed candle
    stale.update(strategy, {"A/USDT": fresh_open, "B/USDT": fresh_open}, now)
    assert blocks.reason("A/USDT") is None
    later = now + timedelta(minutes=3)
    for _ in range(3):
        stale.update(strategy, {"A/USDT": fresh_open, "B/USDT": fresh_open}, later)
    (warning,) = _lines(caplog, "Stale candles for 2 pair(s): A/USDT, B/USDT", logging.WARNING)
    assert len(sent) == 1 and sent[0] == warning
    assert "candles are stale" in blocks.reason("A/USDT")
    back = later + timedelta(minutes=1)
    stale.update(strategy, {"A/USDT": int(back.timestamp()) - 90, "B/USDT": fresh_open}, back)
    (info,) = _lines(caplog, "Candles fresh again for 1 pair(s): A/USDT", logging.INFO)
    assert "stale for 60 s" in info
    assert blocks.reason("A/USDT") is None
    assert blocks.reason("B/USDT") is not None


def test_no_entry_on_stale_candles_and_entries_again_once_fresh(strategy_class, caplog):
    caplog.set_level(logging.INFO)
    strategy, frame, messages = started_strategy(strategy_class)
    signal = signal_candle(frame)
    rate = float(signal["close"])
    entry_time = signal["date"].to_pydatetime() + timedelta(hours=1, minutes=1)
    strategy.bot_loop_start(current_time=entry_time)
    assert _stake(strategy, entry_time, rate) > 0

    outage = entry_time + timedelta(hours=3)  # three hourly candles missing
    strategy.bot_loop_start(current_time=outage)
    assert _stake(strategy, outage, rate) == 0.0
    assert _lines(caplog, f"Stale candles for 1 pair(s): {PAIR}", logging.WARNING)
    assert _lines(caplog, f"{PAIR}: no long entry: its candles are stale", logging.INFO)
    assert any("Stale candles" in m for m in messages.sent)

    # The exchange is back: Freqtrade's cache holds the candles up to now again.
    fresh = frame.iloc[[-1]].copy()
    fresh["date"] = fresh["date"] + timedelta(hours=3)
    strategy.dp.ohlcv = lambda pair, timeframe=None, copy=True: fresh
    strategy.bot_loop_start(current_time=outage + timedelta(seconds=30))
    assert _lines(caplog, f"Candles fresh again for 1 pair(s): {PAIR}", logging.INFO)
    assert _stake(strategy, entry_time, rate) > 0
