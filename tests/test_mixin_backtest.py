"""The project's plain strategies composed with QuantMixin in real Freqtrade backtests.

One `freqtrade backtesting --strategy-list` (spot 1h, 2 pairs, 3 months, protections on)
runs each plain strategy S of tests/strategies_any, `SQuant(QuantMixin, S)` (exit mode
none, the mixin's default) and `SGuard` (guard). For each S:
- none: every trade of SQuant is a trade of S, same dates and exit reason (the plugin
  sized, gated and recorded; it decided no exit), and S's exit reasons all occur;
- guard: S's exit reasons still occur, and a trade both entered closes no later in SGuard
  (its stop is never looser, every other exit is S's own);
- stops, candle by candle (tests/stop_probe.py notes the stop each candle's stop check
  used): on every candle where S and a variant hold the same trade with the same position,
  SQuant's stop is S's and SGuard's is at least as tight;
- records: one per trade, and R times the risk money is Freqtrade's profit plus the fees.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime

import pytest
from mixin_support import SPOT, Run, run_backtest, variants
from stop_probe import assert_every_candle_noted, compare_stops

from freqtrade_quant_plugin.core.sizing import RiskConfig

pytestmark = pytest.mark.freqtrade

PAIRS = ["BTC/USDT", "ETH/USDT"]
TIMERANGE = "20240301-20240601"
# Small, so DcaAdds' second add would take the money at its stop beyond the plan (the first
# entry risks 100 * 12 % = 12 of the 25 planned on a 10,000 wallet: about one add fits).
RISK_PER_TRADE = 0.0025
# Adds cut to the plan change the position, so its exits and the later entries differ.
SIZE_CHANGING = {"dca_adds"}
GREEDY = '''

class RoiScalperGreedy(RoiScalperQuant):
    """Overrides custom_stake_amount below the plugin, without super(): wrapped anyway."""

    def custom_stake_amount(self, pair, current_time, current_rate, proposed_stake, min_stake,
                            max_stake, leverage, entry_tag, side, **kwargs):
        return max_stake
'''


@pytest.fixture(scope="module")
def spot(tmp_path_factory, offline_server, market_datadir) -> Run:
    root = tmp_path_factory.mktemp("mixin_spot")
    names = [name for stem in SPOT for name in variants(stem)] + ["RoiScalperGreedy"]
    return run_backtest(
        root,
        market_datadir,
        offline_server.port,
        names,
        pairs=PAIRS,
        timerange=TIMERANGE,
        overrides={"quant": {"risk": {"risk_per_trade": RISK_PER_TRADE}}},
        extra=("--enable-protections",),
        append={"roi_scalper": GREEDY},
        probe=True,
    )


def _key(trade: dict) -> tuple[str, str]:
    return trade["pair"], trade["open_date"]


def _reasons(trades: list[dict]) -> Counter[str]:
    return Counter(t["exit_reason"] for t in trades if t["exit_reason"] != "force_exit")


@pytest.mark.parametrize("stem", SPOT)
def test_none_mode_keeps_every_trade_and_exit_of_the_strategy(spot, stem):
    plain, quant, _ = variants(stem)
    trades = {_key(t): t for t in spot.trades[plain]}
    assert len(spot.trades[quant]) >= 5, (stem, len(spot.trades[quant]))
    for trade in spot.trades[quant]:
        if stem in SIZE_CHANGING:
            continue  # exits differ with the size (ROI on the average), so do later entries
        original = trades[_key(trade)]  # no entry the plain strategy did not make
        assert trade["close_date"] == original["close_date"], (stem, trade["open_date"])
        assert trade["exit_reason"] == original["exit_reason"]
    assert set(_reasons(spot.trades[plain])) <= set(_reasons(spot.trades[quant])), stem


@pytest.mark.parametrize("stem", SPOT)
def test_guard_mode_keeps_the_strategys_exit_reasons_and_never_loosens_its_stop(spot, stem):
    plain, _, guard = variants(stem)
    original = {_key(t): t for t in spot.trades[plain]}
    own = set(_reasons(spot.trades[plain])) - {"stop_loss", "trailing_stop_loss"}
    assert own <= set(_reasons(spot.trades[guard])), (stem, own, _reasons(spot.trades[guard]))
    compared = 0
    for trade in spot.trades[guard]:
        match = original.get(_key(trade))
        if match is None or stem in SIZE_CHANGING:
            continue
        compared += 1
        closed = datetime.fromisoformat(trade["close_date"])
        assert closed <= datetime.fromisoformat(match["close_date"]), (stem, trade["open_date"])
        static = trade["open_rate"] * (1 - abs(trade["initial_stop_loss_ratio"]))
        assert trade["stop_loss_abs"] >= min(static, match["stop_loss_abs"]) * (1 - 1e-9)
        if closed == datetime.fromisoformat(match["close_date"]):
            # The same trade to its end: its last stop is at least the strategy's own.
            assert trade["stop_loss_abs"] >= match["stop_loss_abs"] * (1 - 1e-9), (stem, trade)
    assert compared > 0 or stem in SIZE_CHANGING


@pytest.mark.parametrize("mode", ["none", "guard"])
@pytest.mark.parametrize("stem", SPOT)
def test_the_stop_is_never_looser_than_the_strategys_own_at_any_candle(spot, stem, mode):
    plain, quant, guard = variants(stem)
    composed = quant if mode == "none" else guard
    for name in (plain, composed):
        assert_every_candle_noted(spot.trades[name], spot.stops[name])
    result = compare_stops(spot.stops[plain], spot.stops[composed], mode)
    assert not result.looser, (stem, mode, result.looser[:5])
    # Enough compared to mean something. Guard's tighter stops close trades earlier, and the
    # trades after a different exit are other trades: fewer candles are shared there. Adds
    # cut to the plan part the positions (DcaAdds): only the candles before are compared.
    trades, candles = (20, 300) if mode == "none" else (5, 25)
    assert result.trades >= trades and result.candles >= candles, (stem, mode, result)
    if stem == "partial_exit" or (stem, mode) == ("dca_adds", "none"):
        assert result.adjusted > 0, (stem, mode, result)  # also after the exit or the add
    assert mode == "none" or result.tighter > 0, (stem, result)  # the guard did act


@pytest.mark.parametrize("stem", SPOT)
def test_one_record_per_trade_and_R_is_freqtrades_profit_over_the_risk(spot, stem):
    for name in variants(stem)[1:]:
        trades = {_key(t): t for t in spot.trades[name]}
        records = spot.records.get(name, [])
        assert trades, name  # else the checks below hold for nothing
        assert len(records) == len(trades), (name, len(records), len(trades))
        assert len({(r["pair"], r["open_date"]) for r in records}) == len(records)
        for record in records:
            trade = trades[(record["pair"], _iso(record["open_date"]))]
            gross = trade["profit_abs"] + record["fees"]
            # Freqtrade rounds an averaged open rate to the price precision (adds only).
            tick = 1e-5 * record["quantity"] * record["entry_price"]
            assert math.isclose(
                record["R_multiple"] * record["risk_money"], gross, abs_tol=max(tick, 1e-6)
            ), (name, record["pair"], record["open_date"])


def _iso(moment: str) -> str:
    """The plugin writes ISO dates; Freqtrade's result writes 'YYYY-MM-DD HH:MM:SS+00:00'."""
    return datetime.fromisoformat(moment).strftime("%Y-%m-%d %H:%M:%S+00:00")


