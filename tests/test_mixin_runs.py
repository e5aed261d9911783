"""Composed strategies through Freqtrade's other commands: hyperopt -j 2, futures with
shorts, exit_profit_only, and a dry-run bot.

- `hyperopt -j 2` of HyperoptParamsQuant: epochs run in worker processes (the composed
  class pickles), the parameter file is written beside the strategy and a later backtest
  of HyperoptParamsQuant loads it;
- ShortFutures (can_short, its own leverage 2) on synthetic futures candles: the composed
  strategy trades long and short, never above the strategy's leverage, one record per trade,
  and its stop on every candle (tests/stop_probe.py) is the strategy's own (none) or at
  least as tight (guard: above for a long, below for a short);
- `exit_profit_only` (with an offset) holds back only exit signals: replace's time exit
  at a loss and guard's ATR stop still act;
- `freqtrade trade --dry-run` with a plain strategy composed in guard mode: the entry
  state is stored, and the trade's stop is the tighter of the ATR stop and the static one.
"""

from __future__ import annotations

import json
import math
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest
from freqtrade_support import (
    interrupt_and_wait,
    output_of,
    run_freqtrade,
    start_freqtrade,
    start_offline_server,
    write_freqtrade_config,
)
from mixin_support import run_backtest, variants, write_strategies
from parallel_support import ceiling
from stop_probe import assert_every_candle_noted, compare_stops

from freqtrade_quant_plugin.synth import write_synthetic_data

pytestmark = pytest.mark.freqtrade

PAIRS = ["BTC/USDT", "ETH/USDT"]
TIMERANGE = "20240301-20240501"


def test_hyperopt_with_two_workers_and_its_parameter_file(tmp_path, offline_server, market_datadir):
    userdir = tmp_path / "user_data"
    folder = write_strategies(userdir / "strategies", ("hyperopt_params",))
    config = write_freqtrade_config(
        tmp_path / "config.json",
        offline_server.port,
        {"exchange": {"pair_whitelist": PAIRS}, "stake_amount": 100, "dry_run_wallet": 10000},
    )
    common = ["--config", config, "--userdir", userdir, "--datadir", market_datadir,
              "--strategy", "HyperoptParamsQuant", "--timerange", TIMERANGE]  # fmt: skip
    completed = run_freqtrade(
        ["hyperopt", *common, "--hyperopt-loss", "SharpeHyperOptLoss", "--spaces", "buy",
         "sell", "-e", "4", "-j", "2", "--random-state", "5"],
        cwd=tmp_path,
        timeout=900,
    )  # fmt: skip
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    assert "Traceback" not in output and "pickle" not in output.lower(), output[-4000:]
    (results,) = (userdir / "hyperopt_results").glob("*.fthypt")
    assert len(results.read_text().splitlines()) == 4
    params_file = folder / "hyperopt_params.json"
    params = json.loads(params_file.read_text())
    assert params["strategy_name"] == "HyperoptParamsQuant"
    assert set(params["params"]["buy"]) == {"buy_rsi", "buy_volume_factor"}

    backtest = run_freqtrade(["backtesting", *common, "--cache", "none"], cwd=tmp_path)
    output = output_of(backtest)
    assert backtest.returncode == 0, output[-4000:]
    assert f"Loading parameters from file {params_file}" in output, output[-4000:]


