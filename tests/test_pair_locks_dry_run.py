"""A dry-run bot releases, at start-up, the symbol-performance lock its state no longer backs.

Issue 8, defect 6, on the real process: the DB holds two losing ETH/USDT trades and the
10-year SymbolPerformanceProtection lock of an earlier run whose disable threshold was 2.
With the default threshold (10) the tracker counts the pair enabled, so the bot must
release that lock in its first loop, log it, and leave the pair's other lock alone.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freqtrade.persistence import PairLocks, Trade
from freqtrade_support import (
    REPO_ROOT,
    interrupt_and_wait,
    start_freqtrade,
    start_offline_server,
)
from pair_db_support import add_trade, open_database
from parallel_support import ceiling

from freqtrade_quant_plugin.adapters.pairs.pair_locks import LOCK_HORIZON, lock_reason
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
RELEASED = "Released the stale symbol-performance lock of ETH/USDT"
RUNNING = "Changing state to: RUNNING"


@pytest.fixture
def replay_server(market_datadir: Path) -> Iterator[OfflineExchangeServer]:
    server = start_offline_server(market_datadir, replay=True)
    yield server
    server.stop()


def _locks(db: Path) -> list[tuple[str, str, int]]:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT pair, reason, active FROM pairlocks").fetchall()


def _database_from_an_earlier_run(db: Path) -> None:
    open_database(f"sqlite:///{db}")
    PairLocks.use_db, PairLocks.timeframe = True, "1h"
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)
    now = datetime.now(UTC)
    reason = lock_reason("2 consecutive losses (win rate 0%), locked until paper wins ...")
    PairLocks.lock_pair("ETH/USDT", now + LOCK_HORIZON, reason, now=now)
    PairLocks.lock_pair("ETH/USDT", now + timedelta(days=1), "Manual lock", now=now)
    Trade.session.remove()


def test_dry_run_releases_a_stale_lock_at_start_up(freqtrade_config, replay_server, tmp_path):
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    db = tmp_path / "trades.sqlite"
    _database_from_an_earlier_run(db)
    assert sorted(active for _, _, active in _locks(db)) == [1, 1]
    config = freqtrade_config(
        {"exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]}},
        port=replay_server.port,
    )
    log_file = tmp_path / "bot.log"
    bot = start_freqtrade(
        ["trade", "--config", config, "--userdir", tmp_path / "user_data",
         "--strategy", "QuantRegimeStrategy", "--db-url", f"sqlite:///{db}", "--dry-run"],
        cwd=tmp_path,
        log_file=log_file,
    )  # fmt: skip
    try:
        # The lock is released during start-up; Ctrl-C only once the bot runs its loop (a
        # Freqtrade interrupted in its start-up may hang instead of exiting).
        deadline = time.monotonic() + ceiling(240)
        while time.monotonic() < deadline and not all(
            line in log_file.read_text(errors="replace") for line in (RELEASED, RUNNING)
        ):
            time.sleep(1)
    finally:
        exit_code = interrupt_and_wait(bot)
    text = log_file.read_text(errors="replace")
    assert RELEASED in text, text[-4000:]
    assert "counts the pair enabled" in text
    assert exit_code == 130, text[-4000:]
    assert "Traceback" not in text, text[-4000:]
    locks = {reason.split(":")[0]: active for _, reason, active in _locks(db)}
    assert locks == {"Symbol performance": 0, "Manual lock": 1}
    assert text.count(RELEASED) == 1  # released once, not again on every loop
