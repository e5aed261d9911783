"""One error type and the range checks every settings source shares.

A trader who mistypes a setting must learn which key, which value and what is
allowed before the bot trades, never meet a silent default.
"""

from __future__ import annotations

import math


class QuantConfigError(ValueError):
    """A setting of the plugin has a value outside what it accepts."""

    def __init__(self, key: str, value: object, allowed: str) -> None:
        self.key = key
        self.value = value
        self.allowed = allowed
        super().__init__(f"Invalid quant setting {key}={value!r}: allowed {allowed}.")


def parse_number(key: str, value: object) -> float:
    """Turn a config or environment value into a finite float, or name the key that is wrong."""
    if isinstance(value, bool):
        raise QuantConfigError(key, value, "a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QuantConfigError(key, value, "a number") from None
    if not math.isfinite(number):
        raise QuantConfigError(key, value, "a finite number")
    return number


def parse_int(key: str, value: object) -> int:
    """Whole numbers only: 2.5 trades is a typo, not a setting."""
    number = parse_number(key, value)
    if number != int(number):
        raise QuantConfigError(key, value, "a whole number")
    return int(number)


def check_range(
    key: str,
    value: float,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return value when it lies in the interval; bounds are closed unless *_open is set."""
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "" if low is None else ("(" if low_open else "[") + f"{low:g}"
        right = "" if high is None else f"{high:g}" + (")" if high_open else "]")
        if low is None:
            allowed = f"< {high:g}" if high_open else f"<= {high:g}"
        elif high is None:
            allowed = f"> {low:g}" if low_open else f">= {low:g}"
        else:
            allowed = f"in {left}, {right}"
        raise QuantConfigError(key, value, allowed)
    return value


# Inputs of the core computations come from upstream code, not from users: a bad one is a
# bug to surface at once (ValueError), never a number to compute on.


def require_finite(name: str, value: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return number


def require_positive(name: str, value: float) -> float:
    number = require_finite(name, value)
    if number <= 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return number


def require_non_negative(name: str, value: float) -> float:
    number = require_finite(name, value)
    if number < 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return number
