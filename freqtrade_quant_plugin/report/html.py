"""The report as one self-contained HTML page of plotly charts (plotly.js inline: offline).

Charts: equity gross vs net of the modelled costs (and Freqtrade's realised profit), R
distribution per regime, MFE vs MAE, cost in R per regime split into fees, slippage and
funding, and each pair's trades on a timeline coloured by entry regime. Scatter and
timeline draw at most MAX_POINTS trades (the latest) and the equity curves every n-th
close (at most MAX_CURVE_POINTS; the titles say so), so a page of a 100,000-trade history
stays light; the other charts use every trade.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from freqtrade_quant_plugin.report.aggregate import TOTAL, recorded
from freqtrade_quant_plugin.report.build import Report
from freqtrade_quant_plugin.report.tables import heading

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
LAYOUT = {
    "template": "plotly_white",
    "height": 420,
    "margin": {"l": 70, "r": 30, "t": 100, "b": 60},
    "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
}


def _colour(regime: str) -> str:
    return REGIME_COLOURS.get(regime, "#17becf")


def _dates(epochs: pd.Series) -> pd.Series:
    return pd.to_datetime(epochs, unit="s", utc=True)


def equity_figure(report: Report) -> go.Figure:
    curves = report.equity
    step = -(-len(curves) // MAX_CURVE_POINTS)  # ceil: every step-th close, and the last
    thinned = ""
    if step > 1:
        keep = np.unique(np.r_[np.arange(0, len(curves), step), len(curves) - 1])
        curves = curves.iloc[keep]
        thinned = f" (every {step}th trade of {len(report.equity):,})"
    dates = _dates(curves["close_ts"])
    figure = go.Figure()
    for column, name, colour in (
        ("gross", "Gross (price move)", "#2ca02c"),
        ("net", "Net of modelled costs", "#d62728"),
        ("realised", "Freqtrade realised (its fees)", "#1f77b4"),
    ):
        figure.add_trace(go.Scatter(x=dates, y=curves[column], name=name, mode="lines",
                                    line={"color": colour}))  # fmt: skip
    figure.update_layout(
        title=f"Equity: cumulative profit, gross vs net of modelled costs{thinned}",
        xaxis_title="Trade close",
        yaxis_title="Cumulative profit (stake currency)",
        **LAYOUT,
    )
    return figure


def r_distribution_figure(report: Report) -> go.Figure:
    trades = recorded(report.trades)
    figure = go.Figure()
    for regime, group in trades.groupby("regime"):
        figure.add_trace(
            go.Box(
                y=group["R"],
                name=str(regime),
                boxmean=True,
                marker_color=_colour(str(regime)),
                boxpoints="outliers",
            )
        )
    figure.update_layout(
        title="R multiple per entry regime (box: quartiles, dashed: mean)",
        xaxis_title="Regime at entry",
        yaxis_title="R multiple (gross)",
        showlegend=False,
        **LAYOUT,
    )
    return figure


def excursion_figure(report: Report) -> go.Figure:
    trades = recorded(report.trades)
    trades = trades.loc[trades["mfe_R"].notna() & trades["mae_R"].notna()].tail(MAX_POINTS)
    figure = go.Figure()
    for won, name, colour in ((True, "Win", "#2ca02c"), (False, "Loss", "#d62728")):
        group = trades.loc[(trades["profit_abs"] > 0) == won]
        figure.add_trace(
            go.Scatter(
                x=group["mae_R"],
                y=group["mfe_R"],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 6, "opacity": 0.6},
                text=group["pair"] + " " + group["regime"],
                hovertemplate="%{text}<br>MAE %{x:.2f}R, MFE %{y:.2f}R<extra></extra>",
            )
        )
    shown = f" (latest {MAX_POINTS:,} trades)" if len(trades) == MAX_POINTS else ""
    figure.update_layout(
        title=f"Best (MFE) vs worst (MAE) excursion in R per trade{shown}",
        xaxis_title="MAE in R (adverse, below 0)",
        yaxis_title="MFE in R (favourable)",
        **LAYOUT,
    )
    return figure


def cost_figure(report: Report) -> go.Figure:
    stats = report.by_regime.drop(index=TOTAL, errors="ignore")
    figure = go.Figure()
    total = stats["total_costs"].where(stats["total_costs"] != 0)
    for column, name, colour in (
        ("fees", "Fees", "#1f77b4"),
        ("slippage", "Slippage", "#ff7f0e"),
        ("funding", "Funding", "#9467bd"),
    ):
        share_in_r = (stats["avg_cost_in_R"] * stats[column] / total).fillna(0.0)
        figure.add_trace(go.Bar(x=list(stats.index), y=share_in_r, name=name,
                                marker_color=colour))  # fmt: skip
    figure.update_layout(
        title="Average cost in R per entry regime (fees, slippage, funding)",
        xaxis_title="Regime at entry",
        yaxis_title="Cost in R per trade",
        barmode="stack",
        **LAYOUT,
    )
    return figure


def timeline_figure(report: Report) -> go.Figure:
    trades = report.trades.tail(MAX_POINTS)
    figure = go.Figure()
    for regime, group in trades.groupby("regime"):
        start = _dates(group["open_ts"])
        figure.add_trace(
            go.Bar(
                base=start,
                x=(group["close_ts"] - group["open_ts"]).clip(lower=60) * 1000,
                y=group["pair"],
                orientation="h",
                name=str(regime),
                marker_color=_colour(str(regime)),
                hovertemplate="%{y} %{base}<extra>" + html.escape(str(regime)) + "</extra>",
            )
        )
    shown = f" (latest {MAX_POINTS:,} trades)" if len(report.trades) > MAX_POINTS else ""
    pairs = trades["pair"].nunique()
    figure.update_layout(
        title=f"Trades per pair over time, coloured by entry regime{shown}",
        xaxis={"type": "date", "title": "Time (UTC)"},
        yaxis={"title": "Pair", "categoryorder": "category descending"},
        barmode="overlay",
        **{**LAYOUT, "height": max(300, 120 + 28 * pairs)},
    )
    return figure


CHARTS = (
    ("equity", equity_figure),
    ("r_distribution", r_distribution_figure),
    ("excursions", excursion_figure),
    ("cost_in_r", cost_figure),
    ("regime_timeline", timeline_figure),
)


def render_html(report: Report) -> str:
    totals = report.by_regime.loc[TOTAL] if TOTAL in report.by_regime.index else None
    summary = ""
    if totals is not None:
        summary = (
            f"{int(totals['trades']):,} trades · win rate {totals['win_rate']:.1%} · "
            f"average R {totals['avg_R']:.2f} · average net R {totals['avg_net_R']:.2f} · "
            f"cost {totals['avg_cost_in_R']:.3f} R per trade"
        )
    charts = []
    for name, build in CHARTS:
        figure = build(report)
        # Title at the top of the figure, legend just above the plot, whatever its height.
        figure.update_layout(title={"yref": "container", "y": 1, "yanchor": "top",
                                    "pad": {"t": 14}, "x": 0.06})  # fmt: skip
        body = figure.to_html(
            full_html=False, include_plotlyjs=False, div_id=f"chart-{name}",
            config={"displaylogo": False, "responsive": True},
        )  # fmt: skip
        charts.append(f'<section class="chart" data-chart="{name}">{body}</section>')
    head_lines = "<br>".join(html.escape(line) for line in heading(report).splitlines())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>freqtrade-quant report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px;
       color: #222; }}
h1 {{ margin-bottom: 4px; }}
.summary {{ font-size: 1.1em; margin: 8px 0 16px; }}
.source {{ color: #555; }}
.chart {{ margin: 12px 0 28px; border-top: 1px solid #ddd; padding-top: 8px; }}
</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>freqtrade-quant report</h1>
<p class="source">{head_lines}</p>
<p class="summary">{html.escape(summary)}</p>
{"".join(charts)}
<p class="source">R: result over the money at risk at entry; net R after the modelled fees,
slippage and funding. Win: Freqtrade's realised profit &gt; 0.</p>
</body></html>
"""


def write_html(report: Report, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path.resolve()
