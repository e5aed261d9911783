"""Helpers for tests that run the real Freqtrade against the offline market server.

Shared by every test module that needs Freqtrade end to end (the fixtures in conftest.py
are built on these). Freqtrade always runs in a process of its own (same venv, the plugin's
start-up hook; a crash cannot take pytest down): forked from the fork server, which has
Freqtrade imported already (fork_server.py: ~0.1 s of CPU per run, not ~3.5 s), or a
fresh `python -m freqtrade` when the run changes interpreter-level environment variables
(PYTHONPATH, PYTHON*, ...), when asked with `fresh=True` (tests of interpreter start-up:
the .pth hook, sitecustomize breakers), or for every run with QUANT_TEST_FORK_SERVER=0.
"""

from __future__ import annotations

import copy
import importlib.util
import io
import json
import locale
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import IO

import fork_server
import pandas as pd
import pytest
from parallel_support import ceiling

from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
# Set to 1 to run the suite as a fresh clone would, as if ../shared/data were absent.
NO_SHARED_ENV = "QUANT_TEST_NO_SHARED"

# The synthetic stand-in for ../shared/data/binance (see write_synthetic_market): every pair
# and timeframe an integration test reads, over the same dates (2024-01-01 + 240 days).
SYNTH_SEED = 42
SYNTH_START = "2024-01-01"
SYNTH_DAYS = 240
DEEP_PAIRS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT")  # 5m, 1h, 1d
# The real data's 5m set (5m, 1h and 1d candles), DEEP_PAIRS among them.
FIVE_MINUTE_PAIRS = tuple(
    f"{base}/USDT"
    for base in ("ATOM", "AVAX", "BCH", "BTC", "DOGE", "ETH", "FET", "INJ", "LINK", "LTC",
                 "NEAR", "PEPE", "SHIB", "SOL", "SUI", "TON", "TRX", "UNI", "WIF", "XRP")
)  # fmt: skip
# 30 pairs of the 1h universe for the pair-disabling backtest; the last six were listed
# during the data's range (real data), so the synthetic set starts them later too.
UNIVERSE_PAIRS = tuple(
    f"{base}/USDT"
    for base in (
        *("BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "AVAX", "ATOM", "NEAR", "FET", "INJ"),
        *("PEPE", "ARB", "APT", "BONK", "FLOKI", "CRV", "DYDX", "AAVE", "EGLD", "ETC", "ENS"),
        *("1INCH", "APE"),
        *("BB", "BOME", "DOGS", "ENA", "ETHFI", "WIF"),
    )
)
SYNTH_LISTINGS = {
    "BB/USDT": "2024-05-13",
    "BOME/USDT": "2024-03-16",
    "DOGS/USDT": "2024-06-26",
    "ENA/USDT": "2024-04-02",
    "ETHFI/USDT": "2024-03-18",
    "WIF/USDT": "2024-03-05",
}

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


def shared_data_present(exchange: str = "binance") -> bool:
    """Whether ../shared/data/<exchange> is there and not switched off by QUANT_TEST_NO_SHARED."""
    if os.environ.get(NO_SHARED_ENV, "").strip().lower() in ("1", "true", "yes"):
        return False
    return (SHARED_DATA / exchange).is_dir()


def real_datadir(why: str, exchange: str = "binance") -> Path:
    """The real candles, for the few tests whose point is real data; skip saying why."""
    datadir = SHARED_DATA / exchange
    if not shared_data_present(exchange):
        switched_off = os.environ.get(NO_SHARED_ENV) and datadir.is_dir()
        absent = f"{NO_SHARED_ENV} is set" if switched_off else f"{datadir} is absent"
        pytest.skip(f"needs real candles ({why}); {absent}")
    return datadir


def shared_datadir(exchange: str = "binance") -> Path:
    """Former helper: the real candles or a skip. New tests take the `market_datadir`
    fixture (real or synthetic) or, when real candles are their point, `real_datadir`."""
    return real_datadir("written for the real data set", exchange)


def write_synthetic_market(datadir: Path) -> Path:
    """The project's synthetic stand-in for ../shared/data/binance, deterministic (seed 42).

    FIVE_MINUTE_PAIRS with 5m, 1h and 1d candles (XRP/USDT also as a futures perpetual with
    mark and funding files, like the real futures sample), the rest of UNIVERSE_PAIRS with 1h
    candles, late listings starting at SYNTH_LISTINGS' dates. About 20 s.
    """
    from freqtrade_quant_plugin.synth import write_synthetic_data

    end = pd.Timestamp(SYNTH_START) + pd.Timedelta(days=SYNTH_DAYS)

    def write(pairs, timeframes, start=SYNTH_START, futures=False) -> None:
        days = (end - pd.Timestamp(start)).days
        write_synthetic_data(datadir, pairs, timeframes, SYNTH_SEED, start, days, futures)

    for pair in dict.fromkeys((*FIVE_MINUTE_PAIRS, *UNIVERSE_PAIRS)):
        timeframes = ["5m", "1h", "1d"] if pair in FIVE_MINUTE_PAIRS else ["1h"]
        write([pair], timeframes, start=SYNTH_LISTINGS.get(pair, SYNTH_START))
    write(["XRP/USDT"], ["5m", "1h"], futures=True)
    return datadir


def load_sample_strategies(module_name: str) -> ModuleType:
    """user_data/strategies/quant_regime_strategy.py as a fresh module of its own (its
    hyperopt parameters are class attributes: a module per test file keeps them apart)."""
    path = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def start_offline_server(datadir: Path, replay: bool = False, **kwargs) -> OfflineExchangeServer:
    """A started server on a free loopback port; the caller stops it. A replay keeps no
    state file unless `replay_state` is given (nothing is written into `datadir`)."""
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


LOG_COLUMNS = fork_server.LOG_COLUMNS  # the console width of every run (log lines unwrapped)


def _offline_env() -> dict[str, str]:
    """No proxy may divert a 127.0.0.1 call elsewhere; log lines are not wrapped."""
    return fork_server.run_env(os.environ)


def run_freqtrade(
    args: Sequence[str],
    cwd: Path,
    timeout: float = 300,
    env: Mapping[str, str] | None = None,
    fresh: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run one Freqtrade subcommand to completion; stdout and stderr are captured as text.
    `timeout` is the ceiling on an idle machine; it grows with the load (see `ceiling`).
    `env` replaces the default environment (`_offline_env`); the run is forked from the fork
    server unless `fresh` or the environment needs an interpreter of its own."""
    env = _offline_env() if env is None else env
    if fresh or not fork_server.usable(env):
        return subprocess.run(
            freqtrade_command(args), cwd=cwd, env=env, capture_output=True, text=True,
            timeout=ceiling(timeout), check=False,
        )  # fmt: skip
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = fork_server.SERVER.start(args, cwd, env, out.fileno(), err.fileno())
        try:
            process.wait(timeout=ceiling(timeout))
        except subprocess.TimeoutExpired as expired:
            process.kill()
            process.wait()
            expired.stdout, expired.stderr = _text(out), _text(err)
            raise
        return subprocess.CompletedProcess(process.args, process.returncode, _text(out), _text(err))


def _text(file: IO[bytes]) -> str:
    """What the run wrote, decoded as subprocess's text mode does (universal newlines)."""
    file.seek(0)
    return io.TextIOWrapper(file, encoding=locale.getpreferredencoding(False)).read()


def start_freqtrade(
    args: Sequence[str],
    cwd: Path,
    log_file: Path,
    env: Mapping[str, str] | None = None,
    fresh: bool = False,
) -> subprocess.Popen[bytes] | fork_server.ForkedProcess:
    """Start a long-running Freqtrade (e.g. `trade`) writing its output to `log_file`: a
    forked run (Popen-like handle) or, as `run_freqtrade` decides, a fresh subprocess."""
    env = _offline_env() if env is None else env
    with log_file.open("wb") as log:
        if fresh or not fork_server.usable(env):
            process = subprocess.Popen(
                freqtrade_command(args), cwd=cwd, env=env, stdout=log, stderr=log
            )
        else:
            process = fork_server.SERVER.start(args, cwd, env, log.fileno(), log.fileno())
    process.log_file = log_file  # for interrupt_and_wait
    return process


SIGINT_SEEN = "SIGINT received"  # Freqtrade's line once it acts on a Ctrl-C
CTRL_C_PRESSES = 3


def interrupt_and_wait(
    process: subprocess.Popen[bytes] | fork_server.ForkedProcess, timeout: float = 60
) -> int:
    """Send SIGINT like Ctrl-C and wait for the exit code; kill only if it hangs (longer
    than `timeout` stretched by the load).

    Freqtrade can lose a Ctrl-C that lands in the middle of a loop's exchange calls (seen
    once in about ten full runs, in a bot's first loop): it goes on trading and never says
    it received it. A bot started by `start_freqtrade` whose log has no SIGINT_SEEN line
    after a while gets Ctrl-C again, as a user would press it again; never once it has
    said so (a second Ctrl-C would break into its clean-up)."""
    log_file: Path | None = getattr(process, "log_file", None)

    def acted() -> bool:
        """Ended, or said it received the Ctrl-C (always so without a log to read)."""
        if process.poll() is not None or log_file is None:
            return True
        return SIGINT_SEEN in log_file.read_text(errors="replace")

    deadline = time.monotonic() + ceiling(timeout)
    for _ in range(CTRL_C_PRESSES):
        process.send_signal(signal.SIGINT)
        pressed_again = min(time.monotonic() + ceiling(10), deadline)
        while not acted() and time.monotonic() < pressed_again:
            time.sleep(0.2)
        if acted():
            break
    try:
        return process.wait(timeout=max(1.0, deadline - time.monotonic()))
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


def prepare_user_data(userdir: Path) -> Path:
    """Every sub-folder Freqtrade creates in a user_data dir at start-up, made beforehand:
    Freqtrade processes started at once on a fresh user_data race to create them
    (FileExistsError)."""
    from freqtrade.configuration.directory_operations import create_userdata_dir

    return create_userdata_dir(str(userdir), create_dir=True)


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


def only_backtest_result(results: Path) -> tuple[Path, dict]:
    """The one `backtest-result-*.zip` in `results` and its statistics document (the JSON
    that is not the config): a run that wrote none or several is a failed test."""
    (zip_path,) = results.glob("backtest-result-*.zip")
    with zipfile.ZipFile(zip_path) as archive:
        (name,) = [
            n for n in archive.namelist() if n.endswith(".json") and not n.endswith("_config.json")
        ]
        return zip_path, json.loads(archive.read(name))


def output_of(completed: subprocess.CompletedProcess[str]) -> str:
    """Both streams: Freqtrade prints tables on stdout and logs on stderr."""
    return f"{completed.stdout}\n{completed.stderr}"
