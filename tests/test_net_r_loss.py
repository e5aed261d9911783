"""NetRHyperOptLoss: SQN of net R after modelled costs, with a drawdown penalty."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from freqtrade.exceptions import OperationalException

from freqtrade_quant_plugin.adapters.freqtrade_plugins.net_r_hyperopt_loss import (
    NetRHyperOptLoss,
)
from freqtrade_quant_plugin.adapters.records import trade_records
from freqtrade_quant_plugin.core.net_r_score import max_drawdown_r, net_r_score

START = datetime(2024, 3, 1, tzinfo=UTC)
RISK = 10.0  # money at risk per trade


@pytest.fixture(autouse=True)
def no_records_left_behind():
    """The records live per process: leave none for the other tests (backtest export)."""
    yield
    trade_records.take_collected()


def test_drawdown_is_the_largest_fall_of_cumulative_r() -> None:
    assert max_drawdown_r([1.0, -0.5, -1.0, 2.0, -0.2]) == pytest.approx(1.5)
    assert max_drawdown_r([-1.0, 3.0]) == pytest.approx(1.0)  # from the start at 0
    assert max_drawdown_r([0.5, 0.5]) == 0.0


def test_higher_net_r_at_equal_drawdown_scores_better() -> None:
    lower, higher = [2.0, -1.0, 1.0, 0.5], [2.0, -1.0, 1.0, 1.0]
    assert max_drawdown_r(lower) == max_drawdown_r(higher) == 1.0
    assert net_r_score(higher).loss < net_r_score(lower).loss


def test_deeper_drawdown_at_equal_trades_scores_worse() -> None:
    calm, deep = [1.0, -1.0, 1.0, -1.0, 1.0, 1.0], [1.0, 1.0, 1.0, -1.0, -1.0, 1.0]
    assert sorted(calm) == sorted(deep)  # same trades, same SQN, only the order differs
    assert net_r_score(calm).sqn == pytest.approx(net_r_score(deep).sqn)
    assert net_r_score(deep).loss == pytest.approx(net_r_score(calm).loss + 0.1)


def test_few_identical_trades_do_not_score_without_bound() -> None:
    assert net_r_score([0.5, 0.5, 0.5]).sqn == pytest.approx(3**0.5 * 0.5 / 0.1)
    assert net_r_score([]).loss == 100_000.0


def _epoch(strategy: str, gross_r: list[float], cost_r: list[float]) -> pd.DataFrame:
    """An epoch's trades as Freqtrade hands them to a loss, and the strategy's records."""
    trade_records.start_collecting(strategy)
    rows = []
    for n, (gross, cost) in enumerate(zip(gross_r, cost_r, strict=True)):
        opened = START + timedelta(hours=6 * n)
        closed = opened + timedelta(hours=3)
        fee = cost * RISK / 2  # Freqtrade's fees: half the modelled costs, no slippage
        rows.append(
            {
                "pair": "BTC/USDT",
                "is_short": False,
                "open_date": pd.Timestamp(opened),
                "close_date": pd.Timestamp(closed),
                "open_rate": 100.0,
                "amount": 5.0,
                "initial_stop_loss_abs": 70.0,
                "profit_abs": gross * RISK - fee,
            }
        )
        trade_records.collect(
            strategy,
            {
                "pair": "BTC/USDT",
                "is_short": False,
                "open_date": trade_records.iso(opened),
                "close_date": trade_records.iso(closed),
                "R_multiple": gross,
                "net_R_multiple": gross - cost,
            },
        )
    return pd.DataFrame(rows)


def _loss(results: pd.DataFrame, strategy: str) -> float:
    return NetRHyperOptLoss.hyperopt_loss_function(
        results=results,
        trade_count=len(results),
        min_date=START,
        max_date=START + timedelta(days=30),
        config={"strategy": strategy},
        processed={},
        backtest_stats={},
        starting_balance=1000.0,
    )


def test_gross_profit_eaten_by_costs_is_penalised() -> None:
    gross_a = [0.6, -0.3, 0.6, 0.6, -0.3, 0.6]
    costs_a = [0.45] * 6  # e.g. tight 5m stops: slippage and fees of 0.45 R a trade
    gross_b = [0.4, -0.3, 0.4, 0.4, -0.3, 0.4]
    costs_b = [0.05] * 6
    epoch_a = _epoch("StrategyA", gross_a, costs_a)
    epoch_b = _epoch("StrategyB", gross_b, costs_b)
    assert sum(gross_a) > sum(gross_b)
    assert epoch_a["profit_abs"].sum() > 0  # Freqtrade's fee-only profit still looks fine
    assert _loss(epoch_b, "StrategyB") < _loss(epoch_a, "StrategyA")
    assert _loss(epoch_a, "StrategyA") > 0  # negative net expectancy: a positive loss


def test_the_loss_reads_the_records_of_the_epoch() -> None:
    epoch = _epoch("StrategyC", [1.0, -1.0, 2.0], [0.1, 0.1, 0.1])
    assert _loss(epoch, "StrategyC") == pytest.approx(net_r_score([0.9, -1.1, 1.9]).loss)


def test_a_trade_without_record_counts_with_freqtrade_numbers() -> None:
    epoch = _epoch("StrategyD", [1.0, -1.0, 2.0], [0.1, 0.1, 0.1])
    extra = epoch.iloc[[0]].assign(
        open_date=pd.Timestamp(START + timedelta(days=10)),
        close_date=pd.Timestamp(START + timedelta(days=11)),
        profit_abs=-75.0,  # the whole way to the initial stop: 5 x (100 - 70) = 150 at risk
    )
    results = pd.concat([epoch, extra], ignore_index=True)
    assert _loss(results, "StrategyD") == pytest.approx(net_r_score([0.9, -1.1, 1.9, -0.5]).loss)


def test_a_strategy_without_records_is_an_error_not_a_score() -> None:
    epoch = _epoch("StrategyE", [1.0, -1.0], [0.1, 0.1])
    trade_records.start_collecting("StrategyE")  # a strategy that records nothing
    with pytest.raises(OperationalException, match="QuantStrategy"):
        _loss(epoch, "StrategyE")
