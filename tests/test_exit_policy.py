"""Exit policy: valid defaults, override precedence and errors that name the key at fault."""

from __future__ import annotations

import dataclasses

import pytest

from freqtrade_quant_plugin.core.exit_policy import (
    CONFIG_MARKER,
    DEFAULT_EXIT_PARAMS,
    ENV_MARKER,
    ExitParams,
    get_exit_params,
    resolve_exit_policy,
)
from freqtrade_quant_plugin.core.exit_profiles import PROFILES
from freqtrade_quant_plugin.core.regime import REGIMES, UNKNOWN
from freqtrade_quant_plugin.core.validation import QuantConfigError

NO_ENV: dict[str, str] = {}


def test_defaults_cover_every_regime_and_are_valid():
    assert set(DEFAULT_EXIT_PARAMS) == set(REGIMES)
    for regime, params in DEFAULT_EXIT_PARAMS.items():
        assert params.regime == regime
        assert params.k1_SL > 0
        assert params.k2_TP > params.k1_SL
        assert params.description
        # Round-trips through its own validation.
        assert dataclasses.replace(params) == params


def test_guide_profile_follows_the_regime_character():
    d = PROFILES["guide"]
    assert (d["NORMAL_VOL"].k1_SL, d["NORMAL_VOL"].k2_TP) == (1.5, 3.0)
    assert (d["HIGH_VOL"].k1_SL, d["HIGH_VOL"].k2_TP) == (2.0, 4.0)
    assert d["EXTREME_VOL"].k1_SL > d["HIGH_VOL"].k1_SL
    assert d["EXTREME_VOL"].max_duration_hours < d["HIGH_VOL"].max_duration_hours
    assert d["TRENDING"].trailing_enabled
    assert d["TRENDING"].k2_TP > d["NORMAL_VOL"].k2_TP
    assert d["RANGING"].k2_TP < d["NORMAL_VOL"].k2_TP
    assert d["RANGING"].max_duration_hours < d["NORMAL_VOL"].max_duration_hours
    assert d["LOW_VOL"].k1_SL < d["NORMAL_VOL"].k1_SL


def test_no_override_keeps_the_defaults():
    assert resolve_exit_policy(environ=NO_ENV) == DEFAULT_EXIT_PARAMS
    assert get_exit_params("HIGH_VOL", environ=NO_ENV) == DEFAULT_EXIT_PARAMS["HIGH_VOL"]


def test_env_override_and_marker():
    env = {"EXIT_REGIME_HIGH_VOL_K1_SL": "2.5", "EXIT_REGIME_HIGH_VOL_K2_TP": "5.0"}
    params = get_exit_params("HIGH_VOL", environ=env)
    assert (params.k1_SL, params.k2_TP) == (2.5, 5.0)
    assert params.description.endswith(ENV_MARKER)
    assert get_exit_params("NORMAL_VOL", environ=env) == DEFAULT_EXIT_PARAMS["NORMAL_VOL"]


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("FALSE", False), ("1", True)])
def test_env_boolean(raw, expected):
    env = {"EXIT_REGIME_NORMAL_VOL_TRAILING_ENABLED": raw}
    assert get_exit_params("NORMAL_VOL", environ=env).trailing_enabled is expected


def test_every_param_has_an_env_variable():
    env = {
        "EXIT_REGIME_RANGING_K1_SL": "1",
        "EXIT_REGIME_RANGING_K2_TP": "3",
        "EXIT_REGIME_RANGING_BREAKEVEN_R": "0.8",
        "EXIT_REGIME_RANGING_TRAILING_ENABLED": "1",
        "EXIT_REGIME_RANGING_TRAILING_ACTIVATION_R": "1.2",
        "EXIT_REGIME_RANGING_TRAILING_DISTANCE_ATR": "0.7",
        "EXIT_REGIME_RANGING_MAX_DURATION_HOURS": "6",
        "EXIT_REGIME_RANGING_BREAKEVEN_ENABLED": "1",
    }
    params = get_exit_params("RANGING", environ=env)
    expected = ExitParams("RANGING", 1.0, 3.0, 0.8, True, 1.2, 0.7, 6.0, params.description, True)
    assert params == expected


def test_config_override_and_marker():
    params = get_exit_params("TRENDING", overrides={"TRENDING": {"k2_TP": 8}}, environ=NO_ENV)
    assert params.k2_TP == 8.0
    assert params.description.endswith(CONFIG_MARKER)


def test_precedence_env_over_config_over_default():
    overrides = {"HIGH_VOL": {"k1_SL": 2.2, "k2_TP": 6.0}}
    env = {"EXIT_REGIME_HIGH_VOL_K1_SL": "2.5"}
    params = get_exit_params("HIGH_VOL", overrides, env)
    assert params.k1_SL == 2.5  # env beats config
    assert params.k2_TP == 6.0  # config beats default
    assert params.breakeven_R == DEFAULT_EXIT_PARAMS["HIGH_VOL"].breakeven_R
    assert CONFIG_MARKER in params.description
    assert ENV_MARKER in params.description


def test_default_environ_is_os_environ(monkeypatch):
    monkeypatch.setenv("EXIT_REGIME_LOW_VOL_MAX_DURATION_HOURS", "30")
    assert get_exit_params("LOW_VOL").max_duration_hours == 30.0


def test_unknown_regime_falls_back_to_normal_vol():
    for regime in (UNKNOWN, None):
        params = get_exit_params(regime, environ=NO_ENV)
        assert params.k1_SL == DEFAULT_EXIT_PARAMS["NORMAL_VOL"].k1_SL
        assert "fallback" in params.description


