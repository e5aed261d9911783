"""The symbol-performance snapshot: written by a live or dry-run bot only, as private as its DB.

Issue 8, defect 5: a backtest with persistence_file set rewrote the live bot's snapshot
with backtest statistics.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from freqtrade.persistence import LocalTrade, Trade
from pair_db_support import add_trade, open_database

from freqtrade_quant_plugin.adapters.pairs.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig

LIVE_SNAPSHOT = '{"symbols": {}, "version": 1, "written by": "the live bot"}'


def _config(path) -> SymbolPerformanceConfig:
    return SymbolPerformanceConfig(
        consecutive_loss_disable_threshold=2,
        consecutive_win_reenable_threshold=1,
        persistence_file=str(path),
    )


def _backtest_trade(trade_id: int, pair: str, hour: int, profit: float) -> SimpleNamespace:
    closed = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
    return SimpleNamespace(
        id=trade_id,
        pair=pair,
        close_date=closed,
        close_profit_abs=profit,
        is_short=False,
        open_rate=100.0,
        close_rate=100.0 + profit,
        amount=1.0,
        initial_stop_loss=95.0,
    )


@pytest.fixture
def backtest_mode(monkeypatch):
    monkeypatch.setattr(Trade, "use_db", False)
    monkeypatch.setattr(LocalTrade, "bt_trades", [])
    return LocalTrade.bt_trades


def test_backtest_leaves_the_live_snapshot_alone(tmp_path, backtest_mode):
    path = tmp_path / "perf.json"
    path.write_text(LIVE_SNAPSHOT, encoding="utf-8")
    tracker = PairPerformanceTracker(_config(path))
    tracker.sync()
    tracker.set_risk_money_lookup(lambda _: 5.0)  # the strategy's record of each trade
    backtest_mode.extend(_backtest_trade(n, "ETH/USDT", n, -1.0) for n in (1, 2, 3))
    tracker.sync()
    assert tracker.disabled_pairs() == ["ETH/USDT"]
    assert tracker.record_paper("ETH/USDT", 1_704_100_000, True)  # re-enabled on paper
    assert path.read_text(encoding="utf-8") == LIVE_SNAPSHOT
    assert [p.name for p in tmp_path.iterdir()] == ["perf.json"]  # no temp file either


@pytest.mark.parametrize("db_mode", [0o600, 0o640, 0o644])
def test_live_snapshot_is_as_readable_as_the_sqlite_db(tmp_path, db_mode):
    database = tmp_path / "trades.sqlite"
    open_database(f"sqlite:///{database}")
    os.chmod(database, db_mode)
    path = tmp_path / "perf.json"
    path.write_text(LIVE_SNAPSHOT, encoding="utf-8")
    os.chmod(path, 0o666)  # an old, too open file is replaced
    tracker = PairPerformanceTracker(_config(path))
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0)
    tracker.sync()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["symbols"]["ETH/USDT"]["is_enabled"] is False
    assert stat.S_IMODE(path.stat().st_mode) == db_mode


def test_live_snapshot_is_private_when_the_db_is_no_file(tmp_path):
    open_database("sqlite://")  # in memory: nothing to mirror
    path = tmp_path / "perf.json"
    tracker = PairPerformanceTracker(_config(path))
    add_trade("ETH/USDT", 0, profit=-1.0)
    tracker.sync()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
