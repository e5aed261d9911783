"""One error type and the range checks every settings source shares.

A trader who mistypes a setting must learn which key, which value and what is
allowed before the bot trades, never meet a silent default.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from pathlib import Path

# A number as users write it: digits, one optional point, an optional exponent. Python's
# float() also takes "1_0", "nan", "inf" and "infinity"; a setting must not.
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


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
    if isinstance(value, str) and not _DECIMAL.fullmatch(value.strip()):
        raise QuantConfigError(key, value, "a number in decimal digits (like 0.5 or 1e-3)")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise QuantConfigError(key, value, "a number") from None
    if not math.isfinite(number):
        raise QuantConfigError(key, value, "a finite number")
    return number


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_bool(key: str, value: object) -> bool:
    """A switch: JSON true/false, or one of true/false/1/0/yes/no/on/off in a variable."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise QuantConfigError(key, value, "true or false")


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


def check_writable_file(key: str, path: str) -> str:
    """A file the bot can (re)write: no folder, and its folder exists or can be created.

    Tried for real in the nearest existing folder (a temporary file created and removed),
    since permission bits do not tell the whole story (read-only mounts, /proc, root).
    """
    target = Path(path)
    if target.is_dir():
        raise QuantConfigError(key, path, "a file path, not a folder")
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir():
        raise QuantConfigError(key, path, f"a file under a folder ({folder} is no folder)")
    try:
        handle, probe = tempfile.mkstemp(dir=folder, prefix=".quant-write-probe.")
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        reason = error.strerror or type(error).__name__
        allowed = f"a file in a writable folder (creating a file in {folder} failed: {reason})"
        raise QuantConfigError(key, path, allowed) from None
    if target.exists() and not os.access(target, os.R_OK | os.W_OK):
        raise QuantConfigError(key, path, "a file the bot can read and write")
    return path


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
