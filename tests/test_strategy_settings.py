"""QuantRegimeStrategy's settings: validation at start-up and the hyperopt precedence rule.

The strategy class is built directly from a config dict (no exchange, no data): these
are the checks Freqtrade runs when it loads the strategy.
"""

from __future__ import annotations

import importlib.util
import logging

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.strategy import DecimalParameter
from freqtrade_support import REPO_ROOT

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"


@pytest.fixture(scope="module")
def strategy_module():
    spec = importlib.util.spec_from_file_location("quant_regime_strategy_under_test", STRATEGY_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(quant: dict | None = None, trading_mode: str = "spot") -> dict:
    return {"quant": quant or {}, "runmode": RunMode.BACKTEST, "trading_mode": trading_mode}


def _loaded(strategy_class, config: dict, params_from_file: dict | None = None, hyperopt=False):
    strategy = strategy_class(config)
    strategy._ft_params_from_file = params_from_file or {}
    strategy.ft_load_hyper_params(hyperopt)
    return strategy


def test_defaults_without_settings(strategy_module):
    strategy = _loaded(strategy_module.QuantRegimeStrategy, _config())
    settings = strategy.effective_settings()
    assert settings.risk.risk_per_trade == 0.01
    assert settings.exit_policy["HIGH_VOL"].k1_SL == 1.5  # the default profile: static
    assert not settings.exit_policy["HIGH_VOL"].breakeven_enabled
    assert settings.regime.trend_threshold == 0.015


def test_a_chosen_profile_beats_the_parameter_defaults(strategy_module):
    """The parameters default to the default profile's values; the profile the config
    chooses is explicit for every row, and a per-regime override still applies on top."""
    config = _config({"exit_policy": {"profile": "guide", "TRENDING": {"k2_TP": 7.0}}})
    policy = _loaded(strategy_module.QuantRegimeStrategy, config).effective_settings().exit_policy
    assert (policy["HIGH_VOL"].k1_SL, policy["HIGH_VOL"].k2_TP) == (2.0, 4.0)
    assert policy["TRENDING"].trailing_enabled and policy["TRENDING"].k2_TP == 7.0
    assert policy["LOW_VOL"].breakeven_enabled and policy["LOW_VOL"].breakeven_R == 0.5


def test_explicit_config_beats_parameter_default(strategy_module):
    config = _config(
        {"risk": {"risk_per_trade": 0.005}, "exit_policy": {"HIGH_VOL": {"k1_SL": 2.3}}}
    )
    settings = _loaded(strategy_module.QuantRegimeStrategy, config).effective_settings()
    assert settings.risk.risk_per_trade == 0.005
    assert settings.exit_policy["HIGH_VOL"].k1_SL == 2.3


def test_environment_beats_parameter_default(strategy_module, monkeypatch):
    monkeypatch.setenv("EXIT_REGIME_TRENDING_K2_TP", "7.5")
    monkeypatch.setenv("REGIME_TREND_THRESHOLD", "0.02")
    strategy = _loaded(strategy_module.QuantRegimeStrategy, _config())
    assert strategy.effective_settings().exit_policy["TRENDING"].k2_TP == 7.5
    # populate_indicators reads only the regime parameters, with the same rule
    assert strategy.effective_settings("regime.").regime.trend_threshold == 0.02


def test_strategy_parameter_default_applies_when_nothing_is_set(strategy_module):
    class Tuned(strategy_module.QuantRegimeStrategy):
        sell_k1_high_vol = DecimalParameter(1.2, 2.4, default=2.4, decimals=1, space="sell")

    assert _loaded(Tuned, _config()).effective_settings().exit_policy["HIGH_VOL"].k1_SL == 2.4
    explicit = _config({"exit_policy": {"HIGH_VOL": {"k1_SL": 1.8}}})
    assert _loaded(Tuned, explicit).effective_settings().exit_policy["HIGH_VOL"].k1_SL == 1.8


def test_hyperopt_result_file_beats_explicit_setting_with_warning(strategy_module, caplog):
    config = _config({"risk": {"risk_per_trade": 0.005}, "regime": {"trend_threshold": 0.01}})
    params = {"risk": {"risk_per_trade": 0.004}, "buy": {"buy_trend_threshold": 0.025}}
    strategy = _loaded(strategy_module.QuantRegimeStrategy, config, params)
    with caplog.at_level(logging.WARNING):
        settings = strategy.effective_settings()
        strategy.effective_settings()
    assert settings.risk.risk_per_trade == 0.004
    assert settings.regime.trend_threshold == 0.025
    warnings = [r.message for r in caplog.records if "overrides the explicit setting" in r.message]
    assert len(warnings) == 2  # once per overridden setting, not per call


def test_running_hyperopt_value_wins(strategy_module):
    config = _config({"exit_policy": {"RANGING": {"k2_TP": 2.5}}})
    config["spaces"] = ["sell"]
    strategy = _loaded(strategy_module.QuantRegimeStrategy, config, hyperopt=True)
    strategy.sell_k2_ranging.value = 2.9  # what hyperopt sets for an epoch
    assert strategy.effective_settings().exit_policy["RANGING"].k2_TP == 2.9
    strategy.sell_k2_ranging.value = 2.2
    assert strategy.effective_settings().exit_policy["RANGING"].k2_TP == 2.2


def test_every_k2_range_lies_above_its_k1_range(strategy_module):
    cls = strategy_module.QuantRegimeStrategy
    for regime in ("low_vol", "normal_vol", "high_vol", "extreme_vol", "trending", "ranging"):
        k1 = getattr(cls, f"sell_k1_{regime}")
        k2 = getattr(cls, f"sell_k2_{regime}")
        assert k2.low > k1.high, regime


def test_bad_setting_stops_loading_naming_the_key(strategy_module, monkeypatch):
    with pytest.raises(OperationalException, match=r"quant\.costs\.taker_fee_rate"):
        strategy_module.QuantRegimeStrategy(_config({"costs": {"taker_fee_rate": 0.5}}))
    monkeypatch.setenv("EXIT_REGIME_HIGH_VOL_K1_SL", "wide")
    with pytest.raises(OperationalException, match="EXIT_REGIME_HIGH_VOL_K1_SL"):
        strategy_module.QuantRegimeStrategy(_config())


def test_startup_candles_must_cover_the_regime_warm_up(strategy_module):
    class TooShort(strategy_module.QuantRegimeStrategy):
        startup_candle_count = 100

    with pytest.raises(OperationalException, match="startup_candle_count=100"):
        TooShort(_config()).bot_start()
    strategy_module.QuantRegimeStrategy(_config()).bot_start()


def test_shorts_only_outside_spot(strategy_module):
    assert strategy_module.QuantRegimeStrategy(_config()).can_short is False
    assert strategy_module.QuantRegimeStrategy(_config(trading_mode="futures")).can_short is True


def test_indicators_and_entry_tags(strategy_module):
    strategy = _loaded(strategy_module.QuantRegimeStrategy, _config())
    strategy.bot_start()
    rng = np.random.default_rng(7)
    n = 3000
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    frame = pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close * 1.004,
            "low": close * 0.996,
            "close": close,
            "volume": np.full(n, 1000.0),
        }
    )
    frame = strategy.populate_indicators(frame, {"pair": "BTC/USDT"})
    frame = strategy.populate_entry_trend(frame, {"pair": "BTC/USDT"})
    assert (frame["regime_code"].iloc[: strategy.startup_candle_count - 20] == -1).all()
    entries = frame[(frame["enter_long"] == 1) | (frame["enter_short"] == 1)]
    assert len(entries) > 0
    assert not entries["regime"].isin(["UNKNOWN", "EXTREME_VOL"]).any()
    tags = entries["enter_tag"].str.split(":", expand=True)
    assert (tags[1] == entries["regime"]).all()
    assert set(tags[0]) <= {"trend_long", "trend_short", "revert_long", "revert_short"}


def test_percentile_window_beyond_the_startup_is_refused_at_load(strategy_module, monkeypatch):
    with pytest.raises(OperationalException, match=r"quant\.regime\.percentile_window=700"):
        strategy_module.QuantRegimeStrategy(_config({"regime": {"percentile_window": 700}}))
    monkeypatch.setenv("REGIME_PERCENTILE_WINDOW", "700")
    with pytest.raises(OperationalException, match=r"REGIME_PERCENTILE_WINDOW=700"):
        strategy_module.QuantRegimeStrategy(_config())
    config = _config() | {"startup_candle_count": 713}  # Freqtrade's config override
    strategy_module.QuantRegimeStrategy(config)
