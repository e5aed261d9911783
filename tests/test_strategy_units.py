"""Unit tests of the strategy adapters' pure parts: stops, lookups, state, precedence, export."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd
import pytest
from freqtrade_support import load_sample_strategies

from freqtrade_quant_plugin.adapters.records import backtest_export, trade_records
from freqtrade_quant_plugin.adapters.records.trade_state import (
    STATE_KEY,
    EntryState,
    TradeStateCache,
)
from freqtrade_quant_plugin.adapters.signal_rows import SignalTable
from freqtrade_quant_plugin.adapters.strategy.compose.parameters import (
    Tunable,
    apply_overrides,
    chosen_overrides,
    explicit_setting_paths,
)
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.stop_levels import (
    BREAKEVEN,
    INITIAL,
    TRAILING,
    StopRules,
    current_stop,
)
from freqtrade_quant_plugin.core.validation import QuantConfigError

RULES = StopRules(
    k1_SL=2.0,
    k2_TP=6.0,
    breakeven_R=1.0,
    trailing_activation_R=1.5,
    trailing_distance_atr=2.0,
    max_duration_hours=72.0,
)


def _stop(best: float, *, is_short: bool = False, after: bool = True, rules: StopRules = RULES):
    # entry 100, ATR 1, k1 2 -> initial stop 98 (long) / 102 (short), breakeven 100.5 / 99.5
    return current_stop(
        is_short=is_short,
        entry_price=100.0,
        initial_stop=102.0 if is_short else 98.0,
        breakeven_price=99.5 if is_short else 100.5,
        atr=1.0,
        rules=rules,
        best_price=best,
        after_entry_candle=after,
    )


class TestStopLevels:
    def test_initial_until_breakeven_r(self):
        assert _stop(101.9) == (98.0, INITIAL)

    def test_breakeven_at_one_r(self):
        assert _stop(102.0) == (100.5, BREAKEVEN)

    def test_trailing_after_activation_trails_best_price(self):
        # 1.5R = 103; trailing 2 ATR behind 106 = 104, above breakeven
        assert _stop(106.0) == (104.0, TRAILING)

    def test_trailing_never_below_breakeven(self):
        # 103 reached: trailing candidate 101 > breakeven 100.5 -> trailing
        assert _stop(103.0) == (101.0, TRAILING)
        rules = StopRules(2.0, 6.0, 1.0, 1.5, 3.0, 72.0)
        # trailing candidate 100 < breakeven 100.5: breakeven stays
        assert _stop(103.0, rules=rules) == (100.5, BREAKEVEN)

    def test_short_mirrors_long(self):
        assert _stop(98.1, is_short=True) == (102.0, INITIAL)
        assert _stop(98.0, is_short=True) == (99.5, BREAKEVEN)
        assert _stop(94.0, is_short=True) == (96.0, TRAILING)

    def test_entry_candle_keeps_initial_stop(self):
        assert _stop(110.0, after=False) == (98.0, INITIAL)
        assert _stop(90.0, is_short=True, after=False) == (102.0, INITIAL)

    def test_disabled_breakeven_and_trailing(self):
        rules = StopRules(1.5, 3.0, None, None, 1.5, 24.0)
        assert _stop(120.0, rules=rules) == (98.0, INITIAL)

    def test_raised_stop_stays_behind_best_price(self):
        # breakeven 100.5 would sit above a best price of 100.4: never (exit above market)
        rules = StopRules(2.0, 6.0, 0.1, None, 2.0, 72.0)
        assert _stop(100.4, rules=rules) == (98.0, INITIAL)


def _frame(n: int = 6, start: str = "2024-01-01") -> pd.DataFrame:
    dates = pd.date_range(start, periods=n, freq="1h", tz="UTC")
    return pd.DataFrame(
        {
            "date": dates,
            "open": np.arange(n, dtype=float) + 100,
            "high": np.arange(n, dtype=float) + 101,
            "low": np.arange(n, dtype=float) + 99,
            "close": np.arange(n, dtype=float) + 100.5,
            "volume": np.full(n, 10.0),
            "atr": np.arange(n, dtype=float) + 1,
            "regime": ["UNKNOWN", "UNKNOWN", "TRENDING", "RANGING", "HIGH_VOL", "LOW_VOL"][:n],
            "volatility_regime": [
                "UNKNOWN",
                "UNKNOWN",
                "NORMAL_VOL",
                "LOW_VOL",
                "HIGH_VOL",
                "LOW_VOL",
            ][:n],
        }
    )


class TestSignalTable:
    def test_signal_row_is_last_closed_candle(self):
        table = SignalTable()
        table.record("BTC/USDT", _frame())
        # entering at 03:00 -> the 02:00 candle is the last closed one
        row = table.signal_row("BTC/USDT", datetime(2024, 1, 1, 3, tzinfo=UTC), 3600)
        assert (row.regime, row.atr) == ("TRENDING", 3.0)
        # mid-candle: 03:30 still sees the 02:00 candle
        row = table.signal_row("BTC/USDT", datetime(2024, 1, 1, 3, 30, tzinfo=UTC), 3600)
        assert row.regime == "TRENDING"

    def test_nothing_before_first_closed_candle_or_unknown_pair(self):
        table = SignalTable()
        table.record("BTC/USDT", _frame())
        assert table.signal_row("BTC/USDT", datetime(2024, 1, 1, 0, 59, tzinfo=UTC), 3600) is None
        assert table.signal_row("ETH/USDT", datetime(2024, 1, 2, tzinfo=UTC), 3600) is None

    def test_millisecond_dates_and_record_replaces(self):
        frame = _frame()
        frame["date"] = frame["date"].astype("datetime64[ms, UTC]")
        table = SignalTable()
        table.record("BTC/USDT", frame)
        row = table.signal_row("BTC/USDT", datetime(2024, 1, 1, 6, tzinfo=UTC), 3600)
        assert (row.regime, row.date) == (
            "LOW_VOL",
            int(datetime(2024, 1, 1, 5, tzinfo=UTC).timestamp()),
        )
        table.record("BTC/USDT", _frame(3))
        row = table.signal_row("BTC/USDT", datetime(2024, 1, 1, 6, tzinfo=UTC), 3600)
        assert row.regime == "TRENDING"

    def test_candle_at_exact_date_only(self):
        table = SignalTable()
        table.record("BTC/USDT", _frame())
        candle = table.candle_at("BTC/USDT", datetime(2024, 1, 1, 2, tzinfo=UTC))
        assert (candle.high, candle.low) == (103.0, 101.0)
        assert table.candle_at("BTC/USDT", datetime(2024, 1, 1, 2, 5, tzinfo=UTC)) is None
        assert table.candle_at("BTC/USDT", datetime(2024, 1, 2, tzinfo=UTC)) is None

    def test_entry_signals_stay_on_their_candles(self):
        table = SignalTable()
        table.record("BTC/USDT", _frame())
        assert table.columns("BTC/USDT").enter_long is None  # not advised yet
        advised = _frame()
        advised["enter_long"] = [0, 1, np.nan, 0, 1, 0]
        table.record_signals("BTC/USDT", advised)
        columns = table.columns("BTC/USDT")
        assert columns.enter_long.tolist() == [False, True, False, False, True, False]
        assert not columns.enter_short.any()  # no column: no short signal
        # A frame with other dates is recorded whole, its signals with it.
        shifted = _frame(4, start="2024-01-01 01:00")
        shifted["enter_long"] = [1, 0, 0, 0]
        table.record_signals("BTC/USDT", shifted)
        columns = table.columns("BTC/USDT")
        assert columns.dates[0] == int(datetime(2024, 1, 1, 1, tzinfo=UTC).timestamp())
        assert (columns.open[0], columns.enter_long.tolist()) == (
            100.0,
            [True, False, False, False],
        )
        # A new analysis drops the signals of the previous one.
        table.record("BTC/USDT", advised)
        assert table.columns("BTC/USDT").enter_long is None


def _state(trade_id: int = 7) -> EntryState:
    return EntryState(
        trade_id=trade_id,
        pair="BTC/USDT",
        is_short=False,
        regime="TRENDING",
        volatility_regime="NORMAL_VOL",
        atr=1.0,
        signal_date=1_700_000_000,
        entry_price=100.0,
        size=2.0,
        leverage=1.0,
        stop_price=98.0,
        take_profit_price=106.0,
        breakeven_price=100.5,
        risk_money=4.0,
        planned_risk_money=4.0,
        balance=400.0,
        regime_multiplier=1.0,
        risk_modifier=1.0,
        entry_slippage=0.01,
        candle_volume=None,
        rules=RULES,
    )


class _FakeTrade:
    """Stands in for Freqtrade's trade custom data store (a narrow unit test)."""

    def __init__(self, trade_id: int, stored: dict | None = None) -> None:
        self.id = trade_id
        self.stored = dict(stored or {})
        self.reads = 0

    def get_custom_data(self, key, default=None):
        self.reads += 1
        return self.stored.get(key, default)

    def set_custom_data(self, key, value):
        self.stored[key] = json.loads(json.dumps(value))  # what the DB round trip keeps


