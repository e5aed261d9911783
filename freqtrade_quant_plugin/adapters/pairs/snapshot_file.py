"""Who may read the symbol-performance snapshot: the same people as the trade database.

The snapshot holds the bot's per-pair results, as the trade DB does, so it must not be more
readable than that DB. For a SQLite trade DB the snapshot takes the DB file's permission
bits (without execute bits); for any other database (PostgreSQL, MySQL, in-memory) it is
0o600, readable by the bot's user only.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

from freqtrade.persistence import Trade

logger = logging.getLogger(__name__)

PRIVATE_MODE = 0o600


def snapshot_mode() -> int:
    """Permission bits for the snapshot file, from the trade DB Freqtrade has open."""
    try:
        url = Trade.session.get_bind().url
    except AttributeError:  # no database initialised
        return PRIVATE_MODE
    database = url.database
    if not url.drivername.startswith("sqlite") or not database or database == ":memory:":
        return PRIVATE_MODE
    try:
        bits = stat.S_IMODE(Path(database).stat().st_mode)
    except OSError:
        return PRIVATE_MODE
    return bits & 0o666 | stat.S_IRUSR | stat.S_IWUSR  # the bot must keep rewriting it
