"""A person overrides a disabled pair with Freqtrade's REST API, on a real dry-run bot.

Issue 16, defect 5: the plugin's lock reconciliation locked the pair again on the next
loop, so `/unlock` (Telegram), FreqUI or `DELETE /api/v1/locks/<id>` could not override
the plugin. Here a `freqtrade trade --dry-run` starts on a DB whose ETH/USDT history
disables the pair (two losses, threshold 2), locks it, and the test deletes that lock
through Freqtrade's REST API: the bot must log the override, keep the pair unlocked on
the following loops, and, restarted on the same DB, still count it enabled.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import Popen

import pytest
from api_support import api_call, api_server_config
from freqtrade.persistence import PairLocks, Trade
from freqtrade_support import REPO_ROOT, interrupt_and_wait, start_freqtrade, start_offline_server
from pair_db_support import add_trade, open_database
from parallel_support import ceiling

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
LOCKED = "Locked ETH/USDT: symbol performance counts it disabled"
OVERRIDE = "Re-enabling ETH/USDT by hand"
HEARTBEAT = "Bot heartbeat"


@pytest.fixture
def replay_server(market_datadir: Path) -> Iterator[OfflineExchangeServer]:
    server = start_offline_server(market_datadir, replay=True)
    yield server
    server.stop()


def _plugin_locks(api: dict) -> list[dict]:
    locks = api_call(api, "GET", "locks")["locks"]
    return [lock for lock in locks if (lock["reason"] or "").startswith("Symbol performance:")]


def _wait_for(
    predicate: Callable[[], bool], what: str, log: Path, bot: Popen, timeout: float = 240
) -> None:
    """Until `predicate` holds, while the bot runs; `timeout` on an idle machine, grown
    with the load (`ceiling`)."""
    timeout = ceiling(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and bot.poll() is None:
        if predicate():
            return
        time.sleep(0.5)
    assert predicate(), f"waited {timeout:.0f} s for {what}:\n" + _text(log)[-4000:]


def _text(log: Path) -> str:
    return log.read_text(errors="replace")


def _loops_after(log: Path, marker: str, loops: int) -> Callable[[], bool]:
    """True once `loops` heartbeats (one per loop here) follow the marker's first line:
    the bot has run whole loops since, its lock reconciliation included."""

    def ready() -> bool:
        text = _text(log)
        start = text.find(marker)
        return start >= 0 and text.count(HEARTBEAT, start) >= loops

    return ready


def test_unlock_through_the_rest_api_overrides_the_plugin(
    freqtrade_config, replay_server, tmp_path
):
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    db = tmp_path / "trades.sqlite"
    open_database(f"sqlite:///{db}")
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)  # sized by the plugin: risk money 5
    Trade.session.remove()
    PairLocks.use_db = True
    api = api_server_config()
    config = freqtrade_config(
        {
            "exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]},
            "internals": {"process_throttle_secs": 1, "heartbeat_interval": 1},
            "api_server": api,
            "quant": {"symbol_performance": {"consecutive_loss_disable_threshold": 2}},
        },
        port=replay_server.port,
    )
    command = [
        "trade", "--config", config, "--userdir", tmp_path / "user_data",
        "--strategy", "QuantRegimeStrategy", "--db-url", f"sqlite:///{db}", "--dry-run",
    ]  # fmt: skip

    log = tmp_path / "bot.log"
    bot = start_freqtrade(command, cwd=tmp_path, log_file=log)
    try:
        _wait_for(lambda: LOCKED in _text(log), "the plugin's lock", log, bot)
        _wait_for(lambda: "Uvicorn running" in _text(log), "the REST API", log, bot)
        (lock,) = _plugin_locks(api)
        assert lock["pair"] == "ETH/USDT"
        api_call(api, "DELETE", f"locks/{lock['id']}")  # what FreqUI's and /unlock do
        _wait_for(lambda: OVERRIDE in _text(log), "the override", log, bot)
        _wait_for(_loops_after(log, OVERRIDE, 3), "three loops after the override", log, bot)
        assert _plugin_locks(api) == []  # not locked again by the next loops
    finally:
        exit_code = interrupt_and_wait(bot)
    text = _text(log)
    assert exit_code == 130, text[-4000:]
    assert "Traceback" not in text, text[-4000:]
    assert text.count(LOCKED) == 1, text[-4000:]
    assert re.search(r"WARNING - Re-enabling ETH/USDT by hand", text), text[-4000:]

    # Restarted on the same DB: the removed lock replays the override; nothing is locked.
    log = tmp_path / "restart.log"
    bot = start_freqtrade(command, cwd=tmp_path, log_file=log)
    try:
        rebuilt = "Symbol performance rebuilt from"
        _wait_for(_loops_after(log, rebuilt, 3), "three loops after the rebuild", log, bot)
        _wait_for(lambda: "Uvicorn running" in _text(log), "the REST API", log, bot)
        assert _plugin_locks(api) == []
    finally:
        exit_code = interrupt_and_wait(bot)
    text = _text(log)
    assert exit_code == 130, text[-4000:]
    assert "Traceback" not in text, text[-4000:]
    assert "1 locks removed by hand; disabled pairs: none" in text, text[-4000:]
    assert LOCKED not in text, text[-4000:]
