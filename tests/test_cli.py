"""The `freqtrade-quant` entry point: help that shows defaults, no noise from libraries."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from freqtrade_quant_plugin.synth import write_synthetic_data


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_regimes_help_shows_the_defaults() -> None:
    result = _cli("regimes", "--help")
    assert result.returncode == 0, result.stderr
    help_text = " ".join(result.stdout.split())
    for default in (
        "(default: user_data/data/binance)",
        "(default: BTC/USDT)",
        "(default: 1h)",
        "(default: 10)",
    ):
        assert default in help_text, help_text


def test_commands_do_not_log_numexpr_thread_notes(tmp_path: Path) -> None:
    datadir = tmp_path / "binance"
    write_synthetic_data(datadir, ["BTC/USDT"], ["1h"], 42, "2024-01-01", 30)
    result = _cli("regimes", "--datadir", str(datadir), "--tail", "2")
    assert result.returncode == 0, result.stderr
    assert "BTC/USDT 1h: 720 candles" in result.stdout
    assert "NumExpr" not in result.stdout + result.stderr
