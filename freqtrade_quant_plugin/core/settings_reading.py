"""Reading one settings section from the config and the environment, strictly.

Config values must have their JSON type (the text "0.001" is no fee rate); environment
values must be plain decimal numbers (no "1_0", "nan", "inf"); empty values are refused,
never read as "unset". An error names the key the user actually set (the config path or the
environment variable), its value and what is allowed. Environment variables with one of the
plugin's prefixes that name no setting: SYMBOL_PERF_* is an error; REGIME_*, COST_* and
RISK_* are an error when they are a near miss of a known name (a typo) and a start-up
warning otherwise, because such generic prefixes may belong to other software on the
user's machine.
"""

from __future__ import annotations

import dataclasses
import difflib
import logging
import typing
from collections.abc import Mapping
from typing import Any

from freqtrade_quant_plugin.core.exit_params import BOOL_FIELDS
from freqtrade_quant_plugin.core.exit_policy import PROFILE_KEY
from freqtrade_quant_plugin.core.settings_sections import (
    EXIT_POLICY_SECTION,
    ORDERED,
    known_variables,
)
from freqtrade_quant_plugin.core.validation import (
    QuantConfigError,
    parse_bool,
    parse_int,
    parse_number,
)

logger = logging.getLogger(__name__)

# Environment prefixes of the plugin. STRICT ones belong to it alone; the others are generic
# words, so only a near miss of a known name (difflib ratio >= NEAR_MISS) is an error.
STRICT_PREFIXES = ("SYMBOL_PERF_", "QUANT_LAYER_")
GENERIC_PREFIXES = ("REGIME_", "COST_", "RISK_")
NEAR_MISS = 0.8


def build_section(
    name: str,
    config_type: type,
    env_map: dict[str, str],
    section: Mapping[str, Any],
    environ: Mapping[str, str],
    sources: dict[str, str],
) -> Any:
    """Merge config and environment for one dataclass; errors name where the value came from."""
    values = section.get(name)
    if name in section and not isinstance(values, Mapping):
        raise QuantConfigError(f"quant.{name}", values, "a mapping of setting -> value")
    types = typing.get_type_hints(config_type)
    names = {f.name for f in dataclasses.fields(config_type)}
    source = {}  # field -> key the user set
    raw: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if key not in names:
            raise QuantConfigError(
                f"quant.{name}.{key}", value, f"one of {', '.join(sorted(names))}"
            )
        raw[key], source[key] = value, f"quant.{name}.{key}"
    for variable, field_name in env_map.items():
        if variable in environ:
            raw[field_name], source[field_name] = environ[variable], variable
    converted = {
        key: _convert(source[key], value, types[key], from_config=source[key].startswith("quant."))
        for key, value in raw.items()
    }
    sources.update({f"{name}.{key}": where for key, where in source.items()})
    try:
        return config_type(**converted)
    except QuantConfigError as error:
        raise _blame(name, error, source, raw, env_map) from None


def _blame(
    name: str,
    error: QuantConfigError,
    source: Mapping[str, str],
    raw: Mapping[str, Any],
    env_map: Mapping[str, str],
) -> QuantConfigError:
    """Re-key an error to the setting the user set, naming its partner when order is wrong."""
    if error.key in source:
        return QuantConfigError(source[error.key], error.value, error.allowed)
    for low, high, strict in ORDERED.get(name, ()):
        if error.key == high and low in source:
            culprit, partner, relation = low, high, "<" if strict else "<="
        elif error.key == low and high in source:
            culprit, partner, relation = high, low, ">" if strict else ">="
        else:
            continue
        key = source[culprit]
        if key.startswith("quant."):
            partner_key = f"quant.{name}.{partner}"
        else:
            partner_key = next(var for var, field in env_map.items() if field == partner)
        value = error.value if not isinstance(error.value, float) else f"{error.value:g}"
        allowed = f"{relation} {partner_key} ({value}, its default)"
        return QuantConfigError(key, raw[culprit], allowed)
    return QuantConfigError(f"quant.{name}.{error.key}", error.value, error.allowed)


def _convert(key: str, value: Any, annotation: Any, *, from_config: bool) -> Any:
    """Config values keep their JSON type; environment values are parsed from text."""
    if annotation is bool:
        if from_config and not isinstance(value, bool):
            raise QuantConfigError(key, value, "true or false (a JSON boolean)")
        return parse_bool(key, value)
    if annotation in (int, float):
        if from_config and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise QuantConfigError(key, value, "a JSON number (not text, true/false or null)")
        return parse_int(key, value) if annotation is int else parse_number(key, value)
    if annotation is str:  # a word the dataclass checks (e.g. exits.mode)
        if isinstance(value, str) and value.strip():
            return value.strip()
        raise QuantConfigError(key, value, "a word (a JSON string)")
    if isinstance(value, str) and value.strip():
        return value
    if value is None and from_config:
        return None  # null: no such file, as documented for persistence_file
    allowed = "a file path or null" if from_config else "a file path (unset it for none)"
    raise QuantConfigError(key, value, allowed)


def check_exit_types(overrides: object) -> None:
    """JSON types of the exit_policy section; names and ranges are checked when resolved."""
    path = f"quant.{EXIT_POLICY_SECTION}"
    if not isinstance(overrides, Mapping):
        raise QuantConfigError(path, overrides, "a mapping of regime -> params")
    for regime, values in overrides.items():
        if regime == PROFILE_KEY or not isinstance(values, Mapping):
            continue  # resolve_exit_policy names it
        for name, value in values.items():
            key = f"{path}.{regime}.{name}"
            if name in BOOL_FIELDS:
                if not isinstance(value, bool):
                    raise QuantConfigError(key, value, "true or false")
            elif isinstance(value, bool) or not isinstance(value, int | float):
                raise QuantConfigError(key, value, "a JSON number (not text, true/false or null)")


def check_unknown_variables(environ: Mapping[str, str]) -> None:
    """Refuse typos of the plugin's variables; warn about other variables with its prefixes."""
    known = known_variables()
    for variable in sorted(environ):
        if variable in known:
            continue
        strict = variable.startswith(STRICT_PREFIXES)
        if not strict and not variable.startswith(GENERIC_PREFIXES):
            continue
        close = difflib.get_close_matches(variable, known, n=1, cutoff=NEAR_MISS)
        if close:
            allowed = f"a known variable (did you mean {close[0]}?)"
            raise QuantConfigError(variable, environ[variable], allowed)
        if strict:
            names = ", ".join(v for v in known if v.startswith(STRICT_PREFIXES))
            raise QuantConfigError(variable, environ[variable], f"a known variable: {names}")
        if variable not in _warned_variables:
            _warned_variables.add(variable)
            logger.warning(
                "Environment variable %s has a quant setting prefix but names no setting: "
                "ignored (known: %s)",
                variable,
                ", ".join(v for v in known if v.startswith(variable.split("_", 1)[0] + "_")),
            )


_warned_variables: set[str] = set()
