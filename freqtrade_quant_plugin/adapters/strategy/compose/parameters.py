"""Which value a tunable setting takes when it is both a setting and a hyperopt parameter.

Precedence, later winning:
1. the settings' defaults;
2. the strategy's hyperopt parameter DEFAULTS (a strategy may ship its own defaults);
3. explicit settings: the `quant` config section and the environment variables;
4. hyperopt RESULTS: the strategy's `<strategy>.json` parameter file, its
   `buy_params`/`sell_params` dicts, or the values of the running hyperopt epoch. Overriding
   an explicit setting this way logs a warning, since the user wrote that value on purpose.

Settings are addressed by dotted paths: "regime.trend_threshold", "risk.risk_per_trade",
"exit_policy.HIGH_VOL.k1_SL".

`exit_rule_spans` gives the search ranges of the exit rules (breakeven, trailing, time
limit) such that any sample is a valid exit policy.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from freqtrade_quant_plugin.core.exit_policy import (
    ENV_PREFIX,
    PARAM_FIELDS,
    PROFILE_KEY,
    ExitParams,
)
from freqtrade_quant_plugin.core.regime_config import REGIMES
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.settings_sections import EXIT_POLICY_SECTION, SECTIONS

logger = logging.getLogger(__name__)

_ENV_EXIT_PARAMS = {name.upper(): name for name in PARAM_FIELDS}


class Tunable(NamedTuple):
    parameter: str  # the strategy attribute holding the hyperopt parameter
    path: str
    value: object
    from_result: bool  # from a hyperopt result or the running hyperopt, not a default


def explicit_setting_paths(
    quant_section: Mapping[str, object] | None, environ: Mapping[str, str]
) -> frozenset[str]:
    """Paths of every setting the user set in the config section or the environment."""
    section = dict(quant_section or {})
    paths: set[str] = set()
    for name, (_, env_map) in SECTIONS.items():
        values = section.get(name)
        if isinstance(values, Mapping):
            paths.update(f"{name}.{key}" for key in values)
        paths.update(
            f"{name}.{field}" for variable, field in env_map.items() if variable in environ
        )
    exit_section = section.get(EXIT_POLICY_SECTION)
    if isinstance(exit_section, Mapping):
        if PROFILE_KEY in exit_section:
            # A chosen profile is an explicit choice of every row: the strategy's parameter
            # defaults (the default profile's values) must not replace it.
            paths.update(
                f"{EXIT_POLICY_SECTION}.{regime}.{key}"
                for regime in REGIMES
                for key in PARAM_FIELDS
            )
        for regime, params in exit_section.items():
            if isinstance(params, Mapping):
                paths.update(f"{EXIT_POLICY_SECTION}.{regime}.{key}" for key in params)
    for variable in environ:
        if not variable.startswith(ENV_PREFIX):
            continue
        rest = variable[len(ENV_PREFIX) :]
        for regime in REGIMES:
            field = _ENV_EXIT_PARAMS.get(rest.removeprefix(regime + "_"))
            if rest.startswith(regime + "_") and field is not None:
                paths.add(f"{EXIT_POLICY_SECTION}.{regime}.{field}")
    return frozenset(paths)


def chosen_overrides(
    tunables: Iterable[Tunable], explicit_paths: frozenset[str], warned: set[str]
) -> dict[str, object]:
    """The parameter values that win over the settings, by path (see the module docstring)."""
    overrides: dict[str, object] = {}
    for tunable in tunables:
        if tunable.from_result:
            if tunable.path in explicit_paths and tunable.path not in warned:
                warned.add(tunable.path)
                logger.warning(
                    "Hyperopt value %s=%r (parameter %s) overrides the explicit setting %s",
                    tunable.path,
                    tunable.value,
                    tunable.parameter,
                    tunable.path,
                )
            overrides[tunable.path] = tunable.value
        elif tunable.path not in explicit_paths:
            overrides[tunable.path] = tunable.value
    return overrides


def apply_overrides(settings: QuantSettings, overrides: Mapping[str, object]) -> QuantSettings:
    """A copy of `settings` with the values at `overrides`' paths replaced (and validated)."""
    sections: dict[str, dict[str, object]] = {}
    exit_changes: dict[str, dict[str, object]] = {}
    for path, value in overrides.items():
        section, _, rest = path.partition(".")
        if section == EXIT_POLICY_SECTION:
            regime, _, field = rest.partition(".")
            exit_changes.setdefault(regime, {})[field] = value
        elif section in SECTIONS:
            sections.setdefault(section, {})[rest] = value
        else:
            raise KeyError(f"Unknown setting path {path!r}")
    changes: dict[str, object] = {
        name: dataclasses.replace(getattr(settings, name), **fields)
        for name, fields in sections.items()
    }
    if exit_changes:
        policy = dict(settings.exit_policy)
        for regime, fields in exit_changes.items():
            policy[regime] = dataclasses.replace(policy[regime], **fields)
        changes[EXIT_POLICY_SECTION] = policy
    return dataclasses.replace(settings, **changes) if changes else settings


class Span(NamedTuple):
    """A hyperopt search range; `decimals` as in Freqtrade's DecimalParameter (0: whole)."""

    low: float
    high: float
    default: float
    decimals: int


def exit_rule_spans(params: ExitParams) -> dict[str, Span]:
    """Search ranges of a regime's breakeven, trailing and time-limit rules.

    Every combination drawn from them is a valid exit policy: breakeven_R ends where
    trailing_activation_R starts (midway between the two defaults), so activation >=
    breakeven holds for any sample, as ExitParams requires while trailing is enabled.
    Each default lies inside its range, which is about half to twice the default.
    """
    breakeven, activation = params.breakeven_R, params.trailing_activation_R
    if not activation > breakeven:
        raise ValueError(
            f"{params.regime}: trailing_activation_R {activation:g} must exceed breakeven_R "
            f"{breakeven:g} to give both a search range"
        )
    middle = round((breakeven + activation) / 2, 2)
    distance, hours = params.trailing_distance_atr, params.max_duration_hours
    return {
        "breakeven_R": Span(round(breakeven / 2, 2), middle, breakeven, 2),
        "trailing_activation_R": Span(
            middle, round(max(2 * activation, middle + 0.5), 2), activation, 2
        ),
        "trailing_distance_atr": Span(round(distance / 2, 1), round(distance * 2, 1), distance, 1),
        "max_duration_hours": Span(max(1, round(hours / 2)), round(hours * 2), hours, 0),
    }
