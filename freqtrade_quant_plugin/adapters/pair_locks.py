"""The pair locks SymbolPerformanceProtection sets, and their release on re-enabling.

Freqtrade re-evaluates protections only when a trade closes, and a disabled pair has no
trades; so the protection locks for a long horizon and the paper-trade engine releases
exactly these locks (recognised by their reason) once paper wins re-enable the pair.
Other locks of the pair (cooldowns, the user's own) stay.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from freqtrade.persistence import PairLocks
from freqtrade.persistence.models import PairLock

logger = logging.getLogger(__name__)

LOCK_REASON_PREFIX = "Symbol performance: "
LOCK_HORIZON = timedelta(days=3650)  # "until re-enabled"; lifted by release_pair_lock


def lock_reason(detail: str) -> str:
    return f"{LOCK_REASON_PREFIX}{detail}"


def release_pair_lock(pair: str, now: datetime) -> int:
    """Deactivate the pair's symbol-performance locks active at `now`; how many there were."""
    released = 0
    for lock in PairLocks.get_pair_locks(pair, now, side=None):
        if (lock.reason or "").startswith(LOCK_REASON_PREFIX):
            lock.active = False
            released += 1
    if released and PairLocks.use_db:
        PairLock.session.commit()
    if released:
        logger.info("Released the symbol-performance lock of %s", pair)
    return released
