"""The pair locks SymbolPerformanceProtection sets, and their release on re-enabling.

Freqtrade re-evaluates protections only when a trade closes, and a disabled pair has no
trades; so the protection locks for a long horizon and the paper-trade engine releases
exactly these locks (recognised by their reason) once paper wins re-enable the pair.
Other locks of the pair (cooldowns, the user's own) stay.

A lock can also outlive its reason: the thresholds changed between two runs, or the
protection was taken out of the strategy. `reconcile_locks` runs at the bot's start-up and
on every loop (live and dry-run) and makes the locks follow the tracker: a plugin lock on
a pair the tracker counts enabled, or any plugin lock once the protection is gone, is
released (with a warning naming it); a disabled pair without a lock gets one while the
protection is in use.

A person overrides a disable by removing the lock: Freqtrade's `/unlock` (Telegram),
`DELETE /api/v1/locks/<id>` (REST, FreqUI) deactivate it and set its end to the moment of
the unlock. The plugin's own releases keep the end, so a plugin lock that ended long
before its horizon was removed by hand: `HandUnlockFeed` hands each such lock over once,
and the tracker re-enables the pair from that moment (see pair_tracker). The lock rows
stay in Freqtrade's table, so a restart replays the override at the same moment.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from freqtrade.persistence import PairLocks
from freqtrade.persistence.models import PairLock
from sqlalchemy import select

from freqtrade_quant_plugin.adapters.pairs.closed_trades import epoch
from freqtrade_quant_plugin.core.plugin_locks import (
    LOCK_HORIZON,
    LOCK_REASON_PREFIX,
    HandUnlock,
    removed_by_hand,
)
from freqtrade_quant_plugin.core.symbol_performance import SymbolStats

logger = logging.getLogger(__name__)

PROTECTION_METHOD = "SymbolPerformanceProtection"


class HandUnlockFeed:
    """Plugin locks removed by hand, each handed over once, oldest removal first."""

    def __init__(self) -> None:
        self._seen: set[int] = set()

    def new(self) -> list[HandUnlock]:
        columns = (PairLock.id, PairLock.pair, PairLock.reason, PairLock.active)
        statement = select(*columns, PairLock.lock_time, PairLock.lock_end_time).where(
            PairLock.active.is_(False), PairLock.reason.startswith(LOCK_REASON_PREFIX)
        )
        found = [
            HandUnlock(row.id, row.pair, epoch(row.lock_end_time))
            for row in PairLock.session.execute(statement).all()
            if row.id not in self._seen
            and removed_by_hand(row.active, row.reason, row.lock_time, row.lock_end_time)
        ]
        self._seen.update(item.lock_id for item in found)
        return sorted(found, key=lambda item: (item.at, item.lock_id))


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


class PairStates(Protocol):
    def disabled_pairs(self) -> list[str]: ...

    def stats(self, pair: str) -> SymbolStats: ...


def lock_detail(stats: SymbolStats) -> str:
    """The lock reason's text after the prefix: why the pair is locked, until when."""
    return (
        f"{stats.consecutive_losses} consecutive losses (win rate {stats.win_rate:.0%}, "
        f"average R {stats.avg_R:.2f}), locked until paper wins re-enable it."
    )


def protection_in_use(protections: Iterable[Mapping[str, Any]] | None) -> bool:
    """Whether the strategy's `protections` list holds SymbolPerformanceProtection."""
    return any(item.get("method") == PROTECTION_METHOD for item in protections or ())


def reconcile_locks(tracker: PairStates, now: datetime, protection: bool) -> None:
    """Make the plugin's pair locks agree with the tracker (see the module docstring)."""
    disabled = set(tracker.disabled_pairs()) if protection else set()
    locked: set[str] = set()
    released = []
    for lock in PairLocks.get_pair_locks(None, now, side=None):
        if not (lock.reason or "").startswith(LOCK_REASON_PREFIX):
            continue
        if lock.pair in disabled:
            locked.add(lock.pair)
            continue
        lock.active = False
        released.append(lock)
    if released and PairLocks.use_db:
        PairLock.session.commit()  # before the log line: a line says what is in the DB
    why = (
        "the symbol-performance state counts the pair enabled"
        if protection
        else f"{PROTECTION_METHOD} is no longer in the strategy's protections"
    )
    for lock in released:
        logger.warning(
            "Released the stale symbol-performance lock of %s (locked since %s): %s",
            lock.pair,
            lock.lock_time,
            why,
        )
    for pair in sorted(disabled - locked):
        reason = lock_reason(lock_detail(tracker.stats(pair)))
        PairLocks.lock_pair(pair, now + LOCK_HORIZON, reason, now=now)
        logger.info("Locked %s: symbol performance counts it disabled and it had no lock", pair)