class TestTradeState:
    def test_round_trip_through_custom_data(self):
        state = _state()
        trade = _FakeTrade(7)
        trade.set_custom_data(STATE_KEY, state.to_dict())
        cache = TradeStateCache()
        assert cache.get(trade, use_database=True) == state
        assert cache.get(trade, use_database=True) == state
        assert trade.reads == 1  # a restart costs one query per trade, not one per candle

    def test_backtest_never_reads_database(self):
        cache = TradeStateCache()
        trade = _FakeTrade(3, {STATE_KEY: _state(3).to_dict()})
        assert cache.get(trade, use_database=False) is None
        assert trade.reads == 0
        cache.put(_state(3))
        assert cache.get(trade, use_database=False) == _state(3)

    def test_missing_or_corrupt_state_is_none_once(self):
        cache = TradeStateCache()
        trade = _FakeTrade(1, {STATE_KEY: {"pair": "BTC/USDT"}})
        assert cache.get(trade, use_database=True) is None
        assert cache.get(trade, use_database=True) is None
        assert trade.reads == 1


class TestPrecedence:
    def test_explicit_paths_from_config_and_environment(self):
        section = {
            "regime": {"trend_threshold": 0.02},
            "exit_policy": {"HIGH_VOL": {"k1_SL": 2.5}},
        }
        environ = {
            "RISK_PER_TRADE": "0.005",
            "EXIT_REGIME_LOW_VOL_K2_TP": "2.5",
            "EXIT_REGIME_HIGH_VOL_TRAILING_ENABLED": "true",
            "UNRELATED": "1",
        }
        assert explicit_setting_paths(section, environ) == {
            "regime.trend_threshold",
            "exit_policy.HIGH_VOL.k1_SL",
            "risk.risk_per_trade",
            "exit_policy.LOW_VOL.k2_TP",
            "exit_policy.HIGH_VOL.trailing_enabled",
        }

    def test_explicit_setting_beats_parameter_default(self):
        explicit = frozenset({"risk.risk_per_trade"})
        tunables = [
            Tunable("risk_per_trade", "risk.risk_per_trade", 0.01, False),
            Tunable("sell_k1", "exit_policy.HIGH_VOL.k1_SL", 2.2, False),
        ]
        assert chosen_overrides(tunables, explicit, set()) == {"exit_policy.HIGH_VOL.k1_SL": 2.2}

    def test_hyperopt_result_beats_explicit_setting_with_warning(self, caplog):
        explicit = frozenset({"risk.risk_per_trade"})
        warned: set[str] = set()
        tunables = [Tunable("risk_per_trade", "risk.risk_per_trade", 0.004, True)]
        with caplog.at_level("WARNING"):
            assert chosen_overrides(tunables, explicit, warned) == {"risk.risk_per_trade": 0.004}
            chosen_overrides(tunables, explicit, warned)
        assert sum("overrides the explicit setting" in r.message for r in caplog.records) == 1

    def test_apply_overrides_replaces_and_validates(self):
        settings = QuantSettings.load({}, {})
        changed = apply_overrides(
            settings,
            {
                "regime.trend_threshold": 0.02,
                "risk.risk_per_trade": 0.005,
                "exit_policy.HIGH_VOL.k2_TP": 5.0,
            },
        )
        assert changed.regime.trend_threshold == 0.02
        assert changed.risk.risk_per_trade == 0.005
        assert changed.exit_policy["HIGH_VOL"].k2_TP == 5.0
        assert changed.exit_policy["LOW_VOL"] == settings.exit_policy["LOW_VOL"]
        assert settings.regime.trend_threshold == 0.015  # the original is untouched
        with pytest.raises(QuantConfigError) as error:
            apply_overrides(settings, {"exit_policy.HIGH_VOL.k2_TP": 1.0})
        assert "k2_TP" in error.value.key


