"""`freqtrade-quant compare` end to end: its rows against plain `freqtrade backtesting` runs.

Synthetic candles (3 pairs, 1h, 80 days) keep each backtest at a few seconds. The user's
config carries its own `quant.layers` (cost gate off), so the rows also prove that each
variant's overlay replaces the user's switches.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from statistics import fmean

import freqtrade_support as support
import pytest

from freqtrade_quant_plugin.core.layers import LAYER_NAMES, REGIME_LAYERS
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer
from freqtrade_quant_plugin.synth import write_synthetic_data

pytestmark = pytest.mark.freqtrade

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
STRATEGY = "QuantRegimeStrategy"
STRATEGY_PATH = support.REPO_ROOT / "user_data" / "strategies"
TIMERANGE = "20240201-20240318"
USER_LAYERS = {"cost_gate": False}  # the user's own switch, which every variant must replace
ROW_KEYS = {"name", "layers_off", "fold", "trades", "profit_pct", "max_drawdown_pct", "calmar"}
ROW_KEYS |= {"sharpe", "avg_net_R", "avg_cost_in_R", "d_profit_pct", "d_max_drawdown_pct"}
ROW_KEYS |= {"d_calmar", "d_avg_net_R"}


@pytest.fixture(scope="module")
def datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("compare") / "binance"
    write_synthetic_data(folder, PAIRS, ["1h"], 42, "2024-01-01", 80)
    return folder


@pytest.fixture(scope="module")
def server(datadir: Path) -> Iterator[OfflineExchangeServer]:
    started = support.start_offline_server(datadir)
    yield started
    started.stop()


@pytest.fixture
def unused_port() -> Iterator[int]:
    """A loopback port bound but not listening for the whole test: connections to it are
    refused, and no other process can start a server there meanwhile."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        yield holder.getsockname()[1]


def user_config(path: Path, port: int, layers: dict | None = None) -> Path:
    """The config of a user whose user_data lies beside it (Freqtrade insists it exists)."""
    (path.parent / "user_data").mkdir(exist_ok=True)
    overrides = {"strategy": STRATEGY, "exchange": {"pair_whitelist": PAIRS}}
    overrides["quant"] = {"layers": layers if layers is not None else USER_LAYERS}
    return support.write_freqtrade_config(path, port, overrides)