def test_futures_long_and_short_within_the_strategys_leverage(tmp_path_factory):
    root = tmp_path_factory.mktemp("mixin_futures")
    datadir = root / "data" / "binance"
    pairs = ["XRP/USDT", "BTC/USDT"]
    write_synthetic_data(datadir, pairs, ["1h"], seed=42, start="2024-01-01", days=150,
                         futures=True)  # fmt: skip
    server = start_offline_server(datadir)
    names = list(variants("short_futures"))
    try:
        run = run_backtest(
            root, datadir, server.port, names,
            pairs=[f"{pair}:USDT" for pair in pairs], timerange="20240201-20240501",
            overrides={"trading_mode": "futures", "margin_mode": "isolated"},
            stems=("short_futures",), probe=True,
        )  # fmt: skip
    finally:
        server.stop()
    plain, quant, guard = names
    assert {t["is_short"] for t in run.trades[plain]} == {True, False}
    original = {(t["pair"], t["open_date"]): t for t in run.trades[plain]}
    for name in (quant, guard):
        trades = run.trades[name]
        assert {t["is_short"] for t in trades} == {True, False}, name
        assert all(1.0 <= t["leverage"] <= 2.0 for t in trades), name
        assert len(run.records[name]) == len(trades), name
    for trade in run.trades[quant]:  # none mode: the strategy's own trades
        match = original[(trade["pair"], trade["open_date"])]
        assert (trade["close_date"], trade["exit_reason"]) == (
            match["close_date"],
            match["exit_reason"],
        )
    for record in run.records[quant]:
        assert record["leverage"] <= 2.0
        assert math.isfinite(record["R_multiple"])
    for name in names:
        assert_every_candle_noted(run.trades[name], run.stops[name])
    for name, mode in ((quant, "none"), (guard, "guard")):
        result = compare_stops(run.stops[plain], run.stops[name], mode)
        assert not result.looser, (mode, result.looser[:5])
        assert result.trades >= 5 and result.candles >= 50, (mode, result)
        assert 0 < result.short_candles < result.candles, (mode, result)
    assert result.tighter_short > 0, result  # guard's stop acted on shorts too


REGIMES = ("LOW_VOL", "NORMAL_VOL", "HIGH_VOL", "EXTREME_VOL", "TRENDING", "RANGING")


def test_exit_profit_only_leaves_the_plugins_exits(tmp_path, offline_server, market_datadir):
    """Freqtrade 2026.9 holds back only exit signals below exit_profit_offset, never
    custom_exit: replace's time exit still fires at a loss (a 6 h limit makes it frequent);
    guard's ATR stop (custom_stoploss) still closes trades before the static -8 %."""
    six_hours = {regime: {"max_duration_hours": 6} for regime in REGIMES}
    run = run_backtest(
        tmp_path, market_datadir, offline_server.port, ["ExitSignalsQuant", "ExitSignalsGuard"],
        pairs=PAIRS, timerange=TIMERANGE, stems=("exit_signals",),
        overrides={"exit_profit_only": True, "exit_profit_offset": 0.05,
                   "quant": {"exits": {"mode": "replace"}, "exit_policy": six_hours}},
    )  # fmt: skip
    replaced = run.trades["ExitSignalsQuant"]
    reasons = Counter(r["exit_reason"] for r in run.records["ExitSignalsQuant"])
    assert reasons["stop_loss"] > 0 and reasons["max_duration"] > 0, reasons
    assert any(t["exit_reason"] == "max_duration" and t["profit_ratio"] < 0 for t in replaced)
    for name in ("ExitSignalsQuant", "ExitSignalsGuard"):
        signal_exits = [t for t in run.trades[name] if t["exit_reason"] == "exit_signal"]
        assert all(t["profit_ratio"] > 0.05 for t in signal_exits), name  # held back below
    guard_stops = [
        t for t in run.trades["ExitSignalsGuard"]
        if t["exit_reason"] in ("stop_loss", "trailing_stop_loss") and t["profit_ratio"] < 0
    ]  # fmt: skip
    assert any(t["profit_ratio"] > -0.07 for t in guard_stops), guard_stops  # the ATR stop


EVERY_CANDLE = '''
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin import QuantMixin


class EveryCandle(IStrategy):
    """A plain 5m strategy that enters on every candle at market, static stop 5 %."""

    INTERFACE_VERSION = 3
    timeframe = "5m"
    minimal_roi = {"0": 0.5}
    stoploss = -0.05
    order_types = {"entry": "market", "exit": "market", "stoploss": "market",
                   "stoploss_on_exchange": False}

    def populate_indicators(self, dataframe, metadata):
        return dataframe

    def populate_entry_trend(self, dataframe, metadata):
        dataframe["enter_long"] = 1
        return dataframe

    def populate_exit_trend(self, dataframe, metadata):
        return dataframe


class EveryCandleGuard(QuantMixin, EveryCandle):
    quant_exits_default = "guard"
'''


def _open_trade(db: Path) -> tuple | None:
    if not db.exists():
        return None
    with sqlite3.connect(db) as connection:
        try:
            rows = connection.execute(
                "SELECT t.id, t.open_rate, t.stop_loss, c.cd_value FROM trades t JOIN "
                "trade_custom_data c ON c.ft_trade_id = t.id "
                "WHERE t.is_open = 1 AND c.cd_key = 'quant_entry_state'"
            ).fetchall()
        except sqlite3.OperationalError:
            return None
    return rows[0] if rows else None


