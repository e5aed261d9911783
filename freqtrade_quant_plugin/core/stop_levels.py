"""Where the stop of an open trade sits: initial ATR stop, cost-aware breakeven, trailing.

Pure arithmetic on the numbers stored at entry, so the stop never depends on candles seen
after the entry and survives a restart unchanged. The stop only ever tightens.

During the entry candle the stop stays at its initial level: Freqtrade's backtester cannot
tell whether that candle's high came before or after its low, and assumes the worst for a
stop raised inside the entry candle (an exit below the raised stop). Holding the initial
stop there keeps backtest exits at the prices the stop rules promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from freqtrade_quant_plugin.core.exit_policy import ExitParams

INITIAL = "initial"
BREAKEVEN = "breakeven"
TRAILING = "trailing"


@dataclass(frozen=True)
class StopRules:
    """Exit rules fixed at entry; None disables breakeven or trailing."""

    k1_SL: float
    k2_TP: float
    breakeven_R: float | None
    trailing_activation_R: float | None
    trailing_distance_atr: float
    max_duration_hours: float

    @classmethod
    def from_exit_params(cls, params: ExitParams) -> StopRules:
        return cls(
            k1_SL=params.k1_SL,
            k2_TP=params.k2_TP,
            breakeven_R=params.breakeven_R if params.breakeven_enabled else None,
            trailing_activation_R=(
                params.trailing_activation_R if params.trailing_enabled else None
            ),
            trailing_distance_atr=params.trailing_distance_atr,
            max_duration_hours=params.max_duration_hours,
        )


class StopLevel(NamedTuple):
    price: float
    stage: str  # INITIAL, BREAKEVEN or TRAILING


def current_stop(
    *,
    is_short: bool,
    entry_price: float,
    initial_stop: float,
    breakeven_price: float | None,
    atr: float,
    rules: StopRules,
    best_price: float,
    after_entry_candle: bool,
) -> StopLevel:
    """The tightest stop the rules allow once price has reached `best_price`.

    A raised stop must stay strictly behind the best price: a stop at or beyond it would
    mean an exit at a price the market never offered after the move.
    """
    sign = -1.0 if is_short else 1.0
    level = StopLevel(initial_stop, INITIAL)
    if not after_entry_candle:
        return level
    risk_per_unit = abs(entry_price - initial_stop)
    gained_r = (best_price - entry_price) * sign / risk_per_unit

    def tighter(candidate: float, stage: str) -> None:
        nonlocal level
        if (candidate - level.price) * sign > 0 and (best_price - candidate) * sign > 0:
            level = StopLevel(candidate, stage)

    breakeven_armed = rules.breakeven_R is not None and gained_r >= rules.breakeven_R
    if breakeven_armed and breakeven_price is not None:
        tighter(breakeven_price, BREAKEVEN)
    if rules.trailing_activation_R is not None and gained_r >= rules.trailing_activation_R:
        tighter(best_price - sign * rules.trailing_distance_atr * atr, TRAILING)
    return level
