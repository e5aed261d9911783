"""Paper trades follow the rules and fee of their real twin (issue 8, defect 4).

The real strategies of the sample file run the real paper-trade engine in backtest mode:
a disabled pair's signal opens a paper trade whose exit rules come from the strategy's
own `stop_rules` (the static twin has no breakeven), hyperopt results included, and whose
cost-aware breakeven uses the fee Freqtrade charges (`config["fee"]` here), priced for the
size the strategy would have planned. The strategies run on the guide's exit profile, whose
TRENDING rules (2 ATR stop, breakeven) differ from the static twin's.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import logging
from types import SimpleNamespace

import pytest
from freqtrade.enums import RunMode
from freqtrade_support import REPO_ROOT
from test_pair_paper_engine import (  # noqa: F401  (backtest_mode is a fixture)
    QUANT,
    FakeDataProvider,
    backtest_mode,
    candles,
    run_engine,
)

from freqtrade_quant_plugin.core.costs import CostConfig, CostModel

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
PAIR = "ETH/USDT"
FEE = 0.001  # Freqtrade's fee in this config; the cost model's own default is 0.0004
BALANCE = 1_000.0
pytestmark = pytest.mark.usefixtures("backtest_mode")
VOLUME = 1e6
ATR = 2.0


@pytest.fixture
def strategies():
    """A fresh module per test: hyperopt values are set on the class's parameters."""
    spec = importlib.util.spec_from_file_location("quant_regime_strategy_paper", STRATEGY_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def started(strategy_class, frame, params_from_file: dict | None = None):
    quant = {**QUANT, "exit_policy": {"profile": "guide"}}
    config = {"quant": quant, "runmode": RunMode.BACKTEST, "trading_mode": "spot", "fee": FEE}
    strategy = strategy_class(config)
    strategy._ft_params_from_file = params_from_file or {}
    strategy.ft_load_hyper_params(False)
    strategy.dp = FakeDataProvider()
    strategy.dp.market = lambda pair: {"taker": 0.0004, "maker": 0.0002}
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: BALANCE)
    strategy.bot_start()
    strategy.signal_table.record(PAIR, frame)
    strategy.signal_table.record_signals(PAIR, frame)
    return strategy


def trending_frame():
    """Signal at 06:00 (close 100, ATR 2, TRENDING); the entry candle reaches 105
    (1.25 R of the TRENDING 2-ATR stop), the next dips to 99, the one after to 96.5."""
    frame = candles(40, signals=[6])
    frame["regime"] = "TRENDING"
    frame["atr"] = ATR
    frame["volume"] = VOLUME  # deep enough that the cost gate keeps the full size
    frame.loc[7, ["high", "low"]] = [105.0, 99.8]
    frame.loc[8, "low"] = 99.0
    frame.loc[9, "low"] = 96.5
    return frame


def closed_reasons(caplog) -> list[str]:
    return [
        record.getMessage().split("closed: ")[1].split(" ")[0]
        for record in caplog.records
        if record.getMessage().startswith(f"Paper trade {PAIR}")
        and "closed: " in record.getMessage()
    ]


def test_the_static_twin_papers_without_breakeven(strategies, caplog):
    with caplog.at_level(logging.DEBUG):
        run_engine(trending_frame(), 12, started(strategies.QuantRegimeStrategy, trending_frame()))
    assert closed_reasons(caplog) == ["breakeven_stop"]  # the regime rules move to breakeven
    caplog.clear()
    static = started(strategies.QuantStaticStrategy, trending_frame())
    with caplog.at_level(logging.DEBUG):
        store = run_engine(trending_frame(), 7, static).tracker.paper_store
        (stored,) = store.open_trades()
        assert stored.trade.rules == static.stop_rules("TRENDING", static.effective_settings())
        assert stored.trade.rules.breakeven_R is None
        assert stored.trade.initial_stop == pytest.approx(100.0 - 1.5 * ATR)  # NORMAL_VOL k1
        run_engine(trending_frame(), 12, static)
    assert closed_reasons(caplog) == ["stop_loss"]  # no breakeven: the dip to 96.5 stops it


def test_a_hyperopt_result_k1_is_used_by_paper_trades(strategies):
    frame = trending_frame()
    strategy = started(strategies.QuantRegimeStrategy, frame, {"sell": {"sell_k1_trending": 1.3}})
    assert strategy.effective_settings().exit_policy["TRENDING"].k1_SL == 1.3
    (stored,) = run_engine(frame, 7, strategy).tracker.paper_store.open_trades()
    assert stored.trade.rules.k1_SL == 1.3
    assert stored.trade.initial_stop == pytest.approx(100.0 - 1.3 * ATR)


def test_the_paper_breakeven_uses_freqtrades_fee(strategies):
    frame = trending_frame()
    strategy = started(strategies.QuantRegimeStrategy, frame)
    (stored,) = run_engine(frame, 7, strategy).tracker.paper_store.open_trades()
    size = BALANCE * 0.01 / (2.0 * ATR)  # NORMAL_VOL risk, TRENDING stop of 2 ATR

    def breakeven(fee: float) -> float:
        costs = dataclasses.replace(CostConfig(), taker_fee_rate=fee, maker_fee_rate=fee)
        return CostModel(costs).breakeven_price(100.0, 96.0, size, ATR, candle_volume=VOLUME)

    assert stored.trade.breakeven_price == pytest.approx(breakeven(FEE), rel=1e-12)
    assert stored.trade.breakeven_price > breakeven(0.0004) + 0.1
