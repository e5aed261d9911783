"""What became of each entry the strategy sized in a backtest: taken, or skipped and why.

Freqtrade prints "No trades made" and nothing more when every entry was refused; the
plugin's reasons are DEBUG lines. So the strategy counts its decisions here (per strategy
name, reset when a run starts), the backtest export writes them into the `.quant.json`
and `print_summary` shows a short table below Freqtrade's report.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from freqtrade_quant_plugin import registration

UNKNOWN_REGIME = "unknown_regime"
COST_GATE = "cost_gate"
BELOW_MIN_STAKE = "below_min_stake"
LEVERAGE = "leverage"
DUST = "dust"
INVALID_STOP = "invalid_stop"
STALE_DATA = "stale_data"
PAIR_DISABLED = "pair_disabled"
ERROR = "error"

# reason -> how the table names it
REASON_LABELS: dict[str, str] = {
    UNKNOWN_REGIME: "UNKNOWN regime",
    COST_GATE: "cost gate",
    BELOW_MIN_STAKE: "below exchange minimum stake",
    LEVERAGE: "leverage would liquidate before the stop",
    DUST: "dust (below min_risk_fraction)",
    INVALID_STOP: "no valid stop or target",
    STALE_DATA: "stale data",
    PAIR_DISABLED: "pair disabled (losing streak)",
    ERROR: "errors (failed closed)",
}


@dataclass
class EntrySummary:
    """Counts of one strategy's run."""

    taken: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    refused_cost_in_R: list[float] = field(default_factory=list)
    max_cost_in_R: float | None = None
    stakes_clamped: int = 0
    pairs_disabled: int = 0
    pairs_reenabled: int = 0

    def skip(self, reason: str, cost_in_R: float | None = None) -> None:
        self.skipped[reason] += 1
        if reason == COST_GATE and cost_in_R is not None:
            self.refused_cost_in_R.append(cost_in_R)

    @property
    def signals(self) -> int:
        """Entries the strategy was asked to size (Freqtrade's entry signals with a slot)."""
        return self.taken + sum(self.skipped.values())

    def median_refused_cost_in_R(self) -> float | None:
        return statistics.median(self.refused_cost_in_R) if self.refused_cost_in_R else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "entry_signals": self.signals,
            "entries_taken": self.taken,
            "entries_skipped": sum(self.skipped.values()),
            "skipped": dict(self.skipped.most_common()),
            "median_refused_cost_in_R": self.median_refused_cost_in_R(),
            "max_cost_in_R": self.max_cost_in_R,
            "stakes_clamped": self.stakes_clamped,
            "pairs_disabled": self.pairs_disabled,
            "pairs_reenabled": self.pairs_reenabled,
        }


_summaries: dict[str, EntrySummary] = {}


def start(strategy_name: str) -> EntrySummary:
    """A fresh summary for a run of `strategy_name` (the previous run's is dropped)."""
    summary = _summaries[strategy_name] = EntrySummary()
    return summary


def summaries() -> dict[str, EntrySummary]:
    return dict(_summaries)


def _detail(reason: str, summary: dict[str, Any]) -> str:
    median = summary.get("median_refused_cost_in_R")
    if reason != COST_GATE or median is None:
        return ""
    limit = summary.get("max_cost_in_R")
    bound = f" > max_cost_in_R {limit:g}" if limit is not None else ""
    return f" (median cost {median:.2f} R{bound})"


def reason_text(reason: str, count: int, summary: dict[str, Any]) -> str:
    """e.g. "cost gate 812 (median cost 0.31 R > max_cost_in_R 0.15)"."""
    return f"{REASON_LABELS.get(reason, reason)} {count}{_detail(reason, summary)}"


def no_trades_message(summary: dict[str, Any]) -> str | None:
    """Why a run took no trade, or None when it took some."""
    if summary["entries_taken"]:
        return None
    signals = summary["entry_signals"]
    if not signals:
        return "No trades: the strategy gave no entry signal the plugin was asked to size"
    reasons = ", ".join(
        reason_text(reason, count, summary) for reason, count in summary["skipped"].items()
    )
    return f"No trades: {signals} entry signals, all skipped: {reasons}"


def print_summary(by_strategy: dict[str, dict[str, Any]]) -> None:
    """A table per strategy in Freqtrade's style (rich), below its backtest report."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for name, summary in by_strategy.items():
        table = Table(title=f"QUANT PLUGIN SUMMARY ({name})", title_style="bold")
        table.add_column("Entries", justify="left")
        table.add_column("Count", justify="right")
        table.add_row("Entry signals sized", str(summary["entry_signals"]))
        table.add_row("Entries taken", str(summary["entries_taken"]))
        for reason, count in summary["skipped"].items():
            label = REASON_LABELS.get(reason, reason) + _detail(reason, summary)
            table.add_row(f"Skipped: {label}", str(count))
        table.add_row("Stakes clamped by the available balance", str(summary["stakes_clamped"]))
        table.add_row("Pairs disabled", str(summary["pairs_disabled"]))
        table.add_row("Pairs re-enabled", str(summary["pairs_reenabled"]))
        console.print(table)
        message = no_trades_message(summary)
        if message:
            console.print(message, soft_wrap=True, markup=False, highlight=False)
    for module_name, unavailable in registration.missing_hooks():  # said at start-up too
        line = f"Unavailable: {unavailable}: the plugin's hook into {module_name} did not fit"
        console.print(line, soft_wrap=True, markup=False, highlight=False)
