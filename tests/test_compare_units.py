"""`freqtrade-quant compare`: folds, variants, overlays and the table's arithmetic."""

from __future__ import annotations

import argparse
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from freqtrade_quant_plugin.commands.compare import applied_parameter_files
from freqtrade_quant_plugin.commands.compare_folds import Fold, split_folds, timerange_bounds
from freqtrade_quant_plugin.commands.compare_runs import (
    Variant,
    clean_environment,
    prepare_user_data,
    select_variants,
    standard_variants,
)
from freqtrade_quant_plugin.commands.compare_table import (
    add_differences,
    no_variant_differs,
    ratio_or_none,
    spread,
)
from freqtrade_quant_plugin.core.layers import LAYER_NAMES, REGIME_LAYERS

HOUR = 3600
JAN = datetime(2024, 1, 1, tzinfo=UTC)


def test_folds_partition_the_range_on_the_candle_grid() -> None:
    end = JAN + timedelta(days=10, hours=5)
    folds = split_folds(JAN, end, 3, HOUR)
    assert [fold.number for fold in folds] == [1, 2, 3]
    assert folds[0].start == JAN and folds[-1].end == end
    for first, second in itertools.pairwise(folds):
        assert first.end == second.start
        assert (second.start - JAN).total_seconds() % HOUR == 0
    # Freqtrade's stop is inclusive: each fold stops one second before the next one starts
    assert (
        folds[0].timerange
        == f"20240101T000000-{folds[1].start - timedelta(seconds=1):%Y%m%dT%H%M%S}"
    )
    lengths = [fold.end - fold.start for fold in folds[:-1]]
    assert max(lengths) - min(lengths) <= timedelta(hours=1)


def test_one_fold_is_the_whole_range_and_too_many_folds_are_refused() -> None:
    assert split_folds(JAN, JAN + timedelta(days=1), 1, HOUR) == [
        Fold(None, JAN, JAN + timedelta(days=1))
    ]
    with pytest.raises(ValueError, match="too few for 5 folds"):
        split_folds(JAN, JAN + timedelta(hours=4), 5, HOUR)
    with pytest.raises(ValueError, match="at least 1"):
        split_folds(JAN, JAN + timedelta(days=1), 0, HOUR)


def test_timerange_bounds_read_freqtrades_formats() -> None:
    assert timerange_bounds("20240101-20240201T1200") == (
        JAN,
        datetime(2024, 2, 1, 12, tzinfo=UTC),
    )
    assert timerange_bounds("20240101-") == (JAN, None)
    assert timerange_bounds(f"-{int(JAN.timestamp())}") == (None, JAN)
    assert timerange_bounds(None) == (None, None)
    with pytest.raises(ValueError, match="cannot read"):
        timerange_bounds("2024-01-01")


def test_variants_are_all_on_each_layer_off_and_static() -> None:
    variants = standard_variants()
    assert variants[0] == Variant("all_on", ())
    assert [v.name for v in variants[1:-1]] == [f"no_{name}" for name in LAYER_NAMES]
    assert variants[-1] == Variant("static", REGIME_LAYERS)
    assert [v.name for v in select_variants(["static"])] == ["all_on", "static"]
    with pytest.raises(ValueError, match="unknown no_such"):
        select_variants(["no_such"])


def test_overlay_names_every_layer() -> None:
    overlay = Variant("no_breakeven", ("breakeven",)).overlay()["quant"]["layers"]
    assert set(overlay) == set(LAYER_NAMES)
    assert [name for name, on in overlay.items() if not on] == ["breakeven"]


def test_overlay_overrides_the_users_own_layers_in_freqtrades_merge(tmp_path: Path) -> None:
    """Freqtrade deep-merges its --config files: the overlay, passed last, must win both ways."""
    from freqtrade.configuration.load_config import load_from_files

    user = tmp_path / "user.json"
    user.write_text(
        json.dumps({"quant": {"risk": {"x": 1}, "layers": {"regime_exits": False}}}),
        encoding="utf-8",
    )
    for variant in (Variant("all_on", ()), Variant("no_cost_gate", ("cost_gate",))):
        overlay = tmp_path / f"{variant.name}.json"
        overlay.write_text(json.dumps(variant.overlay()), encoding="utf-8")
        merged = load_from_files([str(user), str(overlay)])
        assert merged["quant"]["layers"] == variant.overlay()["quant"]["layers"]
        assert merged["quant"]["risk"] == {"x": 1}  # the rest of the user's section stays


