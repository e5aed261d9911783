"""The report as one self-contained HTML page of plotly charts (see charts.py).

plotly.js is written into the page, so it opens offline and nothing is fetched.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.io as pio
from plotly.offline import get_plotlyjs

from freqtrade_quant_plugin.report.aggregate import TOTAL
from freqtrade_quant_plugin.report.build import Report
from freqtrade_quant_plugin.report.charts import CHARTS
from freqtrade_quant_plugin.report.tables import heading

PLOT_CONFIG = {"displaylogo": False, "responsive": True}
STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px auto; max-width: 1200px; color: #222; }
h1 { margin-bottom: 4px; }
.summary { font-size: 1.1em; margin: 8px 0 16px; }
.source { color: #555; }
.chart { margin: 12px 0 28px; border-top: 1px solid #ddd; padding-top: 8px; }
"""


def summary_line(report: Report) -> str:
    if TOTAL not in report.by_regime.index:
        return "No closed trade with the plugin's records in this selection."
    totals = report.by_regime.loc[TOTAL]
    return (
        f"{int(totals['trades']):,} trades · win rate {totals['win_rate']:.1%} · "
        f"average R {totals['avg_R']:.2f} · average net R {totals['avg_net_R']:.2f} · "
        f"cost {totals['avg_cost_in_R']:.3f} R per trade"
    )


def render_html(report: Report) -> str:
    sections = []
    for name, build in CHARTS:
        body = pio.to_html(
            build(report),
            config=PLOT_CONFIG,
            include_plotlyjs=False,
            full_html=False,
            div_id=f"chart-{name}",
            validate=False,
        )
        sections.append(f'<section class="chart" data-chart="{name}">{body}</section>')
    head_lines = "<br>".join(html.escape(line) for line in heading(report).splitlines())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>freqtrade-quant report</title>
<style>{STYLE}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<h1>freqtrade-quant report</h1>
<p class="source">{head_lines}</p>
<p class="summary">{html.escape(summary_line(report))}</p>
{"".join(sections)}
<p class="source">R: result over the money at risk at entry; net R after the modelled fees,
slippage and funding. Win: Freqtrade's realised profit &gt; 0.</p>
</body></html>
"""


def write_html(report: Report, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path.resolve()
