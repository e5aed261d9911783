"""Fault tests: real `freqtrade trade --dry-run` bots against the replayed offline server.

Builds small candle sets whose future is known (a gap at a chosen minute), places the
replay clock so that future arrives at a chosen second of the test, runs bots (stopped
with Ctrl-C or killed with SIGKILL), and reads the SQLite trade DB and the logs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from freqtrade_support import REPO_ROOT, interrupt_and_wait, start_freqtrade
from parallel_support import ceiling
from port_support import reserved_port, start_on_port

from freqtrade_quant_plugin.core.regime import REGIMES
from freqtrade_quant_plugin.offline.replay import wall_clock_ms
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer
from freqtrade_quant_plugin.synth.writer import write_feather

MINUTE_MS = 60_000
DAY_MS = 86_400_000
REPLAY_DAYS = 30
PROBLEMS = ("Traceback", "Fatal exception")
SAMPLE_STRATEGY = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"

# A 1m QuantRegimeStrategy that goes long on every candle with a known regime.
EVERY_CANDLE_STRATEGY = """
from quant_regime_strategy import QuantRegimeStrategy


class EveryCandleStrategy(QuantRegimeStrategy):
    timeframe = "1m"

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = (dataframe["regime"] != "UNKNOWN").astype(int)
        dataframe["enter_short"] = 0
        return dataframe
