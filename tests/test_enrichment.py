"""Enrichment: the guide's values, short-side signs, zero ATR and the trade log lines."""

from __future__ import annotations

import pytest

from freqtrade_quant_plugin.core.enrichment import (
    enrich_trade_entry,
    enrich_trade_exit,
    format_price,
    format_trade_log_message,
)


def guide_entry(**changes):
    values = {
        "symbol": "BTC/USDT",
        "action": "LONG",
        "entry_price": 50000.0,
        "quantity": 0.1,
        "stop_loss": 48000.0,
        "take_profit": 52000.0,
        "atr": 1000.0,
        "confidence": 0.75,
        "consensus": "STRONG",
        "regime": "HIGH_VOL",
    } | changes
    return enrich_trade_entry(**values)


def test_guide_entry_values():
    entry = guide_entry()
    assert entry["risk_reward_ratio"] == 1.0
    assert entry["regime_at_entry"] == "HIGH_VOL"
    assert entry["sl_distance_dollars"] == pytest.approx(200.0)
    assert entry["sl_distance_pct"] == pytest.approx(4.0)
    assert entry["sl_distance_atr"] == pytest.approx(2.0)
    assert entry["tp_distance_dollars"] == pytest.approx(200.0)
    assert entry["tp_distance_pct"] == pytest.approx(4.0)
    assert entry["tp_distance_atr"] == pytest.approx(2.0)
    assert (entry["confidence"], entry["consensus"], entry["action"]) == (0.75, "STRONG", "LONG")


def test_guide_exit_values():
    exit_data = enrich_trade_exit(
        guide_entry(),
        52000.0,
        "TP_HIT",
        200.0,
        fees_estimate=3.0,
        slippage_estimate=2.0,
        mfe=52500.0,
        mae=49500.0,
        duration_hours=5.5,
    )
    assert exit_data["R_multiple"] == 1.0
    assert exit_data["was_winner"] is True
    assert exit_data["total_costs"] == 5.0
    assert exit_data["net_R_multiple"] == pytest.approx(0.975)
    assert exit_data["cost_in_R"] == pytest.approx(0.025)
    assert exit_data["mfe"] == 52500.0
    assert exit_data["mfe_R"] == pytest.approx(1.25)
    assert exit_data["mae_R"] == pytest.approx(-0.25)
    assert exit_data["duration_hours"] == 5.5
    assert exit_data["regime_at_entry"] == "HIGH_VOL"  # entry fields carried over


def test_missing_regime_is_unknown_and_optional_exit_fields_are_none():
    entry = guide_entry(regime=None)
    assert entry["regime_at_entry"] == "UNKNOWN"
    exit_data = enrich_trade_exit(entry, 47900.0, "STOP", -210.0)
    assert exit_data["was_winner"] is False
    assert exit_data["R_multiple"] == pytest.approx(-1.05)
    assert exit_data["mfe_R"] is None and exit_data["mae_R"] is None


def test_funding_counts_as_cost():
    exit_data = enrich_trade_exit(guide_entry(), 52000.0, "TP", 200.0, 3.0, 2.0, funding=5.0)
    assert exit_data["total_costs"] == 10.0
    assert exit_data["net_R_multiple"] == pytest.approx(0.95)


def test_short_side_signs():
    entry = guide_entry(action="sell", stop_loss=52000.0, take_profit=46000.0)
    assert entry["action"] == "SHORT"
    assert entry["sl_distance_dollars"] == pytest.approx(200.0)
    assert entry["tp_distance_pct"] == pytest.approx(8.0)
    assert entry["risk_reward_ratio"] == 2.0
    exit_data = enrich_trade_exit(entry, 48000.0, "TP_HIT", 200.0, mfe=47500.0, mae=50500.0)
    assert exit_data["mfe_R"] == pytest.approx(1.25)  # price fell: favourable for a short
    assert exit_data["mae_R"] == pytest.approx(-0.25)
    line = format_trade_log_message(entry, "ENTRY")
    assert line == (
        "SHORT BTC/USDT ENTRY @ 50,000 | SL 52,000 (+4.0%) | TP 46,000 (-8.0%) | R:R 2.0 | "
        "STRONG | HIGH_VOL"
    )


