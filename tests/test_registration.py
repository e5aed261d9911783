"""The start-up import hook: patches run after the watched module loads, failures are loud."""

import subprocess
import sys
import textwrap

import pytest
from freqtrade_support import output_of, run_freqtrade


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=120
    )


def test_pth_loads_the_hook_without_heavy_imports():
    result = run_python(
        """
        import sys
        assert "freqtrade_quant_plugin.registration" in sys.modules, "pth not processed"
        assert "pandas" not in sys.modules and "freqtrade" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_patch_runs_after_the_module_executes():
    result = run_python(
        """
        from freqtrade_quant_plugin.registration import after_import
        seen = []
        after_import("json.tool", lambda module: seen.append(hasattr(module, "main")))
        import json.tool
        assert seen == [True], seen
        after_import("json.tool", lambda module: seen.append("again"))  # already imported
        assert seen == [True, "again"], seen
        """
    )
    assert result.returncode == 0, result.stderr


def test_failing_patch_stops_the_import_with_a_clear_message():
    result = run_python(
        """
        from freqtrade_quant_plugin.registration import after_import

        def broken(module):
            raise AttributeError("no attribute 'AVAILABLE_PAIRLISTS'")

        after_import("json.tool", broken)
        import json.tool
        """
    )
    assert result.returncode != 0
    assert "FreqtradeHookError" in result.stderr
    assert "could not hook into json.tool" in result.stderr
    assert "AVAILABLE_PAIRLISTS" in result.stderr


@pytest.mark.freqtrade
def test_plain_freqtrade_lists_the_plugin_hyperopt_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    completed = run_freqtrade(
        ["list-hyperoptloss", "--userdir", userdir], cwd=tmp_path, timeout=180
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-3000:]
    (row,) = [line for line in completed.stdout.splitlines() if "NetRHyperOptLoss" in line]
    assert "net_r_hyperopt_loss.py" in row and "OK" in row, row
    assert "SharpeHyperOptLoss" in completed.stdout  # Freqtrade's own are still there