def test_dry_run_loop_of_a_composed_strategy_in_guard_mode(tmp_path, market_datadir):
    server = start_offline_server(market_datadir, replay=True)
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    (strategies / "every_candle.py").write_text(EVERY_CANDLE)
    db = tmp_path / "trades.sqlite"
    config = write_freqtrade_config(
        tmp_path / "config.json",
        server.port,
        {
            "timeframe": "5m", "max_open_trades": 1, "exchange": {"pair_whitelist": ["BTC/USDT"]},
            "entry_pricing": {"price_side": "other"}, "exit_pricing": {"price_side": "other"},
            "internals": {"process_throttle_secs": 2}, "quant": {"layers": {"cost_gate": False}},
        },
    )  # fmt: skip
    log_file = tmp_path / "bot.log"
    bot = start_freqtrade(
        ["trade", "--config", config, "--userdir", tmp_path / "user_data", "--strategy-path",
         strategies, "--strategy", "EveryCandleGuard", "--db-url", f"sqlite:///{db}"],
        cwd=tmp_path,
        log_file=log_file,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + ceiling(180)
        while time.monotonic() < deadline and _open_trade(db) is None:
            time.sleep(1)
        found = _open_trade(db)
    finally:
        exit_code = interrupt_and_wait(bot)
        server.stop()
    text = log_file.read_text(errors="replace")
    assert found is not None, text[-4000:]
    assert exit_code == 130 and "Traceback" not in text, text[-4000:]
    assert "quant.exits.mode 'guard'" in text and "startup_candle_count raised" in text
    assert "The static stoploss -0.05 stays in force" in text, text[-4000:]
    _, open_rate, stop_loss, state_text = found
    state = json.loads(state_text)
    assert state["entry_price"] == pytest.approx(open_rate)
    atr_stop = state["entry_price"] - state["rules"]["k1_SL"] * state["atr"]
    static_stop = state["entry_price"] * (1 - 0.05)
    assert state["stop_price"] == pytest.approx(max(atr_stop, static_stop), rel=1e-9)
    assert stop_loss >= static_stop * (1 - 1e-6)  # never looser than the strategy's own


SKIPPED_CUSTOM_EXIT = '''

class AlwaysExit(ExitSignals):
    """An exit signal on every candle without an entry signal (Freqtrade enters on none
    with both): Freqtrade then calls custom_exit only on entry-signal candles."""

    def populate_exit_trend(self, dataframe, metadata):
        dataframe["exit_long"] = (dataframe["rsi"] >= 33).astype(int)
        return dataframe


class AlwaysExitQuant(QuantMixin, AlwaysExit):
    quant_exits_default = "replace"


class SilentQuant(QuantMixin, ExitSignals):
    use_exit_signal = False
    quant_exits_default = "replace"
'''


def test_the_plugins_exits_act_when_freqtrade_skips_custom_exit(
    tmp_path, offline_server, market_datadir
):
    """Freqtrade calls custom_exit only with use_exit_signal on and no exit signal on the
    candle; a signal held back by exit_profit_only, or use_exit_signal false, must not take
    replace's exits with it: every trade leaves by the 6 h time exit at the latest."""
    six_hours = {regime: {"max_duration_hours": 6} for regime in REGIMES}
    names = ["AlwaysExitQuant", "SilentQuant"]
    run = run_backtest(
        tmp_path, market_datadir, offline_server.port, names,
        pairs=PAIRS, timerange=TIMERANGE, stems=("exit_signals",),
        append={"exit_signals": SKIPPED_CUSTOM_EXIT},
        overrides={"exit_profit_only": True, "exit_profit_offset": 0.05,
                   "quant": {"exit_policy": six_hours}},
    )  # fmt: skip
    for name in names:
        reasons = Counter(r["exit_reason"] for r in run.records[name])
        assert reasons["max_duration"] > 0, (name, reasons)
        assert all(t["trade_duration"] <= 7 * 60 for t in run.trades[name]), name
    losing = [t for t in run.trades["AlwaysExitQuant"] if t["exit_reason"] == "max_duration"]
    assert any(t["profit_ratio"] < 0 for t in losing)  # while the signal was held back
    assert not [t for t in run.trades["SilentQuant"] if t["exit_reason"] == "exit_signal"]
