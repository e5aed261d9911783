"""The tracker reads Freqtrade's trade DB incrementally and rebuilds the same state."""

from __future__ import annotations

import logging

import pytest
from freqtrade.persistence import Trade
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pair_db_support import (
    add_trade,
    close_trade,
    open_database,
)

from freqtrade_quant_plugin.adapters.pairs.pair_tracker import (
    DISABLED,
    REENABLED,
    PairPerformanceTracker,
)
from freqtrade_quant_plugin.core.paper_trading import PaperOutcome, PaperTrade
from freqtrade_quant_plugin.core.stop_levels import StopRules
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig

CONFIG = SymbolPerformanceConfig(
    min_trades_for_adjustment=2,
    consecutive_loss_disable_threshold=3,
    consecutive_win_reenable_threshold=2,
)


def snapshot(tracker: PairPerformanceTracker) -> dict:
    return {pair: stats.to_dict() for pair, stats in tracker.manager.all_stats().items()}


def win_on_paper(tracker: PairPerformanceTracker, pair: str, minute: int) -> bool:
    """Store a resolved winning paper trade the way the engine does."""
    rules = StopRules(1.0, 2.0, None, None, 1.0, 24.0)
    opened = 1_704_067_200 + minute * 60
    trade = PaperTrade.open(
        pair=pair,
        is_short=False,
        regime="NORMAL_VOL",
        opened_at=opened,
        timeframe_seconds=3600,
        entry_price=100.0,
        atr=1.0,
        rules=rules,
        breakeven_price=100.1,
    )
    paper_id = tracker.paper_store.add(trade)
    outcome = PaperOutcome(opened + 3600, 102.0, "take_profit", 2.0, True)
    tracker.paper_store.close(paper_id, trade, outcome)
    return tracker.record_paper(pair, outcome.exit_time, True)


def test_restart_rebuilds_identical_state(database_url):
    open_database(database_url)
    tracker = PairPerformanceTracker(CONFIG)
    add_trade("BTC/USDT", 0, profit=-2.0, risk=4.0)  # risk money stored at entry: -0.5 R
    add_trade("BTC/USDT", 60, profit=-3.0, risk=6.0)  # -0.5 R
    add_trade("ETH/USDT", 70, profit=4.0)  # the default risk money 5: 0.8 R
    pending = add_trade("SOL/USDT", 80)  # still open at the first sync
    tracker.sync()
    assert tracker.is_enabled("BTC/USDT")
    assert tracker.stats("BTC/USDT").total_R == pytest.approx(-1.0)
    assert tracker.stats("ETH/USDT").total_R == pytest.approx(0.8)

    add_trade("BTC/USDT", 120, profit=-1.0)
    close_trade(pending, -5.0, duration=300)  # opened before, closes after the BTC trade
    tracker.sync()
    assert not tracker.is_enabled("BTC/USDT")
    assert tracker.stats("SOL/USDT").total_trades == 1
    assert [event.kind for event in tracker.take_events()] == [DISABLED]
    assert tracker.disabled_pairs() == ["BTC/USDT"]

    assert not win_on_paper(tracker, "BTC/USDT", 400)
    assert win_on_paper(tracker, "BTC/USDT", 500)
    assert [event.kind for event in tracker.take_events()] == [REENABLED]
    add_trade("BTC/USDT", 700, profit=2.5)
    tracker.sync()
    before = snapshot(tracker)
    assert before["BTC/USDT"]["is_enabled"] and before["BTC/USDT"]["total_trades"] == 4
    assert before["BTC/USDT"]["paper_trades"] == 2

    restarted = PairPerformanceTracker(CONFIG)
    restarted.sync()
    assert snapshot(restarted) == before
    assert restarted.take_events() == []  # history is not announced again
    assert restarted.risk_modifier("BTC/USDT") == tracker.risk_modifier("BTC/USDT")


