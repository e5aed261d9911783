"""Every layer switch changes what the real strategy does (issue 10, "Layers with switches").

The sample strategy file's classes run with the paper-trade engine's fake data provider
(test_paper_twin.started); each test switches one layer off in the `quant` settings and
checks the decision that layer owns, on real entries and paper trades alike. They run on
the guide's exit profile, whose regimes differ (the default profile gives every regime the
same rules and no breakeven or trailing, so a switch would have nothing to change).
"""

from __future__ import annotations

import importlib.util
import math
from types import SimpleNamespace

import pytest
from freqtrade.enums import RunMode
from test_pair_paper_engine import (  # noqa: F401  (backtest_mode is a fixture)
    QUANT,
    FakeDataProvider,
    backtest_mode,
)
from test_paper_twin import BALANCE, FEE, PAIR, STRATEGY_FILE, trending_frame

from freqtrade_quant_plugin.adapters.pairs.pair_tracker import get_tracker
from freqtrade_quant_plugin.core.layers import LAYER_NAMES, REGIME_LAYERS
from freqtrade_quant_plugin.core.stop_levels import StopRules

pytestmark = pytest.mark.usefixtures("backtest_mode")
GUIDE = {"exit_policy": {"profile": "guide"}}


@pytest.fixture
def strategies():
    spec = importlib.util.spec_from_file_location("quant_regime_strategy_layers", STRATEGY_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def started(strategy_class, frame, off: tuple[str, ...] = (), quant: dict | None = None):
    quant = quant or {}
    layers = {**quant.get("layers", {}), **dict.fromkeys(off, False)}
    section = {**QUANT, **GUIDE, **quant, "layers": layers}
    config = {"quant": section, "runmode": RunMode.BACKTEST, "trading_mode": "spot", "fee": FEE}
    strategy = strategy_class(config)
    strategy._ft_params_from_file = {}
    strategy.ft_load_hyper_params(False)
    strategy.dp = FakeDataProvider()
    strategy.dp.market = lambda pair: {"taker": FEE, "maker": FEE}
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: BALANCE)
    strategy.bot_start()
    strategy.signal_table.record(PAIR, frame)
    strategy.signal_table.record_signals(PAIR, frame)
    return strategy


def rules(strategy, regime: str) -> StopRules:
    return strategy.stop_rules(regime, strategy.effective_settings())


def paper_rules(strategy) -> StopRules:
    row = strategy.signal_table.signal_row(PAIR, trending_frame()["date"][7], 3600)
    terms = strategy.paper_entry_terms(PAIR, row, is_short=False)
    assert terms is not None
    return terms.rules


def test_all_on_keeps_each_regimes_own_rules(strategies):
    strategy = started(strategies.QuantRegimeStrategy, trending_frame())
    trending, normal = rules(strategy, "TRENDING"), rules(strategy, "NORMAL_VOL")
    assert trending != normal
    assert trending.breakeven_R is not None and trending.trailing_activation_R is not None
    assert math.isfinite(trending.max_duration_hours)


def test_regime_exits_off_gives_normal_vol_rules_to_every_regime(strategies):
    strategy = started(strategies.QuantRegimeStrategy, trending_frame(), ("regime_exits",))
    normal = rules(strategy, "NORMAL_VOL")
    for regime in ("TRENDING", "RANGING", "LOW_VOL", "HIGH_VOL", "EXTREME_VOL"):
        assert rules(strategy, regime) == normal
    assert paper_rules(strategy) == normal  # the paper trade of a TRENDING signal too


@pytest.mark.parametrize(
    ("layer", "field", "off_value"),
    [
        ("breakeven", "breakeven_R", None),
        ("trailing", "trailing_activation_R", None),
        ("time_exit", "max_duration_hours", math.inf),
    ],
)
def test_a_stage_switched_off_is_never_used(strategies, layer, field, off_value):
    strategy = started(strategies.QuantRegimeStrategy, trending_frame(), (layer,))
    everything_on = started(strategies.QuantRegimeStrategy, trending_frame())
    assert getattr(rules(everything_on, "TRENDING"), field) != off_value
    assert getattr(rules(strategy, "TRENDING"), field) == off_value
    assert getattr(paper_rules(strategy), field) == off_value
    # Only that stage changes.
    others = {k: v for k, v in vars(rules(strategy, "TRENDING")).items() if k != field}
    assert others == {k: v for k, v in vars(rules(everything_on, "TRENDING")).items() if k != field}


def test_regime_sizing_off_sets_every_multiplier_to_one(strategies):
    on = started(strategies.QuantRegimeStrategy, trending_frame())
    off = started(strategies.QuantRegimeStrategy, trending_frame(), ("regime_sizing",))
    assert on.sizing_risk_config(on.effective_settings()).regime_multiplier("HIGH_VOL") < 1.0
    config = off.sizing_risk_config(off.effective_settings())
    for label in ("LOW_VOL", "NORMAL_VOL", "HIGH_VOL", "EXTREME_VOL"):
        assert config.regime_multiplier(label) == 1.0


def test_pair_risk_modifier_off_is_one_whatever_the_record(strategies, monkeypatch):
    on = started(strategies.QuantRegimeStrategy, trending_frame())
    off = started(strategies.QuantRegimeStrategy, trending_frame(), ("pair_risk_modifier",))
    for strategy in (on, off):
        monkeypatch.setattr(strategy.pair_performance, "risk_modifier", lambda pair: 0.5)
    assert on.pair_risk_modifier(PAIR) == 0.5
    assert off.pair_risk_modifier(PAIR) == 1.0


