"""`class X(QuantMixin, S): pass` leaves S's indicators and signals exactly as they are.

In-process, on every candle of 2,000 real (or synthetic) 1h candles, for each of the
project's plain strategies (tests/strategies_any): every column S computes, its entry and
exit signals and tags included, is identical in X's frame; X only adds columns named
`quant_*`. Also the start-up facts of composition: raised startup candles, the exit
attributes each mode leaves, refusals naming the setting, and overrides below the plugin.
"""

from __future__ import annotations

import logging
import types

import pytest
from freqtrade.data.dataprovider import DataProvider
from freqtrade.data.history import load_pair_history
from freqtrade.enums import CandleType, RunMode
from freqtrade.exceptions import OperationalException
from mixin_support import STRATEGIES, composed_source, variants

from freqtrade_quant_plugin import QuantMixin, QuantStrategy

PAIR = "ETH/USDT"


class _Markets:
    """The one thing the informative decorator asks the exchange: the pairs' markets."""

    def __init__(self) -> None:
        pairs = (PAIR, "BTC/USDT")
        self.markets = {p: {"base": p.split("/")[0], "quote": "USDT", "symbol": p} for p in pairs}


def _module(stem: str) -> types.ModuleType:
    module = types.ModuleType(f"mixin_under_test_{stem}")
    exec(compile(composed_source(stem), f"{stem}.py", "exec"), module.__dict__)
    return module


def _config(datadir, quant: dict | None = None) -> dict:
    return {
        "runmode": RunMode.BACKTEST,
        "datadir": datadir,
        "timeframe": "1h",
        "stake_currency": "USDT",
        "exchange": {"name": "binance", "pair_whitelist": [PAIR]},
        "trading_mode": "spot",
        "candle_type_def": CandleType.SPOT,
        "dataformat_ohlcv": "feather",
        "quant": quant or {},
    }


@pytest.fixture(scope="module")
def candles(market_datadir):
    frame = load_pair_history(pair=PAIR, timeframe="1h", datadir=market_datadir)
    assert len(frame) >= 2000
    return frame.iloc[:2000]


@pytest.mark.parametrize("stem", list(STRATEGIES))
def test_signals_and_user_columns_identical_on_every_candle(stem, candles, market_datadir):
    module = _module(stem)
    frames = {}
    for name in variants(stem):
        config = _config(market_datadir)
        strategy = getattr(module, name)(config)
        strategy.dp = DataProvider(config, _Markets())
        metadata = {"pair": PAIR}
        analysed = strategy.advise_indicators(candles.copy(), metadata)
        frames[name] = strategy.ft_advise_signals(analysed, metadata)
    plain, *composed = frames.values()
    signals = [c for c in ("enter_long", "enter_short", "exit_long", "exit_short") if c in plain]
    assert plain["enter_long"].sum() > 10 or plain.get("enter_short", plain["enter_long"]).sum()
    for frame in composed:
        for column in plain.columns:
            assert plain[column].equals(frame[column]), (stem, column)
        extra = set(frame.columns) - set(plain.columns)
        assert extra and all(name.startswith("quant_") for name in extra), extra
        assert "quant_regime" in extra
    assert signals


def test_startup_candles_raised_with_an_info_line(market_datadir, caplog):
    module = _module("roi_scalper")
    with caplog.at_level(logging.INFO):
        strategy = module.RoiScalperQuant(_config(market_datadir))
    needed = strategy.quant_settings.regime.startup_candles
    assert module.RoiScalper.startup_candle_count < needed == strategy.startup_candle_count
    assert f"startup_candle_count raised from 30 to {needed}" in caplog.text


def test_each_mode_leaves_the_strategys_exit_attributes_or_replaces_them(market_datadir):
    module = _module("trailing_static")
    plain = module.TrailingStatic
    none = module.TrailingStaticQuant(_config(market_datadir))
    guard = module.TrailingStaticGuard(_config(market_datadir))
    replace = module.TrailingStaticQuant(_config(market_datadir, {"exits": {"mode": "replace"}}))
    for strategy in (none, guard):
        assert strategy.minimal_roi == plain.minimal_roi
        assert strategy.stoploss == plain.stoploss
        assert strategy.trailing_stop is True
        assert strategy.trailing_stop_positive == plain.trailing_stop_positive
    assert none.use_custom_stoploss is False and guard.use_custom_stoploss is True
    assert (none.quant_exits_mode, guard.quant_exits_mode) == ("none", "guard")
    assert replace.minimal_roi == QuantStrategy.minimal_roi
    assert replace.stoploss == QuantStrategy.stoploss
    assert replace.trailing_stop is False


@pytest.mark.parametrize(
    ("value", "message"),
    [("tight", r"quant\.exits\.mode='tight'.*none, guard, replace"), (3, r"quant\.exits\.mode=3")],
)
def test_a_bad_exit_mode_is_refused_naming_key_and_value(market_datadir, value, message):
    module = _module("roi_scalper")
    with pytest.raises(OperationalException, match=message):
        module.RoiScalperQuant(_config(market_datadir, {"exits": {"mode": value}}))


def test_use_exit_signal_false_starts_in_every_mode(market_datadir):
    """The plugin's custom exits act without custom_exit (test_compose_skipped_custom_exit):
    no mode refuses use_exit_signal false, live with the stop on the exchange included."""
    module = _module("no_exit_signal")
    for mode in ("none", "guard", "replace"):
        for live in (False, True):
            config = _config(market_datadir, {"exits": {"mode": mode}})
            strategy = module.NoExitSignalQuant(config | {"dry_run": not live})
            strategy.order_types = {**strategy.order_types, "stoploss_on_exchange": live}
            strategy.dp = DataProvider(_config(market_datadir), _Markets())
            strategy.bot_start()
            assert not strategy.use_exit_signal


