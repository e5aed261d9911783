"""The whole report as data: every table the console, JSON and HTML outputs show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.report import aggregate
from freqtrade_quant_plugin.report.aggregate import Filters, json_number, stats_mapping
from freqtrade_quant_plugin.report.pair_state import PairState, pair_states
from freqtrade_quant_plugin.report.source import ReportSource


@dataclass
class Report:
    source: ReportSource
    filters: Filters
    trades: pd.DataFrame  # the filtered trade table
    by_regime: pd.DataFrame
    by_pair: pd.DataFrame
    distribution: pd.DataFrame
    exit_reasons: pd.DataFrame
    excursions: pd.DataFrame
    equity: pd.DataFrame
    pairs: dict[str, PairState]
    skipped: dict[str, int]
    stake_currency: str = ""  # from the config, when known

    @property
    def without_record(self) -> int:
        return int((~self.trades["has_record"]).sum())

    def to_json(self) -> dict[str, Any]:
        """One object: by_regime, by_pair, skipped and the other sections, plain JSON types."""
        return {
            "source": self.source.description,
            "stake_currency": self.stake_currency,
            "trades": int(self.trades["has_record"].sum()),
            "trades_without_record": self.without_record,
            "open_trades": self.source.open_trades,
            "total": stats_mapping(self.by_regime, with_total=True).get(aggregate.TOTAL, {}),
            "by_regime": stats_mapping(self.by_regime),
            "by_pair": stats_mapping(self.by_pair),
            "regime_distribution": stats_mapping(self.distribution),
            "exit_reasons": stats_mapping(self.exit_reasons),
            "excursions": stats_mapping(self.excursions, with_total=True),
            "pairs": {pair: _state_json(state) for pair, state in self.pairs.items()},
            "skipped": dict(self.skipped),
        }


def build_report(
    source: ReportSource,
    filters: Filters,
    performance: SymbolPerformanceConfig,
    stake_currency: str = "",
) -> Report:
    """Figures of the filtered trades; pair states from every trade (they are the pairs'
    current state, whatever the filter), shown for the filtered pairs."""
    trades = filters.apply(source.trades)
    states = pair_states(
        source.trades, performance, source.paper, source.locks, source.hand_unlocks
    )
    narrowed = filters.pairs or filters.regimes or filters.start_ts or filters.stop_ts
    shown = set(trades["pair"]) | (set(filters.pairs) & set(states)) if narrowed else set(states)
    return Report(
        source=source,
        filters=filters,
        trades=trades,
        by_regime=aggregate.group_stats(trades, "regime"),
        by_pair=aggregate.group_stats(trades, "pair"),
        distribution=aggregate.regime_distribution(trades),
        exit_reasons=aggregate.exit_reasons(trades),
        excursions=aggregate.excursions(trades),
        equity=aggregate.equity_curves(trades),
        pairs={pair: states[pair] for pair in sorted(shown) if pair in states},
        skipped=dict(source.skipped),
        stake_currency=stake_currency,
    )


def _state_json(state: PairState) -> dict[str, Any]:
    return {
        "trades": state.trades,
        "win_rate": json_number(state.win_rate),
        "avg_R": json_number(state.avg_R),
        "consecutive_losses": state.consecutive_losses,
        "risk_modifier": json_number(state.risk_modifier),
        "enabled": state.enabled,
        "disabled_since": state.disabled_since_ts,
        "disabled_why": state.disabled_why,
        "paper_trades": state.paper_trades,
        "locks": [
            {"side": lock.side, "reason": lock.reason, "until": lock.until_ts}
            for lock in state.locks
        ],
    }
