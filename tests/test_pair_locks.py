"""Pair locks follow the symbol-performance state at start-up and on every loop.

Issue 8, defect 6: a SymbolPerformanceProtection lock (10 years) outlived its reason when
the thresholds changed or the protection was removed, and the pair never traded again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import PairLocks
from freqtrade.rpc import RPC
from pair_db_support import T0, add_trade, open_database

from freqtrade_quant_plugin.adapters.pairs.pair_locks import (
    LOCK_HORIZON,
    LOCK_REASON_PREFIX,
    lock_reason,
    protection_in_use,
    reconcile_locks,
)
from freqtrade_quant_plugin.adapters.pairs.pair_performance import PairPerformanceHooks
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.adapters.signal_rows import SignalTable
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.report.aggregate import Filters
from freqtrade_quant_plugin.report.build import build_report
from freqtrade_quant_plugin.report.load_db import load_database

NOW = datetime(2024, 1, 2, tzinfo=UTC)
PROTECTIONS = [{"method": "SymbolPerformanceProtection"}]


@pytest.fixture
def database(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'trades.sqlite'}"
    open_database(url)
    PairLocks.use_db = True
    PairLocks.timeframe = "1h"
    return url


def _plugin_lock(pair: str) -> None:
    PairLocks.lock_pair(pair, NOW + LOCK_HORIZON, lock_reason("3 consecutive losses"), now=NOW)


def _active_reasons(pair: str) -> list[str]:
    return [lock.reason for lock in PairLocks.get_pair_locks(pair, NOW, side=None)]


def _tracker(threshold: int) -> PairPerformanceTracker:
    tracker = PairPerformanceTracker(
        SymbolPerformanceConfig(consecutive_loss_disable_threshold=threshold)
    )
    tracker.sync()
    return tracker


def test_lock_of_an_enabled_pair_is_released_and_logged(database, caplog):
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)  # 2 losses: disabled at 2, not at 3
        add_trade("SOL/USDT", minute + 1, profit=-1.0)
    _plugin_lock("ETH/USDT")
    _plugin_lock("SOL/USDT")
    PairLocks.lock_pair("ETH/USDT", NOW + timedelta(hours=2), "Cooldown", now=NOW)
    still_disabling = _tracker(threshold=2)
    reconcile_locks(still_disabling, NOW, protection=True)
    assert len(_active_reasons("ETH/USDT")) == 2  # state and lock agree: nothing to do

    raised = _tracker(threshold=3)  # the user raised the threshold: both pairs enabled
    with caplog.at_level(logging.WARNING):
        reconcile_locks(raised, NOW, protection=True)
    assert _active_reasons("ETH/USDT") == ["Cooldown"]  # other locks stay
    assert _active_reasons("SOL/USDT") == []
    for pair in ("ETH/USDT", "SOL/USDT"):
        assert f"Released the stale symbol-performance lock of {pair}" in caplog.text
    assert "counts the pair enabled" in caplog.text


def test_removed_protection_releases_every_plugin_lock(database, caplog):
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)
    _plugin_lock("ETH/USDT")
    tracker = _tracker(threshold=2)
    assert tracker.disabled_pairs() == ["ETH/USDT"]
    with caplog.at_level(logging.WARNING):
        reconcile_locks(tracker, NOW, protection=False)
    assert _active_reasons("ETH/USDT") == []
    assert "SymbolPerformanceProtection is no longer in the strategy's protections" in caplog.text


def test_disabled_pair_without_a_lock_gets_one(database):
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)
    tracker = _tracker(threshold=2)  # e.g. the threshold was lowered between two runs
    reconcile_locks(tracker, NOW, protection=True)
    (reason,) = _active_reasons("ETH/USDT")
    assert reason.startswith(f"{LOCK_REASON_PREFIX}2 consecutive losses")
    reconcile_locks(tracker, NOW, protection=True)
    assert len(_active_reasons("ETH/USDT")) == 1  # no second lock on the next loop


def test_protection_in_use_reads_the_strategy_protections():
    assert protection_in_use(PROTECTIONS)
    assert not protection_in_use([{"method": "CooldownPeriod"}])
    assert not protection_in_use(None)


class _DataProvider:
    runmode = RunMode.DRY_RUN

    def send_msg(self, message, *, always_send=False):
        pass


def test_bot_loop_reconciles_at_start_up(database):
    """The strategy's loop hook, live: a stale lock from the previous run goes at once."""
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)
    _plugin_lock("ETH/USDT")
    quant = {"symbol_performance": {"consecutive_loss_disable_threshold": 4}}
    strategy = SimpleNamespace(
        timeframe="1h",
        can_short=False,
        config={"trading_mode": "spot", "quant": quant},
        dp=_DataProvider(),
        signal_table=SignalTable(),
        protections=PROTECTIONS,
        log_decision=logging.getLogger("quant_strategy").info,
    )
    hooks = PairPerformanceHooks(strategy, QuantSettings.load(quant, {}))
    hooks.bot_loop_start(NOW)
    assert _active_reasons("ETH/USDT") == []