def test_environment_switches_are_not_passed_to_the_backtests(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("QUANT_LAYER_BREAKEVEN", "false")
    monkeypatch.setenv("FREQTRADE__QUANT__LAYERS__TRAILING", "false")
    monkeypatch.setenv("QUANT_RISK_PER_TRADE", "0.01")
    env = clean_environment()
    assert "QUANT_LAYER_BREAKEVEN" not in env
    assert "FREQTRADE__QUANT__LAYERS__TRAILING" not in env
    assert env["QUANT_RISK_PER_TRADE"] == "0.01"
    assert "127.0.0.1" in env["NO_PROXY"]


def row(name: str, fold: int | None, profit: float, dd: float, calmar, net) -> dict:
    return {
        "name": name,
        "layers_off": [] if name == "all_on" else [name],
        "fold": fold,
        "profit_pct": profit,
        "max_drawdown_pct": dd,
        "calmar": calmar,
        "avg_net_R": net,
    }


def test_differences_are_against_all_on_of_the_same_fold() -> None:
    rows = add_differences(
        [
            row("all_on", 1, 10.0, 5.0, 2.0, 0.10),
            row("static", 1, 12.5, 4.0, None, 0.05),
            row("all_on", 2, -3.0, 8.0, -1.0, -0.20),
            row("static", 2, -1.0, 9.5, -0.5, -0.10),
        ]
    )
    assert rows[0]["d_profit_pct"] == 0.0
    assert rows[1]["d_profit_pct"] == pytest.approx(2.5)
    assert rows[1]["d_max_drawdown_pct"] == pytest.approx(-1.0)
    assert rows[1]["d_calmar"] is None  # a missing ratio gives no difference, not a number
    assert rows[1]["d_avg_net_R"] == pytest.approx(-0.05)
    assert rows[3]["d_profit_pct"] == pytest.approx(2.0)
    assert rows[3]["d_calmar"] == pytest.approx(0.5)
    summary = {entry["name"]: entry for entry in spread(rows)}
    static = summary["static"]
    assert static["folds"] == 2
    assert static["d_profit_pct"] == {"min": 2.0, "median": 2.25, "max": 2.5}
    assert static["d_avg_net_R"]["min"] == pytest.approx(-0.05)
    assert static["d_avg_net_R"]["max"] == pytest.approx(0.1)
    assert static["d_calmar"] == {"min": 0.5, "median": 0.5, "max": 0.5}
    assert static["better_profit_folds"] == 2


def test_ratios_freqtrade_cannot_compute_show_as_none() -> None:
    assert ratio_or_none(0.0, trades=0) is None  # Freqtrade's 0 for "no trades"
    assert ratio_or_none(float("nan"), trades=5) is None
    assert ratio_or_none(float("inf"), trades=5) is None
    assert ratio_or_none(None, trades=5) is None
    assert ratio_or_none(-1.5, trades=5) == -1.5


def test_a_failed_backtest_is_reported_and_the_others_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's plumbing without Freqtrade: one variant fails, the other rows still print."""
    from contextlib import nullcontext

    from freqtrade_quant_plugin import cli
    from freqtrade_quant_plugin.commands import compare_runs
    from freqtrade_quant_plugin.offline import exchange_reach

    config = tmp_path / "config.json"
    config.write_text(json.dumps({"strategy": "S", "timeframe": "1h"}), encoding="utf-8")
    (tmp_path / "data").mkdir()
    stats = {"trades": 4, "profit_pct": 1.5, "max_drawdown_pct": 2.0, "calmar": 3.0}
    stats |= {"sharpe": 1.0, "avg_net_R": 0.2, "avg_cost_in_R": 0.05}
    stats |= {"backtest_start": None, "backtest_end": None}

    def fake_run_jobs(jobs, *_args, **_kwargs):
        return [
            compare_runs.RunResult(job, stats=dict(stats))
            if job.variant.name == "all_on"
            else compare_runs.RunResult(job, error="exit code 1:\nboom")
            for job in jobs
        ]

    monkeypatch.setattr(compare_runs, "run_jobs", fake_run_jobs)
    monkeypatch.setattr(exchange_reach, "offline_exchange", lambda *a, **k: nullcontext(None))
    code = cli.main(
        ["compare", "-c", str(config), "-d", str(tmp_path / "data"),
         "--variants", "static", "--json"]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 1
    assert "static-foldall failed: exit code 1" in out.err
    rows = json.loads(out.out)["variants"]
    assert [row["name"] for row in rows] == ["all_on"]
    assert rows[0]["trades"] == 4 and rows[0]["d_profit_pct"] == 0.0


def test_only_a_listening_loopback_server_counts_as_reachable() -> None:
    import socket

    from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
    from freqtrade_quant_plugin.offline.exchange_reach import (
        configured_api_url,
        reachable_local_server,
    )

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        url = configured_api_url(offline_exchange_config(port))
        assert url == f"http://127.0.0.1:{port}/api/v3"
        assert reachable_local_server(url)
    assert not reachable_local_server(url)  # closed now
    assert not reachable_local_server("http://10.0.0.1:443/api/v3")  # never contacted
    assert not reachable_local_server(None)
    assert configured_api_url({"exchange": {"name": "binance"}}) is None


def test_identical_variants_are_flagged() -> None:
    same = add_differences(
        [row("all_on", None, 1.0, 2.0, 1.0, 0.1), row("static", None, 1.0, 2.0, 1.0, 0.1)]
    )
    assert no_variant_differs(same)
    other = add_differences(
        [row("all_on", None, 1.0, 2.0, 1.0, 0.1), row("static", None, 1.5, 2.0, 1.0, 0.1)]
    )
    assert not no_variant_differs(other)
    assert not no_variant_differs(add_differences([row("all_on", None, 1.0, 2.0, 1.0, 0.1)]))


def test_a_hyperopt_parameter_file_beside_the_strategy_is_found(tmp_path: Path) -> None:
    """compare warns when Freqtrade will apply a parameter file to every variant."""
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    args = argparse.Namespace(userdir=str(tmp_path / "none"), strategy_path=str(strategies))
    assert applied_parameter_files(args, {}, "QuantRegimeStrategy") == []
    params = strategies / "quant_regime_strategy.json"
    params.write_text(json.dumps({"strategy_name": "QuantRegimeStrategy", "params": {}}))
    (strategies / "other.json").write_text(json.dumps({"strategy_name": "Other"}))
    assert applied_parameter_files(args, {}, "QuantRegimeStrategy") == [params.resolve()]


def test_a_fresh_user_data_gets_freqtrade_folders_before_the_parallel_runs(tmp_path: Path):
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    prepare_user_data(userdir)
    assert {"backtest_results", "data", "logs", "strategies"} <= {
        path.name for path in userdir.iterdir()
    }
    prepare_user_data(tmp_path / "absent")  # Freqtrade itself reports a missing user_data
    assert not (tmp_path / "absent").exists()
