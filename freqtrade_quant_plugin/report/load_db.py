"""Closed trades, their trade records, pair locks and paper trades from Freqtrade's trade DB.

Read-only (see readonly_db.py), in one short transaction.

Freqtrade stores a custom-data value of type bool, float, int or str with str() and
anything else as JSON text, one row per key; the keys the report needs are gathered into
one row per trade (see _records).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import (
    Connection,
    case,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import make_url

from freqtrade_quant_plugin.core.plugin_locks import LOCK_REASON_PREFIX, HandUnlock, removed_by_hand
from freqtrade_quant_plugin.report.pair_state import Lock, PaperResult
from freqtrade_quant_plugin.report.readonly_db import (
    TradeDatabaseError,
    custom_data_table,
    locks_table,
    paper_table,
    readonly_engine,
    trades_table,
)
from freqtrade_quant_plugin.report.source import ReportSource
from freqtrade_quant_plugin.report.trades import (
    RECORD_COLUMNS,
    RECORD_KEYS,
    TEXT_COLUMNS,
    finish_frame,
)

logger = logging.getLogger(__name__)


_SEPARATOR = "\x1f"  # ASCII unit separator: between the values of one key (SQLite)


def load_database(db_url: str, now: datetime | None = None) -> ReportSource:
    """Everything the report needs, read in one read-only transaction."""
    engine = readonly_engine(db_url)
    shown = make_url(db_url).render_as_string(hide_password=True)
    try:
        with engine.connect() as connection, connection.begin():
            tables = set(inspect(connection).get_table_names())
            if "trades" not in tables:
                raise TradeDatabaseError(f"db_url {shown}: no Freqtrade `trades` table")
            frame = _closed_trades(connection)
            has_custom_data = "trade_custom_data" in tables
            if has_custom_data and not frame.empty:
                frame = frame.join(_records(connection), on="trade_id", how="left")
            open_count = connection.execute(
                select(func.count()).where(trades_table.c.is_open.is_(True))
            ).scalar_one()
            locks = _locks(connection, now) if "pairlocks" in tables else []
            unlocks = _hand_unlocks(connection) if "pairlocks" in tables else []
            paper = _paper(connection) if "quant_paper_trades" in tables else []
    except TradeDatabaseError:
        raise
    except Exception as error:
        raise TradeDatabaseError(
            f"db_url {shown}: cannot read the trade database: {error}"
        ) from error
    finally:
        engine.dispose()
    return ReportSource(
        trades=finish_frame(frame),
        description=f"trade database {shown}",
        kind="database",
        paper=paper,
        locks=locks,
        hand_unlocks=unlocks,
        open_trades=int(open_count),
    )


def _closed_trades(connection: Connection) -> pd.DataFrame:
    c = trades_table.c
    result = connection.execute(
        select(
            c.id.label("trade_id"),
            c.pair,
            c.is_short,
            c.open_date,
            c.close_date,
            c.close_profit_abs.label("profit_abs"),
            c.open_rate,
            c.close_rate,
            c.amount,
            c.exit_reason.label("freqtrade_exit_reason"),
        ).where(c.is_open.is_(False), c.close_date.is_not(None))
    )
    columns = list(result.keys())
    # Plain tuples: pandas probes each SQLAlchemy row for attributes, slowly.
    frame = pd.DataFrame([tuple(row) for row in result.all()], columns=columns)
    frame["open_ts"] = _epoch_seconds(frame["open_date"])
    frame["close_ts"] = _epoch_seconds(frame["close_date"])
    frame["profit_abs"] = pd.to_numeric(frame["profit_abs"], errors="coerce").fillna(0.0)
    return frame.drop(columns=["open_date", "close_date"])


def _records(connection: Connection) -> pd.DataFrame:
    """One row per trade (index: trade id), one column per record key."""
    if connection.dialect.name == "sqlite":
        frame = _records_sqlite(connection)
    else:
        c = custom_data_table.c
        columns = [func.max(case((c.cd_key == key, c.cd_value))).label(key) for key in RECORD_KEYS]
        result = connection.execute(
            select(c.ft_trade_id, *columns).where(c.cd_key.in_(RECORD_KEYS)).group_by(c.ft_trade_id)
        )
        rows = [tuple(row) for row in result.all()]
        frame = pd.DataFrame(rows, columns=["id", *RECORD_KEYS])
        frame = frame.set_index("id")
    for column in TEXT_COLUMNS:
        key = RECORD_COLUMNS[column]
        if key in frame:
            frame[key] = frame[key].where(frame[key] != "null")  # a value stored as None
    return frame


def _records_sqlite(connection: Connection) -> pd.DataFrame:
    """SQLite: one sequential scan, each key's ids and values concatenated in the database.

    Pivoting by trade id makes SQLite walk the trade-id index with one table lookup per
    row, several times slower on a big history; the ids and values of one key come out
    of the same rows in the same order, so they pair up again here.
    """
    placeholders = ", ".join(f":k{index}" for index in range(len(RECORD_KEYS)))
    statement = text(
        "SELECT cd_key, group_concat(ft_trade_id), group_concat(cd_value, char(31)) "
        f"FROM trade_custom_data NOT INDEXED WHERE cd_key IN ({placeholders}) GROUP BY cd_key"
    )
    rows = connection.execute(
        statement, {f"k{index}": key for index, key in enumerate(RECORD_KEYS)}
    ).all()
    if rows and all(ids == rows[0][1] for _, ids, _ in rows):
        # Every trade holds every key (the usual case): one index, no alignment needed.
        index = pd.Index(np.array(rows[0][1].split(","), dtype="int64"))
        columns = {key: values.split(_SEPARATOR) for key, _, values in rows}
        return pd.DataFrame(columns, index=index, columns=list(RECORD_KEYS))
    series = {
        key: pd.Series(values.split(_SEPARATOR), index=np.array(ids.split(","), dtype="int64"))
        for key, ids, values in rows
    }
    return pd.DataFrame(series, columns=list(RECORD_KEYS))


def _locks(connection: Connection, now: datetime | None) -> list[Lock]:
    now = (now or datetime.now(UTC)).replace(tzinfo=None)  # stored naive UTC
    c = locks_table.c
    rows = connection.execute(
        select(c.pair, c.side, c.reason, c.lock_end_time).where(c.active.is_(True))
    ).all()
    ends = _epoch_seconds(pd.Series([row.lock_end_time for row in rows], dtype=object))
    limit = int(now.replace(tzinfo=UTC).timestamp())
    return [
        Lock(row.pair, row.side or "*", row.reason or "", int(end))
        for row, end in zip(rows, ends, strict=True)
        if end > limit
    ]


def _paper(connection: Connection) -> list[PaperResult]:
    c = paper_table.c
    rows = connection.execute(
        select(c.id, c.pair, c.closed_at, c.is_win).where(
            c.status == "closed", c.closed_at.is_not(None)
        )
    ).all()
    closed = _epoch_seconds(pd.Series([row.closed_at for row in rows], dtype=object))
    return [
        PaperResult(int(row.id), row.pair, int(ts), bool(row.is_win))
        for row, ts in zip(rows, closed, strict=True)
    ]


def _hand_unlocks(connection: Connection) -> list[HandUnlock]:
    """Plugin locks a person removed (see core/plugin_locks.py), oldest removal first."""
    c = locks_table.c
    rows = connection.execute(
        select(c.id, c.pair, c.reason, c.active, c.lock_time, c.lock_end_time).where(
            c.active.is_(False), c.reason.startswith(LOCK_REASON_PREFIX)
        )
    ).all()
    starts = _epoch_seconds(pd.Series([row.lock_time for row in rows], dtype=object))
    ends = _epoch_seconds(pd.Series([row.lock_end_time for row in rows], dtype=object))
    found = [
        HandUnlock(int(row.id), row.pair, int(end))
        for row, start, end in zip(rows, starts, ends, strict=True)
        if removed_by_hand(False, row.reason, _moment(start), _moment(end))
    ]
    return sorted(found, key=lambda item: (item.at, item.lock_id))


def _moment(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(int(epoch_seconds), tz=UTC)


def _epoch_seconds(values: pd.Series) -> pd.Series:
    """Naive UTC dates (text or datetime) to epoch seconds, vectorised."""
    if values.empty:
        return pd.Series([], dtype="int64")
    moments = pd.to_datetime(values, utc=True, format="ISO8601")
    return (moments - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
