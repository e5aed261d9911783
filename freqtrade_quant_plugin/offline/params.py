"""Request parameters read as strictly as Binance reads them.

Every malformed request gets the 4xx answer and error code Binance would give, never a
silent guess: a bot that sends `limit=0` or a start after the end has a bug, and the
offline market must surface it as the real one does, not answer with plausible data.
ccxt maps these codes to its usual exceptions (-1121 -> BadSymbol, the others -> BadRequest).
"""

from __future__ import annotations

import re

Query = dict[str, list[str]]

# Binance's kline intervals; anything else is "Invalid interval." even if it parses.
INTERVALS = frozenset(
    {"1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h"}
    | {"1d", "3d", "1w", "1M"}
)
_SYMBOL = re.compile(r"^[A-Z0-9\-_.]{1,20}$")
_INTEGER = re.compile(r"^-?[0-9]{1,20}$")
MAX_TIME_MS = 253_402_300_799_999  # 9999-12-31, beyond any exchange timestamp


class BinanceError(Exception):
    """An answer Binance would give with an error code instead of data."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.status, self.code, self.msg = status, code, msg

    def body(self) -> dict:
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> BinanceError:
    return BinanceError(400, -1121, "Invalid symbol.")


def invalid_value(name: str) -> BinanceError:
    return BinanceError(400, -1130, f"Data sent for parameter '{name}' is not valid.")


def check_no_duplicates(query: Query) -> None:
    """Binance refuses a repeated parameter instead of picking one of the values."""
    for name, values in query.items():
        if len(values) > 1:
            raise BinanceError(400, -1101, f"Duplicate values for a parameter detected: '{name}'.")


def param(query: Query, name: str) -> str | None:
    """The value of an optional parameter; sent but empty is an error, as on Binance."""
    values = query.get(name)
    if not values:
        return None
    if values[0] == "":
        raise BinanceError(400, -1105, f"Parameter '{name}' was empty.")
    return values[0]


def required(query: Query, name: str) -> str:
    values = query.get(name)
    if not values or values[0] == "":
        raise BinanceError(
            400,
            -1102,
            f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
        )
    return values[0]


def symbol_text(value: str, name: str = "symbol") -> str:
    if not _SYMBOL.match(value):
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; "
            "legal range is '^[A-Z0-9-_.]{1,20}$'.",
        )
    return value


def integer(query: Query, name: str) -> int | None:
    value = param(query, name)
    if value is None:
        return None
    if not _INTEGER.match(value):
        raise BinanceError(
            400,
            -1100,
            f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'.",
        )
    return int(value)


def limit(query: Query, default: int, maximum: int) -> int:
    """Binance's documented range 1..maximum; outside it the request is refused."""
    value = integer(query, "limit")
    if value is None:
        return default
    if not 1 <= value <= maximum:
        raise invalid_value("limit")
    return value


def limit_in(query: Query, default: int, allowed: tuple[int, ...]) -> int:
    """Limits that take one of a few documented values (order book depth)."""
    value = integer(query, "limit")
    if value is None:
        return default
    if value not in allowed:
        raise BinanceError(
            400,
            -1130,
            f"Data sent for parameter 'limit' is not valid: valid limits are {list(allowed)}.",
        )
    return value


def time_range(query: Query) -> tuple[int | None, int | None]:
    """startTime and endTime in ms: non-negative, plausible, and start not after end."""
    start = integer(query, "startTime")
    end = integer(query, "endTime")
    for name, value in (("startTime", start), ("endTime", end)):
        if value is not None and not 0 <= value <= MAX_TIME_MS:
            raise invalid_value(name)
    if start is not None and end is not None and start > end:
        raise BinanceError(400, -1023, "Start time is greater than end time.")
    return start, end


def interval(query: Query) -> str:
    value = required(query, "interval")
    if value not in INTERVALS:
        raise BinanceError(400, -1120, "Invalid interval.")
    return value
