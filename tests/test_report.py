"""Unit tests of the report: aggregation on hand-made trades, result lookup, tables, CLI."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from report_support import assert_figures
from rich.console import Console

from freqtrade_quant_plugin.cli import main
from freqtrade_quant_plugin.core.plugin_locks import HandUnlock
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.report import aggregate
from freqtrade_quant_plugin.report.aggregate import Filters
from freqtrade_quant_plugin.report.build import build_report
from freqtrade_quant_plugin.report.load_backtest import (
    BacktestResultError,
    load_backtest,
    resolve_result,
)
from freqtrade_quant_plugin.report.pair_state import PaperResult, pair_states
from freqtrade_quant_plugin.report.source import ReportSource
from freqtrade_quant_plugin.report.tables import print_report
from freqtrade_quant_plugin.report.trades import build_frame

DAY = 86_400


def _trade(number: int, pair: str, regime: str, r: float, **extra) -> dict:
    """A closed trade with its record: risk 10, costs 1 (fees 0.6, slippage 0.3, funding 0.1)."""
    pnl = r * 10
    return {
        "trade_id": number,
        "pair": pair,
        "is_short": False,
        "open_ts": number * DAY,
        "close_ts": number * DAY + 3600,
        "profit_abs": pnl - 0.6,
        "regime_at_entry": regime,
        "R_multiple": r,
        "net_R_multiple": (pnl - 1.0) / 10,
        "cost_in_R": 0.1,
        "total_costs": 1.0,
        "fees": 0.6,
        "slippage": 0.3,
        "funding": 0.1,
        "pnl_dollars": pnl,
        "mfe_R": max(r, 0) + 1.0,
        "mae_R": -0.5,
        "exit_reason": "take_profit" if r > 0 else "stop_loss",
        "risk_money": 10.0,
        **extra,
    }


TRADES = [
    _trade(1, "BTC/USDT", "TRENDING", 2.0),
    _trade(2, "BTC/USDT", "TRENDING", -1.0),
    _trade(3, "ETH/USDT", "RANGING", 0.05),  # gross win, loss after Freqtrade's fees
    _trade(4, "ETH/USDT", "TRENDING", -1.0),
    _trade(5, "ETH/USDT", "RANGING", 1.5),
]


def _source(trades=TRADES, **kwargs) -> ReportSource:
    return ReportSource(build_frame(trades), "hand-made", "backtest", **kwargs)


def test_group_figures_equal_the_plain_computation() -> None:
    report = build_report(_source(), Filters(), SymbolPerformanceConfig()).to_json()
    assert_figures(report, [{**t, "profit_abs": t["profit_abs"]} for t in TRADES])
    assert report["by_regime"]["RANGING"]["win_rate"] == 0.5  # 0.05 R lost to the fees
    total = report["total"]
    assert total["trades"] == 5
    assert total["fees"] == pytest.approx(3.0)
    assert total["slippage"] == pytest.approx(1.5)
    assert total["funding"] == pytest.approx(0.5)
    assert total["net_R"] == pytest.approx(sum(t["net_R_multiple"] for t in TRADES))


def test_excursions_and_exit_reasons() -> None:
    frame = build_frame(TRADES)
    excursions = aggregate.excursions(frame)
    r_sum = sum(t["R_multiple"] for t in TRADES)
    mfe_sum = sum(t["mfe_R"] for t in TRADES)
    assert excursions.loc["TOTAL", "mfe_kept"] == pytest.approx(r_sum / mfe_sum)
    assert excursions.loc["TOTAL", "avg_mae_R"] == pytest.approx(-0.5)
    reasons = aggregate.exit_reasons(frame)
    assert reasons.loc["stop_loss", "trades"] == 2
    assert reasons.loc["take_profit", "share"] == pytest.approx(3 / 5)
    curves = aggregate.equity_curves(frame)
    assert curves["gross"].iloc[-1] == pytest.approx(10 * r_sum)
    assert curves["net"].iloc[-1] == pytest.approx(10 * r_sum - 5.0)
    assert curves["realised"].iloc[-1] == pytest.approx(10 * r_sum - 3.0)


def test_filters_pair_regime_and_half_open_timerange() -> None:
    frame = build_frame(TRADES)
    assert list(Filters(pairs=("ETH/USDT",)).apply(frame)["trade_id"]) == [3, 4, 5]
    assert list(Filters(regimes=("TRENDING",)).apply(frame)["trade_id"]) == [1, 2, 4]
    kept = Filters(start_ts=2 * DAY, stop_ts=4 * DAY).apply(frame)
    assert list(kept["trade_id"]) == [2, 3]  # opened at 4 * DAY: outside


def test_pair_state_counts_net_r_and_only_trades_with_risk_money() -> None:
    """Like the live tracker (issue 16, defect 8): R is the realised profit over the
    recorded risk money, the same number as the win; a trade without risk money is left
    out of the pair state (but still listed as a trade without record)."""
    bare = {"trade_id": 9, "pair": "BTC/USDT", "open_ts": 9 * DAY, "close_ts": 9 * DAY + 60,
            "profit_abs": -2.0, "risk_money": 5.0}  # fmt: skip
    unsized = {**bare, "trade_id": 10, "close_ts": 10 * DAY, "risk_money": None}
    report = build_report(_source([*TRADES, bare, unsized]), Filters(), SymbolPerformanceConfig())
    data = report.to_json()
    assert data["trades"] == 5 and data["trades_without_record"] == 2
    assert data["pairs"]["BTC/USDT"]["trades"] == 3
    # profit after fees / risk 10: 2R - 0.06 and -1R - 0.06; the bare trade -2 / 5.
    assert data["pairs"]["BTC/USDT"]["avg_R"] == pytest.approx((1.94 - 1.06 - 0.4) / 3)
    # ETH's 0.05 R gross win lost after fees: a loss at -0.01 R, not a loss at +0.05 R.
    assert data["pairs"]["ETH/USDT"]["win_rate"] == pytest.approx(1 / 3)
    assert data["pairs"]["ETH/USDT"]["avg_R"] == pytest.approx((-0.01 - 1.06 + 1.44) / 3)


def test_pair_state_disables_and_paper_wins_reenable() -> None:
    config = SymbolPerformanceConfig(
        consecutive_loss_disable_threshold=2, consecutive_win_reenable_threshold=2
    )
    losses = [_trade(n, "XRP/USDT", "RANGING", -1.0) for n in (1, 2, 3)]
    frame = build_frame(losses)
    state = pair_states(frame, config, paper=None)["XRP/USDT"]
    assert not state.enabled
    assert state.disabled_since_ts == 2 * DAY + 3600  # the second loss closed
    assert state.disabled_why.startswith("2 consecutive losses")
    paper = [PaperResult(1, "XRP/USDT", 4 * DAY, True), PaperResult(2, "XRP/USDT", 5 * DAY, True)]
    state = pair_states(frame, config, paper=paper)["XRP/USDT"]
    assert state.enabled and state.disabled_since_ts is None and state.paper_trades == 2
    # A paper result before the disabling close does not count.
    early = [PaperResult(1, "XRP/USDT", DAY, True), PaperResult(2, "XRP/USDT", DAY + 1, True)]
    assert not pair_states(frame, config, paper=early)["XRP/USDT"].enabled


def test_pair_state_replays_a_lock_removed_by_hand() -> None:
    """As the bot does (issue 16, defect 5): a lock a person removed re-enables the pair at
    that moment, with a fresh losing streak; one removed before the disable changes nothing."""
    config = SymbolPerformanceConfig(consecutive_loss_disable_threshold=2)
    frame = build_frame([_trade(n, "XRP/USDT", "RANGING", -1.0) for n in (1, 2, 3)])
    removed = [HandUnlock(7, "XRP/USDT", 2 * DAY + 7200)]  # after the 2nd loss disabled it
    state = pair_states(frame, config, paper=None, hand_unlocks=removed)["XRP/USDT"]
    assert state.enabled and state.consecutive_losses == 1 and state.disabled_since_ts is None
    early = [HandUnlock(7, "XRP/USDT", DAY)]
    assert not pair_states(frame, config, paper=None, hand_unlocks=early)["XRP/USDT"].enabled


def test_the_plugins_lock_is_recognised_by_its_reason() -> None:
    from freqtrade_quant_plugin.adapters.pairs.pair_locks import LOCK_REASON_PREFIX, lock_reason
    from freqtrade_quant_plugin.report.pair_state import Lock
    from freqtrade_quant_plugin.report.tables import PLUGIN_LOCK_PREFIX, lock_text

    assert PLUGIN_LOCK_PREFIX == LOCK_REASON_PREFIX
    plugin = Lock("XRP/USDT", "*", lock_reason("10 consecutive losses"), 2_000_000_000)
    assert lock_text(plugin) == "symbol performance, until re-enabled"
    other = Lock("XRP/USDT", "long", "Auto lock", 1_700_000_000)
    assert lock_text(other) == "Auto lock (long, until 2023-11-14 22:13)"


def test_tables_show_every_section_and_skipped_only_with_data() -> None:
    console = Console(width=200, record=True)
    print_report(build_report(_source(), Filters(), SymbolPerformanceConfig()), console=console)
    text = console.export_text()
    for title in ("REGIME REPORT", "PAIR REPORT", "EXIT REASON REPORT", "MFE / MAE IN R",
                  "REGIME DISTRIBUTION", "PAIR STATE"):  # fmt: skip
        assert title in text
    assert "SKIPPED ENTRIES" not in text
    console = Console(width=200, record=True)
    source = _source(skipped={"cost_gate": 3, "unknown_regime": 1})
    print_report(build_report(source, Filters(), SymbolPerformanceConfig()), console=console)
    text = console.export_text()
    assert "SKIPPED ENTRIES" in text and "cost_gate" in text and "75.0" in text


def _write_result(folder: Path, stamp: str, trades: list[dict], export: object | None) -> Path:
    zip_path = folder / f"backtest-result-{stamp}.zip"
    document = {"strategy": {"S": {"trades": trades}}}
    with zipfile.ZipFile(zip_path, "w") as archive:
        archive.writestr(f"backtest-result-{stamp}.json", json.dumps(document))
        archive.writestr(f"backtest-result-{stamp}_config.json", json.dumps({"quant": {}}))
    if export is not None:
        (folder / f"backtest-result-{stamp}.quant.json").write_text(json.dumps(export))
    return zip_path


def test_result_lookup_follows_freqtrades_pointer(tmp_path: Path) -> None:
    older = _write_result(tmp_path, "2024-01-01_00-00-00", [], [])
    newer = _write_result(tmp_path, "2024-02-01_00-00-00", [], [])
    assert resolve_result(tmp_path) == newer  # newest by name without a pointer
    (tmp_path / ".last_result.json").write_text(json.dumps({"latest_backtest": older.name}))
    assert resolve_result(tmp_path) == older
    assert resolve_result(tmp_path / newer.name.replace(".zip", ".quant.json")) == newer
    with pytest.raises(BacktestResultError, match="no such file"):
        resolve_result(tmp_path / "missing.zip")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BacktestResultError, match="No backtest result"):
        resolve_result(tmp_path / "empty")


def test_backtest_without_export_reports_trades_without_record(tmp_path: Path) -> None:
    trade = {"pair": "BTC/USDT", "open_timestamp": 1_700_000_000_000,
             "close_timestamp": 1_700_003_600_000, "profit_abs": 1.5, "open_rate": 100.0,
             "close_rate": 102.0, "amount": 1.0, "initial_stop_loss_abs": 98.0,
             "exit_reason": "roi", "is_short": False}  # fmt: skip
    source = load_backtest(_write_result(tmp_path, "2024-01-01_00-00-00", [trade], None))
    assert "no plugin records" in source.description
    report = build_report(source, Filters(), SymbolPerformanceConfig()).to_json()
    assert report["trades"] == 0 and report["trades_without_record"] == 1
    # No record, no risk money: no R the plugin can vouch for, so, as in the tracker, the
    # trade does not count for the pair's state (neither +-1 R nor Freqtrade's backstop).
    assert report["pairs"] == {}


def test_cli_names_a_bad_timerange_and_a_missing_result(tmp_path: Path, capsys) -> None:
    assert main(["report", "--backtest-filename", str(tmp_path), "--timerange", "2024"]) == 2
    assert "--timerange 2024" in capsys.readouterr().err
    assert main(["report", "--backtest-filename", str(tmp_path / "x.zip")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_config_files_merge_like_freqtrades_loader(tmp_path: Path) -> None:
    from freqtrade.configuration.load_config import load_from_files

    from freqtrade_quant_plugin.report.config_files import load_config_files

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "extra.json").write_text(
        '{"db_url": "sqlite:///extra.sqlite", "quant": {"risk": {"max_cost_in_R": 0.5}}}'
    )
    (tmp_path / "base.json").write_text(
        '// comment\n{"dry_run": true, "add_config_files": ["sub/extra.json"],\n'
        ' "quant": {"symbol_performance": {"min_trades_for_adjustment": 7},},}'
    )
    (tmp_path / "override.json").write_text(
        '{"quant": {"symbol_performance": {"consecutive_loss_disable_threshold": 4}}, '
        '"db_url": "sqlite:///override.sqlite"}'
    )
    files = [str(tmp_path / "base.json"), str(tmp_path / "override.json")]
    ours = load_config_files(files)
    assert ours == load_from_files(files)
    assert ours["db_url"] == "sqlite:///override.sqlite"
    assert ours["quant"]["symbol_performance"] == {
        "min_trades_for_adjustment": 7,
        "consecutive_loss_disable_threshold": 4,
    }
    with pytest.raises(ValueError, match="not found"):
        load_config_files([str(tmp_path / "absent.json")])


def test_no_trades_gives_empty_sections_not_errors(tmp_path: Path) -> None:
    """A backtest where every entry was refused: zero trades, the skipped counts speak."""
    zip_path = _write_result(
        tmp_path, "2024-01-01_00-00-00", [], {"trades": [], "skipped": {"cost_gate": 42}}
    )
    report = build_report(load_backtest(zip_path), Filters(), SymbolPerformanceConfig())
    data = report.to_json()
    assert data["trades"] == 0 and data["by_regime"] == {} and data["by_pair"] == {}
    assert data["skipped"] == {"cost_gate": 42}
    console = Console(width=200, record=True)
    print_report(report, console=console)
    text = console.export_text()
    assert "No closed trade" in text and "SKIPPED ENTRIES" in text and "cost_gate" in text
    from freqtrade_quant_plugin.report.html import render_html

    assert "No closed trade" in render_html(report)
