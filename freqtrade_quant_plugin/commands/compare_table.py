"""Rows, differences to all_on and the printed table of `freqtrade-quant compare`.

Pure functions on plain dicts (no Freqtrade), so the arithmetic is unit-tested on its own.
A row: name, layers_off, fold, trades, profit_pct, max_drawdown_pct, calmar, sharpe,
avg_net_R, avg_cost_in_R, and the differences `d_<metric>` against all_on of the same fold.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import median
from typing import Any

ALL_ON = "all_on"
# metric -> key of its difference to all_on
DIFFERENCES: dict[str, str] = {
    "profit_pct": "d_profit_pct",
    "max_drawdown_pct": "d_max_drawdown_pct",
    "calmar": "d_calmar",
    "avg_net_R": "d_avg_net_R",
}


def ratio_or_none(value: Any, trades: int) -> float | None:
    """Freqtrade writes 0 (or -100) for a ratio it cannot compute; without trades, or when
    the value is not a finite number, the table shows none instead of a fake figure."""
    if trades <= 0 or not isinstance(value, (int, float)) or value != value:
        return None
    if value in (float("inf"), float("-inf")):
        return None
    return float(value)


def difference(value: float | None, baseline: float | None) -> float | None:
    """value - baseline; None when either side is missing."""
    if value is None or baseline is None:
        return None
    return value - baseline


def add_differences(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of the rows with `d_<metric>` = row - all_on of the same fold."""
    baselines = {row["fold"]: row for row in rows if row["name"] == ALL_ON}
    out = []
    for row in rows:
        base = baselines.get(row["fold"], {})
        extra = {key: difference(row.get(m), base.get(m)) for m, key in DIFFERENCES.items()}
        out.append({**row, **extra})
    return out


def no_variant_differs(rows: Sequence[dict[str, Any]]) -> bool:
    """True when every variant traded exactly like all_on of its fold (more than one
    variant run): the sign of a strategy that does not read `quant.layers` at all."""
    others = [row for row in rows if row["name"] != ALL_ON]
    return bool(others) and all(
        row.get("d_profit_pct") == 0 and row.get("d_avg_net_R") in (0, None) for row in others
    )


def spread(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per variant: min, median and max of each difference over the folds, and in how many
    folds the variant beat all_on on profit (`better_profit_folds` of `folds`)."""
    by_name: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_name.setdefault(row["name"], []).append(row)
    summary = []
    for name, group in by_name.items():
        entry: dict[str, Any] = {
            "name": name,
            "layers_off": group[0]["layers_off"],
            "folds": len(group),
        }
        for key in DIFFERENCES.values():
            values = [row[key] for row in group if row.get(key) is not None]
            entry[key] = min_median_max(values)
        entry["better_profit_folds"] = sum(1 for row in group if (row.get("d_profit_pct") or 0) > 0)
        summary.append(entry)
    return summary


def min_median_max(values: Iterable[float]) -> dict[str, float] | None:
    ordered = sorted(values)
    if not ordered:
        return None
    return {"min": ordered[0], "median": median(ordered), "max": ordered[-1]}


def fmt(value: float | None, digits: int = 2, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def fmt_spread(stats: dict[str, float] | None, digits: int = 2) -> str:
    if stats is None:
        return "-"
    return " / ".join(fmt(stats[k], digits, signed=True) for k in ("min", "median", "max"))


def fold_text(fold: int | None) -> str:
    return "all" if fold is None else str(fold)


def layers_text(layers_off: Sequence[str]) -> str:
    """The static variant's five regime layers read as one phrase."""
    from freqtrade_quant_plugin.core.layers import LAYER_NAMES, REGIME_LAYERS

    if tuple(layers_off) == REGIME_LAYERS:
        return "all regime layers"
    if tuple(layers_off) == LAYER_NAMES:
        return "all (no plugin)"
    return ", ".join(layers_off) if layers_off else "none"


def variants_table(rows: Sequence[dict[str, Any]], title: str, folds: bool = False) -> Any:
    """A rich table in Freqtrade's report style: one row per variant (and fold)."""
    from rich.table import Table

    table = Table(title=title, title_style="bold", show_lines=False)
    headers = (
        "Variant",
        *(["Fold"] if folds else []),
        "Layers off",
        "Trades",
        "Profit %",
        "Max DD %",
        "Calmar",
    )
    headers += ("Sharpe", "Avg net R", "Cost in R", "Δ Profit %", "Δ Max DD %", "Δ Calmar")
    headers += ("Δ Net R",)
    for header in headers:
        table.add_column(header, justify="left" if header in ("Variant", "Layers off") else "right")
    for row in rows:
        table.add_row(
            row["name"], *([fold_text(row["fold"])] if folds else []),
            layers_text(row["layers_off"]), str(row["trades"]),
            fmt(row["profit_pct"]), fmt(row["max_drawdown_pct"]), fmt(row["calmar"]),
            fmt(row["sharpe"]), fmt(row["avg_net_R"], 3), fmt(row["avg_cost_in_R"], 3),
            fmt(row["d_profit_pct"], signed=True), fmt(row["d_max_drawdown_pct"], signed=True),
            fmt(row["d_calmar"], signed=True), fmt(row["d_avg_net_R"], 3, signed=True),
        )  # fmt: skip
    return table


def spread_table(summary: Sequence[dict[str, Any]]) -> Any:
    """Across folds: min / median / max of each difference to all_on."""
    from rich.table import Table

    table = Table(title="SPREAD ACROSS FOLDS (difference to all_on: min / median / max)")
    for header in ("Variant", "Layers off", "Δ Profit %", "Δ Max DD %", "Δ Calmar", "Δ Net R"):
        table.add_column(header, justify="left" if header in ("Variant", "Layers off") else "right")
    table.add_column("Profit better in", justify="right")
    for entry in summary:
        if entry["name"] == ALL_ON:
            continue
        table.add_row(
            entry["name"], layers_text(entry["layers_off"]),
            fmt_spread(entry["d_profit_pct"]), fmt_spread(entry["d_max_drawdown_pct"]),
            fmt_spread(entry["d_calmar"]), fmt_spread(entry["d_avg_net_R"], 3),
            f"{entry['better_profit_folds']}/{entry['folds']} folds",
        )  # fmt: skip
    return table
