"""Named exit profiles (`quant.exit_policy.profile`) and the trend-free default (issue 11)."""

from __future__ import annotations

import dataclasses

import pytest

from freqtrade_quant_plugin.adapters.strategy.compose.parameters import (
    Tunable,
    chosen_overrides,
    explicit_setting_paths,
)
from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS, resolve_exit_policy
from freqtrade_quant_plugin.core.exit_profiles import (
    DEFAULT_PROFILE,
    GUIDE,
    PROFILES,
    STATIC,
    VOLATILITY,
)
from freqtrade_quant_plugin.core.layered_rules import layered_risk_config, layered_stop_rules
from freqtrade_quant_plugin.core.layers import REGIME_LAYERS, LayerSwitches
from freqtrade_quant_plugin.core.regime import (
    EXTREME_VOL,
    HIGH_VOL,
    LOW_VOL,
    NORMAL_VOL,
    RANGING,
    REGIMES,
    TRENDING,
)
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.stop_levels import StopRules
from freqtrade_quant_plugin.core.validation import QuantConfigError

NO_ENV: dict[str, str] = {}
TREND_FREE = (VOLATILITY, STATIC)


def rules(table, regime: str) -> StopRules:
    return StopRules.from_exit_params(table[regime])


def test_every_profile_covers_every_regime_with_valid_rows():
    assert set(PROFILES) == {GUIDE, VOLATILITY, STATIC}
    for table in PROFILES.values():
        assert set(table) == set(REGIMES)
        for regime, params in table.items():
            assert params.regime == regime and params.description
            assert dataclasses.replace(params) == params  # passes its own validation


def test_guide_profile_keeps_the_design_guides_k1_k2():
    guide = PROFILES[GUIDE]
    assert (guide[NORMAL_VOL].k1_SL, guide[NORMAL_VOL].k2_TP) == (1.5, 3.0)
    assert (guide[HIGH_VOL].k1_SL, guide[HIGH_VOL].k2_TP) == (2.0, 4.0)
    assert guide[TRENDING].trailing_enabled and guide[TRENDING].k2_TP == 6.0
    assert (guide[RANGING].k2_TP, guide[RANGING].max_duration_hours) == (2.0, 12.0)
    assert guide[LOW_VOL].k1_SL == 1.0 and guide[EXTREME_VOL].k1_SL == 3.0
    assert all(params.breakeven_enabled for params in guide.values())


@pytest.mark.parametrize("profile", TREND_FREE)
def test_trend_labels_change_nothing_the_volatility_label_does_not(profile):
    """TRENDING and RANGING are shown only on LOW_VOL or NORMAL_VOL candles, without saying
    which: a trend-free table gives both trend labels and both volatility labels one rule."""
    table = PROFILES[profile]
    same = {rules(table, regime) for regime in (LOW_VOL, NORMAL_VOL, TRENDING, RANGING)}
    assert len(same) == 1
    assert not any(params.trailing_enabled for params in table.values())


def test_guide_profile_is_not_trend_free():
    guide = PROFILES[GUIDE]
    assert rules(guide, TRENDING) != rules(guide, NORMAL_VOL) != rules(guide, RANGING)


def test_the_default_profile_is_trend_free():
    assert DEFAULT_PROFILE in TREND_FREE
    assert resolve_exit_policy(environ=NO_ENV) == PROFILES[DEFAULT_PROFILE] == DEFAULT_EXIT_PARAMS


def test_default_sizing_stop_and_exits_ignore_the_trend_label():
    """Sizing reads the volatility label; its stop distance (k1) and every exit rule come from
    the combined label's row: equal for TRENDING, RANGING and their volatility labels."""
    settings = QuantSettings.load(None, NO_ENV)
    for volatility in (LOW_VOL, NORMAL_VOL):
        for label in (TRENDING, RANGING):
            assert layered_stop_rules(settings, label) == layered_stop_rules(settings, volatility)
    risk = layered_risk_config(settings)
    assert risk.regime_multiplier(TRENDING) is None  # sizing never reads a trend label


