"""The report's charts as plotly figure dicts (rendered by html.py).

Plain dicts rather than plotly's graph objects: the objects validate every property
through deep copies and lazy imports, about two seconds for these five charts on a big
history, while the dicts cost a tenth of that. The Chromium test checks that each chart
draws its data, which is what the validation would otherwise guard.

Scatter and timeline draw at most MAX_POINTS trades (the latest) and the equity curves
every n-th close (at most MAX_CURVE_POINTS); the titles say so. The other charts use every
trade.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.report.aggregate import TOTAL, recorded
from freqtrade_quant_plugin.report.build import Report

Figure = dict[str, Any]

MAX_POINTS = 5000
MAX_CURVE_POINTS = 10_000
REGIME_COLOURS = {
    "TRENDING": "#1f77b4",
    "RANGING": "#ff7f0e",
    "LOW_VOL": "#2ca02c",
    "NORMAL_VOL": "#9467bd",
    "HIGH_VOL": "#d62728",
    "EXTREME_VOL": "#8c564b",
    "UNKNOWN": "#7f7f7f",
}
_AXIS = {
    "gridcolor": "#e5e5e5",
    "zerolinecolor": "#999",
    "linecolor": "#999",
    "showline": True,
    "automargin": True,
}


def _colour(regime: str) -> str:
    return REGIME_COLOURS.get(regime, "#17becf")


def _dates(epochs: pd.Series) -> list[str]:
    return pd.to_datetime(epochs, unit="s", utc=True).dt.strftime("%Y-%m-%d %H:%M:%S").tolist()


def _values(series: pd.Series) -> list[Any]:
    """JSON-ready numbers: NaN becomes None (a gap)."""
    return [None if value != value else value for value in series.astype(float).tolist()]


def figure(title: str, x_title: str, y_title: str, traces: list[dict], **layout: Any) -> Figure:
    """Title at the top, legend just above the plot, light grid: the same for every chart."""
    xaxis = {**_AXIS, "title": {"text": x_title}, **layout.pop("xaxis", {})}
    yaxis = {**_AXIS, "title": {"text": y_title}, **layout.pop("yaxis", {})}
    return {
        "data": traces,
        "layout": {
            "title": {"text": title, "x": 0.06, "yref": "container", "y": 1,
                      "yanchor": "top", "pad": {"t": 14}},
            "height": 420,
            "margin": {"l": 70, "r": 30, "t": 100, "b": 60},
            "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02,
                       "yanchor": "bottom"},
            "plot_bgcolor": "white",
            "paper_bgcolor": "white",
            "font": {"family": "system-ui, sans-serif", "size": 13, "color": "#333"},
            "xaxis": xaxis,
            "yaxis": yaxis,
            **layout,
        },
    }  # fmt: skip


def equity_figure(report: Report) -> Figure:
    curves = report.equity
    step = -(-len(curves) // MAX_CURVE_POINTS)  # ceil: every step-th close, and the last
    thinned = ""
    if step > 1:
        keep = np.unique(np.r_[np.arange(0, len(curves), step), len(curves) - 1])
        curves = curves.iloc[keep]
        thinned = f" (every {step}th trade of {len(report.equity):,})"
    dates = _dates(curves["close_ts"])
    traces = [
        {"type": "scatter", "mode": "lines", "name": name, "x": dates,
         "y": _values(curves[column]), "line": {"color": colour}}
        for column, name, colour in (
            ("gross", "Gross (price move)", "#2ca02c"),
            ("net", "Net of modelled costs", "#d62728"),
            ("realised", "Freqtrade realised (its fees)", "#1f77b4"),
        )
    ]  # fmt: skip
    return figure(
        f"Equity: cumulative profit, gross vs net of modelled costs{thinned}",
        "Trade close",
        "Cumulative profit (stake currency)",
        traces,
        xaxis={"type": "date"},
    )


def r_distribution_figure(report: Report) -> Figure:
    trades = recorded(report.trades)
    traces = [
        {"type": "box", "name": str(regime), "y": _values(group["R"]), "boxmean": True,
         "boxpoints": "outliers", "marker": {"color": _colour(str(regime))}}
        for regime, group in trades.groupby("regime")
    ]  # fmt: skip
    return figure(
        "R multiple per entry regime (box: quartiles, dashed: mean)",
        "Regime at entry",
        "R multiple (gross)",
        traces,
        showlegend=False,
    )


def excursion_figure(report: Report) -> Figure:
    trades = recorded(report.trades)
    trades = trades.loc[trades["mfe_R"].notna() & trades["mae_R"].notna()]
    shown = (
        f" (latest {MAX_POINTS:,} of {len(trades):,} trades)" if len(trades) > MAX_POINTS else ""
    )
    trades = trades.tail(MAX_POINTS)
    traces = []
    for won, name, colour in ((True, "Win", "#2ca02c"), (False, "Loss", "#d62728")):
        group = trades.loc[(trades["profit_abs"] > 0) == won]
        traces.append(
            {"type": "scatter", "mode": "markers", "name": name, "x": _values(group["mae_R"]),
             "y": _values(group["mfe_R"]), "text": (group["pair"] + " " + group["regime"]).tolist(),
             "marker": {"color": colour, "size": 6, "opacity": 0.6},
             "hovertemplate": "%{text}<br>MAE %{x:.2f}R, MFE %{y:.2f}R<extra></extra>"}
        )  # fmt: skip
    return figure(
        f"Best (MFE) vs worst (MAE) excursion in R per trade{shown}",
        "MAE in R (adverse, below 0)",
        "MFE in R (favourable)",
        traces,
    )


def cost_figure(report: Report) -> Figure:
    stats = report.by_regime.drop(index=TOTAL, errors="ignore")
    total = stats["total_costs"].where(stats["total_costs"] != 0)
    traces = []
    for column, name, colour in (
        ("fees", "Fees", "#1f77b4"),
        ("slippage", "Slippage", "#ff7f0e"),
        ("funding", "Funding", "#9467bd"),
    ):
        in_r = (stats["avg_cost_in_R"] * stats[column] / total).fillna(0.0)
        traces.append({"type": "bar", "name": name, "x": [str(i) for i in stats.index],
                       "y": _values(in_r), "marker": {"color": colour}})  # fmt: skip
    return figure(
        "Average cost in R per entry regime (fees, slippage, funding)",
        "Regime at entry",
        "Cost in R per trade",
        traces,
        barmode="stack",
    )


def timeline_figure(report: Report) -> Figure:
    shown = f" (latest {MAX_POINTS:,} trades)" if len(report.trades) > MAX_POINTS else ""
    trades = report.trades.tail(MAX_POINTS)
    traces = [
        {"type": "bar", "orientation": "h", "name": str(regime), "y": group["pair"].tolist(),
         "base": _dates(group["open_ts"]),
         "x": ((group["close_ts"] - group["open_ts"]).clip(lower=60) * 1000).tolist(),
         "marker": {"color": _colour(str(regime))},
         "hovertemplate": "%{y} from %{base}<extra>" + str(regime) + "</extra>"}
        for regime, group in trades.groupby("regime")
    ]  # fmt: skip
    pairs = trades["pair"].nunique()
    return figure(
        f"Trades per pair over time, coloured by entry regime{shown}",
        "Time (UTC)",
        "Pair",
        traces,
        xaxis={"type": "date"},
        yaxis={"categoryorder": "category descending", "type": "category"},
        barmode="overlay",
        height=max(300, 120 + 28 * pairs),
    )


CHARTS: tuple[tuple[str, Callable[[Report], Figure]], ...] = (
    ("equity", equity_figure),
    ("r_distribution", r_distribution_figure),
    ("excursions", excursion_figure),
    ("cost_in_r", cost_figure),
    ("regime_timeline", timeline_figure),
)
