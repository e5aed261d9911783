"""QuantRegimeStrategy in real Freqtrade backtests against the offline server.

Runs (each one `freqtrade backtesting` subprocess, shared by the tests of this module):
- spot 1h, 5 pairs over four months, and spot 5m, 4 pairs over three weeks (the real
  candles of ../shared/data, or their synthetic stand-in, see conftest.market_datadir);
- futures 1h, isolated margin, leverage 3, long and short, on synthetic futures data
  (the real futures set holds ~100 1h candles, fewer than the strategy's warm-up);
- the static twin QuantStaticStrategy on the spot 1h set;
- the default settings (no `quant` section) on the spot 1h set.

The spot, 5m and futures runs use the guide's exit profile (`quant.exit_policy.profile`:
"guide"), whose regimes differ and which has breakeven and trailing, so every exit stage of
the plugin is exercised; the default profile ("static") has neither.

The checks read Freqtrade's own result zip and the plugin's `.quant.json` export beside it.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from freqtrade_support import (
    BASE_CONFIG,
    REPO_ROOT,
    only_backtest_result,
    output_of,
    run_freqtrade,
    start_offline_server,
    write_freqtrade_config,
)

from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS
from freqtrade_quant_plugin.core.exit_profiles import PROFILES
from freqtrade_quant_plugin.core.layers import REGIME_LAYERS
from freqtrade_quant_plugin.core.sizing import RiskConfig
from freqtrade_quant_plugin.synth import write_synthetic_data

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
SPOT_PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]
RECORD_KEYS = (
    "regime_at_entry",
    "sl_distance_dollars",
    "sl_distance_pct",
    "sl_distance_atr",
    "tp_distance_dollars",
    "tp_distance_pct",
    "tp_distance_atr",
    "risk_reward_ratio",
    "confidence",
    "consensus",
    "R_multiple",
    "net_R_multiple",
    "total_costs",
    "cost_in_R",
    "mfe",
    "mae",
    "mfe_R",
    "mae_R",
    "duration_hours",
)
PLUGIN_EXIT_REASONS = {
    "take_profit",
    "max_duration",
    "stop_loss",
    "breakeven_stop",
    "trailing_stop",
}
RISK = RiskConfig()
GUIDE = {"exit_policy": {"profile": "guide"}}
MULTIPLIERS = {
    "LOW_VOL": RISK.multiplier_low_vol,
    "NORMAL_VOL": RISK.multiplier_normal_vol,
    "HIGH_VOL": RISK.multiplier_high_vol,
    "EXTREME_VOL": RISK.multiplier_extreme_vol,
}


@dataclass
class BacktestRun:
    name: str
    output: str
    records: list[dict]  # the plugin's .quant.json: its trades
    export: dict  # the whole .quant.json: trades, skipped, summary
    trades: dict[tuple[str, datetime], dict]  # Freqtrade's result trades by (pair, open date)

    def trade_of(self, record: dict) -> dict:
        return self.trades[(record["pair"], datetime.fromisoformat(record["open_date"]))]


def _backtest(
    root: Path,
    datadir: Path,
    port: int,
    *,
    timeframe: str,
    timerange: str,
    pairs: list[str],
    strategy: str = "QuantRegimeStrategy",
    overrides: dict | None = None,
) -> BacktestRun:
    userdir = root / "user_data"
    strategies = userdir / "strategies"
    strategies.mkdir(parents=True)
    # A copy, so nothing Freqtrade writes beside the strategy lands in the repository.
    shutil.copy(STRATEGY_FILE, strategies)
    config = write_freqtrade_config(
        root / "config.json",
        port,
        {"timeframe": timeframe, "exchange": {"pair_whitelist": pairs}, **(overrides or {})},
    )
    completed = run_freqtrade(
        [
            "backtesting",
            "--config",
            config,
            "--userdir",
            userdir,
            "--datadir",
            datadir,
            "--strategy-path",
            strategies,
            "--strategy",
            strategy,
            "--timerange",
            timerange,
            "--export",
            "trades",
            "--cache",
            "none",
        ],
        cwd=root,
        timeout=600,
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    results = userdir / "backtest_results"
    zip_path, stats = only_backtest_result(results)
    export = zip_path.with_name(zip_path.name.removesuffix(".zip") + ".quant.json")
    assert export.is_file(), f"no {export.name} beside {zip_path.name}"
    trades = stats["strategy"][strategy]["trades"]
    document = json.loads(export.read_text())
    return BacktestRun(
        name=root.name,
        output=output,
        records=document["trades"],
        export=document,
        trades={(t["pair"], datetime.fromisoformat(t["open_date"])): t for t in trades},
    )


@pytest.fixture(scope="module")
def spot_1h(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    return _spot_1h_with(
        tmp_path_factory, offline_server.port, market_datadir, "spot_1h", (), GUIDE
    )


@pytest.fixture(scope="module")
def default_1h(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    """QuantRegimeStrategy with no `quant` settings at all: the shipped defaults."""
    return _spot_1h_with(tmp_path_factory, offline_server.port, market_datadir, "default_1h", ())


@pytest.fixture(scope="module")
def spot_5m(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    return _backtest(
        tmp_path_factory.mktemp("spot_5m"),
        market_datadir,
        offline_server.port,
        timeframe="5m",
        timerange="20240301-20240322",
        pairs=SPOT_PAIRS[:4],
        overrides={"quant": GUIDE},
    )


@pytest.fixture(scope="module")
def static_1h(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    return _backtest(
        tmp_path_factory.mktemp("static_1h"),
        market_datadir,
        offline_server.port,
        timeframe="1h",
        timerange="20240201-20240601",
        pairs=SPOT_PAIRS,
        strategy="QuantStaticStrategy",
    )


def _spot_1h_with(
    tmp_path_factory, port, datadir, name: str, layers_off, quant: dict | None = None
) -> BacktestRun:
    """The spot 1h run with those layers off and that `quant` section (none: no section)."""
    quant = quant or {}
    return _backtest(
        tmp_path_factory.mktemp(name),
        datadir,
        port,
        timeframe="1h",
        timerange="20240201-20240601",
        pairs=SPOT_PAIRS,
        overrides={"quant": {**quant, "layers": dict.fromkeys(layers_off, False)}}
        if quant or layers_off
        else None,
    )


@pytest.fixture(scope="module")
def regime_layers_off_1h(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    """QuantRegimeStrategy with every regime layer switched off in the config."""
    return _spot_1h_with(
        tmp_path_factory, offline_server.port, market_datadir, "layers_off_1h", REGIME_LAYERS
    )


@pytest.fixture(scope="module")
def breakeven_off_1h(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    return _spot_1h_with(
        tmp_path_factory,
        offline_server.port,
        market_datadir,
        "breakeven_off_1h",
        ("breakeven",),
        GUIDE,
    )


@pytest.fixture(scope="module")
def cost_gated_5m(tmp_path_factory, offline_server, market_datadir) -> BacktestRun:
    """5m candles, Freqtrade's fee 0.1 % and a small max_cost_in_R: the gate refuses all."""
    return _backtest(
        tmp_path_factory.mktemp("cost_gated_5m"),
        market_datadir,
        offline_server.port,
        timeframe="5m",
        timerange="20240301-20240315",
        pairs=SPOT_PAIRS[:2],
        overrides={"fee": 0.001, "quant": {"risk": {"max_cost_in_R": 0.02}}},
    )


