"""Regime-specific exit parameters with config and environment overrides.

A stop that suits a calm market gets hunted in a volatile one, and a take-profit that
suits a range cuts a trend short; each regime therefore has its own stop (k1 * ATR),
target (k2 * ATR), breakeven trigger, trailing and time limit. Precedence, later winning:
the table of the chosen profile (`quant.exit_policy.profile`, core/exit_profiles.py; the
default profile when not set), the per-regime rows of the `quant.exit_policy` config
section, then the environment variables EXIT_REGIME_<REGIME>_<PARAM> of the original
design. The strategy resolves all regimes once at start-up so that a bad value stops the
bot before it trades.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping

from freqtrade_quant_plugin.core.exit_params import BOOL_FIELDS, PARAM_FIELDS, ExitParams
from freqtrade_quant_plugin.core.exit_profiles import DEFAULT_PROFILE, PROFILES
from freqtrade_quant_plugin.core.regime_config import NORMAL_VOL, REGIMES, UNKNOWN
from freqtrade_quant_plugin.core.validation import QuantConfigError, parse_number

logger = logging.getLogger(__name__)

ENV_PREFIX = "EXIT_REGIME_"
CONFIG_SECTION = "exit_policy"
ENV_MARKER = " (env override)"
CONFIG_MARKER = " (config override)"
FALLBACK_MARKER = " (fallback: entry regime unknown)"

_ENV_PARAMS = {name.upper(): name for name in PARAM_FIELDS}
_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})
# A field whose check depends on other fields: when only those were overridden, they are
# what the user got wrong.
_DEPENDS_ON = {
    "k2_TP": ("k1_SL",),
    "trailing_activation_R": ("breakeven_R", "trailing_enabled", "breakeven_enabled"),
}
PROFILE_KEY = "profile"

# The default profile's table (the guide's API name).
DEFAULT_EXIT_PARAMS: dict[str, ExitParams] = PROFILES[DEFAULT_PROFILE]


def resolve_exit_policy(
    overrides: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, ExitParams]:
    """Exit parameters of every tradable regime after config and environment overrides.

    `overrides` is the config section {"profile": "guide", "HIGH_VOL": {"k1_SL": 2.5}, ...};
    `environ` defaults to os.environ. Errors name the config path or the environment
    variable at fault.
    """
    table = profile_table((overrides or {}).get(PROFILE_KEY, DEFAULT_PROFILE))
    from_config = _config_overrides(overrides)
    from_env = _env_overrides(os.environ if environ is None else environ)
    return {
        regime: _merge(table[regime], from_config.get(regime, {}), from_env.get(regime, {}))
        for regime in REGIMES
    }


def profile_table(name: object) -> dict[str, ExitParams]:
    """The exit table of a named profile; anything else is refused, naming the setting."""
    if not isinstance(name, str) or name not in PROFILES:
        allowed = f"a profile name, one of {', '.join(PROFILES)}"
        raise QuantConfigError(f"{CONFIG_SECTION}.{PROFILE_KEY}", name, allowed)
    return PROFILES[name]


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
        if regime == PROFILE_KEY:
            continue  # the table, chosen in resolve_exit_policy
        path = f"{CONFIG_SECTION}.{regime}"
        if regime not in REGIMES:
            allowed = f"{PROFILE_KEY} or a regime, one of {', '.join(REGIMES)}"
            raise QuantConfigError(path, values, allowed)
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


def _merge(default: ExitParams, from_config: Override, from_env: Override) -> ExitParams:
    regime = default.regime
    values: dict[str, object] = {name: getattr(default, name) for name in PARAM_FIELDS}
    sources: dict[str, str] = {}
    for name, (raw, key) in (from_config | from_env).items():
        values[name] = _parse_bool(key, raw) if name in BOOL_FIELDS else parse_number(key, raw)
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