def test_overrides_below_the_plugin_are_wrapped_so_the_plugin_still_runs(market_datadir):
    module = _module("roi_scalper")
    calls = []

    class Mine(module.RoiScalperQuant):
        def bot_loop_start(self, current_time, **kwargs):  # no super()
            calls.append("mine")

        def informative_pairs(self):  # no super()
            return [("BTC/USDT", "4h")]

    assert Mine._quant_wrapped == ("bot_loop_start", "informative_pairs")
    strategy = Mine(_config(market_datadir))
    strategy.dp = DataProvider(_config(market_datadir), _Markets())
    strategy.bot_start()
    plugin_loops = []
    strategy._quant_bot_loop_start = lambda current_time: plugin_loops.append(current_time)
    strategy.bot_loop_start(current_time=candles_time())
    assert calls == ["mine"] and len(plugin_loops) == 1
    assert strategy.informative_pairs()[0] == ("BTC/USDT", "4h")


def candles_time():
    from datetime import UTC, datetime

    return datetime(2024, 3, 1, tzinfo=UTC)


def test_a_plugin_strategy_subclass_overriding_populate_indicators_without_super(market_datadir):
    class NoSuper(QuantStrategy):
        timeframe = "1h"
        startup_candle_count = 600

        def populate_indicators(self, dataframe, metadata):  # never calls super()
            dataframe["atr"] = 1.0
            return dataframe

        def populate_entry_trend(self, dataframe, metadata):
            dataframe["enter_long"] = 0
            return dataframe

        def populate_exit_trend(self, dataframe, metadata):
            return dataframe

    frame = load_pair_history(pair=PAIR, timeframe="1h", datadir=market_datadir).iloc[:800]
    strategy = NoSuper(_config(market_datadir))
    out = strategy.advise_indicators(frame.copy(), {"pair": PAIR})
    assert (out["atr"] == 1.0).all()  # the user's column stays
    assert "regime" in out and strategy.signal_table.columns(PAIR) is not None
    assert strategy.signal_table.columns(PAIR).atr[-1] != 1.0  # the plugin's own ATR


def test_quant_mixin_is_exported_at_the_top_level():
    import freqtrade_quant_plugin

    assert "QuantMixin" in freqtrade_quant_plugin.__all__
    assert issubclass(QuantStrategy, QuantMixin)


def test_an_override_calling_super_gets_the_plugins_part_at_that_point(market_datadir):
    module = _module("roi_scalper")
    seen = []

    class Early(module.RoiScalperQuant):
        def bot_loop_start(self, current_time, **kwargs):
            seen.append(self._last_loop_time)
            super().bot_loop_start(current_time, **kwargs)
            seen.append(self._last_loop_time)

    strategy = Early(_config(market_datadir))
    strategy.dp = DataProvider(_config(market_datadir), _Markets())
    strategy.bot_start()
    strategy.bot_loop_start(current_time=candles_time())
    assert seen == [None, candles_time()]  # the plugin's loop start ran once, at super()


def test_disabled_pairs_and_stale_candles_refuse_entries_inside_the_strategy(market_datadir):
    from freqtrade_quant_plugin.adapters.strategy.fail_closed import entry_blocks

    module = _module("roi_scalper")
    asked = []

    class Confirming(module.RoiScalperQuant):
        def confirm_trade_entry(self, pair, *args, **kwargs):  # the user's own, no super()
            asked.append(pair)
            return True

    strategy = Confirming(_config(market_datadir))
    strategy.dp = DataProvider(_config(market_datadir), _Markets())
    strategy.bot_start()
    call = {
        "order_type": "limit", "amount": 1.0, "rate": 100.0, "time_in_force": "GTC",
        "current_time": candles_time(), "entry_tag": None, "side": "long",
    }  # fmt: skip
    assert strategy.confirm_trade_entry(pair=PAIR, **call) is True and asked == [PAIR]
    tracker = strategy.pair_performance.tracker
    tracker.is_enabled = lambda pair: pair != PAIR  # the pair's losing streak disabled it
    assert strategy.confirm_trade_entry(pair=PAIR, **call) is False
    assert strategy.confirm_trade_entry(pair="BTC/USDT", **call) is True
    tracker.is_enabled = lambda pair: True
    entry_blocks(strategy).block("stale_candles", "its candles are stale", "BTC/USDT")
    assert strategy.confirm_trade_entry(pair="BTC/USDT", **call) is False
    assert asked == [PAIR, "BTC/USDT"]  # the user was not asked about refused entries


def test_an_informative_frame_does_not_replace_the_pairs_recorded_candles(market_datadir):
    module = _module("roi_scalper")
    strategy = module.RoiScalperQuant(_config(market_datadir))
    hourly = load_pair_history(pair=PAIR, timeframe="1h", datadir=market_datadir).iloc[:800]
    daily = load_pair_history(pair=PAIR, timeframe="1d", datadir=market_datadir).iloc[:300]
    strategy.populate_indicators(hourly.copy(), {"pair": PAIR})
    recorded = strategy.signal_table.columns(PAIR).dates.copy()
    out = strategy.populate_indicators(daily.copy(), {"pair": PAIR})  # e.g. a user's own call
    assert "quant_regime" in out
    assert (strategy.signal_table.columns(PAIR).dates == recorded).all()