@pytest.fixture(scope="module")
def futures_1h(tmp_path_factory) -> BacktestRun:
    root = tmp_path_factory.mktemp("futures_1h")
    datadir = root / "data" / "binance"
    write_synthetic_data(
        datadir,
        ["XRP/USDT", "BTC/USDT"],
        ["1h"],
        seed=42,
        start="2024-01-01",
        days=240,
        futures=True,
    )
    server = start_offline_server(datadir)
    try:
        return _backtest(
            root,
            datadir,
            server.port,
            timeframe="1h",
            timerange="20240201-20240801",
            pairs=["XRP/USDT:USDT", "BTC/USDT:USDT"],
            overrides={"trading_mode": "futures", "margin_mode": "isolated", "quant": GUIDE},
        )
    finally:
        server.stop()


@pytest.fixture(scope="module")
def quant_runs(spot_1h, spot_5m, futures_1h) -> list[BacktestRun]:
    return [spot_1h, spot_5m, futures_1h]


def test_every_run_trades_and_prints_the_report(quant_runs, static_1h):
    for run in [*quant_runs, static_1h]:
        assert "BACKTESTING REPORT" in run.output, run.name
        assert len(run.trades) > 0, run.name


def test_export_has_one_complete_record_per_trade(quant_runs, static_1h):
    for run in [*quant_runs, static_1h]:
        assert len(run.records) == len(run.trades), run.name
        for record in run.records:
            missing = [
                k
                for k in ("pair", "open_date", "close_date", "exit_reason", *RECORD_KEYS)
                if k not in record
            ]
            assert not missing, f"{run.name}: {missing} missing in {record}"
            trade = run.trade_of(record)
            assert datetime.fromisoformat(record["close_date"]) == datetime.fromisoformat(
                trade["close_date"]
            )
            assert record["freqtrade_exit_reason"] == trade["exit_reason"]
            assert record["regime_at_entry"] in DEFAULT_EXIT_PARAMS
            assert trade["enter_tag"].endswith(":" + record["regime_at_entry"])


def test_every_plugin_exit_reason_occurs(quant_runs):
    seen = {record["exit_reason"] for run in quant_runs for record in run.records}
    assert seen >= PLUGIN_EXIT_REASONS, f"missing {PLUGIN_EXIT_REASONS - seen}"