"""


@dataclass(frozen=True)
class GapSeries:
    """1m candles around `price`, calm at the end, then every price times `gap_factor`."""

    price: float
    gap_index: int
    candles: int
    gap_factor: float
    seed: int

    def frame(self, start: pd.Timestamp) -> pd.DataFrame:
        rng = np.random.default_rng(self.seed)
        noise = np.where(np.arange(self.candles) < self.gap_index - 250, 0.002, 0.001)
        close = self.price * (1 + noise * rng.standard_normal(self.candles))
        level = np.where(np.arange(self.candles) >= self.gap_index, self.gap_factor, 1.0)
        close = close * level
        open_ = np.concatenate([[close[0]], close[:-1]])
        open_[self.gap_index] = self.price * self.gap_factor  # the candle opens in the gap
        high = np.maximum(open_, close) * (1 + 0.3 * noise)
        low = np.minimum(open_, close) * (1 - 0.3 * noise)
        return pd.DataFrame(
            {
                "date": pd.date_range(start, periods=self.candles, freq="1min", tz="UTC"),
                "open": open_,
                "high": high,
                "low": low,
                "close": close,
                "volume": np.full(self.candles, 5_000.0),
            }
        )


def user_data_with(root: Path, module: str, source: str) -> Path:
    """A user_data dir whose strategies/ hold the sample strategy and `module`.py."""
    userdir = root / "user_data"
    strategies = userdir / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(SAMPLE_STRATEGY, strategies)
    (strategies / f"{module}.py").write_text(source)
    return userdir


def write_pair(datadir: Path, pair: str, frame: pd.DataFrame, timeframe: str = "1m") -> Path:
    return write_feather(frame, datadir / f"{pair.replace('/', '_')}-{timeframe}.feather")


def timeline_start(event_index: int, seconds_from_now: float) -> pd.Timestamp:
    """First candle time of a 1m series whose candle `event_index` opens about
    `seconds_from_now` from now (rounded up to a minute) under a replay offset of
    `REPLAY_DAYS` whole days, the offset `replay_server` sets (the replay grid is a day).
    A bot must be ready before such an event: give it a lead that grows with the load
    (`parallel_support.ceiling`).
    """
    target_ms = -(-(wall_clock_ms() + int(seconds_from_now * 1000)) // MINUTE_MS) * MINUTE_MS
    return pd.Timestamp(
        target_ms - REPLAY_DAYS * DAY_MS - event_index * MINUTE_MS, unit="ms", tz="UTC"
    )


def replay_server(datadir: Path, port: int = 0, **options) -> OfflineExchangeServer:
    """A replay server whose offset is exactly `REPLAY_DAYS` days (see `timeline_start`);
    started again with the same datadir and port it serves the same history. `options`
    go to the server (e.g. `live=` for a rehearsal account). Port 0: a reserved one
    (`port_support`), which nobody takes while the server is stopped for a restart."""
    latest = max(
        int(pd.read_feather(path, columns=["date"])["date"].max().value // 1_000_000)
        for path in datadir.glob("*.feather")
    )
    start_ms = wall_clock_ms()
    # offset = ceil((start - latest + reserve) / day) days: exactly REPLAY_DAYS days
    reserve = latest - start_ms + REPLAY_DAYS * DAY_MS - 1000
    # The offset is the same at every start (see above): no state file needed. It is
    # computed from `start_ms`, not from the moment the server has read the data folder.
    server = OfflineExchangeServer(
        datadir,
        port=port or reserved_port(),
        replay=True,
        replay_reserve_ms=reserve,
        replay_start_ms=start_ms,
        **options,
    )
    start_on_port(server)
    assert server.store.clock is not None
    assert server.store.clock.offset_ms == REPLAY_DAYS * DAY_MS, server.store.clock.offset_ms
    return server


def public_ms(server: OfflineExchangeServer, stored_ms: int) -> int:
    """Wall-clock time at which the replay shows stored time `stored_ms`."""
    assert server.store.clock is not None
    return server.store.clock.to_public(stored_ms)


def quant_section(k1: float, **extra: dict) -> dict:
    """The same k1 (and k2 = 3 k1) for every regime; a cost gate loose enough for 1m stops."""
    section = {
        "risk": {"max_cost_in_R": 1.0},
        "exit_policy": {regime: {"k1_SL": k1, "k2_TP": 3 * k1} for regime in REGIMES},
    }
    section.update(extra)
    return section


class Bot:
    """One `freqtrade trade` process with its own log file."""

    def __init__(
        self, workdir: Path, name: str, config: Path, strategy: str, db: Path, userdir: Path
    ) -> None:
        self.log_file = workdir / f"{name}.log"
        self.process: subprocess.Popen[bytes] = start_freqtrade(
            ["trade", "--config", config, "--userdir", userdir,
             "--strategy-path", userdir / "strategies", "--strategy", strategy,
             "--db-url", f"sqlite:///{db}"],
            cwd=workdir,
            log_file=self.log_file,
        )  # fmt: skip

    @property
    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code of Freqtrade or the plugin runs."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=ceiling(30))

    def interrupt(self) -> int:
        """Ctrl-C (again if Freqtrade lost it, see `interrupt_and_wait`), then the exit code."""
        return interrupt_and_wait(self.process)

    def stop(self) -> None:
        """Cleanup for a `finally`: whatever state the process is in, it ends."""
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=ceiling(30))


def wait_for(predicate: Callable[[], bool], timeout: float, every: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return predicate()


def query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet, or locked
            return []


def trades(db: Path) -> list[dict]:
    rows = query(
        db,
        "SELECT id, pair, is_open, open_rate, close_rate, stop_loss, exit_reason, "
        "close_profit, open_date, close_date FROM trades ORDER BY id",
    )
    keys = ("id", "pair", "is_open", "open_rate", "close_rate", "stop_loss", "exit_reason",
            "close_profit", "open_date", "close_date")  # fmt: skip
    return [dict(zip(keys, row, strict=True)) for row in rows]


def custom_data(db: Path, trade_id: int) -> dict:
    """Freqtrade stores a str as is and anything else as JSON (cd_type says which)."""
    rows = query(
        db,
        f"SELECT cd_key, cd_type, cd_value FROM trade_custom_data WHERE ft_trade_id = {trade_id}",
    )
    return {key: _custom_value(kind, value) for key, kind, value in rows}


def _custom_value(kind: str, text: str):
    if kind == "str":
        return text
    if kind == "bool":
        return text in ("True", "true", "1")
    return json.loads(text)


def open_orders(db: Path, side: str) -> list[tuple]:
    return query(
        db,
        "SELECT ft_trade_id, ft_pair, ft_order_side, price, order_type FROM orders "
        f"WHERE ft_is_open = 1 AND ft_order_side = '{side}'",
    )


def epoch_ms_of_db_date(text: str) -> int:
    """Freqtrade's SQLite dates are naive UTC strings."""
    return int(pd.Timestamp(text, tz="UTC").value // 1_000_000)