def _losses(tracker, pair: str, n: int) -> None:
    for _ in range(n):
        tracker.manager.update_stats(pair, -10.0, -1.0, False)


def test_pair_disabling_off_never_disables_a_pair():
    # A threshold of 2 (QUANT) disables after two losses with the layer on.
    on = get_tracker({"quant": {**QUANT, "layers": {}}})
    off = get_tracker({"quant": {**QUANT, "layers": {"pair_disabling": False}}})
    assert on is not off
    _losses(on, "AAA/USDT", 5)
    _losses(off, "AAA/USDT", 50)
    assert not on.is_enabled("AAA/USDT")
    assert off.is_enabled("AAA/USDT") and off.disabled_pairs() == []


def test_pair_disabling_off_from_the_environment(monkeypatch):
    monkeypatch.setenv("QUANT_LAYER_PAIR_DISABLING", "false")
    tracker = get_tracker({"quant": QUANT})
    _losses(tracker, "BBB/USDT", 50)
    assert tracker.is_enabled("BBB/USDT")


def costly_frame():
    """TRENDING with a tiny ATR: the 0.1 % fee is several R at any size."""
    frame = trending_frame()
    frame["atr"] = 0.01
    return frame


def test_cost_gate_off_takes_entries_the_gate_refuses(strategies):
    on = started(strategies.QuantRegimeStrategy, costly_frame())
    off = started(strategies.QuantRegimeStrategy, costly_frame(), ("cost_gate",))
    row = on.signal_table.signal_row(PAIR, costly_frame()["date"][7], 3600)
    assert on.paper_entry_terms(PAIR, row, is_short=False) is None
    assert off.paper_entry_terms(PAIR, row, is_short=False) is not None


def test_the_static_twin_is_all_regime_layers_off(strategies):
    static = started(strategies.QuantStaticStrategy, trending_frame())
    regime = started(strategies.QuantRegimeStrategy, trending_frame(), REGIME_LAYERS)
    assert static.quant_settings.layers.off == REGIME_LAYERS
    for name in ("TRENDING", "RANGING", "HIGH_VOL"):
        assert rules(static, name) == rules(regime, name)
        assert rules(static, name).breakeven_R is None
    assert static.pair_risk_modifier(PAIR) == 1.0


def test_the_twins_layers_stay_off_and_settings_can_add_more(strategies):
    static = started(
        strategies.QuantStaticStrategy,
        trending_frame(),
        quant={"layers": {"breakeven": True, "cost_gate": False}},
    )
    layers = static.quant_settings.layers
    assert not layers.breakeven  # declared off by the twin: a setting cannot turn it on
    assert set(layers.off) == {*REGIME_LAYERS, "cost_gate"}
    assert set(LAYER_NAMES) - set(layers.off) == {"time_exit", "pair_disabling"}


def _stake(strategy, frame, *, max_stake: float = 1e9, min_stake: float | None = None) -> float:
    return strategy.custom_stake_amount(
        pair=PAIR,
        current_time=frame["date"][7].to_pydatetime(),
        current_rate=100.0,
        proposed_stake=10.0,
        min_stake=min_stake,
        max_stake=max_stake,
        leverage=1.0,
        entry_tag=None,
        side="long",
    )


def test_the_summary_counts_each_skip_by_its_reason(strategies):
    gated = started(strategies.QuantRegimeStrategy, costly_frame())
    assert _stake(gated, costly_frame()) == 0.0
    summary = gated.entry_summary.to_dict()
    assert summary["skipped"] == {"cost_gate": 1}
    assert summary["median_refused_cost_in_R"] > summary["max_cost_in_R"] == 0.15
    # The same entry with the gate off is taken (sized): nothing refused for cost.
    ungated = started(strategies.QuantRegimeStrategy, costly_frame(), ("cost_gate",))
    assert _stake(ungated, costly_frame()) > 0
    assert ungated.entry_summary.to_dict()["skipped"] == {}

    normal = started(strategies.QuantRegimeStrategy, trending_frame())
    assert _stake(normal, trending_frame(), min_stake=1e8) == 0.0
    assert _stake(normal, trending_frame(), max_stake=1.0) == 0.0  # clamped to dust
    assert normal.entry_summary.to_dict()["skipped"] == {"below_min_stake": 1, "dust": 1}
    assert normal.entry_summary.stakes_clamped == 1


def test_no_trades_message_names_every_reason():
    from freqtrade_quant_plugin.adapters.records.entry_summary import (
        EntrySummary,
        no_trades_message,
    )

    summary = EntrySummary()
    for cost in (0.2, 0.31, 0.5):
        summary.skip("cost_gate", cost)
    summary.skip("unknown_regime")
    summary.max_cost_in_R = 0.15
    assert no_trades_message(summary.to_dict()) == (
        "No trades: 4 entry signals, all skipped: cost gate 3 (median cost 0.31 R > "
        "max_cost_in_R 0.15), UNKNOWN regime 1"
    )
    assert "no entry signal" in no_trades_message(EntrySummary().to_dict())
    summary.taken = 1
    assert no_trades_message(summary.to_dict()) is None
