"""The plugin's pair locks as rows of Freqtrade's `pairlocks` table: which are its own, and
which a person removed. Pure, so the bot (adapters/pairs/pair_locks.py) and the report, which
reads the table without Freqtrade, apply the same rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

LOCK_REASON_PREFIX = "Symbol performance: "
LOCK_HORIZON = timedelta(days=3650)  # "until re-enabled"; lifted by the plugin or a person


class HandUnlock(NamedTuple):
    """A plugin lock a person removed: its pair was re-enabled by hand `at` (epoch s)."""

    lock_id: int
    pair: str
    at: int


def removed_by_hand(active: bool, reason: str | None, lock_time: datetime, end: datetime) -> bool:
    """A plugin lock a person removed (`/unlock`, FreqUI, the REST API).

    Freqtrade's unlock deactivates the lock and sets its end to the moment of the unlock;
    the plugin's own releases only deactivate it, so its end stays at the horizon.
    """
    ended_early = end < lock_time + LOCK_HORIZON - timedelta(days=1)
    return not active and (reason or "").startswith(LOCK_REASON_PREFIX) and ended_early
