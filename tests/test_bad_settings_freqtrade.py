"""Fault test "Bad configuration": every invalid setting stops real Freqtrade at start-up.

The whole table (tests/bad_settings.py) runs through `freqtrade backtesting`; a spread of it,
config and environment alike, through `freqtrade trade --dry-run`. Each run must exit
non-zero with exactly one error line naming the key and the value, and no traceback.
Freqtrade exits 0 on its own ConfigurationError, so the exit code is checked too.
Runs go a few at a time: each is one Freqtrade start-up (seconds), not a backtest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from bad_settings import BAD_SETTINGS, BadSetting
from fork_server import run_env
from freqtrade_support import (
    REPO_ROOT,
    prepare_user_data,
    run_freqtrade,
    write_freqtrade_config,
)

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
WORKERS = max(1, min(4, (os.cpu_count() or 1)))
# trade --dry-run: every fourth entry of the table, plus the cases the issue reported
TRADE_IDS = {entry.id for entry in BAD_SETTINGS[::4]} | {
    "quant-list",
    "fee-as-text",
    "window-beyond-startup",
    "env-SYMBOL_PERF_PERSISTENCE_FILE=/proc/nonexistent_dir/perf.json",
    "env-SYMBOL_PERF_POOR_WINRATE_THRESHOLD=0.9",
    "env-REGIME_LOOKBACK_PERIOD=1_0",
    "env-RISK_PER_TRADES=0.5",
}


def _environment(extra: dict[str, str]) -> dict[str, str]:
    quant_variables = ("REGIME_", "COST_", "SYMBOL_PERF_", "RISK_", "EXIT_REGIME_")
    ours = {key: value for key, value in os.environ.items() if not key.startswith(quant_variables)}
    return run_env(ours) | extra  # no proxy, one log line per message


def _run(
    command: str, entry: BadSetting, workdir: Path, port: int, datadir: Path
) -> tuple[BadSetting, subprocess.CompletedProcess[str]]:
    folder = workdir / f"{command}-{BAD_SETTINGS.index(entry)}"
    folder.mkdir()
    config_path = write_freqtrade_config(folder / "config.json", port)
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["quant"] = entry.quant
    config_path.write_text(json.dumps(config), encoding="utf-8")  # NaN/Infinity as rapidjson reads
    args = [command, "--config", config_path, "--userdir", workdir / "user_data"]
    args += ["--strategy", "QuantRegimeStrategy", "--datadir", datadir]
    if command == "backtesting":
        args += ["--timerange", "20240201-20240301", "--cache", "none"]
    else:
        args += ["--dry-run", "--db-url", f"sqlite:///{folder / 'trades.sqlite'}"]
    completed = run_freqtrade(args, cwd=folder, timeout=180, env=_environment(entry.env))
    return entry, completed


def _problems(entry: BadSetting, completed: subprocess.CompletedProcess[str]) -> list[str]:
    output = f"{completed.stdout}\n{completed.stderr}"
    lines = [line for line in output.splitlines() if "Invalid quant setting" in line]
    found = []
    if completed.returncode == 0:
        found.append("exit code 0")
    if len(lines) != 1:
        found.append(f"{len(lines)} error lines")
    elif f"Invalid quant setting {entry.key}={entry.shown}" not in lines[0]:
        found.append(f"error line does not name {entry.key}={entry.shown}: {lines[0]}")
    elif " ERROR " not in lines[0] and "- ERROR -" not in lines[0]:
        found.append(f"not logged as an error: {lines[0]}")
    for marker in ("Traceback", "Fatal exception", "Backtesting with data from", "Bot heartbeat"):
        if marker in output:
            found.append(f"{marker!r} in the output")
    return [f"{entry.id}: {problem}" for problem in found] + ([output[-1500:]] if found else [])


def _run_table(command, entries, tmp_path, offline_server, datadir):
    # The runs go at once: their shared user_data must exist whole before they start.
    userdir = prepare_user_data(tmp_path / "user_data")
    shutil.copy(STRATEGY_FILE, userdir / "strategies")
    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(
            pool.map(
                lambda entry: _run(command, entry, tmp_path, offline_server.port, datadir),
                entries,
            )
        )
    problems = [line for entry, completed in results for line in _problems(entry, completed)]
    assert not problems, "\n".join(problems)


def test_every_bad_setting_stops_backtesting(tmp_path, offline_server, market_datadir):
    _run_table("backtesting", BAD_SETTINGS, tmp_path, offline_server, market_datadir)


def test_bad_settings_stop_a_dry_run_bot(tmp_path, offline_server, market_datadir):
    entries = [entry for entry in BAD_SETTINGS if entry.id in TRADE_IDS]
    assert len(entries) >= 15 and any(entry.env for entry in entries)
    _run_table("trade", entries, tmp_path, offline_server, market_datadir)