def run_compare(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_compare_in(cwd, STRATEGY_PATH, *args)


def run_compare_in(cwd: Path, strategy_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "compare",
         "--strategy-path", str(strategy_path), "-j", "2", *args],
        cwd=cwd, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def plain_backtest(tmp_path: Path, server, datadir: Path, layers_off: tuple[str, ...]) -> dict:
    """What a user runs by hand: one config naming the switches, Freqtrade's own command."""
    name = "-".join(layers_off) or "all_on"
    layers = {layer: layer not in layers_off for layer in LAYER_NAMES}
    config = user_config(tmp_path / f"plain-{name}.json", server.port, layers)
    results = tmp_path / f"plain-{name}"
    results.mkdir()
    completed = support.run_freqtrade(
        ["backtesting", "--config", config, "--strategy", STRATEGY,
         "--strategy-path", STRATEGY_PATH, "--datadir", datadir, "--timerange", TIMERANGE,
         "--backtest-directory", results, "--export", "trades", "--cache", "none"],
        cwd=tmp_path,
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-3000:]
    zip_path = max(results.glob("backtest-result-*.zip"))
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(zip_path)["strategy"][STRATEGY]
    records = json.loads(zip_path.with_suffix(".quant.json").read_text(encoding="utf-8"))
    rows = records.get("trades", []) if isinstance(records, dict) else records
    return {
        "trades": stats["total_trades"],
        "profit_pct": 100 * stats["profit_total"],
        "avg_net_R": fmean(r["net_R_multiple"] for r in rows) if rows else None,
    }


def test_each_row_matches_a_plain_backtest_with_the_same_switches(
    tmp_path: Path, datadir: Path, server: OfflineExchangeServer, unused_port: int
) -> None:
    # a config whose exchange answers nowhere: compare starts the offline server itself
    config = user_config(tmp_path / "config.json", unused_port)
    completed = run_compare(
        tmp_path, "--config", str(config), "--datadir", str(datadir),
        "--timerange", TIMERANGE, "--variants", "static", "no_cost_gate", "--json",
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-4000:]
    document = json.loads(completed.stdout)
    assert document["folds"] == [{"fold": None, "timerange": TIMERANGE}]
    rows = {row["name"]: row for row in document["variants"]}
    assert set(rows) == {"all_on", "static", "no_cost_gate"}
    assert rows["static"]["layers_off"] == list(REGIME_LAYERS)
    assert rows["all_on"]["layers_off"] == []
    for row in rows.values():
        assert set(row) >= ROW_KEYS, ROW_KEYS - set(row)
        assert row["fold"] is None
    assert "[3/3]" in completed.stderr and "started static" in completed.stderr
    assert rows["all_on"]["trades"] > 0

    for name, layers_off in (("all_on", ()), ("static", REGIME_LAYERS)):
        plain = plain_backtest(tmp_path, server, datadir, layers_off)
        assert rows[name]["trades"] == plain["trades"], name
        assert rows[name]["profit_pct"] == pytest.approx(plain["profit_pct"], abs=1e-9), name
        assert rows[name]["avg_net_R"] == pytest.approx(plain["avg_net_R"]), name
    plain = plain_backtest(tmp_path, server, datadir, ("cost_gate",))
    assert rows["no_cost_gate"]["trades"] == plain["trades"]
    assert rows["no_cost_gate"]["profit_pct"] == pytest.approx(plain["profit_pct"], abs=1e-9)
    for name, row in rows.items():
        assert row["d_profit_pct"] == pytest.approx(
            row["profit_pct"] - rows["all_on"]["profit_pct"]
        ), name


def test_walk_forward_folds_partition_the_timerange(
    tmp_path: Path, datadir: Path, server: OfflineExchangeServer
) -> None:
    # the config's own server answers: compare uses it instead of starting one
    config = user_config(tmp_path / "config.json", server.port)
    completed = run_compare(
        tmp_path, "--config", str(config), "--datadir", str(datadir),
        "--timerange", TIMERANGE, "--walk-forward", "2", "--variants", "static", "--json",
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-4000:]
    assert "Using the exchange server the config points at" in completed.stderr
    document = json.loads(completed.stdout)
    folds = document["folds"]
    assert [fold["fold"] for fold in folds] == [1, 2]
    first_start, first_stop = folds[0]["timerange"].split("-")
    second_start, second_stop = folds[1]["timerange"].split("-")
    assert first_start == "20240201T000000"
    assert first_stop.endswith("5959") and second_start.endswith("0000")
    assert second_stop == "20240318T000000"  # the user's inclusive stop is kept
    rows = document["variants"]
    assert sorted((row["name"], row["fold"]) for row in rows) == [
        ("all_on", 1), ("all_on", 2), ("static", 1), ("static", 2),
    ]  # fmt: skip
    for row in rows:
        fold = folds[row["fold"] - 1]
        assert row["timerange"] == fold["timerange"]
        start, stop = fold["timerange"].split("-")
        # Freqtrade's own report of what it backtested lies inside the fold
        ft_start = row["backtest_start"].replace("-", "").replace(" ", "T").replace(":", "")
        ft_end = row["backtest_end"].replace("-", "").replace(" ", "T").replace(":", "")
        assert start <= ft_start[:15] and ft_end[:15] <= stop, (row, fold)
    spread = {entry["name"]: entry for entry in document["spread"]}
    assert spread["static"]["folds"] == 2
    by_fold = [row["d_profit_pct"] for row in rows if row["name"] == "static"]
    assert spread["static"]["d_profit_pct"]["min"] == pytest.approx(min(by_fold))
    assert spread["static"]["d_profit_pct"]["max"] == pytest.approx(max(by_fold))


def test_table_output_and_unknown_variant(tmp_path: Path, datadir: Path, unused_port: int) -> None:
    config = user_config(tmp_path / "config.json", unused_port)
    completed = run_compare(
        tmp_path, "--config", str(config), "--datadir", str(datadir),
        "--timerange", "20240301-20240310", "--variants", "no_breakeven",
        "--backtest-directory", str(tmp_path / "kept"),
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-4000:]
    assert "LAYER COMPARISON | QuantRegimeStrategy" in completed.stdout
    assert "no_breakeven" in completed.stdout and "all_on" in completed.stdout
    assert "Δ Profit %" in completed.stdout
    # kept: each run's overlay, Freqtrade's log, its result and the plugin's export
    kept = tmp_path / "kept" / "no_breakeven-foldall"
    overlay = json.loads((kept / "layers.json").read_text(encoding="utf-8"))
    assert overlay["quant"]["layers"] == {name: name != "breakeven" for name in LAYER_NAMES}
    command = (kept / "freqtrade.log").read_text(encoding="utf-8").splitlines()[0]
    assert command.endswith("--timerange 20240301-20240310")
    assert f"--config {kept / 'layers.json'}" in command
    assert list((kept / "results").glob("backtest-result-*.zip"))
    assert list((kept / "results").glob("backtest-result-*.quant.json"))

    refused = run_compare(
        tmp_path, "--config", str(config), "-d", str(datadir), "--variants", "no_such"
    )
    assert refused.returncode == 2
    assert "unknown no_such" in refused.stderr
    missing = run_compare(tmp_path, "--config", str(config), "-d", str(tmp_path / "none"))
    assert missing.returncode == 2
    assert "No data dir" in missing.stderr
