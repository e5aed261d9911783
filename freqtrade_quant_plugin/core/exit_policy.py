"""Regime-specific exit parameters with config and environment overrides (SPEC section 6).

A stop that suits a calm market gets hunted in a volatile one, and a take-profit that
suits a range cuts a trend short; each regime therefore has its own stop (k1 * ATR),
target (k2 * ATR), breakeven trigger, trailing and time limit. Precedence, later winning:
the defaults below, the `quant.exit_policy` config section, then the environment variables
EXIT_REGIME_<REGIME>_<PARAM> of the original design. The strategy resolves all regimes
once at start-up so that a bad value stops the bot before it trades.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from freqtrade_quant_plugin.core.regime import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    TRENDING,
    UNKNOWN,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range, parse_number

logger = logging.getLogger(__name__)

ENV_PREFIX = "EXIT_REGIME_"
CONFIG_SECTION = "exit_policy"
ENV_MARKER = " (env override)"
CONFIG_MARKER = " (config override)"
FALLBACK_MARKER = " (fallback: entry regime unknown)"

PARAM_FIELDS = (
    "k1_SL",
    "k2_TP",
    "breakeven_R",
    "trailing_enabled",
    "trailing_activation_R",
    "trailing_distance_atr",
    "max_duration_hours",
)
_ENV_PARAMS = {name.upper(): name for name in PARAM_FIELDS}
_NUMBER_FIELDS = tuple(name for name in PARAM_FIELDS if name != "trailing_enabled")
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
# A field whose check depends on other fields: when only those were overridden, they are
# what the user got wrong.
_DEPENDS_ON = {
    "k2_TP": ("k1_SL",),
    "trailing_activation_R": ("breakeven_R", "trailing_enabled"),
}


@dataclass(frozen=True)
class ExitParams:
    """Exit rules of one regime; distances in ATR of the entry candle, profits in R."""

    regime: str
    k1_SL: float
    k2_TP: float
    breakeven_R: float
    trailing_enabled: bool
    trailing_activation_R: float
    trailing_distance_atr: float
    max_duration_hours: float
    description: str

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise QuantConfigError("regime", self.regime, f"one of {', '.join(REGIMES)}")
        for name in _NUMBER_FIELDS:
            key = f"{self.regime}.{name}"
            object.__setattr__(self, name, parse_number(key, getattr(self, name)))
        if not isinstance(self.trailing_enabled, bool):
            raise QuantConfigError(
                f"{self.regime}.trailing_enabled", self.trailing_enabled, "true or false"
            )
        key = f"{self.regime}."
        check_range(key + "k1_SL", self.k1_SL, 0.0, low_open=True)
        if not self.k2_TP > self.k1_SL:
            raise QuantConfigError(key + "k2_TP", self.k2_TP, f"> k1_SL ({self.k1_SL:g})")
        check_range(key + "breakeven_R", self.breakeven_R, 0.0, low_open=True)
        if self.trailing_enabled and self.trailing_activation_R < self.breakeven_R:
            allowed = f">= breakeven_R ({self.breakeven_R:g}) while trailing is enabled"
            raise QuantConfigError(
                key + "trailing_activation_R", self.trailing_activation_R, allowed
            )
        check_range(key + "trailing_distance_atr", self.trailing_distance_atr, 0.0, low_open=True)
        check_range(key + "max_duration_hours", self.max_duration_hours, 0.0, low_open=True)


DEFAULT_EXIT_PARAMS: dict[str, ExitParams] = {
    params.regime: params
    for params in (
        ExitParams(
            regime=LOW_VOL,
            description="Low volatility: tight stop, modest target, patient holding",
            k1_SL=1.0,
            k2_TP=2.0,
            breakeven_R=0.5,
            trailing_enabled=False,
            trailing_activation_R=1.0,
            trailing_distance_atr=1.0,
            max_duration_hours=48.0,
        ),
        ExitParams(
            regime=NORMAL_VOL,
            description="Normal volatility: balanced 1.5 ATR stop and 2:1 target",
            k1_SL=1.5,
            k2_TP=3.0,
            breakeven_R=1.0,
            trailing_enabled=False,
            trailing_activation_R=1.5,
            trailing_distance_atr=1.5,
            max_duration_hours=24.0,
        ),
        ExitParams(
            regime=HIGH_VOL,
            description="High volatility: wider stop against noise, 2:1 target",
            k1_SL=2.0,
            k2_TP=4.0,
            breakeven_R=1.0,
            trailing_enabled=False,
            trailing_activation_R=2.0,
            trailing_distance_atr=2.0,
            max_duration_hours=12.0,
        ),
        ExitParams(
            regime=EXTREME_VOL,
            description="Extreme volatility: widest stop, quick exit before conditions turn",
            k1_SL=3.0,
            k2_TP=5.0,
            breakeven_R=0.75,
            trailing_enabled=False,
            trailing_activation_R=1.5,
            trailing_distance_atr=2.5,
            max_duration_hours=6.0,
        ),
        ExitParams(
            regime=TRENDING,
            description="Trending: let winners run with a trailing stop and a far target",
            k1_SL=2.0,
            k2_TP=6.0,
            breakeven_R=1.0,
            trailing_enabled=True,
            trailing_activation_R=1.5,
            trailing_distance_atr=2.0,
            max_duration_hours=72.0,
        ),
        ExitParams(
            regime=RANGING,
            description="Ranging: take profit near the range edge, do not overstay",
            k1_SL=1.5,
            k2_TP=2.0,
            breakeven_R=0.5,
            trailing_enabled=False,
            trailing_activation_R=1.0,
            trailing_distance_atr=1.0,
            max_duration_hours=12.0,
        ),
    )
}


def resolve_exit_policy(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, ExitParams]:
    """Exit parameters of every tradable regime after config and environment overrides.

    `overrides` is the config section {"HIGH_VOL": {"k1_SL": 2.5}, ...}; `environ` defaults
    to os.environ. Errors name the config path or the environment variable at fault.
    """
    from_config = _config_overrides(overrides)
    from_env = _env_overrides(os.environ if environ is None else environ)
    return {
        regime: _merge(regime, from_config.get(regime, {}), from_env.get(regime, {}))
        for regime in REGIMES
    }


def get_exit_params(
    regime: str | None,
    overrides: Mapping[str, object] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitParams:
    """Exit parameters of one regime (the guide's API).

    UNKNOWN or None, which only a trade whose entry regime was lost should carry, gets the
    NORMAL_VOL parameters with the fallback noted in the description.
    """
    fallback = regime is None or regime == UNKNOWN
    if not fallback and regime not in REGIMES:
        raise ValueError(f"Unknown regime {regime!r}: expected one of {', '.join(REGIMES)}")
    params = resolve_exit_policy(overrides, environ)[NORMAL_VOL if fallback else regime]
    if fallback:
        logger.warning("No entry regime known: using NORMAL_VOL exit parameters")
        return dataclasses.replace(params, description=params.description + FALLBACK_MARKER)
    return params


Override = dict[str, tuple[object, str]]  # field -> (raw value, key the user set)


def _config_overrides(overrides: Mapping[str, object] | None) -> dict[str, Override]:
    found: dict[str, Override] = {}
    for regime, values in (overrides or {}).items():
        path = f"{CONFIG_SECTION}.{regime}"
        if regime not in REGIMES:
            raise QuantConfigError(path, values, f"a regime, one of {', '.join(REGIMES)}")
        if not isinstance(values, Mapping):
            raise QuantConfigError(path, values, "a mapping of parameter -> value")
        for name, value in values.items():
            if name not in PARAM_FIELDS:
                allowed = f"a parameter, one of {', '.join(PARAM_FIELDS)}"
                raise QuantConfigError(f"{path}.{name}", value, allowed)
            found.setdefault(regime, {})[name] = (value, f"{path}.{name}")
    return found


def _env_overrides(environ: Mapping[str, str]) -> dict[str, Override]:
    # Regime names contain underscores (HIGH_VOL), so split on known regime prefixes.
    by_length = sorted(REGIMES, key=len, reverse=True)
    found: dict[str, Override] = {}
    for variable, value in environ.items():
        if not variable.startswith(ENV_PREFIX):
            continue
        rest = variable[len(ENV_PREFIX) :]
        regime = next((name for name in by_length if rest.startswith(name + "_")), None)
        if regime is None:
            allowed = f"{ENV_PREFIX}<REGIME>_<PARAM> with a known REGIME: {', '.join(REGIMES)}"
            raise QuantConfigError(variable, value, allowed)
        param = rest[len(regime) + 1 :]
        if param not in _ENV_PARAMS:
            allowed = f"{ENV_PREFIX}{regime}_<PARAM> with PARAM one of {', '.join(_ENV_PARAMS)}"
            raise QuantConfigError(variable, value, allowed)
        found.setdefault(regime, {})[_ENV_PARAMS[param]] = (value, variable)
    return found


def _merge(regime: str, from_config: Override, from_env: Override) -> ExitParams:
    default = DEFAULT_EXIT_PARAMS[regime]
    values: dict[str, object] = {name: getattr(default, name) for name in PARAM_FIELDS}
    sources: dict[str, str] = {}
    for name, (raw, key) in (from_config | from_env).items():
        values[name] = (
            _parse_bool(key, raw) if name == "trailing_enabled" else parse_number(key, raw)
        )
        sources[name] = key
    description = default.description
    if from_config:
        description += CONFIG_MARKER
    if from_env:
        description += ENV_MARKER
    try:
        return ExitParams(regime=regime, description=description, **values)  # type: ignore[arg-type]
    except QuantConfigError as error:
        raise _blame_override(error, regime, values, sources) from None


def _blame_override(
    error: QuantConfigError, regime: str, values: Mapping[str, object], sources: Mapping[str, str]
) -> QuantConfigError:
    """Re-key a validation error to the override the user set.

    The defaults are valid, so a failing default field failed because of an overridden
    field it depends on; that override is what the message must name.
    """
    name = error.key.removeprefix(f"{regime}.")
    if name in sources:
        return QuantConfigError(sources[name], error.value, error.allowed)
    culprit = next(n for n in (*_DEPENDS_ON.get(name, ()), *sources) if n in sources)
    allowed = (
        f"a value compatible with {error.key}={error.value!r} ({name} must be {error.allowed})"
    )
    return QuantConfigError(sources[culprit], values[culprit], allowed)


def _parse_bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if isinstance(value, str | int) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise QuantConfigError(key, value, "true/false or 1/0")
