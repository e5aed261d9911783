"""Helpers for tests that run the real Freqtrade against the offline market server.

Shared by every test module that needs Freqtrade end to end (the fixtures in conftest.py
are built on these). Freqtrade always runs as a subprocess of this interpreter, so it
sees the same venv and the plugin's start-up hook, and a crash cannot take pytest down.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

# What a Freqtrade run needs besides the exchange urls; tests override what they vary.
BASE_CONFIG: dict = {
    "max_open_trades": 3,
    "stake_currency": "USDT",
    "stake_amount": "unlimited",
    "tradable_balance_ratio": 0.99,
    "dry_run": True,
    "dry_run_wallet": 1000,
    "trading_mode": "spot",
    "margin_mode": "",
    "timeframe": "1h",
    "exchange": {
        "name": "binance",
        "key": "",
        "secret": "",
        "pair_whitelist": ["BTC/USDT", "ETH/USDT", "SOL/USDT"],
        "pair_blacklist": [],
    },
    "pairlists": [{"method": "StaticPairList"}],
    "entry_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
    "exit_pricing": {"price_side": "same", "use_order_book": True, "order_book_top": 1},
    "unfilledtimeout": {"entry": 10, "exit": 10, "unit": "minutes"},
    "telegram": {"enabled": False, "token": "", "chat_id": ""},
    "api_server": {
        "enabled": False,
        "listen_ip_address": "127.0.0.1",
        "listen_port": 8080,
        "username": "",
        "password": "",
    },
    "initial_state": "running",
    "internals": {"process_throttle_secs": 5},
    "quant": {},
}


def shared_datadir(exchange: str = "binance") -> Path:
    """The read-only market data beside the repository, or skip the test with the reason."""
    datadir = SHARED_DATA / exchange
    if not datadir.is_dir():
        pytest.skip(f"shared market data not found at {datadir}")
    return datadir


def start_offline_server(datadir: Path, replay: bool = False, **kwargs) -> OfflineExchangeServer:
    """A started server on a free loopback port; the caller stops it."""
    return OfflineExchangeServer(datadir, port=0, replay=replay, **kwargs).start()


def deep_merge(base: dict, override: dict) -> dict:
    """A new dict: `override` wins; nested dicts merge, lists and scalars are replaced."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def write_freqtrade_config(path: Path, port: int, overrides: dict | None = None) -> Path:
    """BASE_CONFIG + the offline exchange urls for `port` + `overrides`, written as JSON."""
    config = deep_merge(BASE_CONFIG, offline_exchange_config(port))
    config = deep_merge(config, overrides or {})
    path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    return path


def freqtrade_command(args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "freqtrade", *map(str, args)]


def _offline_env() -> dict[str, str]:
    """No proxy may divert a 127.0.0.1 call elsewhere."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    return env


def run_freqtrade(
    args: Sequence[str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """Run one Freqtrade subcommand to completion; stdout and stderr are captured as text."""
    return subprocess.run(
        freqtrade_command(args),
        cwd=cwd,
        env=_offline_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_freqtrade(args: Sequence[str], cwd: Path, log_file: Path) -> subprocess.Popen[bytes]:
    """Start a long-running Freqtrade (e.g. `trade`) writing its output to `log_file`."""
    with log_file.open("wb") as log:
        return subprocess.Popen(
            freqtrade_command(args), cwd=cwd, env=_offline_env(), stdout=log, stderr=log
        )


def interrupt_and_wait(process: subprocess.Popen[bytes], timeout: float = 60) -> int:
    """Send SIGINT like Ctrl-C and wait for the exit code; kill only if it hangs."""
    process.send_signal(signal.SIGINT)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        raise


def create_user_data(root: Path) -> Path:
    """`freqtrade create-userdir`: Freqtrade's own layout, with its SampleStrategy in
    strategies/ (generated at test time, never committed)."""
    userdir = root / "user_data"
    completed = run_freqtrade(["create-userdir", "--userdir", userdir], cwd=root, timeout=120)
    if completed.returncode != 0:
        raise RuntimeError(f"create-userdir failed:\n{completed.stdout}\n{completed.stderr}")
    return userdir


def new_strategy(userdir: Path, name: str, template: str = "full") -> Path:
    """`freqtrade new-strategy`: a strategy file generated from Freqtrade's template."""
    completed = run_freqtrade(
        ["new-strategy", "--userdir", userdir, "--strategy", name, "--template", template],
        cwd=userdir.parent,
        timeout=120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"new-strategy failed:\n{completed.stdout}\n{completed.stderr}")
    return userdir / "strategies" / f"{name}.py"


def output_of(completed: subprocess.CompletedProcess[str]) -> str:
    """Both streams: Freqtrade prints tables on stdout and logs on stderr."""
    return f"{completed.stdout}\n{completed.stderr}"
