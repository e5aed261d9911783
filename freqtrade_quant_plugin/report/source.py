"""What a loader hands the report: the trade table and the facts beside it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from freqtrade_quant_plugin.core.plugin_locks import HandUnlock
from freqtrade_quant_plugin.report.pair_state import Lock, PaperResult


@dataclass
class ReportSource:
    trades: pd.DataFrame  # see trades.py; closed trades only
    description: str  # where they came from, for the report's heading
    kind: str  # "database" or "backtest"
    skipped: dict[str, int] = field(default_factory=dict)  # refused entries by reason
    paper: list[PaperResult] | None = None  # None: the source holds no paper trades
    locks: list[Lock] = field(default_factory=list)
    hand_unlocks: list[HandUnlock] = field(default_factory=list)  # overrides, see pair_state
    open_trades: int = 0
    config: Mapping[str, Any] | None = None  # the run's own Freqtrade config, when stored
