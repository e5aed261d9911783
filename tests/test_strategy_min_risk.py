"""Dust positions (issue 8, defect 3): an entry risking under min_risk_fraction is skipped.

Whatever cut the size - the cost gate, the stake clamp to the available balance, the
exchange's amount precision - a position is judged by what a stop-out would lose against
the risk money it was planned with.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from test_strategy_live_state import PAIR, _started, strategy_class  # noqa: F401


def _stake(strategy, frame, max_stake: float) -> float:
    signal = frame[frame["regime"] != "UNKNOWN"].iloc[-1]
    return strategy.custom_stake_amount(
        pair=PAIR,
        current_time=signal["date"].to_pydatetime() + timedelta(hours=1),
        current_rate=float(signal["close"]),
        proposed_stake=5_000.0,
        min_stake=1.0,
        max_stake=max_stake,
        leverage=1.0,
        entry_tag=None,
        side="long",
    )


def test_a_stake_clamped_below_the_minimum_risk_is_not_taken(strategy_class, caplog):  # noqa: F811
    strategy, frame = _started(strategy_class)
    full = _stake(strategy, frame, max_stake=1e9)
    assert full > 0
    # Default min_risk_fraction 0.5: clamped to 80 % of the size is taken, to 20 % is dust.
    assert _stake(strategy, frame, max_stake=full * 0.8) == pytest.approx(full * 0.8)
    with caplog.at_level(logging.INFO):
        assert _stake(strategy, frame, max_stake=full * 0.2) == 0.0
    messages = [record.getMessage() for record in caplog.records]
    skipped = [message for message in messages if "below min_risk_fraction" in message]
    assert len(skipped) == 1, caplog.text
    assert "no long entry" in skipped[0] and "clamped to the available maximum" in skipped[0]
