"""The fork server (tests/fork_server.py) runs `freqtrade` as a fresh `python -m freqtrade` would.

Each check runs the same command both ways and compares what a test can see: output, exit
code, the handle's behaviour under SIGINT and SIGKILL; and the runs that must not be forked
(an interpreter-level variable changed, `fresh=True`, QUANT_TEST_FORK_SERVER=0) are not.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import fork_server
import pytest
from freqtrade_support import (
    _offline_env,
    interrupt_and_wait,
    output_of,
    prepare_user_data,
    run_freqtrade,
    start_freqtrade,
)
from parallel_support import ceiling

pytestmark = pytest.mark.freqtrade

# Log lines differ by their time stamp, and a fresh start logs what its imports log
# (numexpr's thread count) where the fork server imported them before logging was set up.
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - ", re.MULTILINE)


def _lines(text: str) -> list[str]:
    return [line for line in STAMP.sub("", text).splitlines() if "NumExpr" not in line]


def _both(args, cwd: Path, **kwargs):
    forked = run_freqtrade(args, cwd=cwd, **kwargs)
    fresh = run_freqtrade(args, cwd=cwd, fresh=True, **kwargs)
    return forked, fresh


def test_version_is_the_same_forked_and_fresh(tmp_path):
    forked, fresh = _both(["--version"], tmp_path)
    assert forked.returncode == fresh.returncode == 0, output_of(forked)
    assert forked.stdout == fresh.stdout
    assert "Freqtrade Version" in forked.stdout


def test_a_missing_config_fails_the_same(tmp_path):
    forked, fresh = _both(["backtesting", "--config", tmp_path / "absent.json"], tmp_path)
    assert forked.returncode == fresh.returncode == 2, output_of(forked)
    assert _lines(forked.stderr) == _lines(fresh.stderr)
    assert "not found" in forked.stderr


def test_a_backtest_is_the_same_forked_and_fresh(
    tmp_path, freqtrade_config, freqtrade_user_data: Path, market_datadir: Path
):
    config = freqtrade_config({"exchange": {"pair_whitelist": ["BTC/USDT", "ETH/USDT"]}})
    args = ["backtesting", "--config", config, "--userdir", freqtrade_user_data,
            "--datadir", market_datadir, "--strategy", "SampleStrategy",
            "--timerange", "20240101-20240301", "--cache", "none", "--export", "none"]  # fmt: skip
    forked, fresh = _both(args, tmp_path, timeout=600)
    assert forked.returncode == fresh.returncode == 0, output_of(forked)[-3000:]
    assert "BACKTESTING REPORT" in forked.stdout
    assert forked.stdout == fresh.stdout


def test_the_working_folder_and_environment_reach_the_run(tmp_path, freqtrade_config):
    """A run's cwd and env are its own: Freqtrade reads an env override of the config."""
    freqtrade_config()  # tmp_path/config.json, named relative to the working folder
    prepare_user_data(tmp_path / "user_data")  # found relative to the working folder
    env = _offline_env() | {"FREQTRADE__STAKE_CURRENCY": "EUR"}
    args = ["show-config", "--config", "config.json", "--show-sensitive"]
    forked, fresh = _both(args, tmp_path, env=env)
    assert forked.returncode == fresh.returncode, output_of(forked)
    assert '"stake_currency": "EUR"' in forked.stdout, output_of(forked)[-3000:]
    assert forked.stdout == fresh.stdout


def _bot(tmp_path: Path, freqtrade_config, userdir: Path, name: str, fresh: bool):
    log = tmp_path / f"{name}.log"
    database = f"sqlite:///{tmp_path / name}.sqlite"
    args = ["trade", "--config", freqtrade_config(name=f"{name}.json"), "--userdir", userdir,
            "--strategy", "SampleStrategy", "--db-url", database]  # fmt: skip
    process = start_freqtrade(args, cwd=tmp_path, log_file=log, fresh=fresh)
    deadline = time.monotonic() + ceiling(180)
    while "Changing state to: RUNNING" not in log.read_text(errors="replace"):
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, log.read_text(errors="replace")[-3000:]
        time.sleep(0.5)
    return process, log


def test_a_forked_bot_stops_on_sigint_and_dies_on_sigkill(
    tmp_path, freqtrade_config, freqtrade_user_data: Path
):
    """Ctrl-C ends `trade` as in a fresh start (Freqtrade exits 130 after its clean-up);
    SIGKILL gives -9 like subprocess."""
    forked, forked_log = _bot(tmp_path, freqtrade_config, freqtrade_user_data, "forked", False)
    assert isinstance(forked, fork_server.ForkedProcess)
    code = interrupt_and_wait(forked)
    assert code == 130, (code, forked_log.read_text(errors="replace")[-600:])
    assert "SIGINT received" in forked_log.read_text(errors="replace")
    killed, _ = _bot(tmp_path, freqtrade_config, freqtrade_user_data, "killed", False)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait(timeout=ceiling(60)) == -signal.SIGKILL
    assert killed.poll() == killed.returncode == -signal.SIGKILL


def test_start_up_runs_are_fresh(tmp_path, monkeypatch):
    """A changed PYTHONPATH runs a fresh interpreter: its sitecustomize runs."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nprint('fresh interpreter start', file=sys.stderr)\n", encoding="utf-8"
    )
    env = _offline_env() | {"PYTHONPATH": str(tmp_path)}
    assert not fork_server.usable(env)
    assert "fresh interpreter start" in run_freqtrade(["--version"], tmp_path, env=env).stderr
    assert "fresh interpreter start" not in run_freqtrade(["--version"], tmp_path).stderr
    monkeypatch.setenv(fork_server.SWITCH_ENV, "0")
    assert not fork_server.usable(_offline_env())
