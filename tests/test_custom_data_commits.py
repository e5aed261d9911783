"""Issue 16, defect 6: one commit per fill for the plugin's records, and few keys.

Freqtrade's `trade.set_custom_data` commits once per key; the plugin wrote about 25 keys
at the entry fill and 17 at the exit fill, each its own commit (about 35 ms per exit in a
dry-run), many of them copies of the JSON entry state or of Freqtrade's own trade columns.
Here a real `Trade` in a trade DB file goes through its entry and exit fills; the DB's
commits are counted, and the readers of the records (the report, the pair tracker) are
run on what was stored.
"""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from freqtrade.persistence import Trade, init_db
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    filled_order,
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    started_strategy,
)
from sqlalchemy import event

from freqtrade_quant_plugin.adapters.records.trade_records import (
    STORED_ENTRY_KEYS,
    STORED_EXIT_KEYS,
)
from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY
from freqtrade_quant_plugin.report.load_db import load_database


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


@contextmanager
def _commits():
    """The number of transactions committed to the trade DB inside the block."""
    engine = Trade.session.get_bind()
    seen: list[int] = []

    def count(connection) -> None:
        seen.append(1)

    event.listen(engine, "commit", count)
    try:
        yield seen
    finally:
        event.remove(engine, "commit", count)


def _keys(trade) -> set[str]:
    return {entry.cd_key for entry in trade.get_all_custom_data()}


def test_each_fill_commits_once_and_the_readers_find_their_keys(strategy_class, tmp_path):
    url = f"sqlite:///{tmp_path / 'trades.sqlite'}"
    init_db(url)
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame, fill=False)
    with _commits() as entry_commits:
        strategy.order_filled(
            pair=PAIR, trade=trade, order=trade.orders[0], current_time=trade.open_date_utc
        )
    assert len(entry_commits) == 1
    assert _keys(trade) == {STATE_KEY, *STORED_ENTRY_KEYS}
    assert len(_keys(trade)) <= 16

    exit_time = trade.open_date_utc + timedelta(hours=3)
    exit_rate = trade.open_rate * 1.004
    trade.adjust_min_max_rates(exit_rate * 1.002, trade.open_rate * 0.998)
    trade.exit_reason = "max_duration"
    exit_order = filled_order("sell", exit_rate, trade.amount, exit_time)
    trade.orders.append(exit_order)
    trade.close(exit_rate)
    Trade.commit()
    with _commits() as exit_commits:
        strategy.order_filled(pair=PAIR, trade=trade, order=exit_order, current_time=exit_time)
    assert len(exit_commits) == 1
    assert _keys(trade) == {STATE_KEY, *STORED_ENTRY_KEYS, *STORED_EXIT_KEYS}
    assert len(STORED_EXIT_KEYS) <= 15
    # Values keep Freqtrade's custom-data types (what FreqUI and get_custom_data show).
    assert trade.get_custom_data("exit_reason") == "max_duration"
    assert isinstance(trade.get_custom_data("R_multiple"), float)
    assert trade.get_custom_data(STATE_KEY)["stop_price"] == trade.get_custom_data("stop_loss")

    # The readers: the report (its own read-only connection) and the pair tracker.
    report = load_database(url).trades
    (row,) = report.to_dict("records")
    assert row["has_record"]
    assert row["R"] == pytest.approx(trade.get_custom_data("R_multiple"))
    assert row["net_R"] == pytest.approx(trade.get_custom_data("net_R_multiple"))
    assert row["regime"] == trade.get_custom_data("regime_at_entry")
    assert row["exit_reason"] == "max_duration"
    for column in ("fees", "slippage", "funding", "cost_in_R", "total_costs", "mfe_R", "mae_R"):
        assert row[column] == row[column], column  # not NaN
    tracker = strategy.pair_performance.tracker
    tracker.sync()
    # The tracker counts net R (realised profit over the recorded risk money), as the
    # report's tracker_R does; the record's R_multiple is gross.
    net_r = trade.close_profit_abs / trade.get_custom_data("risk_money")
    assert tracker.stats(PAIR).total_R == pytest.approx(net_r)
    assert row["tracker_R"] == pytest.approx(net_r)


def test_a_second_write_updates_in_place(strategy_class):
    """A rebuilt state (recovery) rewrites keys: still one row per key, one commit."""
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    before = {entry.cd_key: entry.id for entry in trade.get_all_custom_data()}
    with _commits() as commits:
        strategy._on_entry_filled(trade)
    assert len(commits) == 1
    assert {entry.cd_key: entry.id for entry in trade.get_all_custom_data()} == before
