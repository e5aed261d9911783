"""Layer switches: every layer on by default, switched off from the config or a variable."""

from __future__ import annotations

import pytest

from freqtrade_quant_plugin.core.layers import LAYER_NAMES, REGIME_LAYERS, LayerSwitches
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.validation import QuantConfigError


def test_every_layer_is_on_by_default() -> None:
    assert QuantSettings.load({}, {}).layers.off == ()


def test_config_and_environment_switch_layers_off() -> None:
    layers = QuantSettings.load(
        {"layers": {"breakeven": False, "cost_gate": True}}, {"QUANT_LAYER_TRAILING": "false"}
    ).layers
    assert layers.off == ("breakeven", "trailing")


def test_regime_layers_off_is_the_static_twin() -> None:
    static = LayerSwitches().without(*REGIME_LAYERS)
    assert set(static.off) == set(REGIME_LAYERS)
    assert set(LAYER_NAMES) - set(REGIME_LAYERS) == {"time_exit", "pair_disabling", "cost_gate"}


@pytest.mark.parametrize(
    ("section", "environ", "key"),
    [
        ({"layers": {"breakeven": "no"}}, {}, "quant.layers.breakeven"),
        ({"layers": {"breakeven": 0}}, {}, "quant.layers.breakeven"),
        ({"layers": {"stops": False}}, {}, "quant.layers.stops"),
        ({"layers": [False]}, {}, "quant.layers"),
        ({}, {"QUANT_LAYER_TRAILING": "maybe"}, "QUANT_LAYER_TRAILING"),
        ({}, {"QUANT_LAYER_TRAILING": ""}, "QUANT_LAYER_TRAILING"),
        ({}, {"QUANT_LAYER_TRAILNG": "0"}, "QUANT_LAYER_TRAILNG"),
        ({}, {"QUANT_LAYER_ANYTHING": "0"}, "QUANT_LAYER_ANYTHING"),
    ],
)
def test_bad_switches_name_their_key(section: dict, environ: dict, key: str) -> None:
    with pytest.raises(QuantConfigError) as error:
        QuantSettings.load(section, environ)
    assert error.value.key == key