def _hand_unlock(pair: str) -> None:
    """What Freqtrade's /unlock, DELETE /api/v1/locks/<id> and FreqUI run (its RPC code)."""
    rpc = SimpleNamespace(_rpc_locks=lambda: {})
    for lock in PairLocks.get_pair_locks(pair, side=None):
        RPC._rpc_delete_lock(rpc, lockid=lock.id)


def _strategy(quant: dict, dp: _DataProvider) -> SimpleNamespace:
    return SimpleNamespace(
        timeframe="1h",
        can_short=False,
        config={"trading_mode": "spot", "quant": quant},
        dp=dp,
        signal_table=SignalTable(),
        protections=PROTECTIONS,
        log_decision=logging.getLogger("quant_strategy").info,
    )


class _RecordingProvider(_DataProvider):
    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_msg(self, message, *, always_send=False):
        self.messages.append(message)

    def get_pair_dataframe(self, pair, timeframe):
        return None  # no candles yet: no paper trade in this test


def test_unlock_by_hand_reenables_the_pair_until_a_new_disable(database, caplog):
    """Issue 16, defect 5: `reconcile_locks` locked the pair again on the next loop, so a
    person could not override the plugin. Now the unlock re-enables it, is logged and
    announced, survives a restart, and only a new losing streak locks the pair again."""
    # Settings of this test only: the process-wide tracker for them starts here.
    quant = {
        "symbol_performance": {
            "consecutive_loss_disable_threshold": 2,
            "min_trades_for_adjustment": 7,
        }
    }
    now = datetime.now(UTC).replace(microsecond=0)
    minute = int((now.replace(tzinfo=None) - timedelta(hours=5) - T0).total_seconds() // 60)
    for step in (0, 60):
        add_trade("ETH/USDT", minute + step, profit=-1.0)
    dp = _RecordingProvider()
    hooks = PairPerformanceHooks(_strategy(quant, dp), QuantSettings.load(quant, {}))
    hooks.bot_loop_start(now)
    assert len(_plugin_locks("ETH/USDT", now)) == 1  # disabled and locked

    _hand_unlock("ETH/USDT")
    with caplog.at_level(logging.INFO):
        hooks.bot_loop_start(now + timedelta(seconds=5))
        hooks.bot_loop_start(now + timedelta(seconds=10))
    assert hooks.tracker.is_enabled("ETH/USDT")
    assert _plugin_locks("ETH/USDT", now + timedelta(seconds=10)) == []  # not locked again
    assert "Re-enabling ETH/USDT by hand" in caplog.text
    assert any("ETH/USDT re-enabled by hand" in message for message in dp.messages)
    restarted = PairPerformanceTracker(hooks.tracker.config)
    restarted.sync()
    assert restarted.is_enabled("ETH/USDT")  # the removed lock row replays the override
    assert _report_says_enabled(database, hooks.tracker.config)  # and the report agrees

    later = minute + 5 * 60 + 10  # after the unlock
    add_trade("ETH/USDT", later, profit=-1.0)
    hooks.bot_loop_start(now + timedelta(minutes=20))
    assert hooks.tracker.is_enabled("ETH/USDT")  # a fresh streak: one loss is not two
    add_trade("ETH/USDT", later + 1, profit=-1.0)
    hooks.bot_loop_start(now + timedelta(minutes=30))
    assert not hooks.tracker.is_enabled("ETH/USDT")
    assert len(_plugin_locks("ETH/USDT", now + timedelta(minutes=30))) == 1
    restarted = PairPerformanceTracker(hooks.tracker.config)
    restarted.sync()
    assert restarted.disabled_pairs() == ["ETH/USDT"]
    assert not _report_says_enabled(database, hooks.tracker.config)


def _report_says_enabled(url: str, config: SymbolPerformanceConfig) -> bool:
    report = build_report(load_database(url), Filters(), config).to_json()
    return report["pairs"]["ETH/USDT"]["enabled"]


def _plugin_locks(pair: str, now: datetime) -> list:
    return [
        lock
        for lock in PairLocks.get_pair_locks(pair, now, side=None)
        if lock.reason.startswith(LOCK_REASON_PREFIX)
    ]
