"""A plugin hook that does not fit the installed Freqtrade degrades; Freqtrade keeps working.

Each hook is made not to fit by tests/hook_breakers/sitecustomize.py (first on PYTHONPATH of
the `freqtrade` subprocess): right after Freqtrade executes the watched module it changes
what the plugin's patch checks, the way a later Freqtrade release might, while Freqtrade
itself keeps working. Then real `freqtrade` commands run against the offline server, each
in a fresh interpreter (`fresh=True`: the breakers act at start-up, which a run forked
from the fork server would skip).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from freqtrade_support import REPO_ROOT, output_of, run_freqtrade

from freqtrade_quant_plugin.registration import HOOKS

pytestmark = pytest.mark.freqtrade

BREAKERS = Path(__file__).resolve().parent / "hook_breakers"
# breaker key (see hook_breakers/sitecustomize.py) -> the plugin hook it makes not fit
HOOK_OF = {
    "constants": ("freqtrade.constants", "install_pairlist_names"),
    "pairlist_resolver": ("freqtrade.resolvers.pairlist_resolver", "install_resolver_paths"),
    "protection_resolver": ("freqtrade.resolvers.protection_resolver", "install_resolver_paths"),
    "hyperopt_resolver": ("freqtrade.resolvers.hyperopt_resolver", "install_resolver_paths"),
    "store": ("freqtrade.optimize.backtesting", "install_export"),
    "show": ("freqtrade.optimize.backtesting", "install_summary"),
}
UNAVAILABLE = {
    (module, target.rpartition(":")[2]): unavailable for module, target, unavailable in HOOKS
}


def break_hooks(monkeypatch: pytest.MonkeyPatch, *keys: str) -> None:
    """The next `freqtrade` subprocess runs with these hooks made not to fit."""
    paths = [str(BREAKERS), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))
    monkeypatch.setenv("QUANT_TEST_BREAK_HOOKS", ",".join(keys))
    monkeypatch.setenv("COLUMNS", "1000")  # log lines unwrapped


def warnings_about(output: str, key: str) -> int:
    """How often the output warns that the hook of `key` did not fit."""
    unavailable = UNAVAILABLE[HOOK_OF[key]]
    text = " ".join(output.split())  # immune to line wrapping
    return text.count(f"Unavailable: {unavailable}. Freqtrade runs without it")


def assert_runs(completed, output: str) -> None:
    assert completed.returncode == 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]


# The joblib shim only registers a later hook: it reads nothing of freqtrade.optimize that a
# release could change (tests/test_freqtrade_compat.py covers it).
UNBREAKABLE = {("freqtrade.optimize", "provide_joblib_cloudpickle")}


def test_every_hook_key_names_a_plugin_hook():
    assert set(HOOK_OF.values()) == set(UNAVAILABLE) - UNBREAKABLE


@pytest.mark.parametrize("key", sorted(HOOK_OF))
def test_version_and_list_exchanges_run_with_a_hook_broken(key, monkeypatch, tmp_path):
    break_hooks(monkeypatch, key)
    for command in (["--version"], ["list-exchanges"]):
        completed = run_freqtrade(command, cwd=tmp_path, timeout=180, fresh=True)
        output = output_of(completed)
        assert_runs(completed, output)
        assert warnings_about(output, key) <= 1, output[-4000:]
    assert "binance" in completed.stdout
    if key in ("constants", "pairlist_resolver"):  # modules every command's set-up imports
        assert warnings_about(output, key) == 1, output[-4000:]


def test_plain_backtest_runs_with_every_hook_broken(
    monkeypatch, freqtrade_config, freqtrade_user_data: Path, market_datadir: Path, tmp_path
):
    break_hooks(monkeypatch, *HOOK_OF)
    config = freqtrade_config({"exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]}})
    results = tmp_path / "results"
    results.mkdir()
    completed = run_freqtrade(
        ["backtesting", "--config", config, "--userdir", freqtrade_user_data,
         "--datadir", market_datadir, "--strategy", "SampleStrategy", "--timeframe", "1h",
         "--timerange", "20240101-20240301", "--export", "trades",
         "--backtest-directory", results],
        cwd=tmp_path,
        fresh=True,
    )  # fmt: skip
    output = output_of(completed)
    assert_runs(completed, output)
    assert "BACKTESTING REPORT" in completed.stdout
    for key in HOOK_OF:
        expected = {0, 1} if key == "hyperopt_resolver" else {1}  # backtesting needs no loss
        assert warnings_about(output, key) in expected, (key, output[-4000:])
    assert list(results.glob("backtest-result-*.zip"))  # Freqtrade's own export still works
    assert not list(results.glob("*.quant.json"))


def test_hyperopt_loss_list_runs_without_the_plugin_loss(monkeypatch, tmp_path):
    break_hooks(monkeypatch, "hyperopt_resolver")
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    completed = run_freqtrade(["list-hyperoptloss", "--userdir", userdir], cwd=tmp_path, fresh=True)
    output = output_of(completed)
    assert_runs(completed, output)
    assert warnings_about(output, "hyperopt_resolver") == 1, output[-4000:]
    assert "SharpeHyperOptLoss" in completed.stdout
    assert "NetRHyperOptLoss" not in completed.stdout


@pytest.mark.parametrize("key", ["constants", "pairlist_resolver"])
def test_a_config_naming_the_missing_filter_fails_in_freqtrade(
    key, monkeypatch, freqtrade_config, tmp_path
):
    break_hooks(monkeypatch, key)
    config = freqtrade_config(
        {"pairlists": [{"method": "StaticPairList"}, {"method": "SymbolPerformanceFilter"}]}
    )
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    completed = run_freqtrade(
        ["test-pairlist", "-c", config, "--userdir", userdir],
        cwd=tmp_path,
        timeout=180,
        fresh=True,
    )
    output = output_of(completed)
    # Freqtrade's own error (its exit code for a configuration error is 0, its choice)
    assert "Traceback" not in output, output[-4000:]
    assert warnings_about(output, key) == 1, output[-4000:]
    errors = [line for line in output.splitlines() if " - ERROR - " in line]
    assert any("SymbolPerformanceFilter" in line for line in errors), output[-4000:]
    assert "Using resolved pairlist SymbolPerformanceFilter" not in output


def quant_backtest(config: Path, datadir: Path, tmp_path: Path, *options: str):
    """`freqtrade backtesting` of QuantRegimeStrategy (a copy in tmp_path), 1h."""
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py", strategies)
    return run_freqtrade(
        ["backtesting", "--config", config, "--userdir", strategies.parent,
         "--datadir", datadir, "--strategy-path", strategies,
         "--strategy", "QuantRegimeStrategy", "--timeframe", "1h",
         "--timerange", "20240101-20240401", "--cache", "none", *options],
        cwd=tmp_path,
        timeout=600,
        fresh=True,
    )  # fmt: skip


def test_quant_backtest_summary_says_the_export_is_missing(
    monkeypatch, freqtrade_config, market_datadir: Path, tmp_path
):
    break_hooks(monkeypatch, "store")
    config = freqtrade_config({"exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]}})
    completed = quant_backtest(config, market_datadir, tmp_path, "--export", "trades")
    output = output_of(completed)
    assert_runs(completed, output)
    assert warnings_about(output, "store") == 1, output[-4000:]
    summary = completed.stdout.index("QUANT PLUGIN SUMMARY (QuantRegimeStrategy)")
    line = "Unavailable: " + UNAVAILABLE["freqtrade.optimize.backtesting", "install_export"]
    assert completed.stdout.index(line) > summary, completed.stdout[-4000:]
    results = tmp_path / "user_data" / "backtest_results"
    assert list(results.glob("backtest-result-*.zip"))
    assert not list(results.glob("*.quant.json"))


def test_a_strategy_naming_the_missing_protection_stops_in_freqtrade(
    monkeypatch, freqtrade_config, market_datadir: Path, tmp_path
):
    """QuantRegimeStrategy declares SymbolPerformanceProtection: without its hook it never
    runs unprotected, Freqtrade's resolver refuses it."""
    break_hooks(monkeypatch, "protection_resolver")
    config = freqtrade_config({"exchange": {"pair_whitelist": ["BTC/USDT"]}})
    completed = quant_backtest(config, market_datadir, tmp_path, "--enable-protections")
    output = output_of(completed)
    assert completed.returncode != 0, output[-4000:]
    assert "Traceback" not in output, output[-4000:]
    assert warnings_about(output, "protection_resolver") == 1, output[-4000:]
    assert "Impossible to load Protection 'SymbolPerformanceProtection'" in output
    assert "BACKTESTING REPORT" not in output
