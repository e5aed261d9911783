"""`freqtrade-quant demo`: a backtest from a fresh, offline clone."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from freqtrade_quant_plugin.commands.demo import ensure_data

REPO_ROOT = Path(__file__).resolve().parents[1]


def fresh_clone(root: Path) -> Path:
    """What a user has after cloning: the config and user_data/strategies, no data."""
    shutil.copy(REPO_ROOT / "config.json", root / "config.json")
    shutil.copytree(REPO_ROOT / "user_data" / "strategies", root / "user_data" / "strategies")
    return root


def _readme_demo_figures() -> tuple[int, float]:
    """The trades and total profit % the README promises for command 1."""
    readme = (REPO_ROOT / "README.md").read_text()
    found = re.search(r"parameter defaults: (\d+) trades, ([+-][\d.]+) %", readme)
    assert found, "README no longer states the demo's figures"
    return int(found[1]), float(found[2])


def _report_totals(stdout: str) -> tuple[int, float]:
    """Trades and total profit % of the TOTAL row of Freqtrade's BACKTESTING REPORT."""
    report = stdout[stdout.index("BACKTESTING REPORT") :]
    row = next(line for line in report.splitlines() if "TOTAL" in line)
    cells = [cell.strip() for cell in row.split("│") if cell.strip()]
    return int(cells[1]), float(cells[4])


@pytest.mark.freqtrade
def test_demo_backtests_a_fresh_clone_with_the_readmes_figures(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "demo"],
        cwd=clone, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "BACKTESTING REPORT" in result.stdout
    assert "STRATEGY SUMMARY" in result.stdout
    assert (clone / "user_data/data/binance/BTC_USDT-1h.feather").is_file()
    assert (clone / "user_data/data/binance/regimes/BTC_USDT-1h.regimes.feather").is_file()
    assert "QuantRegimeStrategy" in result.stdout
    # the plugin's enrichment export lands beside Freqtrade's result
    assert list((clone / "user_data/backtest_results").glob("backtest-result-*.quant.json"))
    trades, profit_pct = _report_totals(result.stdout)
    assert (trades, round(profit_pct, 2)) == _readme_demo_figures()


@pytest.mark.freqtrade
def test_demo_returns_freqtrades_exit_code_for_an_unknown_strategy(tmp_path: Path) -> None:
    clone = fresh_clone(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "demo",
         "--strategy", "NoSuchStrategy", "--timerange", "20240201-20240210"],
        cwd=clone, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert result.returncode != 0
    assert "NoSuchStrategy" in result.stdout + result.stderr


PARAMS = {
    "strategy_name": "QuantRegimeStrategy",
    "params": {"risk": {"risk_per_trade": 0.02}},
    "ft_stratparam_v": 1,
    "export_time": "2024-06-01 00:00:00.000000+00:00",
}


def _demo_with_a_parameter_file(clone: Path, *extra: str) -> str:
    params = clone / "user_data/strategies/quant_regime_strategy.json"
    params.write_text(json.dumps(PARAMS))
    result = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "demo",
         "--timerange", "20240201-20240210", *extra],
        cwd=clone, capture_output=True, text=True, timeout=180,
        env={**os.environ, "COLUMNS": "250"},  # Freqtrade's log wraps at the width
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    assert "BACKTESTING REPORT" in result.stdout
    assert params.read_text() == json.dumps(PARAMS)  # left as it was
    return output


@pytest.mark.freqtrade
def test_demo_runs_on_the_defaults_and_says_it_left_the_parameter_file_out(
    tmp_path: Path,
) -> None:
    output = _demo_with_a_parameter_file(fresh_clone(tmp_path))
    assert "hyperopt parameters in user_data/strategies/quant_regime_strategy.json are NOT" in (
        output
    )
    assert "--use-params" in output
    assert "Strategy Parameter(default): risk_per_trade = 0.01" in output
    assert "Loading parameters from file" not in output


@pytest.mark.freqtrade
def test_demo_with_use_params_applies_the_parameter_file_and_says_so(tmp_path: Path) -> None:
    output = _demo_with_a_parameter_file(fresh_clone(tmp_path), "--use-params")
    assert (
        "QuantRegimeStrategy runs with the hyperopt parameters in "
        "user_data/strategies/quant_regime_strategy.json" in output
    )
    assert "Strategy Parameter: risk_per_trade = 0.02" in output


def test_demo_without_config_explains(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "demo"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert "config.json not found" in result.stdout


def test_existing_candles_are_kept_and_only_missing_pairs_generated(tmp_path: Path) -> None:
    datadir = tmp_path / "binance"
    datadir.mkdir()
    own = datadir / "BTC_USDT-1h.feather"
    own.write_bytes(b"the user's own candles")
    ensure_data(datadir, ["BTC/USDT", "ETH/USDT"], ["1h"], futures=False)
    assert own.read_bytes() == b"the user's own candles"
    assert (datadir / "ETH_USDT-1h.feather").is_file()
    assert not (datadir / "regimes" / "BTC_USDT-1h.regimes.feather").exists()
