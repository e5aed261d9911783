"""Live and dry-run: notice when a pair's candles stop arriving, and when they come back.

During an exchange outage Freqtrade keeps looping on the candles it already holds; the
plugin would size entries on an old regime and ATR without a word. Each loop (from
`bot_loop_start`, after Freqtrade refreshed its candles) the newest closed candle of
every whitelisted pair is compared with the one that should exist by now:

    expected = the last candle that closed at least `grace` ago
    grace    = a quarter of the timeframe, at least 15 s and at most 5 minutes

(a new candle needs a loop or two to arrive; a quarter of the timeframe keeps 1h bots
from flapping at every hour while a 1m bot notices an outage within about a minute).
A pair whose newest candle is older is stale: one WARNING names the pairs that went
stale in that loop (also sent through `dp.send_msg`), their entries are blocked
(`EntryBlocks`, stake 0), and one INFO line per recovery names the pairs fresh again
and how long they were stale. Exits are not blocked: a stop must still work.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from freqtrade_quant_plugin.adapters.strategy.fail_closed import EntryBlocks, notify

logger = logging.getLogger(__name__)

SOURCE = "stale_candles"
_MIN_GRACE_S, _MAX_GRACE_S = 15, 300


def grace_seconds(timeframe_seconds: int) -> int:
    return int(min(max(timeframe_seconds / 4, _MIN_GRACE_S), _MAX_GRACE_S))


def expected_last_open(now_s: float, timeframe_seconds: int) -> int:
    """Open time (epoch s) of the newest candle that closed at least `grace` ago."""
    closed_by = now_s - grace_seconds(timeframe_seconds)
    return int(math.floor(closed_by / timeframe_seconds) * timeframe_seconds - timeframe_seconds)


def _fmt(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


class StaleCandles:
    """Which pairs' candles are stale, with transitions logged once."""

    def __init__(self, timeframe_seconds: int, blocks: EntryBlocks) -> None:
        self.timeframe_seconds = timeframe_seconds
        self._blocks = blocks
        self._stale_since: dict[str, float] = {}

    @property
    def stale_pairs(self) -> set[str]:
        return set(self._stale_since)

    def update(self, strategy: Any, newest_opens: dict[str, int | None], now: datetime) -> None:
        """`newest_opens`: pair -> open time (epoch s) of its newest closed candle."""
        now_s = now.timestamp()
        expected = expected_last_open(now_s, self.timeframe_seconds)
        went_stale, fresh_again = [], []
        for pair, newest in newest_opens.items():
            stale = newest is None or newest < expected
            if stale and pair not in self._stale_since:
                self._stale_since[pair] = now_s
                reason = (
                    f"its candles are stale (newest closed candle opened "
                    f"{_fmt(newest) if newest is not None else 'never'}, expected "
                    f"{_fmt(expected)})"
                )
                self._blocks.block(SOURCE, reason, pair)
                went_stale.append(pair)
            elif not stale and pair in self._stale_since:
                fresh_again.append((pair, now_s - self._stale_since.pop(pair)))
                self._blocks.release(SOURCE, pair)
        for pair in set(self._stale_since) - set(newest_opens):  # left the whitelist
            del self._stale_since[pair]
            self._blocks.release(SOURCE, pair)
        if went_stale:
            message = (
                f"Stale candles for {len(went_stale)} pair(s): {', '.join(sorted(went_stale))}: "
                f"no new candle since the one expected at {_fmt(expected)} (exchange or "
                "network outage?): no entries on them until their candles are fresh again"
            )
            logger.warning(message)
            notify(strategy, message)
        if fresh_again:
            logger.info(
                "Candles fresh again for %d pair(s): %s: entries allowed",
                len(fresh_again),
                ", ".join(f"{pair} (stale for {seconds:.0f} s)" for pair, seconds in fresh_again),
            )


def newest_closed_opens(strategy: Any, pairs: list[str]) -> dict[str, int | None]:
    """Open time of each pair's newest candle in Freqtrade's cache (closed candles only)."""
    opens: dict[str, int | None] = {}
    for pair in pairs:
        frame = strategy.dp.ohlcv(pair, strategy.timeframe, copy=False)
        if frame is None or len(frame) == 0:
            opens[pair] = None
        else:
            opens[pair] = int(frame["date"].iloc[-1].timestamp())
    return opens
