"""The cap on a DCA add, by hand: money at the stop within the plan, stop before liquidation.

A narrow unit test of `PositionAdds._quant_cap_position_add` on a stand-in strategy and
trade (the backtests in test_mixin_backtest check the same on real fills).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from freqtrade_quant_plugin.adapters.strategy.fills.position_adds import PositionAdds


class _Strategy:
    """What the cap reads from the strategy: the entry state, logging, liquidation math."""

    def __init__(self, planned: float, safe_leverage: float = 100.0) -> None:
        self.state = SimpleNamespace(planned_risk_money=planned, stop_price=90.0)
        self.safe = safe_leverage
        self.lines: list[str] = []

    def _trade_state(self, trade):
        return self.state

    def log_decision(self, message, *args):
        self.lines.append(message % args)

    def _safe_leverage(self, pair, stop_fraction, notional):
        return self.safe

    _add_keeps_stop_before_liquidation = PositionAdds._add_keeps_stop_before_liquidation


def _trade(leverage: float = 1.0):
    # 1 unit at 100, stop 90: 10 at the stop
    return SimpleNamespace(
        id=1, pair="BTC/USDT", is_short=False, stop_loss=90.0, amount=1.0, open_rate=100.0,
        leverage=leverage,
    )  # fmt: skip


def _cap(strategy, answer, rate=95.0, leverage=1.0, min_stake=None):
    call = {"trade": _trade(leverage), "current_rate": rate, "min_stake": min_stake}
    return PositionAdds._quant_cap_position_add(strategy, answer, call)


def test_an_add_that_fits_the_plan_is_kept():
    # 10 at the stop + add of 95 (1 unit, 5 to the stop) = 15 <= 20 planned
    assert _cap(_Strategy(planned=20.0), 95.0) == 95.0
    assert _cap(_Strategy(planned=20.0), (95.0, "dca")) == (95.0, "dca")


def test_an_add_beyond_the_plan_is_cut_to_it():
    strategy = _Strategy(planned=12.0)
    # room 2, 5 per unit at 95: 0.4 units = 38 of stake
    assert _cap(strategy, (95.0, "dca")) == (pytest.approx(38.0), "dca")
    assert "add cut from 95.00 to 38.00" in strategy.lines[0]


def test_an_add_is_refused_when_nothing_fits_or_below_the_minimum():
    assert _cap(_Strategy(planned=10.0), 95.0) is None  # already at the plan
    assert _cap(_Strategy(planned=12.0), 95.0, min_stake=50.0) is None  # 38 < 50
    assert _cap(_Strategy(planned=20.0), 95.0, rate=89.0) is None  # price beyond the stop


def test_partial_exits_and_no_answer_pass_through():
    strategy = _Strategy(planned=10.0)
    assert _cap(strategy, -50.0) == -50.0
    assert _cap(strategy, (-50.0, "half")) == (-50.0, "half")
    assert _cap(strategy, None) is None


def test_a_futures_add_that_would_liquidate_before_the_stop_is_refused():
    # leverage 3: a stake of 95 buys 3 units (15 at the stop); room 10 -> 2 units = 63.33
    kept = _cap(_Strategy(planned=20.0, safe_leverage=5.0), 95.0, leverage=3.0)
    assert kept == pytest.approx(2 * 95.0 / 3)
    refused = _Strategy(planned=20.0, safe_leverage=2.0)
    assert _cap(refused, 95.0, leverage=3.0) is None
    assert "would liquidate before its stop" in refused.lines[-1]


def test_an_add_freqtrade_would_raise_to_the_minimum_beyond_the_plan_is_refused():
    # room 2 -> 38 fits; the user asks 36, below the minimum 40: Freqtrade raises an add up
    # to 30 % to reach the minimum (wallets.validate_stake_amount), 40 > 38 beyond the plan.
    strategy = _Strategy(planned=12.0)
    assert _cap(strategy, 36.0, min_stake=40.0) is None
    assert "minimum stake" in strategy.lines[-1]
    assert _cap(_Strategy(planned=12.0), 36.0, min_stake=30.0) == 36.0
