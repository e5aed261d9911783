"""Freqtrade trade databases for the pair-performance tests: SQLite files and, when the
server binaries exist, a throwaway PostgreSQL cluster."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

from freqtrade.persistence import Trade, init_db

T0 = datetime(2024, 1, 1)  # naive UTC, as Freqtrade stores dates


def postgres_bindir() -> Path | None:
    candidates = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]
    for initdb in candidates:
        if initdb and Path(initdb).with_name("pg_ctl").exists():
            return Path(initdb).resolve().parent
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """A private cluster on a unix socket in a temp dir; yields the admin URL.

    PostgreSQL refuses to run as root, so as root the cluster belongs to `postgres`.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise FileNotFoundError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    root = Path(tempfile.mkdtemp(prefix="quant-pg-"))
    prefix: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    # No TCP (listen_addresses ''): the port only names the socket in `root`, so no race;
    # a varied port keeps concurrent clusters off the same shared-memory keys.
    data, port = root / "data", _free_port()

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "quant", "--no-sync")
        options = f"-k {root} -p {port} -c listen_addresses='' -c fsync=off"
        run(
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(root / "log"),
            "-w",
            "start",
        )
        try:
            yield f"postgresql+psycopg2://quant@/postgres?host={root}&port={port}"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fresh_postgres_database(admin_url: str) -> str:
    """A new empty database in the cluster, so each test starts clean."""
    from sqlalchemy import create_engine, text

    name = f"quant_{uuid.uuid4().hex[:12]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return admin_url.replace("/postgres?", f"/{name}?")


def open_database(url: str) -> None:
    """Freqtrade's own models on `url`, in database mode (as a live bot runs)."""
    init_db(url)
    Trade.use_db = True


def add_trade(
    pair: str,
    minute: int,
    *,
    profit: float | None = None,
    duration: int = 30,
    r: float | None = None,
    risk: float | None = 5.0,
    stop: float | None = None,
) -> Trade:
    """A spot long opened at T0 + minute; closed `duration` minutes later unless profit is None.

    Price move = profit (amount 1, no fees); Freqtrade's initial stop 5 below the entry;
    `risk` and `stop` are the plugin's risk money and stop, as stored at the entry fill
    (risk=None: a trade the plugin never sized, which the pair tracker does not count).
    """
    open_date = T0 + timedelta(minutes=minute)
    trade = Trade(
        pair=pair,
        base_currency=pair.split("/")[0],
        stake_currency="USDT",
        exchange="binance",
        stake_amount=100.0,
        amount=1.0,
        open_rate=100.0,
        fee_open=0.0,
        fee_close=0.0,
        open_date=open_date,
        is_open=True,
        leverage=1.0,
        trading_mode="spot",
        is_short=False,
        initial_stop_loss=95.0,
        stop_loss=95.0,
    )
    Trade.session.add(trade)
    Trade.session.commit()
    if risk is not None:
        trade.set_custom_data("risk_money", risk)
    if stop is not None:
        trade.set_custom_data("stop_loss", stop)
    if profit is not None:
        close_trade(trade, profit, duration=duration, r=r)
    return trade


def close_trade(trade: Trade, profit: float, *, duration: int = 30, r: float | None = None) -> None:
    trade.is_open = False
    trade.close_rate = 100.0 + profit
    trade.close_profit_abs = profit
    trade.close_profit = profit / 100.0
    trade.close_date = trade.open_date + timedelta(minutes=duration)
    trade.exit_reason = "test"
    Trade.session.commit()
    if r is not None:
        trade.set_custom_data("R_multiple", r)
