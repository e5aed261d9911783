"""The market clock: where "now" falls in the stored history.

Backtest mode (no replay): candles are served at their stored timestamps, all of them,
and tickers/books come from the last stored candle. The clock plays no part.

Replay mode (for `freqtrade trade --dry-run`): the stored history is made to look live.

- A replay has ONE time offset for every pair, timeframe and market type, chosen when
  the replay begins: ``offset = start - (latest_stored - reserve)``, rounded UP to a whole
  number of grid periods, where ``start`` is the moment the replay began, ``latest_stored``
  the latest candle open time of any file, ``reserve`` (default one day,
  ``--replay-reserve``) how much stored history is kept hidden for the run to consume, and
  the grid a day or the largest stored timeframe if larger (so candle boundaries of every
  timeframe served stay on Binance's UTC grid). Rounding up means at least ``reserve`` (at
  most ``reserve`` + one grid period) of history lies ahead of the clock at the start.
  A restarted server resumes the same replay with the same offset (see `replay_state`).
- Every timestamp the server returns (kline open/close times, funding times, ticker
  times) is ``stored + offset``; request times are mapped back with ``- offset``.
  Server time (/api/v3/time) is the real time.
- A candle is visible once its shifted open time is <= now. The candle whose period
  contains now is the forming candle: it is served flat (open = high = low = close =
  its stored open, volume 0), because its stored high/low/close lie in the future.
  Freqtrade drops this incomplete candle anyway; later candles stay hidden and appear
  one by one as real time passes.
- Tickers, best bid/ask, order books and premium index come from the latest CLOSED
  candle of the finest stored timeframe, so no price from the future leaks into fills.
- Pairs whose history ends earlier than the newest file simply stop updating (they
  look delisted); the anchor is the newest data, not each pair's own end.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wall_clock_ms() -> int:
    return int(time.time() * 1000)


class ReplayClock:
    """Maps stored candle times to the present; injectable `now_ms` makes it testable."""

    def __init__(self, offset_ms: int, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.offset_ms = offset_ms
        self._now_ms = now_ms

    @classmethod
    def anchored(
        cls,
        latest_stored_ms: int,
        reserve_ms: int,
        grid_ms: int,
        now_ms: Callable[[], int] = wall_clock_ms,
    ) -> ReplayClock:
        """Offset (a whole number of grid periods) that leaves at least `reserve_ms` hidden."""
        gap = now_ms() - (latest_stored_ms - reserve_ms)
        periods = -(-gap // grid_ms)  # ceiling division
        return cls(periods * grid_ms, now_ms)

    def now_ms(self) -> int:
        return self._now_ms()

    def stored_now_ms(self) -> int:
        """The stored instant that corresponds to the present moment."""
        return self._now_ms() - self.offset_ms

    def to_public(self, stored_ms: int) -> int:
        return stored_ms + self.offset_ms

    def to_stored(self, public_ms: int) -> int:
        return public_ms - self.offset_ms
