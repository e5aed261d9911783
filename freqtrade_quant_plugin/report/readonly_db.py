"""The Freqtrade tables the report reads, and an engine that cannot write to them.

Read-only, always: the bot may be running on this database. SQLite is opened through a
`file:...?mode=ro` URI (SQLite itself refuses any write); any other server gets
`SET TRANSACTION READ ONLY` as the first statement of every transaction. Only the plain
tables are described here (Freqtrade's models are not initialised, since `init_db` would
create or migrate tables).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

# Only the columns the report reads; no types where the raw driver value is wanted
# (dates: strings from SQLite, datetimes from PostgreSQL, both parsed by pandas at once).
_metadata = MetaData()
trades_table = Table(
    "trades",
    _metadata,
    Column("id", Integer),
    Column("pair", String),
    Column("is_open", Boolean),
    Column("is_short"),
    Column("open_date"),
    Column("close_date"),
    Column("close_profit_abs"),
    Column("open_rate"),
    Column("close_rate"),
    Column("amount"),
    Column("exit_reason"),
)
custom_data_table = Table(
    "trade_custom_data",
    _metadata,
    Column("ft_trade_id", Integer),
    Column("cd_key", String),
    Column("cd_value"),
)
locks_table = Table(
    "pairlocks",
    _metadata,
    Column("id", Integer),
    Column("pair", String),
    Column("side", String),
    Column("reason", String),
    Column("lock_time"),
    Column("lock_end_time"),
    Column("active", Boolean),
)
paper_table = Table(
    "quant_paper_trades",
    _metadata,
    Column("id", Integer),
    Column("pair", String),
    Column("closed_at"),
    Column("is_win"),
    Column("status", String),
)


class TradeDatabaseError(ValueError):
    """The trade database cannot be opened or is not Freqtrade's."""


def readonly_engine(db_url: str) -> Engine:
    """An engine on `db_url` that cannot write (see the module docstring)."""
    try:
        url = make_url(db_url)
    except Exception as error:
        raise TradeDatabaseError(f"db_url {db_url!r} is not a database URL: {error}") from error
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            raise TradeDatabaseError(f"db_url {db_url!r} is an in-memory database: nothing to read")
        path = Path(database.removeprefix("file:")).expanduser().resolve()
        if not path.is_file():
            raise TradeDatabaseError(f"db_url {db_url!r}: no trade database at {path}")
        return create_engine(
            f"sqlite:///file:{quote(str(path))}?mode=ro&uri=true", poolclass=NullPool
        )
    engine = create_engine(url, poolclass=NullPool)

    @event.listens_for(engine, "begin")
    def _read_only(connection: Connection) -> None:
        connection.exec_driver_sql("SET TRANSACTION READ ONLY")

    return engine
