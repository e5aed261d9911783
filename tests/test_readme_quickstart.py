"""The README's quick start, run as written: its strategy backtests and its report reads it.

The strategy code and the two commands are taken from the README itself, so the quick
start cannot drift from what works. The test adds only what a user's machine provides:
the offline server's port in the config, the market data and a short timerange.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from freqtrade_support import output_of, run_freqtrade, write_freqtrade_config

REPO_ROOT = Path(__file__).resolve().parents[1]


def quick_start() -> tuple[str, list[list[str]]]:
    """The quick start's Python block and its shell commands (without comments)."""
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    commands = [
        shlex.split(line, comments=True)
        for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL)
        for line in block.splitlines()
        if line.strip()
    ]
    return code, commands


def test_the_quick_start_names_its_commands() -> None:
    code, commands = quick_start()
    assert "class MyStrategy(QuantStrategy)" in code
    programs = [command[:2] for command in commands]
    assert ["freqtrade", "backtesting"] in programs
    assert ["freqtrade-quant", "report"] in programs


@pytest.mark.freqtrade
def test_the_quick_start_backtests_and_reports(tmp_path, offline_server, market_datadir):
    code, commands = quick_start()
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    (strategies / "my_strategy.py").write_text(code, encoding="utf-8")
    write_freqtrade_config(tmp_path / "config.json", offline_server.port)
    backtest = next(c for c in commands if c[:2] == ["freqtrade", "backtesting"])
    completed = run_freqtrade(
        [*backtest[1:], "--datadir", market_datadir, "--timerange", "20240201-20240401",
         "--cache", "none"],
        cwd=tmp_path,
        timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, output_of(completed)[-4000:]
    assert "QUANT PLUGIN SUMMARY (MyStrategy)" in completed.stdout
    report = next(c for c in commands if c[:2] == ["freqtrade-quant", "report"])
    shown = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", *report[1:]],
        cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, output_of(shown)[-4000:]
    trades = re.search(r"(\d+) closed trades with plugin records", shown.stdout)
    assert trades and int(trades[1]) > 0, shown.stdout[-2000:]
    assert "TRENDING" in shown.stdout.split("REGIME REPORT", 1)[1]
