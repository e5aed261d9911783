"""A hyperopt objective on net R: what the trades earned per unit of risk, after costs.

Money-based objectives reward risking more; R-based ones reward the edge. And an edge that
the costs eat (fees, slippage, funding: the cost model's `net_R_multiple`) is no edge.

    objective = SQN - DRAWDOWN_WEIGHT * drawdown_R            (higher is better)
    SQN       = sqrt(min(N, SQN_TRADE_CAP)) * mean(net R) / max(std(net R), STD_FLOOR_R)
    drawdown_R = the largest fall of the cumulative net R, trades in closing order

N is the number of trades; std is the sample standard deviation (ddof 1; 0 for one trade).
Capping N keeps a strategy from winning by trading more alone; the floor on std keeps a
handful of near-identical trades from scoring without bound. A drawdown of 10 R costs one
SQN point. The hyperopt loss is -objective.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

SQN_TRADE_CAP = 100
STD_FLOOR_R = 0.1
DRAWDOWN_WEIGHT = 0.1
NO_TRADES_LOSS = 100_000.0  # Freqtrade's own worst loss (MAX_LOSS)


class NetRScore(NamedTuple):
    trades: int
    mean_r: float
    sqn: float
    drawdown_r: float
    objective: float

    @property
    def loss(self) -> float:
        return -self.objective


def max_drawdown_r(net_r: Sequence[float] | np.ndarray) -> float:
    """Largest peak-to-trough fall of the cumulative net R, starting from 0 (>= 0)."""
    curve = np.concatenate(([0.0], np.cumsum(np.asarray(net_r, dtype=float))))
    return float(np.max(np.maximum.accumulate(curve) - curve))


def net_r_score(net_r: Sequence[float] | np.ndarray) -> NetRScore:
    """The objective of the module docstring for trades' net R, in closing order."""
    values = np.asarray(net_r, dtype=float)
    if values.size == 0:
        return NetRScore(0, 0.0, 0.0, 0.0, -NO_TRADES_LOSS)
    if not np.all(np.isfinite(values)):
        raise ValueError("net R values must be finite")
    std = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    mean = float(np.mean(values))
    sqn = math.sqrt(min(values.size, SQN_TRADE_CAP)) * mean / max(std, STD_FLOOR_R)
    drawdown = max_drawdown_r(values)
    return NetRScore(int(values.size), mean, sqn, drawdown, sqn - DRAWDOWN_WEIGHT * drawdown)
