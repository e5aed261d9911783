"""Strategy callbacks that fail closed: an error never leaves Freqtrade's default in charge.

Freqtrade catches an exception in a strategy callback and carries on with its own default:
`custom_stake_amount` falls back to the proposed (full) stake, `custom_stoploss` to the
static backstop, `leverage` to 1, a failed `order_filled` leaves the trade without its
entry state. For a risk plugin each of those is the wrong side to fail on.

`fail_closed(fallback, consequence)` wraps a callback: on any exception the callback's
answer is `fallback` (a value, or a function of the strategy and the call's arguments),
the event is logged once at ERROR with its traceback and sent through `dp.send_msg`
(Telegram, webhooks), naming what the plugin does instead. An identical error in later
loops (same callback, pair/trade and message) is not repeated, so a broken callback
cannot flood the log.

`EntryBlocks` holds reasons to take no entry at all (a failed `bot_loop_start`, stale
candles): `custom_stake_amount` answers 0 while one holds for the pair.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
_ANY_PAIR = "*"


def _subject(kwargs: dict[str, Any]) -> str:
    trade = kwargs.get("trade")
    if trade is not None:
        return f"trade {getattr(trade, 'id', '?')} {getattr(trade, 'pair', '')}".strip()
    pair = kwargs.get("pair")
    return str(pair) if pair else "the bot"


def notify(strategy: Any, message: str) -> None:
    """`dp.send_msg` when the strategy has a data provider (a failing one is only logged)."""
    send = getattr(getattr(strategy, "dp", None), "send_msg", None)
    if send is None:
        return
    try:
        send(message)
    except Exception:
        logger.exception("Could not send the message %r", message)


class FailureLog:
    """Which callback failures were already reported (per strategy object)."""

    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str]] = set()

    def report(
        self, strategy: Any, callback: str, subject: str, error: Exception, consequence: str
    ) -> None:
        key = (callback, subject, f"{type(error).__name__}: {error}")
        if key in self._seen:
            return
        self._seen.add(key)
        message = (
            f"{type(strategy).__name__}.{callback} failed for {subject}: "
            f"{type(error).__name__}: {error}. Failing closed: {consequence}"
        )
        logger.error(message, exc_info=error)
        notify(strategy, message)


def failure_log(strategy: Any) -> FailureLog:
    log = strategy.__dict__.get("_fail_closed_log")
    if log is None:
        log = strategy.__dict__["_fail_closed_log"] = FailureLog()
    return log


def fail_closed(fallback: Any, consequence: str) -> Callable[[F], F]:
    """Decorate a strategy callback so that an exception answers `fallback`.

    `fallback` is a value, or a callable `(strategy, kwargs) -> value` for answers that
    depend on the call (e.g. the trade). Freqtrade passes callback arguments by keyword.
    The wrapper keeps the callback's signature: Freqtrade reads it (e.g. `after_fill`).
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except Exception as error:
                subject = _subject(kwargs)
                failure_log(self).report(self, method.__name__, subject, error, consequence)
                if callable(fallback):
                    try:
                        return fallback(self, kwargs)
                    except Exception:
                        logger.exception("Fallback of %s failed too", method.__name__)
                        return None
                return fallback

        wrapper.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


class EntryBlocks:
    """Reasons that forbid new entries, for one pair or for every pair (`*`)."""

    def __init__(self) -> None:
        self._reasons: dict[tuple[str, str], str] = {}

    def block(self, source: str, reason: str, pair: str = _ANY_PAIR) -> bool:
        """Record a block; True when it is new (the caller logs the change)."""
        new = (source, pair) not in self._reasons
        self._reasons[(source, pair)] = reason
        return new

    def release(self, source: str, pair: str = _ANY_PAIR) -> bool:
        """Lift a block; True when there was one."""
        return self._reasons.pop((source, pair), None) is not None

    def reason(self, pair: str) -> str | None:
        found = self.holding(pair)
        return None if found is None else found[1]

    def holding(self, pair: str) -> tuple[str, str] | None:
        """(source, reason) of a block holding for the pair, or None."""
        for (source, blocked_pair), reason in self._reasons.items():
            if blocked_pair in (pair, _ANY_PAIR):
                return source, reason
        return None

    def blocked_pairs(self, source: str) -> set[str]:
        return {pair for (src, pair) in self._reasons if src == source}


def entry_blocks(strategy: Any) -> EntryBlocks:
    blocks = strategy.__dict__.get("_entry_blocks")
    if blocks is None:
        blocks = strategy.__dict__["_entry_blocks"] = EntryBlocks()
    return blocks


def gated_entries(method: F) -> F:
    """For `custom_stake_amount`: stake 0 while an entry block holds for the pair."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        pair = kwargs.get("pair", args[0] if args else "")
        block = entry_blocks(self).holding(pair)
        if block is not None:
            source, reason = block
            self.log_decision("%s: no %s entry: %s", pair, kwargs.get("side", ""), reason)
            note = getattr(self, "note_blocked_entry", None)
            if note is not None:
                note(source)
            return 0.0
        return method(self, *args, **kwargs)

    wrapper.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]


def blocks_entries_on_failure(method: F) -> F:
    """For `bot_loop_start`: a failed loop start blocks every entry until one succeeds."""
    source = method.__name__

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(self, *args, **kwargs)
        except Exception as error:
            entry_blocks(self).block(source, f"{source} failed ({type(error).__name__})")
            failure_log(self).report(
                self, source, "the bot", error, "no entries until it runs cleanly again"
            )
            return None
        if entry_blocks(self).release(source):
            logger.info("%s ran cleanly again: entries allowed", source)
        return result

    wrapper.__signature__ = inspect.signature(method)  # type: ignore[attr-defined]
    return wrapper  # type: ignore[return-value]
