"""Hyperopt space "exit_rules": breakeven, trailing and time limit per regime, always valid."""

from __future__ import annotations

import itertools

import pytest
from freqtrade.enums import RunMode
from freqtrade_support import load_sample_strategies

from freqtrade_quant_plugin.adapters.strategy.compose.parameters import (
    apply_overrides,
    exit_rule_spans,
)
from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS
from freqtrade_quant_plugin.core.regime import REGIMES
from freqtrade_quant_plugin.core.settings import QuantSettings

RULES = ("breakeven_R", "trailing_activation_R", "trailing_distance_atr", "max_duration_hours")


@pytest.fixture(scope="module")
def strategy_class():
    return load_sample_strategies("quant_regime_exit_rules").QuantRegimeStrategy


@pytest.mark.parametrize("regime", REGIMES)
def test_every_corner_of_the_ranges_is_a_valid_exit_policy(regime: str) -> None:
    spans = exit_rule_spans(DEFAULT_EXIT_PARAMS[regime])
    assert set(spans) == set(RULES)
    for span in spans.values():
        assert 0 < span.low <= span.default <= span.high
    assert spans["breakeven_R"].high <= spans["trailing_activation_R"].low
    settings = QuantSettings.load(None, {})
    # trailing on, so ExitParams checks activation >= breakeven for every combination
    for values in itertools.product(*[(spans[f].low, spans[f].high) for f in RULES]):
        overrides = {f"exit_policy.{regime}.{f}": v for f, v in zip(RULES, values, strict=True)}
        overrides[f"exit_policy.{regime}.trailing_enabled"] = True
        params = apply_overrides(settings, overrides).exit_policy[regime]
        assert params.trailing_activation_R >= params.breakeven_R


def test_a_policy_whose_activation_does_not_exceed_breakeven_has_no_range() -> None:
    bad = DEFAULT_EXIT_PARAMS["LOW_VOL"].__class__(
        **{
            **DEFAULT_EXIT_PARAMS["LOW_VOL"].__dict__,
            "trailing_activation_R": 0.5,
        }
    )
    with pytest.raises(ValueError, match="must exceed breakeven_R"):
        exit_rule_spans(bad)


def test_the_strategy_tunes_the_whole_exit_layer_in_its_own_space(strategy_class) -> None:
    exit_rules = {
        name: path
        for name, path in strategy_class.quant_parameters.items()
        if getattr(strategy_class, name).space == "exit_rules"
    }
    assert len(exit_rules) == len(REGIMES) * len(RULES)
    assert set(exit_rules.values()) == {f"exit_policy.{r}.{f}" for r in REGIMES for f in RULES}
    for name, path in exit_rules.items():
        regime, field = path.split(".")[1:]
        parameter = getattr(strategy_class, name)
        span = exit_rule_spans(DEFAULT_EXIT_PARAMS[regime])[field]
        assert (parameter.low, parameter.high) == (span.low, span.high), name
        assert parameter.value == DEFAULT_EXIT_PARAMS[regime].__dict__[field], name


def test_running_hyperopt_values_reach_the_exit_policy(strategy_class) -> None:
    # Without hyperopt, the parameter defaults are the exit policy's own defaults.
    plain = strategy_class({"quant": {}, "runmode": RunMode.BACKTEST})
    plain._ft_params_from_file = {}
    plain.ft_load_hyper_params(False)
    assert plain.effective_settings().exit_policy == QuantSettings.load(None, {}).exit_policy

    config = {"quant": {}, "runmode": RunMode.HYPEROPT, "spaces": ["exit_rules"]}
    strategy = strategy_class(config)
    strategy._ft_params_from_file = {}
    strategy.ft_load_hyper_params(True)
    strategy.exit_breakeven_trending.value = 1.25
    strategy.exit_trail_start_trending.value = 1.25
    strategy.exit_trail_atr_trending.value = 3.5
    strategy.exit_hours_trending.value = 100
    trending = strategy.effective_settings().exit_policy["TRENDING"]
    assert (trending.breakeven_R, trending.trailing_activation_R) == (1.25, 1.25)
    assert (trending.trailing_distance_atr, trending.max_duration_hours) == (3.5, 100)