def test_other_labels_are_rejected():
    with pytest.raises(ValueError, match="'SIDEWAYS'"):
        get_exit_params("SIDEWAYS", environ=NO_ENV)


def test_resolve_returns_all_six():
    policy = resolve_exit_policy(environ={"EXIT_REGIME_EXTREME_VOL_K1_SL": "2.5"})
    assert set(policy) == set(REGIMES)
    assert policy["EXTREME_VOL"].k1_SL == 2.5


def test_unrelated_environment_is_ignored():
    assert resolve_exit_policy(environ={"PATH": "/bin", "EXIT_OTHER": "x"}) == DEFAULT_EXIT_PARAMS


@pytest.mark.parametrize(
    ("env", "key", "hint"),
    [
        ({"EXIT_REGIME_HIGH_VOL_K1_SL": "wide"}, "EXIT_REGIME_HIGH_VOL_K1_SL", "number"),
        ({"EXIT_REGIME_FOO_K1_SL": "2"}, "EXIT_REGIME_FOO_K1_SL", "known REGIME"),
        ({"EXIT_REGIME_UNKNOWN_K1_SL": "2"}, "EXIT_REGIME_UNKNOWN_K1_SL", "known REGIME"),
        ({"EXIT_REGIME_HIGH_VOL_K3": "2"}, "EXIT_REGIME_HIGH_VOL_K3", "PARAM one of"),
        ({"EXIT_REGIME_HIGH_VOL_K2_TP": "1.5"}, "EXIT_REGIME_HIGH_VOL_K2_TP", "> k1_SL"),
        ({"EXIT_REGIME_HIGH_VOL_K1_SL": "-1"}, "EXIT_REGIME_HIGH_VOL_K1_SL", "> 0"),
        (
            {"EXIT_REGIME_HIGH_VOL_TRAILING_ENABLED": "maybe"},
            "EXIT_REGIME_HIGH_VOL_TRAILING_ENABLED",
            "true/false",
        ),
        (
            {"EXIT_REGIME_LOW_VOL_MAX_DURATION_HOURS": "0"},
            "EXIT_REGIME_LOW_VOL_MAX_DURATION_HOURS",
            "> 0",
        ),
    ],
)
def test_env_errors_name_the_variable(env, key, hint):
    with pytest.raises(QuantConfigError, match=hint) as info:
        resolve_exit_policy(environ=env)
    assert info.value.key == key


def test_k1_override_past_default_k2_blames_k1():
    # k2_TP kept its default 4.0; the user's k1 of 5 is what broke k2 > k1.
    with pytest.raises(QuantConfigError, match=r"HIGH_VOL\.k2_TP") as info:
        resolve_exit_policy(environ={"EXIT_REGIME_HIGH_VOL_K1_SL": "5"})
    assert info.value.key == "EXIT_REGIME_HIGH_VOL_K1_SL"
    assert info.value.value == 5.0


def test_enabling_trailing_below_breakeven_blames_the_switch():
    overrides = {"profile": "guide", "NORMAL_VOL": {"trailing_activation_R": 0.5}}
    resolve_exit_policy(overrides, NO_ENV)  # trailing is off: no constraint
    with pytest.raises(QuantConfigError) as info:
        resolve_exit_policy(overrides, {"EXIT_REGIME_NORMAL_VOL_TRAILING_ENABLED": "true"})
    assert info.value.key == "exit_policy.NORMAL_VOL.trailing_activation_R"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"HIGH_VOL": {"k1_SL": "x"}}, "exit_policy.HIGH_VOL.k1_SL"),
        ({"HIGH_VOL": {"k2_TP": 1.0}}, "exit_policy.HIGH_VOL.k2_TP"),
        ({"HIGH_VOL": {"k9": 1.0}}, "exit_policy.HIGH_VOL.k9"),
        ({"FOO": {"k1_SL": 1.0}}, "exit_policy.FOO"),
        ({"HIGH_VOL": 2.5}, "exit_policy.HIGH_VOL"),
        ({"TRENDING": {"trailing_enabled": "yes please"}}, "exit_policy.TRENDING.trailing_enabled"),
    ],
)
def test_config_errors_name_the_path(overrides, key):
    with pytest.raises(QuantConfigError) as info:
        resolve_exit_policy(overrides, NO_ENV)
    assert info.value.key == key


def test_env_wins_even_when_config_was_invalid_for_that_field():
    # The env value replaces the config value before validation, so only the result counts.
    params = get_exit_params(
        "HIGH_VOL", {"HIGH_VOL": {"k2_TP": 1.0}}, {"EXIT_REGIME_HIGH_VOL_K2_TP": "4.5"}
    )
    assert params.k2_TP == 4.5


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("k1_SL", 0.0, "> 0"),
        ("k2_TP", 1.5, "> k1_SL"),
        ("breakeven_R", 0.0, "> 0"),
        ("trailing_distance_atr", -1.0, "> 0"),
        ("max_duration_hours", 0.0, "> 0"),
        ("trailing_enabled", "yes", "true or false"),
    ],
)
def test_exit_params_validation_keys(field, value, hint):
    with pytest.raises(QuantConfigError, match=hint) as info:
        dataclasses.replace(DEFAULT_EXIT_PARAMS["HIGH_VOL"], **{field: value})
    assert info.value.key == f"HIGH_VOL.{field}"