class TestBacktestExport:
    def test_install_wraps_once_and_writes_beside_zip(self, tmp_path: Path):
        zip_path = tmp_path / "backtest-result-2024-01-01_00-00-00.zip"
        calls = []

        def store_backtest_results(*args, **kwargs):
            calls.append(args)
            zip_path.write_bytes(b"zip")
            return zip_path

        module = ModuleType("fake_backtesting")
        module.store_backtest_results = store_backtest_results
        backtest_export.install_export(module)
        wrapped = module.store_backtest_results
        backtest_export.install_export(module)
        assert module.store_backtest_results is wrapped

        trade_records.start_collecting("S")
        trade_records.collect("S", {"pair": "BTC/USDT", "cost_in_R": math.inf, "R_multiple": 1.5})
        assert module.store_backtest_results({"c": 1}) == zip_path
        assert calls == [({"c": 1},)]
        target = tmp_path / "backtest-result-2024-01-01_00-00-00.quant.json"
        document = json.loads(target.read_text())
        rows = document["trades"]
        assert rows == [{"strategy": "S", "pair": "BTC/USDT", "cost_in_R": None, "R_multiple": 1.5}]
        assert (document["skipped"], document["summary"]) == ({}, {})  # no run results given
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([zip_path.name, target.name])
        # records are handed over once: the next result gets no stale file
        zip_path.unlink()
        target.unlink()
        module.store_backtest_results()
        assert not target.exists()


def test_state_dataclass_is_json_clean():
    text = json.dumps(_state().to_dict())
    assert EntryState.from_dict(json.loads(text)) == _state()


def _bases_up_to_istrategy(cls: type) -> set[type]:
    """The classes Freqtrade's hyperopt walks (`hyperopt_pickle_magic`): every base of the
    strategy, recursively, stopping at IStrategy; each one's module is pickled by value."""
    found: set[type] = set()
    for base in cls.__bases__:
        if base.__name__ != "IStrategy":
            found.add(base)
            found |= _bases_up_to_istrategy(base)
    return found


def test_strategy_bases_never_reach_object_before_istrategy():
    """A mixin on `object` makes hyperopt register builtins by value, and `-j 2` dies with
    'Could not pickle the task' (RecursionError); every plugin base must stop at IStrategy."""
    module = load_sample_strategies("quant_regime_strategy_bases")
    for name in ("QuantRegimeStrategy", "QuantStaticStrategy"):
        walked = _bases_up_to_istrategy(getattr(module, name))
        assert object not in walked, name
        assert {c.__module__ for c in walked} >= {"freqtrade_quant_plugin.adapters.strategy.mixin"}
