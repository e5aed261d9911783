"""Shared fixtures: market data, the offline exchange server, Freqtrade user data.

Market data: the real candles of ../shared/data/binance where they are present, else (or
with QUANT_TEST_NO_SHARED=1) the project's own synthetic stand-in, generated once per
test run into a temporary folder (shared by the xdist workers, see parallel_support). The
integration tests run either way. Everything else a session fixture makes (the offline
server, Freqtrade's user_data) belongs to one worker: its own folder, its own free port.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import fork_server
import pytest
from freqtrade_support import (
    NO_SHARED_ENV,
    SHARED_DATA,
    create_user_data,
    shared_data_present,
    start_offline_server,
    write_freqtrade_config,
    write_synthetic_market,
)
from pair_db_support import fresh_postgres_database, postgres_bindir, postgres_cluster
from parallel_support import run_folder

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Parallel by default: `pytest` alone runs `-n auto` (see pytest_xdist_auto_num_workers) when
    pytest-xdist is installed; `-n 0` or `-p no:xdist` run in this process. A module's tests
    share a worker (`--dist loadscope`), so its module-scoped fixtures (a backtest, a bot
    run) are computed once; modules are handed out in collection order (see
    pytest_collection_modifyitems). Runs before xdist reads these options."""
    if not config.pluginmanager.hasplugin("xdist") or hasattr(config, "workerinput"):
        return  # no xdist, or one of its workers
    if config.option.numprocesses is None and not config.option.tx:
        config.option.numprocesses = "auto"
    if config.option.dist == "no" and not config.option.distload:
        config.option.dist = "loadscope"
        config.option.loadscopereorder = False


# What `-n auto` means here: more workers than cores. Most of the suite's wall time is
# Freqtrade bots waiting on the replay clock (a full run on 2 cores used about 510 s of CPU
# in 19 minutes of wall time), so extra workers fill those waits instead of a core idling.
# QUANT_TEST_WORKERS sets the number; `-n N` on the command line still wins.
WORKERS_ENV = "QUANT_TEST_WORKERS"
WORKERS_PER_CORE = 3
AUTO_WORKERS_FLOOR = 6


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown without xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    asked = os.environ.get(WORKERS_ENV, "")
    if asked.isdigit() and int(asked) > 0:
        return int(asked)
    cores = os.cpu_count() or 1
    return max(cores, min(WORKERS_PER_CORE * cores, AUTO_WORKERS_FLOOR))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules with slow tests (marked freqtrade) first, so the quick ones fill in at the
    end of a parallel run; a module's tests stay together and in their order."""
    slow_modules = {item.module for item in items if item.get_closest_marker("freqtrade")}
    items.sort(key=lambda item: getattr(item, "module", None) not in slow_modules)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The fork server of this pytest process (if one started) ends with the session."""
    fork_server.SERVER.stop()


def pytest_report_header(config: pytest.Config) -> str:
    if shared_data_present():
        return f"market data: real candles from {SHARED_DATA / 'binance'}"
    why = f"{NO_SHARED_ENV} is set" if (SHARED_DATA / "binance").is_dir() else "no ../shared"
    return f"market data: synthetic, generated for this session ({why})"


@pytest.fixture(scope="session")
def market_datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Freqtrade data dir (binance): ../shared/data/binance, or the synthetic stand-in."""
    if shared_data_present():
        return SHARED_DATA / "binance"
    return run_folder(
        tmp_path_factory, "market", lambda folder: write_synthetic_market(folder / "binance")
    )


@pytest.fixture(scope="session")
def offline_server(market_datadir: Path) -> Iterator[OfflineExchangeServer]:
    """The offline server on the market data, candles at their stored times (backtests)."""
    server = start_offline_server(market_datadir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def freqtrade_user_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Freqtrade user_data dir with Freqtrade's SampleStrategy, shared by the session (one
    per xdist worker): results accumulate there; do not change its strategies (copy them into
    tmp_path instead)."""
    return create_user_data(tmp_path_factory.mktemp("freqtrade"))


@pytest.fixture
def freqtrade_config(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """Factory: write a config for the offline server (the session one unless `port` is given).

    `overrides` deep-merge over the test defaults, e.g. {"timeframe": "5m"}.
    """

    def write(overrides: dict | None = None, port: int | None = None, name: str = "config.json"):
        if port is None:
            port = request.getfixturevalue("offline_server").port
        return write_freqtrade_config(tmp_path / name, port, overrides)

    return write


@pytest.fixture(scope="module")
def postgres_admin_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster for one test module (skipped without the binaries)."""
    if postgres_bindir() is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl) not found; apt-get install postgresql"
        )
    pytest.importorskip("psycopg2", reason="psycopg2-binary is not installed")
    with postgres_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on an SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'trades.sqlite'}"
    return fresh_postgres_database(request.getfixturevalue("postgres_admin_url"))
