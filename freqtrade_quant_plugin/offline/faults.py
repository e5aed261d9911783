"""Faults a rehearsal can switch on: what a real exchange does on a bad day.

- an outage for a while: every Binance endpoint (or those under one path, e.g. only
  `/api/v3/klines`) answers HTTP 429 (Binance's -1003), a 5xx, or nothing at all until
  the client times out;
- order rejection: the next N new orders are refused with a Binance error code
  (default -2010, "Account has insufficient balance for requested action.");
- partial fills: the next N orders that would fill completely fill only a fraction;
  the rest stays open and never fills (the bot must cancel it, as after a thin book).

Switched by the control endpoint (`/rehearsal/...`, see `signed_api`) or directly from
Python. Faults are not persisted: a restarted server starts healthy.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from freqtrade_quant_plugin.offline.params import BinanceError

REJECT_MESSAGES = {
    -2010: "Account has insufficient balance for requested action.",
    -1013: "Filter failure: PRICE_FILTER",
    -2019: "Margin is insufficient.",
}
# 429 is Binance's JSON error; a 5xx comes from the gateway in front of it, as a page.
OUTAGE_ANSWERS = {
    429: (-1003, "Too many requests; current limit is 6000 request weight per 1 MINUTE."),
    500: (0, "Internal Server Error"),
    502: (0, "Bad Gateway"),
    503: (0, "Service Temporarily Unavailable"),
    504: (0, "Gateway Time-out"),
}
TIMEOUT_HOLD_S = 15.0  # longer than ccxt's default 10 s request timeout


@dataclass
class _Outage:
    status: int  # 0 = no answer (the request hangs until the client gives up)
    until_monotonic: float
    path: str  # only requests under this path ("/" for all)


class Faults:
    """Thread-safe fault switches; `clock` is injectable for tests."""

    def __init__(self, clock=time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._outage: _Outage | None = None
        self._reject: tuple[int, int] = (0, -2010)
        self._partial: tuple[int, float] = (0, 1.0)
        self.outage_answers: dict[int, int] = {}  # status -> requests answered with it

    def start_outage(self, status: int, seconds: float, path: str = "/") -> None:
        if status not in OUTAGE_ANSWERS and status != 0:
            raise ValueError(f"outage status {status}: one of {sorted(OUTAGE_ANSWERS)} or 0")
        with self._lock:
            self._outage = _Outage(status, self._clock() + seconds, path)

    def end_outage(self) -> None:
        with self._lock:
            self._outage = None

    def reject_orders(self, count: int, code: int = -2010) -> None:
        if code not in REJECT_MESSAGES:
            raise ValueError(f"reject code {code}: one of {sorted(REJECT_MESSAGES)}")
        with self._lock:
            self._reject = (count, code)

    def partial_fills(self, count: int, ratio: float) -> None:
        if not 0 < ratio < 1:
            raise ValueError("partial fill ratio must be between 0 and 1")
        with self._lock:
            self._partial = (count, ratio)

    def outage(self, path: str = "/") -> int | None:
        """The outage status to answer `path` with now (0: hang), or None when healthy."""
        with self._lock:
            if self._outage is None:
                return None
            if self._clock() >= self._outage.until_monotonic:
                self._outage = None
                return None
            if not path.startswith(self._outage.path):
                return None
            status = self._outage.status
            self.outage_answers[status] = self.outage_answers.get(status, 0) + 1
            return status

    def outage_answer(self, status: int) -> tuple[int, object]:
        """(HTTP status, body): Binance's JSON for 429, an HTML page for a 5xx."""
        code, msg = OUTAGE_ANSWERS[status]
        if status == 429:
            return status, BinanceError(status, code, msg).body()
        return status, f"<html><head><title>{status} {msg}</title></head></html>"

    def take_rejection(self) -> BinanceError | None:
        with self._lock:
            count, code = self._reject
            if count <= 0:
                return None
            self._reject = (count - 1, code)
        return BinanceError(400, code, REJECT_MESSAGES[code])

    def take_partial(self) -> float | None:
        """The fraction the next complete fill is cut to, or None."""
        with self._lock:
            count, ratio = self._partial
            if count <= 0:
                return None
            self._partial = (count - 1, ratio)
        return ratio

    def describe(self) -> dict:
        with self._lock:
            left = 0.0 if self._outage is None else self._outage.until_monotonic - self._clock()
            return {
                "outage_status": None if self._outage is None else self._outage.status,
                "outage_path": None if self._outage is None else self._outage.path,
                "outage_seconds_left": max(left, 0.0),
                "outage_requests": sum(self.outage_answers.values()),
                "outage_answers": dict(self.outage_answers),
                "reject_next": self._reject[0],
                "partial_next": self._partial[0],
            }
