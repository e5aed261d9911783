"""Each plugin callback runs with the user's, whichever class defines the user's one.

In `class MyQuant(QuantMixin, MyStrategy)` the plugin's callbacks come first in the MRO and
reach the user's through `user_method`. A user class BELOW the plugin (a subclass of a
plugin strategy, e.g. `class Mine(QuantStrategy)`) that overrides a callback would shadow
the plugin's, and, without `super()`, silently drop its safety. So at class creation
(`wrap_overrides`, from `__init_subclass__`) every such override is wrapped: the wrapper
runs the plugin's composition with the override as the user's part. When the override does
call `super()`, the plugin's method sees it is already inside the composition (`CallGuard`)
and passes straight on to the rest of the user's chain, so nothing runs twice.
"""

from __future__ import annotations

import functools
import inspect
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# The callbacks the plugin composes with the user's; a user override of one is wrapped.
GUARDED = (
    "populate_indicators",
    "bot_start",
    "bot_loop_start",
    "informative_pairs",
    "custom_stake_amount",
    "confirm_trade_entry",
    "leverage",
    "custom_stoploss",
    "custom_exit",
    "custom_exit_price",
    "order_filled",
    "adjust_trade_position",
)
COMPOSE_PREFIX = "_compose_"
# Callbacks that do rather than answer: the plugin's part runs where a user override calls
# super(), or after the override when it does not (also when it raises).
PROCEDURAL = ("populate_indicators", "bot_start", "bot_loop_start", "order_filled")

# Marked in the class's own __dict__, so the mark travels with a class that hyperopt pickles
# by value to its workers (an identity set would not know the workers' copies).
_LAYER_MARK = "_quant_layer_class"
_last_layers: weakref.WeakKeyDictionary[type, type] = weakref.WeakKeyDictionary()


def mark_layer(cls: type) -> type:
    """Declare `cls` part of the plugin (its callbacks are the plugin's, not the user's)."""
    setattr(cls, _LAYER_MARK, True)
    return cls


def is_layer(cls: type) -> bool:
    return cls.__dict__.get(_LAYER_MARK, False) is True


class CallGuard(threading.local):
    """Which compositions are running in this thread, and whether a plugin part ran."""

    def __init__(self) -> None:
        self.active: set[str] = set()
        self.done: set[str] = set()
        # A wrapped override below the plugin, handed to the plugin's method as the user's part.
        self.overrides: dict[str, Callable[..., Any]] = {}

    def __reduce__(self) -> tuple[type, tuple]:
        """Hyperopt pickles the strategy to its workers: each gets a fresh, idle guard."""
        return (CallGuard, ())

    @contextmanager
    def entered(self, name: str) -> Iterator[None]:
        self.active.add(name)
        self.done.discard(name)
        try:
            yield
        finally:
            self.active.discard(name)


def call_guard(strategy: Any) -> CallGuard:
    guard = strategy.__dict__.get("_quant_call_guard")
    if guard is None:
        guard = strategy.__dict__["_quant_call_guard"] = CallGuard()
    return guard


def _below_layers(cls: type) -> type:
    """The last plugin class in `cls`'s MRO: the user's chain starts after it."""
    last = _last_layers.get(cls)
    if last is None:
        mro = cls.__mro__
        last = _last_layers[cls] = mro[max(i for i, k in enumerate(mro) if is_layer(k))]
    return last


def user_method(strategy: Any, name: str) -> Callable[..., Any]:
    """The user's `name` below the plugin layers (Freqtrade's default when there is none)."""
    return getattr(super(_below_layers(type(strategy)), strategy), name)


def user_definition(cls: type, name: str) -> tuple[type, Any] | None:
    """(class, attribute) of the user's own `name`, skipping the plugin's layers and wrappers;
    None when only Freqtrade's IStrategy (or nothing) defines it."""
    for klass in cls.__mro__:
        if is_layer(klass) or name not in klass.__dict__:
            continue
        if klass.__module__.startswith("freqtrade.") or klass is object:
            return None
        value = klass.__dict__[name]
        return klass, getattr(value, "__wrapped__", value)
    return None


def accepts(function: Any, keyword: str) -> bool:
    """Whether `function` takes `keyword` as a named parameter (not only through **kwargs)."""
    try:
        return keyword in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _wrap(cls: type, name: str, original: Any) -> Callable[..., Any]:
    plugin_method = next(
        klass.__dict__[name] for klass in cls.__mro__ if is_layer(klass) and name in klass.__dict__
    )
    plugin_signature = inspect.signature(plugin_method)
    procedural = name in PROCEDURAL

    @functools.wraps(getattr(original, "__func__", original))
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        # A staticmethod or classmethod override is called as one.
        bound = original.__get__(self, type(self))
        guard = call_guard(self)
        if name in guard.active:  # a further override's super(): continue the user's chain
            return bound(*args, **kwargs)
        named = _named(plugin_signature, self, args, kwargs)
        if not procedural:
            # Through the plugin's own method, so its fail-closed answer stays in force.
            guard.overrides[name] = bound
            try:
                return plugin_method(self, **named)
            finally:
                guard.overrides.pop(name, None)
        with guard.entered(name):
            try:
                result = bound(*args, **kwargs)
            except Exception:
                if name != "populate_indicators":
                    self._plugin_part(name, None, named)
                raise
            return self._plugin_part(name, result, named)

    # Freqtrade reads the signature (custom_stoploss: `after_fill`): the plugin's one.
    wrapper.__signature__ = plugin_signature  # type: ignore[attr-defined]
    wrapper._quant_wrapper = True  # type: ignore[attr-defined]
    return wrapper


def _named(signature: inspect.Signature, strategy: Any, args: tuple, kwargs: dict) -> dict:
    """The call's arguments by name, as the plugin's callback takes them."""
    arguments = dict(signature.bind(strategy, *args, **kwargs).arguments)
    arguments.pop("self", None)
    arguments.update(arguments.pop("kwargs", {}))
    return arguments


def shadowing_order(cls: type) -> str | None:
    """The class line to write when a user class listed before the plugin would hide one of
    its callbacks (`class Q(MyStrategy, QuantMixin)`); None when the order is right."""
    mro = cls.__mro__
    last = mro.index(_below_layers(cls))
    hidden = [
        f"{klass.__name__}.{name}"
        for klass in mro[:last]
        if not is_layer(klass)
        for name in GUARDED
        if name in klass.__dict__ and not getattr(klass.__dict__[name], "_quant_wrapper", False)
    ]
    if not hidden:
        return None
    plugin = [base.__name__ for base in cls.__bases__ if is_layer(base)]
    user = [base.__name__ for base in cls.__bases__ if not is_layer(base)]
    line = f"class {cls.__name__}({', '.join(plugin + user)})"
    return f"{line}: list the plugin first, else {', '.join(hidden)} hide the plugin's part"


def wrap_overrides(cls: type) -> list[str]:
    """Wrap the callbacks `cls` itself overrides (see the module docstring); their names."""
    if is_layer(cls):
        return []
    wrapped = []
    for name in GUARDED:
        original = cls.__dict__.get(name)
        method = isinstance(original, (staticmethod, classmethod)) or callable(original)
        if not method or getattr(original, "_quant_wrapper", False):
            continue
        setattr(cls, name, _wrap(cls, name, original))
        wrapped.append(name)
    return wrapped