def test_volatility_profile_keeps_the_guides_high_and_extreme_rows():
    table, guide = PROFILES[VOLATILITY], PROFILES[GUIDE]
    assert table[HIGH_VOL] == guide[HIGH_VOL] and table[EXTREME_VOL] == guide[EXTREME_VOL]
    assert rules(table, LOW_VOL) == rules(guide, NORMAL_VOL)


def test_static_profile_is_the_static_twins_exits():
    profile = QuantSettings.load({"exit_policy": {"profile": STATIC}}, NO_ENV)
    twin = dataclasses.replace(
        QuantSettings.load({"exit_policy": {"profile": GUIDE}}, NO_ENV),
        layers=LayerSwitches().without(*REGIME_LAYERS),
    )
    for regime in REGIMES:
        expected = layered_stop_rules(twin, regime)
        assert layered_stop_rules(profile, regime) == expected
        assert expected.breakeven_R is None and expected.trailing_activation_R is None


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_profile_is_chosen_in_the_config(profile):
    settings = QuantSettings.load({"exit_policy": {"profile": profile}}, NO_ENV)
    assert settings.exit_policy == PROFILES[profile]


def test_overrides_apply_on_top_of_the_chosen_profile():
    section = {"exit_policy": {"profile": GUIDE, "TRENDING": {"k2_TP": 8.0}}}
    env = {"EXIT_REGIME_RANGING_MAX_DURATION_HOURS": "6"}
    policy = QuantSettings.load(section, env).exit_policy
    assert policy[TRENDING].k2_TP == 8.0
    assert policy[TRENDING].trailing_enabled  # the rest of the guide's row stays
    assert policy[RANGING].max_duration_hours == 6.0
    assert policy[RANGING].k2_TP == PROFILES[GUIDE][RANGING].k2_TP
    assert policy[NORMAL_VOL] == PROFILES[GUIDE][NORMAL_VOL]
    static = QuantSettings.load({"exit_policy": {"profile": STATIC}}, env).exit_policy
    assert static[RANGING].max_duration_hours == 6.0 and not static[RANGING].breakeven_enabled


def test_breakeven_can_be_switched_off_per_regime():
    env = {"EXIT_REGIME_HIGH_VOL_BREAKEVEN_ENABLED": "false"}
    policy = QuantSettings.load({"exit_policy": {"profile": GUIDE}}, env).exit_policy
    assert rules(policy, HIGH_VOL).breakeven_R is None
    assert rules(policy, NORMAL_VOL).breakeven_R == 1.0
    section = {"exit_policy": {"profile": STATIC, "LOW_VOL": {"breakeven_enabled": True}}}
    assert rules(QuantSettings.load(section, NO_ENV).exit_policy, LOW_VOL).breakeven_R == 1.0


@pytest.mark.parametrize("value", ["aggressive", "GUIDE", "", 1, None, ["guide"]])
def test_unknown_profile_is_refused_naming_key_and_value(value):
    with pytest.raises(QuantConfigError) as raised:
        QuantSettings.load({"exit_policy": {"profile": value}}, NO_ENV)
    assert raised.value.key == "quant.exit_policy.profile"
    assert raised.value.value == value
    assert "guide" in raised.value.allowed and "static" in raised.value.allowed
    with pytest.raises(QuantConfigError) as raised:
        resolve_exit_policy({"profile": value}, NO_ENV)
    assert raised.value.key == "exit_policy.profile"


def test_a_chosen_profile_wins_over_the_strategys_parameter_defaults():
    """The sample strategy's hyperopt parameters default to the default profile's values;
    a profile the user chose is explicit for every row, so those defaults must not replace
    it (a hyperopt result still does, with a warning)."""
    paths = explicit_setting_paths({"exit_policy": {"profile": GUIDE}}, NO_ENV)
    default_k1 = Tunable("sell_k1_trending", "exit_policy.TRENDING.k1_SL", 1.5, False)
    result_k2 = Tunable("sell_k2_trending", "exit_policy.TRENDING.k2_TP", 7.0, True)
    assert chosen_overrides([default_k1, result_k2], paths, set()) == {
        "exit_policy.TRENDING.k2_TP": 7.0
    }
    assert "exit_policy.TRENDING.k1_SL" not in explicit_setting_paths({}, NO_ENV)
