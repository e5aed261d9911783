"""The report on the console, as rich tables in the style of Freqtrade's own reports
(a title per table, right-aligned figures, a TOTAL row last)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from freqtrade_quant_plugin.report.aggregate import TOTAL
from freqtrade_quant_plugin.report.build import Report
from freqtrade_quant_plugin.report.pair_state import Lock

Format = Callable[[Any], str]


def number(decimals: int) -> Format:
    def render(value: Any) -> str:
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return "-"
        return f"{round(value, decimals) + 0.0:,.{decimals}f}"  # + 0.0: no "-0.000"

    return render


def percent(value: Any) -> str:
    return number(1)(None if value is None else value * 100)


def integer(value: Any) -> str:
    return f"{int(value):,}"


def date(epoch: int | None) -> str:
    if not epoch:
        return "-"
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M")


# adapters/pairs/pair_locks.LOCK_REASON_PREFIX (not imported: it loads Freqtrade's models)
PLUGIN_LOCK_PREFIX = "Symbol performance: "

R = number(2)
MONEY = number(3)

# (header, column, format) per table built from a DataFrame
STATS_COLUMNS = (
    ("Trades", "trades", integer),
    ("Win %", "win_rate", percent),
    ("Avg R", "avg_R", R),
    ("Avg net R", "avg_net_R", R),
    ("Net R", "net_R", R),
    ("Cost in R", "avg_cost_in_R", number(3)),
    ("Costs", "total_costs", MONEY),
    ("Fees", "fees", MONEY),
    ("Slippage", "slippage", MONEY),
    ("Funding", "funding", MONEY),
    ("Profit", "profit_abs", MONEY),
)
DISTRIBUTION_COLUMNS = (
    ("Trades", "trades", integer),
    ("Share %", "share", percent),
    ("Longs", "longs", integer),
    ("Shorts", "shorts", integer),
    ("Pairs", "pairs", integer),
)
EXIT_COLUMNS = (
    ("Trades", "trades", integer),
    ("Share %", "share", percent),
    ("Win %", "win_rate", percent),
    ("Avg R", "avg_R", R),
    ("Avg net R", "avg_net_R", R),
)
EXCURSION_COLUMNS = (
    ("Trades", "trades", integer),
    ("Avg MFE R", "avg_mfe_R", R),
    ("Avg MAE R", "avg_mae_R", R),
    ("Avg R", "avg_R", R),
    ("MFE kept %", "mfe_kept", percent),
)


def frame_table(
    title: str, name: str, frame: pd.DataFrame, columns: Sequence[tuple[str, str, Format]]
) -> Table:
    table = Table(title=title)
    table.add_column(name, justify="left")
    for header, _, _ in columns:
        table.add_column(header, justify="right")
    labels = [str(label) for label in frame.index]
    for position, (label, row) in enumerate(zip(labels, frame.to_dict("records"), strict=True)):
        cells = [label, *(render(row[column]) for _, column, render in columns)]
        # A rule above the TOTAL row, as in Freqtrade's tables.
        before_total = labels[position + 1 : position + 2] == [TOTAL]
        table.add_row(*cells, end_section=before_total)
    return table


def pair_state_table(report: Report) -> Table:
    caption = None
    if report.source.paper is None:
        caption = (
            "Backtest result: paper trades are not exported, so a pair re-enabled by paper "
            "wins still shows as disabled."
        )
    table = Table(title="PAIR STATE", caption=caption)
    for header in ("Pair", "Trades", "Win %", "Avg R", "Loss streak", "Risk modifier"):
        table.add_column(header, justify="left" if header == "Pair" else "right")
    for header in ("Enabled", "Disabled since", "Why", "Locks"):
        table.add_column(header, justify="left")
    for pair, state in report.pairs.items():
        locks = "; ".join(lock_text(lock) for lock in state.locks)
        table.add_row(
            pair,
            integer(state.trades),
            percent(state.win_rate),
            R(state.avg_R),
            integer(state.consecutive_losses),
            number(2)(state.risk_modifier),
            "yes" if state.enabled else "[red]no[/red]",
            date(state.disabled_since_ts),
            state.disabled_why or "-",
            locks or "-",
        )
    return table


def lock_text(lock: Lock) -> str:
    """The plugin's own lock repeats the "why" column and lasts until re-enabled: say so."""
    if lock.reason.startswith(PLUGIN_LOCK_PREFIX):
        return "symbol performance, until re-enabled"
    return f"{lock.reason or 'locked'} ({lock.side}, until {date(lock.until_ts)})"


def skipped_table(skipped: dict[str, int]) -> Table:
    table = Table(title="SKIPPED ENTRIES")
    table.add_column("Reason", justify="left")
    table.add_column("Entries", justify="right")
    table.add_column("Share %", justify="right")
    total = sum(skipped.values())
    for reason, count in sorted(skipped.items(), key=lambda item: -item[1]):
        table.add_row(reason, integer(count), percent(count / total if total else None))
    table.add_row(TOTAL, integer(total), percent(1.0 if total else None), end_section=False)
    return table


def heading(report: Report) -> str:
    filters = report.filters
    parts = [f"Quant report of {report.source.description}"]
    parts.append(f"{int(report.trades['has_record'].sum())} closed trades with plugin records")
    if report.without_record:
        parts.append(
            f"{report.without_record} closed trades without one (not counted in R and costs)"
        )
    if report.source.open_trades:
        parts.append(f"{report.source.open_trades} open trades (not counted)")
    shown = []
    if filters.pairs:
        shown.append("pairs " + ", ".join(filters.pairs))
    if filters.regimes:
        shown.append("regimes " + ", ".join(filters.regimes))
    if filters.start_ts or filters.stop_ts:
        shown.append(f"opened {date(filters.start_ts)} to {date(filters.stop_ts)}")
    if shown:
        parts.append("only " + "; ".join(shown))
    return "\n".join(parts)


def print_report(report: Report, console: Console | None = None) -> None:
    if console is None:
        from freqtrade.loggers.rich_console import get_rich_console

        console = get_rich_console()
    console.print(heading(report))
    if report.trades["has_record"].any():
        console.print(frame_table("REGIME REPORT", "Regime", report.by_regime, STATS_COLUMNS))
        console.print(frame_table("PAIR REPORT", "Pair", report.by_pair, STATS_COLUMNS))
        console.print(
            frame_table("EXIT REASON REPORT", "Exit reason", report.exit_reasons, EXIT_COLUMNS)
        )
        console.print(frame_table("MFE / MAE IN R", "Regime", report.excursions, EXCURSION_COLUMNS))
    else:
        console.print("No closed trade with the plugin's records in this selection.")
    if not report.distribution.empty:
        console.print(
            frame_table("REGIME DISTRIBUTION", "Regime", report.distribution, DISTRIBUTION_COLUMNS)
        )
    if report.pairs:
        console.print(pair_state_table(report))
    if report.skipped:
        console.print(skipped_table(report.skipped))
    currency = f" ({report.stake_currency})" if report.stake_currency else ""
    console.print(
        "R: result over the money at risk at entry; net R after the modelled fees, slippage "
        "and funding. Win: Freqtrade's realised profit > 0. Costs, fees, slippage, funding "
        f"and profit in the stake currency{currency}. MFE kept: sum of R over the sum of MFE "
        "in R."
    )
