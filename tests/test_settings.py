"""The `quant` config section and the environment make one settings object; errors name the key."""

import pytest
from bad_settings import BAD_SETTINGS, ORDER_PARTNERS

from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.validation import QuantConfigError


def load(section=None, **environ):
    return QuantSettings.load(section, environ)


def test_defaults_match_the_design_guide():
    settings = load()
    assert settings.regime.lookback_period == 20
    assert settings.regime.volatility_percentile_high == 75.0
    assert settings.costs.taker_fee_rate == 0.0004
    assert settings.symbol_performance.consecutive_loss_disable_threshold == 10
    assert settings.symbol_performance.persistence_file is None
    assert settings.risk.max_cost_in_R == 0.15
    assert set(settings.exit_policy) == {
        "LOW_VOL",
        "NORMAL_VOL",
        "HIGH_VOL",
        "EXTREME_VOL",
        "TRENDING",
        "RANGING",
    }


def test_environment_overrides_config_which_overrides_defaults():
    section = {"regime": {"lookback_period": 30}, "costs": {"taker_fee_rate": 0.001}}
    settings = load(section, REGIME_LOOKBACK_PERIOD="40")
    assert settings.regime.lookback_period == 40
    assert settings.costs.taker_fee_rate == 0.001
    settings = load(section, SYMBOL_PERF_PERSISTENCE_FILE="data/perf.json")
    assert settings.regime.lookback_period == 30
    assert settings.symbol_performance.persistence_file == "data/perf.json"


def test_exit_policy_env_override_is_marked():
    settings = load(EXIT_REGIME_HIGH_VOL_K1_SL="2.5", EXIT_REGIME_HIGH_VOL_K2_TP="5.0")
    params = settings.exit_policy["HIGH_VOL"]
    assert (params.k1_SL, params.k2_TP) == (2.5, 5.0)
    assert "(env override)" in params.description


@pytest.mark.parametrize(
    ("section", "environ", "key"),
    [
        ({"costs": {"taker_fee_rate": -0.001}}, {}, "quant.costs.taker_fee_rate"),
        ({}, {"COST_MAKER_FEE_RATE": "-0.0002"}, "COST_MAKER_FEE_RATE"),
        (
            {"regime": {"volatility_percentile_extreme": 150}},
            {},
            "quant.regime.volatility_percentile_extreme",
        ),
        ({}, {"REGIME_VOL_PERCENTILE_LOW": "-5"}, "REGIME_VOL_PERCENTILE_LOW"),
        ({}, {"REGIME_LOOKBACK_PERIOD": "twenty"}, "REGIME_LOOKBACK_PERIOD"),
        ({}, {"SYMBOL_PERF_MIN_TRADES": "2.5"}, "SYMBOL_PERF_MIN_TRADES"),
        ({"regime": {"trend_threshold": "abc"}}, {}, "quant.regime.trend_threshold"),
        ({"risk": {"risk_per_trade": 0}}, {}, "quant.risk.risk_per_trade"),
        ({"regime": {"lookback": 20}}, {}, "quant.regime.lookback"),
        ({"regimes": {}}, {}, "quant.regimes"),
        ({"costs": 0.1}, {}, "quant.costs"),
    ],
)
def test_invalid_value_names_its_key(section, environ, key):
    with pytest.raises(QuantConfigError) as raised:
        load(section, **environ)
    assert raised.value.key == key
    assert key in str(raised.value)


def test_take_profit_not_beyond_stop_is_rejected():
    with pytest.raises(QuantConfigError) as raised:
        load({"exit_policy": {"HIGH_VOL": {"k1_SL": 3.0, "k2_TP": 2.0}}})
    assert raised.value.key.startswith("quant.exit_policy.HIGH_VOL.")
    with pytest.raises(QuantConfigError) as raised:
        load(EXIT_REGIME_NORMAL_VOL_K2_TP="1.0")
    assert "NORMAL_VOL" in raised.value.key


def test_unknown_regime_in_exit_variable_is_rejected():
    with pytest.raises(QuantConfigError) as raised:
        load(EXIT_REGIME_SIDEWAYS_K1_SL="2.0")
    assert raised.value.key == "EXIT_REGIME_SIDEWAYS_K1_SL"


def test_non_numeric_exit_variable_is_rejected():
    with pytest.raises(QuantConfigError) as raised:
        load(EXIT_REGIME_LOW_VOL_K1_SL="wide")
    assert raised.value.key == "EXIT_REGIME_LOW_VOL_K1_SL"


# --- issue 8, defect 7: settings that slipped through ---------------------------------------


@pytest.mark.parametrize("entry", BAD_SETTINGS, ids=[entry.id for entry in BAD_SETTINGS])
def test_bad_setting_is_refused_naming_the_key_the_user_set(entry):
    with pytest.raises(QuantConfigError) as raised:
        settings = QuantSettings.load(entry.quant, entry.env)
        settings.check_startup_candles(520, "QuantRegimeStrategy")  # the shipped strategy's
    message = str(raised.value)
    assert raised.value.key == entry.key
    assert f"Invalid quant setting {entry.key}={entry.shown}" in message
    partner = ORDER_PARTNERS.get(entry.id)
    if partner is not None:
        assert message.index(entry.key) < message.index(partner)


def test_table_covers_config_and_environment():
    from_env = [entry for entry in BAD_SETTINGS if entry.env]
    assert len(BAD_SETTINGS) >= 40 and len(from_env) >= 15


def test_unrelated_variable_with_a_generic_prefix_only_warns(caplog):
    with caplog.at_level("WARNING"):
        settings = load(RISK_APPETITE="high", COST_CENTER="42")
    assert settings.risk.risk_per_trade == 0.01
    assert "RISK_APPETITE" in caplog.text and "COST_CENTER" in caplog.text


def test_valid_numbers_still_load(tmp_path):
    settings = load(
        {"regime": {"lookback_period": 30.0}, "costs": {"taker_fee_rate": 1e-3}},
        REGIME_TREND_THRESHOLD=" 2e-2 ",
        SYMBOL_PERF_PERSISTENCE_FILE=str(tmp_path / "new_dir" / "perf.json"),
    )
    assert settings.regime.lookback_period == 30
    assert settings.regime.trend_threshold == 0.02
    assert not (tmp_path / "new_dir").exists()  # checked, not created
    assert list(tmp_path.iterdir()) == []  # the write probe left nothing behind


def test_config_null_persistence_file_means_none():
    assert (
        load({"symbol_performance": {"persistence_file": None}}).symbol_performance.persistence_file
        is None
    )


def test_startup_check_passes_when_the_strategy_covers_the_window():
    settings = load({"regime": {"percentile_window": 700}})
    settings.check_startup_candles(713, "QuantRegimeStrategy")
    with pytest.raises(QuantConfigError, match=r"percentile_window=700: allowed <= 699"):
        settings.check_startup_candles(712, "QuantRegimeStrategy")
    load().check_startup_candles(100, "TooShort")  # defaults: bot_start blames the strategy
