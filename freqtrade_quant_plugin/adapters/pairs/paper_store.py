"""Paper trades of disabled pairs, stored beside Freqtrade's trades.

The paper results decide when a pair trades real money again, so they must survive a
restart exactly like real trades: they live in the plugin's own table
`quant_paper_trades`, in the same database as Freqtrade's trades (the engine behind
Freqtrade's session, i.e. the config's db_url), created on first use. Only portable
column types (SQLite and PostgreSQL alike); dates are naive UTC like Freqtrade's. An open
paper trade keeps its whole simulation state as JSON, so it resumes where it stopped.
Backtests use a private in-memory SQLite database (Freqtrade keeps no database there).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.pool import StaticPool

from freqtrade_quant_plugin.adapters.pairs.closed_trades import epoch
from freqtrade_quant_plugin.core.paper_trading import PaperOutcome, PaperTrade

logger = logging.getLogger(__name__)

OPEN = "open"
CLOSED = "closed"
CANCELLED = "cancelled"  # open when a person re-enabled the pair: it counts for nothing

metadata = MetaData()
paper_trades = Table(
    "quant_paper_trades",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pair", String(64), nullable=False),
    Column("is_short", Boolean, nullable=False),
    Column("regime", String(32), nullable=False),
    Column("opened_at", DateTime, nullable=False),
    Column("entry_price", Float, nullable=False),
    Column("status", String(8), nullable=False),
    Column("state", Text, nullable=False),
    Column("closed_at", DateTime, nullable=True),
    Column("exit_price", Float, nullable=True),
    Column("exit_reason", String(32), nullable=True),
    Column("r_multiple", Float, nullable=True),
    Column("is_win", Boolean, nullable=True),
    Index("ix_quant_paper_trades_status", "status"),
)


class StoredPaperTrade(NamedTuple):
    id: int
    trade: PaperTrade


class ClosedPaperTrade(NamedTuple):
    id: int
    pair: str
    closed_at: int  # epoch seconds
    is_win: bool
    r_multiple: float


def _naive_utc(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, tz=UTC).replace(tzinfo=None)


class PaperTradeStore:
    """Open and closed paper trades in one table; the table is created on first use."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._ready = False

    @classmethod
    def in_memory(cls) -> PaperTradeStore:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
        return cls(engine)

    def _begin(self):
        if not self._ready:
            metadata.create_all(self._engine, checkfirst=True)
            self._ready = True
        return self._engine.begin()

    def add(self, trade: PaperTrade) -> int:
        with self._begin() as connection:
            result = connection.execute(
                insert(paper_trades).values(
                    pair=trade.pair,
                    is_short=trade.is_short,
                    regime=trade.regime,
                    opened_at=_naive_utc(trade.opened_at),
                    entry_price=trade.entry_price,
                    status=OPEN,
                    state=json.dumps(trade.to_dict()),
                )
            )
            return int(result.inserted_primary_key[0])

    def save_progress(self, paper_id: int, trade: PaperTrade) -> None:
        with self._begin() as connection:
            connection.execute(
                update(paper_trades)
                .where(paper_trades.c.id == paper_id)
                .values(state=json.dumps(trade.to_dict()))
            )

    def close(self, paper_id: int, trade: PaperTrade, outcome: PaperOutcome) -> None:
        with self._begin() as connection:
            connection.execute(
                update(paper_trades)
                .where(paper_trades.c.id == paper_id)
                .values(
                    status=CLOSED,
                    state=json.dumps(trade.to_dict()),
                    closed_at=_naive_utc(outcome.exit_time),
                    exit_price=outcome.exit_price,
                    exit_reason=outcome.exit_reason,
                    r_multiple=outcome.r_multiple,
                    is_win=outcome.is_win,
                )
            )

    def cancel_open(self, pair: str) -> None:
        """The pair was re-enabled by hand: its open paper trade no longer decides anything."""
        with self._begin() as connection:
            connection.execute(
                update(paper_trades)
                .where(paper_trades.c.pair == pair, paper_trades.c.status == OPEN)
                .values(status=CANCELLED)
            )

    def open_trades(self) -> list[StoredPaperTrade]:
        statement = (
            select(paper_trades.c.id, paper_trades.c.state)
            .where(paper_trades.c.status == OPEN)
            .order_by(paper_trades.c.id)
        )
        with self._begin() as connection:
            rows = connection.execute(statement).all()
        return [
            StoredPaperTrade(row.id, PaperTrade.from_dict(json.loads(row.state))) for row in rows
        ]

    def closed_trades(self) -> list[ClosedPaperTrade]:
        """Every resolved paper trade, oldest resolution first."""
        columns = paper_trades.c
        statement = (
            select(columns.id, columns.pair, columns.closed_at, columns.is_win, columns.r_multiple)
            .where(columns.status == CLOSED)
            .order_by(columns.closed_at, columns.id)
        )
        with self._begin() as connection:
            rows = connection.execute(statement).all()
        return [
            ClosedPaperTrade(
                row.id, row.pair, epoch(row.closed_at), bool(row.is_win), row.r_multiple
            )
            for row in rows
        ]

    def last_candle(self, pair: str) -> int | None:
        """Opening time of the candle that resolved the pair's latest paper trade."""
        columns = paper_trades.c
        statement = (
            select(columns.state)
            .where(columns.pair == pair, columns.status == CLOSED)
            .order_by(columns.closed_at.desc(), columns.id.desc())
            .limit(1)
        )
        with self._begin() as connection:
            state = connection.execute(statement).scalar_one_or_none()
        return None if state is None else json.loads(state).get("last_candle")
