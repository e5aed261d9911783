"""The start-up import hook: patches run after the watched module loads; one that does not
fit degrades to a warning; the start-up import pulls in nothing beyond the hook itself."""

import re
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


def test_failing_patch_warns_once_and_the_import_succeeds():
    result = run_python(
        """
        from freqtrade_quant_plugin.registration import after_import, missing_hooks

        def broken(module):
            raise AttributeError("no attribute 'AVAILABLE_PAIRLISTS'")

        after_import("json.tool", broken, "pairlist filter SymbolPerformanceFilter")
        import json.tool
        assert json.tool.main
        assert missing_hooks() == [
            ("json.tool", "pairlist filter SymbolPerformanceFilter")
        ], missing_hooks()
        """
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (warning,) = [line for line in result.stderr.splitlines() if "hook into" in line]
    assert "its hook into json.tool does not fit this Freqtrade" in warning
    assert "AttributeError: no attribute 'AVAILABLE_PAIRLISTS'" in warning
    assert "Unavailable: pairlist filter SymbolPerformanceFilter." in warning


def test_startup_imports_nothing_beyond_the_hook():
    """Every Python start of the environment runs the .pth: it may import the package and
    its hook module, nothing else (typing, importlib.abc, ... cost milliseconds)."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    rows = re.findall(r"import time:\s+\d+ \|\s+\d+ \|( +)(\S+)", result.stderr)
    plugin = [i for i, (_, name) in enumerate(rows) if name.startswith("freqtrade_quant_plugin")]
    assert plugin, result.stderr
    top = min(len(rows[i][0]) for i in plugin)
    imported = set()
    for i in plugin:  # importtime prints what a module imports just before it, indented more
        j = i
        while j == i or (j >= 0 and len(rows[j][0]) > top):
            imported.add(rows[j][1])
            j -= 1
    assert imported == {"freqtrade_quant_plugin", "freqtrade_quant_plugin.registration"}


@pytest.mark.freqtrade
def test_plain_freqtrade_lists_the_plugin_hyperopt_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    userdir = tmp_path / "user_data"
    userdir.mkdir()
    completed = run_freqtrade(
        ["list-hyperoptloss", "--userdir", userdir], cwd=tmp_path, timeout=180, fresh=True
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-3000:]
    (row,) = [line for line in completed.stdout.splitlines() if "NetRHyperOptLoss" in line]
    assert "net_r_hyperopt_loss.py" in row and "OK" in row, row
    assert "SharpeHyperOptLoss" in completed.stdout  # Freqtrade's own are still there


@pytest.mark.parametrize(
    "again",
    [
        "importlib.reload(registration)",
        'del sys.modules["freqtrade_quant_plugin.registration"]; '
        "import freqtrade_quant_plugin.registration",
    ],
)
def test_a_second_copy_of_the_hook_leaves_freqtrade_importable(again):
    """A reloaded or re-imported hook module adds a second finder; the two must not ask
    each other (that recursed until RecursionError on every Freqtrade import)."""
    result = run_python(
        f"""
        import importlib, sys
        import freqtrade_quant_plugin.registration as registration
        {again}
        import freqtrade.constants
        assert "SymbolPerformanceFilter" in freqtrade.constants.AVAILABLE_PAIRLISTS
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
