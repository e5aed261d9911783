"""`freqtrade-quant compare --strategy S` on a strategy written without the plugin.

S (tests/strategies_any/roi_scalper.py, copied unmodified) is wrapped on the fly with
QuantMixin; the extra row `plain` runs S itself. It must equal a plain `freqtrade
backtesting` of S, and show in the table, the spread table and the JSON.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import freqtrade_support as support
import pytest
from test_compare import PAIRS, TIMERANGE, datadir, run_compare_in, server  # noqa: F401

from freqtrade_quant_plugin.core.layers import LAYER_NAMES

pytestmark = pytest.mark.freqtrade

STRATEGY = "RoiScalper"
SOURCE = support.REPO_ROOT / "tests" / "strategies_any" / "roi_scalper.py"


def _workspace(tmp_path: Path, port: int) -> tuple[Path, Path]:
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    shutil.copy(SOURCE, strategies)
    (tmp_path / "user_data").mkdir()
    config = support.write_freqtrade_config(
        tmp_path / "config.json",
        port,
        {"strategy": STRATEGY, "exchange": {"pair_whitelist": PAIRS}},
    )
    return config, strategies


def _compare(tmp_path: Path, strategies: Path, config: Path, data: Path, *extra: str):
    completed = run_compare_in(
        tmp_path, strategies, "--config", str(config), "--datadir", str(data),
        "--timerange", TIMERANGE, "--variants", "static", *extra,
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-4000:]
    return completed


def test_plain_row_equals_a_plain_backtest_of_the_unmodified_strategy(
    tmp_path: Path,
    datadir: Path,  # noqa: F811
    server,  # noqa: F811
) -> None:
    config, strategies = _workspace(tmp_path, server.port)
    completed = _compare(tmp_path, strategies, config, datadir, "--json")
    assert "class RoiScalperQuant(QuantMixin, RoiScalper)" in completed.stderr
    rows = {row["name"]: row for row in json.loads(completed.stdout)["variants"]}
    assert set(rows) == {"plain", "all_on", "static"}
    assert rows["plain"]["layers_off"] == list(LAYER_NAMES)
    assert rows["plain"]["avg_net_R"] is None  # no plugin, no records

    results = tmp_path / "plain"
    results.mkdir()
    plain = support.run_freqtrade(
        ["backtesting", "--config", config, "--strategy", STRATEGY, "--strategy-path",
         strategies, "--datadir", datadir, "--timerange", TIMERANGE,
         "--backtest-directory", results, "--export", "trades", "--cache", "none"],
        cwd=tmp_path,
    )  # fmt: skip
    assert plain.returncode == 0, support.output_of(plain)[-3000:]
    from freqtrade.data.btanalysis import load_backtest_stats

    stats = load_backtest_stats(max(results.glob("backtest-result-*.zip")))["strategy"][STRATEGY]
    assert rows["plain"]["trades"] == stats["total_trades"] > 0
    assert rows["plain"]["profit_pct"] == pytest.approx(100 * stats["profit_total"], abs=1e-9)
    assert rows["all_on"]["trades"] > 0
    assert rows["plain"]["d_profit_pct"] == pytest.approx(
        rows["plain"]["profit_pct"] - rows["all_on"]["profit_pct"]
    )


def test_plain_row_in_the_table_and_the_spread_table(
    tmp_path: Path,
    datadir: Path,  # noqa: F811
    server,  # noqa: F811
) -> None:
    config, strategies = _workspace(tmp_path, server.port)
    completed = _compare(tmp_path, strategies, config, datadir, "--walk-forward", "2")
    table, spread = completed.stdout.split("SPREAD ACROSS FOLDS")
    assert "LAYER COMPARISON | RoiScalper" in table
    assert table.count("│ plain") == 2 and "all (no plugin)" in table  # one row per fold
    assert "│ plain" in spread and "/2 folds" in spread


def test_plain_row_covers_the_same_period_as_the_variants(
    tmp_path: Path,
    datadir: Path,  # noqa: F811
    server,  # noqa: F811
) -> None:
    """Without a start date, Freqtrade starts each run after the strategy's own startup
    candles: the plain run (RoiScalper's few) must still start where the variants (the
    detector's hundreds) do, or its row covers weeks the plugin never traded."""
    config, strategies = _workspace(tmp_path, server.port)
    completed = run_compare_in(
        tmp_path, strategies, "--config", str(config), "--datadir", str(datadir),
        "--timerange", "-20240318", "--variants", "static", "--json",
    )  # fmt: skip
    assert completed.returncode == 0, support.output_of(completed)[-4000:]
    rows = {row["name"]: row for row in json.loads(completed.stdout)["variants"]}
    assert rows["plain"]["trades"] > 0
    assert rows["plain"]["backtest_start"] == rows["all_on"]["backtest_start"]
    assert rows["plain"]["backtest_end"] == rows["all_on"]["backtest_end"]
