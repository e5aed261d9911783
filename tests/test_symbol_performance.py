"""Symbol performance: counts, risk modifier bounds, disable/re-enable state machine, snapshot."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freqtrade_quant_plugin.core import symbol_performance
from freqtrade_quant_plugin.core.symbol_performance import (
    SymbolPerformanceConfig,
    SymbolPerformanceManager,
    SymbolStats,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError

PAIR = "SOL/USDT"


def manager(**config) -> SymbolPerformanceManager:
    return SymbolPerformanceManager(SymbolPerformanceConfig(**config), persistence_file=None)


def test_guide_counts():
    perf = SymbolPerformanceManager(persistence_file=None)
    assert perf.should_trade_symbol("BTCUSDT") is True
    assert perf.get_risk_modifier("BTCUSDT") == 1.0
    perf.update_stats("BTCUSDT", 200.0, 1.0, True)
    stats = perf.get_stats("BTCUSDT")
    assert (stats.wins, stats.losses, stats.total_trades) == (1, 0, 1)
    assert stats.win_rate == 1.0
    assert stats.avg_R == 1.0


def test_unknown_symbol_is_fresh_and_not_stored():
    perf = manager()
    stats = perf.get_stats("NEW/USDT")
    assert stats == SymbolStats("NEW/USDT")
    assert stats.win_rate == 0.0 and stats.avg_R == 0.0
    assert perf.all_stats() == {}


def test_disable_after_consecutive_losses_and_warning(caplog):
    perf = manager()
    for _ in range(9):
        perf.update_stats(PAIR, -10.0, -1.0, False)
    assert perf.should_trade_symbol(PAIR)
    perf.update_stats(PAIR, 5.0, 0.5, True)  # a win breaks the streak
    for _ in range(9):
        perf.update_stats(PAIR, -10.0, -1.0, False)
    assert perf.should_trade_symbol(PAIR)
    with caplog.at_level(logging.WARNING):
        stats = perf.update_stats(PAIR, -10.0, -1.0, False)
    assert stats.consecutive_losses == 10
    assert stats.is_enabled is False
    assert perf.should_trade_symbol(PAIR) is False
    assert "Disabling SOL/USDT after 10 consecutive losses" in caplog.text
    assert "win rate 5.0%" in caplog.text


def test_paper_wins_reenable_and_paper_loss_resets():
    perf = manager(consecutive_loss_disable_threshold=2, consecutive_win_reenable_threshold=3)
    perf.update_stats(PAIR, -1.0, -1.0, False)
    perf.update_stats(PAIR, -1.0, -1.0, False)
    assert not perf.should_trade_symbol(PAIR)
    perf.record_paper_trade(PAIR, True)
    perf.record_paper_trade(PAIR, True)
    assert perf.record_paper_trade(PAIR, False).paper_consecutive_wins == 0
    perf.record_paper_trade(PAIR, True)
    perf.record_paper_trade(PAIR, True)
    assert not perf.should_trade_symbol(PAIR)
    stats = perf.record_paper_trade(PAIR, True)
    assert stats.is_enabled
    assert stats.consecutive_losses == 0
    assert stats.paper_consecutive_wins == 0
    assert stats.paper_trades == 6
    # Paper results never touch the real record.
    assert (stats.total_trades, stats.losses) == (2, 2)


def test_paper_trade_of_enabled_symbol_is_ignored():
    perf = manager()
    perf.update_stats(PAIR, 1.0, 1.0, True)
    before = perf.get_stats(PAIR).to_dict()
    assert perf.record_paper_trade(PAIR, True).to_dict() == before
    assert perf.record_paper_trade("OTHER/USDT", False) == SymbolStats("OTHER/USDT")
    assert "OTHER/USDT" not in perf.all_stats()


def _feed(perf, results):
    for won, r in results:
        perf.update_stats(PAIR, r * 10, r, won)


@pytest.mark.parametrize(
    ("results", "expected"),
    [
        ([(True, 2.0)] * 4, 1.0),  # too few trades to judge
        ([(True, 2.0)] * 5, 1.0),  # excellent
        ([(False, -1.0)] * 4 + [(True, 5.0)], 0.5),  # win rate 20 % < 30 %
        ([(True, -0.2)] * 5, 0.5),  # avg R below 0
        # win rate 0.6 (good), avg R 0.75 -> r score 0.5 -> 0.5 + 0.5 * 0.5
        ([(True, 1.25)] * 3 + [(False, 0.0)] * 2, 0.75),
        # win rate 0.4 -> score 0.4; avg R 2 (good) -> 0.5 + 0.5 * 0.4
        ([(True, 5.0)] * 2 + [(False, 0.0)] * 3, 0.7),
    ],
)
def test_risk_modifier_values(results, expected):
    perf = manager()
    _feed(perf, results)
    assert perf.get_risk_modifier(PAIR) == pytest.approx(expected)


trade_results = st.lists(
    st.tuples(st.booleans(), st.floats(min_value=-5.0, max_value=10.0)), max_size=60
)


@given(
    results=trade_results,
    poor=st.floats(min_value=0.01, max_value=1.0),
    min_trades=st.integers(min_value=1, max_value=10),
)
def test_risk_modifier_stays_within_bounds(results, poor, min_trades):
    perf = manager(poor_performance_multiplier=poor, min_trades_for_adjustment=min_trades)
    _feed(perf, results)
    assert poor <= perf.get_risk_modifier(PAIR) <= 1.0


events = st.lists(st.tuples(st.sampled_from(["real", "paper"]), st.booleans()), max_size=120)


@given(
    sequence=events,
    disable_after=st.integers(min_value=1, max_value=5),
    enable_after=st.integers(min_value=1, max_value=4),
)
def test_state_machine_matches_reference(sequence, disable_after, enable_after):
    perf = manager(
        consecutive_loss_disable_threshold=disable_after,
        consecutive_win_reenable_threshold=enable_after,
    )
    enabled, losing_streak, paper_streak = True, 0, 0
    real_results = []
    for kind, won in sequence:
        if kind == "real":
            perf.update_stats(PAIR, 1.0 if won else -1.0, 1.0 if won else -1.0, won)
            real_results.append(won)
            losing_streak = 0 if won else losing_streak + 1
            if enabled and losing_streak >= disable_after:
                enabled, paper_streak = False, 0
        else:
            perf.record_paper_trade(PAIR, won)
            if not enabled:
                paper_streak = paper_streak + 1 if won else 0
                if paper_streak >= enable_after:
                    enabled, losing_streak, paper_streak = True, 0, 0
        stats = perf.get_stats(PAIR)
        assert stats.is_enabled is enabled
        assert perf.should_trade_symbol(PAIR) is enabled
        assert stats.consecutive_losses == losing_streak
        assert stats.paper_consecutive_wins == paper_streak
        if stats.is_enabled:
            assert stats.consecutive_losses < disable_after
    # Win streak is the tail of real wins; counts add up.
    tail = 0
    for won in reversed(real_results):
        if not won:
            break
        tail += 1
    stats = perf.get_stats(PAIR)
    assert stats.consecutive_wins == tail
    assert stats.wins == sum(real_results)
    assert stats.wins + stats.losses == stats.total_trades == len(real_results)


def test_snapshot_round_trip_and_atomic_write(tmp_path):
    path = tmp_path / "nested" / "dir" / "perf.json"
    perf = SymbolPerformanceManager(
        SymbolPerformanceConfig(persistence_file=str(path), consecutive_loss_disable_threshold=2)
    )
    perf.update_stats(PAIR, -3.0, -1.0, False)
    perf.update_stats(PAIR, -3.0, -1.0, False)
    perf.record_paper_trade(PAIR, True)
    perf.update_stats("BTC/USDT", 12.5, 1.25, True)
    assert [p.name for p in path.parent.iterdir()] == ["perf.json"]  # no temp file left
    document = json.loads(path.read_text())
    assert document["symbols"][PAIR]["is_enabled"] is False

    reloaded = SymbolPerformanceManager(SymbolPerformanceConfig(persistence_file=str(path)))
    assert reloaded.all_stats() == perf.all_stats()
    assert reloaded.get_stats(PAIR).paper_consecutive_wins == 1


def test_explicit_none_overrides_config_file(tmp_path):
    path = tmp_path / "perf.json"
    perf = SymbolPerformanceManager(
        SymbolPerformanceConfig(persistence_file=str(path)), persistence_file=None
    )
    perf.update_stats(PAIR, 1.0, 1.0, True)
    assert not path.exists()


def test_failed_write_keeps_old_snapshot_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "perf.json"
    perf = SymbolPerformanceManager(persistence_file=path)
    perf.update_stats(PAIR, 1.0, 1.0, True)
    before = path.read_text()

    def broken_dump(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(symbol_performance.json, "dump", broken_dump)
    with pytest.raises(OSError, match="disk full"):
        perf.update_stats(PAIR, 1.0, 1.0, True)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["perf.json"]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"version": 99, "symbols": {}}',
        '{"version": 1, "symbols": []}',
        '{"version": 1, "symbols": {"A": {"symbol": "A", "wins": "three"}}}',
        '{"version": 1, "symbols": {"A": {"symbol": "A", "bogus": 1}}}',
        '{"version": 1, "symbols": {"A": {"symbol": "B"}}}',
        '{"version": 1, "symbols": {"A": {"symbol": "A", "total_R": NaN}}}',
    ],
)
def test_corrupt_snapshot_is_a_clear_error(tmp_path, content):
    path = tmp_path / "perf.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=r"snapshot .*perf\.json is unreadable or corrupt"):
        SymbolPerformanceManager(persistence_file=str(path))


def test_stats_dict_round_trip():
    stats = SymbolStats(PAIR, 3, 2, 1, 4.5, 1.5, 2, 0, False, 1, 4)
    assert SymbolStats.from_dict(stats.to_dict()) == stats


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("min_trades_for_adjustment", 0),
        ("min_trades_for_adjustment", 2.5),
        ("poor_winrate_threshold", 1.2),
        ("good_winrate_threshold", 0.2),  # not above poor
        ("good_r_threshold", -1.0),  # not above poor
        ("poor_performance_multiplier", 0.0),
        ("poor_performance_multiplier", 1.5),
        ("consecutive_loss_disable_threshold", 0),
        ("consecutive_win_reenable_threshold", "x"),
        ("persistence_file", ""),
    ],
)
def test_config_errors_name_the_field(field, value):
    with pytest.raises(QuantConfigError) as info:
        SymbolPerformanceConfig(**{field: value})
    assert info.value.key == field


@pytest.mark.parametrize(("pnl", "r"), [(float("nan"), 1.0), (1.0, float("inf"))])
def test_bad_trade_numbers_raise(pnl, r):
    with pytest.raises(ValueError, match="finite"):
        manager().update_stats(PAIR, pnl, r, True)
