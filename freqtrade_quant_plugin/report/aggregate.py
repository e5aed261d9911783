"""Every figure of the report, computed from the trade table (see trades.py) with pandas.

Pure: no Freqtrade, no I/O, so each figure can be checked against plain numbers.
Definitions (docs/report.md repeats them):
- a win is a trade with Freqtrade's realised profit > 0 (net of its fees), as in
  Freqtrade's own reports and the plugin's pair tracker;
- R and net R are the trade record's `R_multiple` (price move over the money at risk)
  and `net_R_multiple` (after the modelled fees, slippage and funding);
- cost in R is the record's `cost_in_R`, total costs / fees / slippage / funding are sums
  in the stake currency;
- "MFE kept" is sum(R) / sum(MFE in R, counted from 0): the share of the best excursions
  the exits turned into result.
Trades without a plugin record count only where stated (pair state, trades without record).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

SUMMARY_KEYS = ("trades", "win_rate", "avg_R", "avg_net_R", "avg_cost_in_R", "total_costs")
TOTAL = "TOTAL"


@dataclass(frozen=True)
class Filters:
    """What the user narrowed the report to; empty means everything."""

    pairs: tuple[str, ...] = ()
    regimes: tuple[str, ...] = ()
    start_ts: int | None = None  # a trade is in the range when it opened in [start, stop)
    stop_ts: int | None = None

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        keep = np.ones(len(frame), dtype=bool)
        if self.pairs:
            keep &= frame["pair"].isin(self.pairs).to_numpy()
        if self.regimes:
            keep &= frame["regime"].isin(self.regimes).to_numpy()
        if self.start_ts:
            keep &= (frame["open_ts"] >= self.start_ts).to_numpy()
        if self.stop_ts:
            keep &= (frame["open_ts"] < self.stop_ts).to_numpy()
        return frame.loc[keep]


def recorded(frame: pd.DataFrame) -> pd.DataFrame:
    """The trades that carry the plugin's record: the only ones with R and costs."""
    return frame.loc[frame["has_record"]]


def group_stats(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Per value of `by` (and a TOTAL row last): counts, win rate, R, net R and costs."""
    trades = recorded(frame).assign(win=lambda f: f["profit_abs"] > 0)
    columns = [
        "trades",
        "wins",
        "win_rate",
        "avg_R",
        "avg_net_R",
        "net_R",
        "avg_cost_in_R",
        "total_costs",
        "fees",
        "slippage",
        "funding",
        "profit_abs",
    ]
    if trades.empty:
        return pd.DataFrame(columns=columns)
    stats = _stats(trades.groupby(by, sort=True))
    total = _stats(trades.assign(_all=TOTAL).groupby("_all"))
    return pd.concat([stats, total]).loc[:, columns]


def _stats(grouped: Any) -> pd.DataFrame:
    result = grouped.agg(
        trades=("R", "size"),
        wins=("win", "sum"),
        avg_R=("R", "mean"),
        avg_net_R=("net_R", "mean"),
        net_R=("net_R", "sum"),
        avg_cost_in_R=("cost_in_R", "mean"),
        total_costs=("total_costs", "sum"),
        fees=("fees", "sum"),
        slippage=("slippage", "sum"),
        funding=("funding", "sum"),
        profit_abs=("profit_abs", "sum"),
    )
    result["trades"] = result["trades"].astype(int)
    result["wins"] = result["wins"].astype(int)
    result["win_rate"] = result["wins"] / result["trades"]
    return result


def regime_distribution(frame: pd.DataFrame) -> pd.DataFrame:
    """Trades per entry regime (every closed trade), with longs, shorts and share."""
    counts = frame.groupby("regime").agg(
        trades=("pair", "size"), shorts=("is_short", "sum"), pairs=("pair", "nunique")
    )
    counts["shorts"] = counts["shorts"].astype(int)
    counts["longs"] = counts["trades"] - counts["shorts"]
    counts["share"] = counts["trades"] / max(len(frame), 1)
    return counts.sort_values("trades", ascending=False).loc[
        :, ["trades", "share", "longs", "shorts", "pairs"]
    ]


def exit_reasons(frame: pd.DataFrame) -> pd.DataFrame:
    """Per exit reason (the plugin's, else Freqtrade's): how often and with what result."""
    trades = recorded(frame).assign(win=lambda f: f["profit_abs"] > 0)
    if trades.empty:
        return pd.DataFrame(columns=["trades", "share", "win_rate", "avg_R", "avg_net_R"])
    stats = trades.groupby("exit_reason").agg(
        trades=("R", "size"), wins=("win", "sum"), avg_R=("R", "mean"), avg_net_R=("net_R", "mean")
    )
    stats["share"] = stats["trades"] / len(trades)
    stats["win_rate"] = stats["wins"] / stats["trades"]
    return stats.sort_values("trades", ascending=False).loc[
        :, ["trades", "share", "win_rate", "avg_R", "avg_net_R"]
    ]


def excursions(frame: pd.DataFrame) -> pd.DataFrame:
    """Per regime (and TOTAL): average MFE and MAE in R, average R, and the MFE kept."""
    trades = recorded(frame)
    trades = trades.loc[trades["mfe_R"].notna()].assign(
        mfe_pos=lambda f: f["mfe_R"].clip(lower=0.0)
    )
    columns = ["trades", "avg_mfe_R", "avg_mae_R", "avg_R", "mfe_kept"]
    if trades.empty:
        return pd.DataFrame(columns=columns)
    spec = {
        "trades": ("R", "size"),
        "avg_mfe_R": ("mfe_R", "mean"),
        "avg_mae_R": ("mae_R", "mean"),
        "avg_R": ("R", "mean"),
        "sum_R": ("R", "sum"),
        "sum_mfe": ("mfe_pos", "sum"),
    }
    stats = pd.concat(
        [
            trades.groupby("regime").agg(**spec),
            trades.assign(_all=TOTAL).groupby("_all").agg(**spec),
        ]
    )
    stats["mfe_kept"] = stats["sum_R"] / stats["sum_mfe"].where(stats["sum_mfe"] > 0)
    return stats.loc[:, columns]


def equity_curves(frame: pd.DataFrame) -> pd.DataFrame:
    """Cumulative result by close time: gross (price move), net of the modelled costs, and
    Freqtrade's realised profit, in the stake currency."""
    trades = recorded(frame).sort_values(["close_ts", "trade_id"], kind="stable")
    return pd.DataFrame(
        {
            "close_ts": trades["close_ts"].to_numpy(),
            "gross": trades["pnl"].cumsum().to_numpy(),
            "net": (trades["pnl"] - trades["total_costs"]).cumsum().to_numpy(),
            "realised": trades["profit_abs"].cumsum().to_numpy(),
        }
    )


def stats_mapping(stats: pd.DataFrame, *, with_total: bool = False) -> dict[str, dict[str, Any]]:
    """{name: {trades, win_rate, avg_R, avg_net_R, avg_cost_in_R, total_costs, ...}} for JSON."""
    rows = stats if with_total else stats.drop(index=TOTAL, errors="ignore")
    return {
        str(name): {str(key): json_number(value) for key, value in row.items()}
        for name, row in rows.to_dict(orient="index").items()
    }


def json_number(value: Any) -> Any:
    """numpy scalars to Python; NaN (nothing to average) to None."""
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return value
