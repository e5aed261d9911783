"""docs/configuration.md lists every setting with its variable and its true default.

The reference is read back and compared with the settings code, so a setting added,
renamed or given a new default without the page shows here.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from freqtrade_quant_plugin.core.exit_profiles import DEFAULT_PROFILE, PROFILES
from freqtrade_quant_plugin.core.settings_sections import SECTIONS

PAGE = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"
_ROW = re.compile(r"^\| ([a-z_]+\.[A-Za-z0-9_]+) \| ([A-Z0-9_]+|none) \| ([^|]+) \|", re.MULTILINE)


def documented() -> dict[str, tuple[str, str]]:
    """config key (without `quant.`) -> (environment variable, default as written)."""
    rows = _ROW.findall(PAGE.read_text(encoding="utf-8"))
    return {key: (variable, default.strip()) for key, variable, default in rows}


def _as_written(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _same(written: str, value: object) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return float(written) == float(value)
        except ValueError:
            return False
    return written == _as_written(value)


def test_every_setting_is_documented_with_its_variable_and_default() -> None:
    rows = documented()
    expected = {}
    for section, (config_type, variables) in SECTIONS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(config_type)}
        by_field = {field: variable for variable, field in variables.items()}
        for name, default in defaults.items():
            expected[f"{section}.{name}"] = (by_field[name], default)
    assert sorted(set(rows) - {"exit_policy.profile", "exit_policy.REGIME"}) == sorted(expected)
    for key, (variable, default) in expected.items():
        assert rows[key][0] == variable, key
        if key == "exits.mode":  # empty in the settings: the strategy class decides
            assert default == "" and "quant_exits_default" in rows[key][1], rows[key]
            continue
        assert _same(rows[key][1], default), (key, rows[key][1], default)


def test_the_exit_profiles_are_documented() -> None:
    rows = documented()
    assert rows["exit_policy.profile"] == ("none", DEFAULT_PROFILE)
    text = PAGE.read_text(encoding="utf-8")
    for name in PROFILES:
        assert f"| `{name}`" in text, name