def test_a_stake_override_below_the_plugin_is_still_sized_by_risk(spot):
    records = spot.records["RoiScalperGreedy"]
    trades = spot.trades["RoiScalperGreedy"]
    risk = RiskConfig()
    assert records and max(t["stake_amount"] for t in trades) > 100  # the user's max_stake
    for record in records:
        ceiling = record["balance_at_entry"] * RISK_PER_TRADE * risk.multiplier_low_vol
        assert record["risk_money"] <= ceiling * (1 + 1e-9)


def test_dca_adds_are_cut_to_the_plan_and_the_record_follows_the_averaged_position(spot):
    trades = {_key(t): t for t in spot.trades["DcaAddsQuant"]}
    two_adds = cut = 0
    for record in spot.records["DcaAddsQuant"]:
        trade = trades[(record["pair"], _iso(record["open_date"]))]
        entries = [o for o in trade["orders"] if o["ft_order_side"] == "buy"]
        amount = sum(o["amount"] for o in entries)
        average = sum(o["amount"] * o["safe_price"] for o in entries) / amount
        at_stop = amount * (average - record["stop_loss"])
        assert math.isclose(record["entry_price"], average, rel_tol=1e-5)  # price precision
        assert math.isclose(record["quantity"], amount, rel_tol=1e-6)
        assert math.isclose(record["risk_money"], at_stop, rel_tol=1e-4)
        assert at_stop <= record["planned_risk_money"] * (1 + 1e-4)
        assert record["breakeven_price"] is None or record["breakeven_price"] > average
        two_adds += len(entries) == 3
        cut += any(o["cost"] < 100 * 0.99 for o in entries[1:])
    assert two_adds > 0 and cut > 0, (two_adds, cut)
    plain = spot.trades["DcaAdds"]
    assert any(len([o for o in t["orders"] if o["ft_order_side"] == "buy"]) == 3 for t in plain)


def test_partial_exits_give_one_record_with_the_whole_trades_result(spot):
    trades = {_key(t): t for t in spot.trades["PartialExitQuant"]}
    partial = 0
    for record in spot.records["PartialExitQuant"]:
        trade = trades[(record["pair"], _iso(record["open_date"]))]
        exits = [o for o in trade["orders"] if o["ft_order_side"] == "sell"]
        if len(exits) < 2:
            continue
        partial += 1
        sold = sum(o["amount"] for o in exits)
        price = sum(o["amount"] * o["safe_price"] for o in exits) / sold
        assert math.isclose(record["exit_price"], price, rel_tol=1e-6)
        assert record["exit_reason"] == trade["exit_reason"] != "half_out"
    assert partial > 0