def test_disabled_state_survives_a_restart(database_url):
    open_database(database_url)
    tracker = PairPerformanceTracker(CONFIG)
    for minute in (0, 60, 120):
        add_trade("XRP/USDT", minute, profit=-1.0)
    tracker.sync()
    win_on_paper(tracker, "XRP/USDT", 300)  # one paper win of two
    restarted = PairPerformanceTracker(CONFIG)
    restarted.sync()
    assert restarted.disabled_pairs() == ["XRP/USDT"]
    assert restarted.disabled_since("XRP/USDT") == tracker.disabled_since("XRP/USDT")
    assert restarted.stats("XRP/USDT").paper_consecutive_wins == 1
    assert win_on_paper(restarted, "XRP/USDT", 400)


def test_win_and_r_are_the_same_net_result(database_url):
    """Issue 16, defect 8: a gross win (R_multiple +0.2 in the exit record) that lost after
    fees counted as a loss with +0.2 R. Both now come from the realised profit."""
    open_database(database_url)
    add_trade("ETH/USDT", 0, profit=-0.5, r=0.2, risk=5.0)
    add_trade("ETH/USDT", 60, profit=1.5, r=0.35, risk=5.0)
    tracker = PairPerformanceTracker(CONFIG)
    tracker.sync()
    stats = tracker.stats("ETH/USDT")
    assert (stats.wins, stats.losses) == (1, 1)
    assert stats.total_R == pytest.approx((-0.5 + 1.5) / 5.0)  # net: -0.1 R and +0.3 R


def test_history_without_the_plugins_records_is_not_counted(database_url, caplog):
    """Issue 16, defect 8: on a first start, a DB full of older trades (no risk money of
    the plugin) was replayed at +-1 R and disabled pairs on day one."""
    open_database(database_url)
    for minute in range(0, 600, 60):
        add_trade("ETH/USDT", minute, profit=-1.0, risk=None)  # before the plugin
    add_trade("BTC/USDT", 700, profit=-1.0, risk=None)
    add_trade("BTC/USDT", 800, profit=2.0)  # the plugin's first trade: counted
    tracker = PairPerformanceTracker(CONFIG)
    with caplog.at_level(logging.INFO):
        tracker.sync()
    assert tracker.disabled_pairs() == []
    assert tracker.stats("ETH/USDT").total_trades == 0
    assert tracker.stats("BTC/USDT").total_trades == 1
    assert tracker.stats("BTC/USDT").total_R == pytest.approx(0.4)
    assert (
        "leaves out 11 closed trades without the plugin's risk record "
        "(history from before the plugin, or another strategy's): BTC/USDT 1, ETH/USDT 10"
    ) in caplog.text
    add_trade("ETH/USDT", 900, profit=-1.0, risk=None)  # while running: logged one by one
    with caplog.at_level(logging.INFO):
        tracker.sync()
    assert "(ETH/USDT) closed without the plugin's risk record: not counted" in caplog.text
    assert tracker.stats("ETH/USDT").total_trades == 0


# Each step: (pair index, profit, R or None, sync afterwards?)
steps = st.lists(
    st.tuples(
        st.integers(0, 3),
        st.sampled_from([-2.0, -0.5, 0.0, 0.7, 3.0]),
        st.one_of(st.none(), st.floats(-3, 5, allow_nan=False)),
        st.booleans(),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=steps)
def test_incremental_feed_equals_one_by_one_equals_rebuild(steps):
    """A step opens a trade on a free pair or closes the pair's open one, so trades of
    different pairs close out of id order, as they do live."""
    open_database("sqlite://")
    batched, one_by_one = PairPerformanceTracker(CONFIG), PairPerformanceTracker(CONFIG)
    open_trades: dict[str, Trade] = {}
    for minute, (index, profit, r, sync_now) in enumerate(steps):
        pair = f"P{index}/USDT"
        if pair in open_trades:
            trade = open_trades.pop(pair)
            close_trade(trade, profit, r=r, duration=minute * 10 + 5 - (trade.id or 0) % 3)
        else:
            open_trades[pair] = add_trade(pair, minute * 10)
        one_by_one.sync()
        if sync_now:
            batched.sync()
    batched.sync()
    rebuilt = PairPerformanceTracker(CONFIG)
    rebuilt.sync()
    assert snapshot(batched) == snapshot(one_by_one) == snapshot(rebuilt)
    closed = Trade.session.query(Trade).filter(Trade.is_open.is_(False)).count()
    assert sum(stats.total_trades for stats in rebuilt.manager.all_stats().values()) == closed
