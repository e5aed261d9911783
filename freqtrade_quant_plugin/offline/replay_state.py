"""The replay offset, kept stable across server restarts.

A bot that survives an outage of the server keeps its candles; if the restarted server
picked a new offset, the same timestamp would come back with another stored candle behind
it (another close), and the bot would trade on a history that never happened. So the
offset is chosen once per replay and reused:

- `replay_start_ms` given (`--replay-start`): the offset is the one a replay started at
  that instant gets; the same data, reserve and start always give the same offset, on any
  machine, with nothing stored.
- otherwise the offset is read from a small JSON state file (default
  `<datadir>/offline-replay.json`, `--replay-state` to put it elsewhere) and written there
  when a replay begins. The stored offset is reused while it still makes sense: a whole
  number of grid periods, the clock not before the replay's start, and stored history
  still ahead of the clock. A replay that has run out (or a file that is unreadable) starts
  a new replay, with a warning: a bot that kept its database from the old one must then
  start from a fresh database.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from freqtrade_quant_plugin.offline.replay import ReplayClock, wall_clock_ms

logger = logging.getLogger(__name__)

STATE_FILE_NAME = "offline-replay.json"
_FORMAT = 1


@dataclass(frozen=True)
class ReplayState:
    """What a replay needs to resume: its offset, plus when and on what it started."""

    offset_ms: int
    started_ms: int
    latest_stored_ms: int
    reserve_ms: int
    format: int = _FORMAT


def first_offset(latest_stored_ms: int, reserve_ms: int, grid_ms: int, start_ms: int) -> int:
    """Offset (a whole number of grid periods) that leaves at least `reserve_ms` hidden."""
    return ReplayClock.anchored(latest_stored_ms, reserve_ms, grid_ms, lambda: start_ms).offset_ms


def read_state(path: Path) -> ReplayState | None:
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        state = ReplayState(**raw)
        if state.format != _FORMAT or not all(
            isinstance(value, int) for value in asdict(state).values()
        ):
            raise ValueError("unexpected content")
    except (OSError, ValueError, TypeError) as error:
        logger.warning("Replay state %s is unreadable (%s): starting a new replay", path, error)
        return None
    return state


def write_state(path: Path, state: ReplayState) -> None:
    """Atomic write (a crash leaves the old file or the new one, never half of one)."""
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_text(json.dumps(asdict(state), indent=2) + "\n")
        os.replace(partial, path)
    except OSError as error:
        logger.warning(
            "Cannot write the replay state %s (%s): the replay offset will not survive a "
            "restart of the server; pass --replay-state FILE or --replay-start TIME",
            path,
            error,
        )


def _reusable(state: ReplayState, latest_stored_ms: int, grid_ms: int, now: int) -> str | None:
    """Why the stored offset cannot be reused, or None when it can."""
    if state.offset_ms % grid_ms:
        return f"its offset is not a whole number of {grid_ms // 60_000} minute periods"
    if now < state.started_ms:
        return "the clock is before the replay's start"
    if now - state.offset_ms >= latest_stored_ms:
        return "the replay has run out of stored history"
    return None


def stable_clock(
    latest_stored_ms: int,
    reserve_ms: int,
    grid_ms: int,
    *,
    state_path: Path | None,
    replay_start_ms: int | None = None,
    now_ms: Callable[[], int] = wall_clock_ms,
) -> ReplayClock:
    """The replay clock for this start of the server (see the module docstring)."""
    if replay_start_ms is not None:
        offset = first_offset(latest_stored_ms, reserve_ms, grid_ms, replay_start_ms)
        return ReplayClock(offset, now_ms)
    now = now_ms()
    state = read_state(state_path) if state_path is not None else None
    if state is not None:
        reason = _reusable(state, latest_stored_ms, grid_ms, now)
        if reason is None:
            logger.info("Replay resumed from %s (offset %d ms)", state_path, state.offset_ms)
            if state.latest_stored_ms != latest_stored_ms:
                logger.info(
                    "The data changed since the replay began (newest candle %d, was %d): "
                    "offset kept, stored candles keep their served times",
                    latest_stored_ms,
                    state.latest_stored_ms,
                )
            return ReplayClock(state.offset_ms, now_ms)
        logger.warning(
            "Replay state %s not reused: %s. Starting a new replay: a bot that kept its "
            "database from the previous replay must start from a fresh one",
            state_path,
            reason,
        )
    offset = first_offset(latest_stored_ms, reserve_ms, grid_ms, now)
    if state_path is not None:
        write_state(state_path, ReplayState(offset, now, latest_stored_ms, reserve_ms))
    return ReplayClock(offset, now_ms)
