"""Hyperopt pickles the strategy to its worker processes: the symbol-performance pieces that
hang off it (the tracker with its lock and database engine, the strategy's hooks) must
travel, and arrive as the receiving process's own objects."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import cloudpickle

from freqtrade_quant_plugin.adapters.pairs.pair_performance import PairPerformanceHooks
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import get_tracker
from freqtrade_quant_plugin.adapters.pairs.paper_store import PaperTradeStore
from freqtrade_quant_plugin.adapters.signal_rows import SignalTable
from freqtrade_quant_plugin.core.settings import QuantSettings

# Settings of their own, so these tests get trackers no other test shares.
QUANT = {"symbol_performance": {"min_trades_for_adjustment": 7}}


class _Strategy:
    """The few strategy attributes the hooks read."""

    timeframe = "1h"
    can_short = False

    def __init__(self) -> None:
        self.config = {"quant": QUANT}
        self.signal_table = SignalTable()

    def risk_money(self, trade: object) -> float | None:
        return 7.0


def test_a_pickled_tracker_is_the_receiving_process_tracker() -> None:
    tracker = get_tracker({"quant": QUANT})
    tracker.paper_store = PaperTradeStore.in_memory()  # an engine, like a live tracker's
    for dumps in (pickle.dumps, cloudpickle.dumps):
        assert pickle.loads(dumps(tracker)) is tracker


def test_another_process_gets_its_own_fresh_tracker(tmp_path: Path) -> None:
    tracker = get_tracker({"quant": QUANT})
    for _ in range(3):
        tracker.manager.update_stats("ETH/USDT", -1.0, -1.0, False)
    payload = tmp_path / "tracker.pickle"
    payload.write_bytes(cloudpickle.dumps(tracker))
    child = (
        "import pickle, sys\n"
        "tracker = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "print(tracker.config.min_trades_for_adjustment, tracker.stats('ETH/USDT').total_trades)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", child, str(payload)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert tracker.stats("ETH/USDT").total_trades == 3
    assert completed.stdout.split() == ["7", "0"]  # same settings, no state carried over


def test_unpickled_hooks_feed_their_strategy_copy_to_the_tracker() -> None:
    strategy = _Strategy()
    hooks = PairPerformanceHooks(
        strategy, QuantSettings.load(QUANT, {}), risk_money_of=strategy.risk_money
    )
    copy = cloudpickle.loads(cloudpickle.dumps(hooks))
    assert copy.tracker is hooks.tracker is get_tracker({"quant": QUANT})
    lookup = copy.tracker.risk_money_of
    assert lookup is not None and lookup.__self__ is copy._strategy
    assert copy._strategy is not strategy
