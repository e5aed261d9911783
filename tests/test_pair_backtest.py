"""Acceptance: a real backtest with --enable-protections disables and re-enables pairs.

QuantRegimeStrategy (wired to symbol performance by its base) runs over 30 pairs of the
1h universe (freqtrade_support.UNIVERSE_PAIRS), late listings included, with a low loss
threshold so pairs get disabled, and paper trades re-enable some of them. Checked from
Freqtrade's own result zip (trades and pair locks) and its log.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from freqtrade_support import (
    REPO_ROOT,
    UNIVERSE_PAIRS,
    only_backtest_result,
    output_of,
    run_freqtrade,
    write_freqtrade_config,
)

from freqtrade_quant_plugin.adapters.pairs.pair_locks import LOCK_REASON_PREFIX

pytestmark = pytest.mark.freqtrade

LOSSES, WINS = 3, 2
LIVE_SNAPSHOT = '{"symbols": {}, "version": 1}'
STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"


def _time(text: str) -> datetime:
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory, offline_server, market_datadir):
    root = tmp_path_factory.mktemp("pair_backtest")
    strategies = root / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    snapshot = root / "live_snapshot.json"  # a live bot's; the backtest must not touch it
    snapshot.write_text(LIVE_SNAPSHOT, encoding="utf-8")
    config = write_freqtrade_config(
        root / "config.json",
        offline_server.port,
        {
            "max_open_trades": 10,
            "exchange": {"pair_whitelist": list(UNIVERSE_PAIRS)},
            "quant": {
                "symbol_performance": {
                    "consecutive_loss_disable_threshold": LOSSES,
                    "consecutive_win_reenable_threshold": WINS,
                    "persistence_file": str(snapshot),
                }
            },
        },
    )
    completed = run_freqtrade(
        [
            "backtesting",
            "--config",
            config,
            "--userdir",
            root / "user_data",
            "--datadir",
            market_datadir,
            "--strategy-path",
            strategies,
            "--strategy",
            "QuantRegimeStrategy",
            "--timerange",
            "20240301-20240801",
            "--enable-protections",
            "--export",
            "trades",
            "--cache",
            "none",
        ],
        cwd=root,
        timeout=900,
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    _, stats = only_backtest_result(root / "user_data" / "backtest_results")
    result = stats["strategy"]["QuantRegimeStrategy"]
    assert snapshot.read_text(encoding="utf-8") == LIVE_SNAPSHOT  # issue 8, defect 5
    return result, output


def test_losing_streaks_lock_pairs_with_the_configured_count(backtest):
    result, _ = backtest
    locks = [lock for lock in result["locks"] if lock["reason"].startswith(LOCK_REASON_PREFIX)]
    assert locks, "no pair was locked by SymbolPerformanceProtection"
    trades = defaultdict(list)
    for trade in sorted(result["trades"], key=lambda t: t["close_timestamp"]):
        trades[trade["pair"]].append(trade)
    previous: dict[str, datetime] = {}
    for lock in sorted(locks, key=lambda item: item["lock_timestamp"]):
        pair, locked_at = lock["pair"], _time(lock["lock_time"])
        since = previous.get(pair, datetime.min.replace(tzinfo=UTC))
        closed = [t for t in trades[pair] if since < _time(t["close_date"]) <= locked_at]
        streak = 0
        for trade in reversed(closed):
            if trade["profit_abs"] > 0:
                break
            streak += 1
        assert streak == LOSSES, (pair, lock["lock_time"], [t["profit_abs"] for t in closed])
        assert lock["reason"].startswith(f"{LOCK_REASON_PREFIX}{LOSSES} consecutive losses")
        # Locked: no trade of the pair opens until the lock is lifted or the run ends.
        previous[pair] = locked_at


def test_paper_wins_reenable_a_disabled_pair(backtest):
    result, output = backtest
    lifted = [
        lock
        for lock in result["locks"]
        if lock["reason"].startswith(LOCK_REASON_PREFIX) and not lock["active"]
    ]
    assert lifted, "no symbol-performance lock was lifted by paper wins"
    reenabled = {lock["pair"] for lock in lifted}
    for pair in reenabled:
        assert f"Re-enabling {pair} after {WINS} consecutive paper wins" in output
    # A re-enabled pair trades again after its lock.
    traded_again = {
        lock["pair"]
        for lock in lifted
        for trade in result["trades"]
        if trade["pair"] == lock["pair"] and trade["open_timestamp"] > lock["lock_timestamp"]
    }
    assert traded_again
    # Pairs that stay locked do not trade after their lock.
    for lock in result["locks"]:
        if lock["reason"].startswith(LOCK_REASON_PREFIX) and lock["active"]:
            assert not [
                t
                for t in result["trades"]
                if t["pair"] == lock["pair"] and t["open_timestamp"] > lock["lock_timestamp"]
            ], lock["pair"]