def test_zero_atr_gives_no_atr_distances():
    entry = guide_entry(atr=0.0)
    assert entry["sl_distance_atr"] is None
    assert entry["tp_distance_atr"] is None
    assert entry["sl_distance_pct"] == pytest.approx(4.0)


def test_spec_log_lines_exactly():
    entry = guide_entry(take_profit=54000.0)
    assert format_trade_log_message(entry, "ENTRY") == (
        "LONG BTC/USDT ENTRY @ 50,000 | SL 48,000 (-4.0%) | TP 54,000 (+8.0%) | R:R 2.0 | "
        "STRONG | HIGH_VOL"
    )
    exit_data = enrich_trade_exit(
        entry, 52000.0, "TP_HIT", 200.0, 7.0, 5.0, mfe=52500.0, mae=49500.0
    )
    assert format_trade_log_message(exit_data, "EXIT") == (
        "LONG BTC/USDT EXIT @ 52,000 | TP_HIT | 1.00R (200) | net 0.94R | MFE 1.25R"
    )


def test_exit_line_omits_missing_fields():
    exit_data = enrich_trade_exit(guide_entry(), 47500.0, "STOP_LOSS", -250.0)
    line = format_trade_log_message(exit_data, "EXIT")
    assert line == "LONG BTC/USDT EXIT @ 47,500 | STOP_LOSS | -1.25R (-250) | net -1.25R"
    assert "None" not in line


def test_tiny_prices_stay_readable():
    entry = enrich_trade_entry(
        "PEPE/USDT",
        "LONG",
        0.00001234,
        1e9,
        0.00001200,
        0.00001302,
        0.00000017,
        consensus="",
        regime=None,
    )
    line = format_trade_log_message(entry, "ENTRY")
    assert line.startswith("LONG PEPE/USDT ENTRY @ 0.00001234 | SL 0.000012 (-2.8%)")
    assert "TP 0.00001302 (+5.5%)" in line
    assert "None" not in line
    assert entry["sl_distance_atr"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (50000.0, "50,000"),
        (1234.5678, "1,234.57"),
        (1.23456789, "1.23457"),
        (0.00001234, "0.00001234"),
        (0.5, "0.5"),
        (-200.0, "-200"),
        (0.0, "0"),
        (12_345_678.9, "12,345,678.9"),
    ],
)
def test_format_price(value, text):
    assert format_price(value) == text


def test_unknown_stage_and_side():
    with pytest.raises(ValueError, match="'OPEN'"):
        format_trade_log_message(guide_entry(), "OPEN")
    with pytest.raises(ValueError, match="'HOLD'"):
        guide_entry(action="HOLD")


@pytest.mark.parametrize(
    "changes",
    [
        {"stop_loss": 51000.0},  # stop above a long entry
        {"take_profit": 49000.0},  # target below a long entry
        {"action": "SHORT"},  # long geometry on a short
        {"entry_price": float("nan")},
        {"quantity": 0.0},
        {"atr": -1.0},
    ],
)
def test_inconsistent_entries_raise(changes):
    with pytest.raises(ValueError):
        guide_entry(**changes)


def test_unset_consensus_is_left_out_of_the_entry_line():
    entry = enrich_trade_entry(
        symbol="BTC/USDT", action="LONG", entry_price=50_000.0, quantity=0.1,
        stop_loss=48_000.0, take_profit=54_000.0, atr=1_000.0, regime="HIGH_VOL",
    )  # fmt: skip
    assert entry["consensus"] == "UNKNOWN"
    assert format_trade_log_message(entry, "ENTRY") == (
        "LONG BTC/USDT ENTRY @ 50,000 | SL 48,000 (-4.0%) | TP 54,000 (+8.0%) | R:R 2.0 | HIGH_VOL"
    )