def test_futures_trades_long_and_short_with_safe_leverage(futures_1h):
    sides = {trade["is_short"] for trade in futures_1h.trades.values()}
    assert sides == {False, True}
    leverages = {trade["leverage"] for trade in futures_1h.trades.values()}
    assert all(1.0 <= leverage <= 3.0 for leverage in leverages)
    assert 3.0 in leverages
    assert "liquidation" not in {trade["exit_reason"] for trade in futures_1h.trades.values()}


def test_initial_stop_loses_at_most_risk_plus_costs(quant_runs):
    """Freqtrade's own loss of each initial stop-out is within risk money + modelled costs.

    This includes stop-outs in the entry candle itself, which only hold because the ATR
    stop replaces the wide static stoploss when the entry fills.
    """
    stopped = 0
    entry_candle_stops = 0
    for run in quant_runs:
        for record in run.records:
            if record["exit_reason"] != "stop_loss":
                continue
            trade = run.trade_of(record)
            loss = -trade["profit_abs"]
            allowed = record["risk_money"] + record["total_costs"]
            assert loss <= allowed * (1 + 1e-9), (run.name, record["pair"], record["open_date"])
            assert record["risk_money"] <= record["planned_risk_money"] * (1 + 1e-9)
            stopped += 1
            entry_candle_stops += record["duration_hours"] == 0
    assert stopped > 0
    assert entry_candle_stops > 0


def test_no_trade_risks_under_the_minimum_fraction_of_its_plan(quant_runs, static_1h):
    """Dust positions (issue 8): whatever cut the size (cost gate, stake clamped to the
    balance left, amount precision), no trade risks under min_risk_fraction of its plan.
    A trade at the strategy's own stake is left out: the plugin never raises a stake, so a
    smaller one the strategy chose is no dust. With stake_amount "unlimited" that stake is
    Freqtrade's equal share, the balance over max_open_trades (1 % allows the amount step)."""
    share = 1 / BASE_CONFIG["max_open_trades"]
    fractions = [
        record["risk_money"] / record["planned_risk_money"]
        for run in [*quant_runs, static_1h]
        for record in run.records
        if run.trade_of(record)["stake_amount"] < 0.99 * share * record["balance_at_entry"]
    ]
    dust = [f for f in fractions if f < RISK.min_risk_fraction * (1 - 1e-9)]
    assert not dust, f"{len(dust)} of {len(fractions)} trades under the minimum: {dust[:10]}"
    assert any(f < 0.99 for f in fractions)  # cuts do happen, above the minimum


def test_risk_money_follows_the_volatility_regime(quant_runs):
    multipliers_seen = set()
    for run in quant_runs:
        for record in run.records:
            multiplier = MULTIPLIERS[record["volatility_regime_at_entry"]]
            assert record["regime_multiplier"] == multiplier
            assert 0.5 <= record["risk_modifier"] <= 1.0
            expected = (
                record["balance_at_entry"]
                * RISK.risk_per_trade
                * multiplier
                * record["risk_modifier"]
            )
            assert record["planned_risk_money"] == pytest.approx(expected, rel=1e-12)
            multipliers_seen.add(multiplier)
    assert len(multipliers_seen) >= 3


def test_breakeven_exit_at_or_beyond_cost_aware_breakeven(quant_runs):
    exits = 0
    for run in quant_runs:
        for record in run.records:
            if record["exit_reason"] != "breakeven_stop":
                continue
            trade = run.trade_of(record)
            sign = -1 if record["is_short"] else 1
            breakeven_r = PROFILES["guide"][record["regime_at_entry"]].breakeven_R
            assert record["mfe_R"] >= breakeven_r - 1e-9
            assert (trade["close_rate"] - record["breakeven_price"]) * sign >= -1e-12 * trade[
                "close_rate"
            ]
            assert (record["breakeven_price"] - record["entry_price"]) * sign > 0
            exits += 1
    assert exits > 0


def test_static_twin_uses_fixed_exits_and_sizing(static_1h):
    normal = DEFAULT_EXIT_PARAMS["NORMAL_VOL"]
    for record in static_1h.records:
        assert record["exit_reason"] not in {"breakeven_stop", "trailing_stop"}
        assert record["sl_distance_atr"] == pytest.approx(normal.k1_SL)
        assert record["tp_distance_atr"] == pytest.approx(normal.k2_TP)
        assert (record["regime_multiplier"], record["risk_modifier"]) == (1.0, 1.0)
        assert record["planned_risk_money"] == pytest.approx(
            record["balance_at_entry"] * RISK.risk_per_trade, rel=1e-12
        )
    assert len({record["regime_at_entry"] for record in static_1h.records}) >= 2


