"""Shared fixtures: real market data, the offline exchange server, Freqtrade user data."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from freqtrade_support import (
    create_user_data,
    shared_datadir,
    start_offline_server,
    write_freqtrade_config,
)

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer


@pytest.fixture(scope="session")
def shared_binance_datadir() -> Path:
    """../shared/data/binance (the test is skipped when it is absent)."""
    return shared_datadir("binance")


@pytest.fixture(scope="session")
def offline_server(shared_binance_datadir: Path) -> Iterator[OfflineExchangeServer]:
    """The offline server on the shared data, candles at their stored times (backtests)."""
    server = start_offline_server(shared_binance_datadir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def freqtrade_user_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Freqtrade user_data dir with Freqtrade's SampleStrategy, shared by the session: results
    accumulate there; do not change its strategies (copy them into tmp_path instead)."""
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