def test_default_exits_ignore_the_trend_label(default_1h):
    """The shipped default (profile "static", issue 11): every entry regime, TRENDING and
    RANGING included, gets NORMAL_VOL's 1.5/3.0 ATR exits without breakeven or trailing;
    sizing still follows the volatility label (and the pair's record)."""
    normal = DEFAULT_EXIT_PARAMS["NORMAL_VOL"]
    assert (normal.k1_SL, normal.k2_TP, normal.breakeven_enabled) == (1.5, 3.0, False)
    for record in default_1h.records:
        assert record["exit_reason"] not in {"breakeven_stop", "trailing_stop"}
        assert record["sl_distance_atr"] == pytest.approx(normal.k1_SL)
        assert record["tp_distance_atr"] == pytest.approx(normal.k2_TP)
        assert record["regime_multiplier"] == MULTIPLIERS[record["volatility_regime_at_entry"]]
    regimes = {record["regime_at_entry"] for record in default_1h.records}
    assert regimes & {"TRENDING", "RANGING"} and len(regimes) >= 3
    assert len({record["regime_multiplier"] for record in default_1h.records}) >= 2


def test_bad_quant_setting_stops_freqtrade_naming_it(tmp_path, offline_server, market_datadir):
    userdir = tmp_path / "user_data"
    (userdir / "strategies").mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, userdir / "strategies")
    config = write_freqtrade_config(
        tmp_path / "config.json", offline_server.port, {"quant": {"risk": {"risk_per_trade": 0.9}}}
    )
    completed = run_freqtrade(
        [
            "backtesting",
            "--config",
            config,
            "--userdir",
            userdir,
            "--datadir",
            market_datadir,
            "--strategy",
            "QuantRegimeStrategy",
            "--timerange",
            "20240201-20240301",
        ],
        cwd=tmp_path,
        timeout=300,
    )
    output = output_of(completed)
    assert completed.returncode != 0
    assert "quant.risk.risk_per_trade" in output and "0.9" in output


def test_the_static_twin_is_the_strategy_with_its_regime_layers_off(
    static_1h, regime_layers_off_1h
):
    """QuantStaticStrategy declares REGIME_LAYERS off; the same switches in the config
    give the same trades, exits and sizes: one code path."""
    assert len(static_1h.trades) == len(regime_layers_off_1h.trades) > 0
    assert set(static_1h.trades) == set(regime_layers_off_1h.trades)
    for key, trade in static_1h.trades.items():
        twin = regime_layers_off_1h.trades[key]
        assert (trade["exit_reason"], trade["close_date"]) == (
            twin["exit_reason"],
            twin["close_date"],
        )
        assert trade["amount"] == pytest.approx(twin["amount"])
    summaries = (static_1h.export["summary"], regime_layers_off_1h.export["summary"])
    assert summaries[0]["QuantStaticStrategy"] == summaries[1]["QuantRegimeStrategy"]


def test_breakeven_off_gives_no_breakeven_stop(spot_1h, breakeven_off_1h):
    assert "breakeven_stop" in {record["exit_reason"] for record in spot_1h.records}
    reasons = {record["exit_reason"] for record in breakeven_off_1h.records}
    assert reasons and "breakeven_stop" not in reasons
    assert len(breakeven_off_1h.records) == len(breakeven_off_1h.trades)


def test_summary_counts_match_the_export(quant_runs, static_1h):
    for run in [*quant_runs, static_1h]:
        (summary,) = run.export["summary"].values()
        assert summary["entries_taken"] == len(run.records) == len(run.trades), run.name
        assert run.export["skipped"] == summary["skipped"], run.name
        assert summary["entry_signals"] == summary["entries_taken"] + sum(
            summary["skipped"].values()
        )
        report = run.output.index("BACKTESTING REPORT")
        table = run.output.index("QUANT PLUGIN SUMMARY")
        assert table > report, run.name  # below Freqtrade's report
        assert "No trades:" not in run.output


def test_a_backtest_refused_by_the_cost_gate_says_so(cost_gated_5m):
    run = cost_gated_5m
    assert run.trades == {} and run.records == []
    (summary,) = run.export["summary"].values()
    assert summary["entries_taken"] == 0
    refused = summary["skipped"].get("cost_gate", 0)
    assert refused > 0 and refused == max(summary["skipped"].values())
    assert run.export["skipped"] == summary["skipped"]
    assert summary["median_refused_cost_in_R"] > summary["max_cost_in_R"] == 0.02
    (line,) = [line for line in run.output.splitlines() if "No trades:" in line]
    assert f"{summary['entry_signals']} entry signals, all skipped" in line
    assert f"cost gate {refused} (median cost" in line and "> max_cost_in_R 0.02" in line
    assert run.output.index("QUANT PLUGIN SUMMARY") > run.output.rindex("BACKTESTING REPORT")
