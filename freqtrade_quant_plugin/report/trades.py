"""The report's one trade table: Freqtrade's closed trades joined with the plugin's trade records.

Both sources (trade DB, backtest result) are turned into this shape, so every figure is
computed by the same code whatever the trades came from. One row per closed trade;
`has_record` is False for a trade the plugin never recorded (another strategy, or a
record lost), whose R and cost columns are then NaN.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

# Column -> trade record key (None: filled by the loader from Freqtrade's own trade).
RECORD_COLUMNS: dict[str, str] = {
    "regime": "regime_at_entry",
    "R": "R_multiple",
    "net_R": "net_R_multiple",
    "cost_in_R": "cost_in_R",
    "total_costs": "total_costs",
    "fees": "fees",
    "slippage": "slippage",
    "funding": "funding",
    "pnl": "pnl_dollars",
    "mfe_R": "mfe_R",
    "mae_R": "mae_R",
    "exit_reason": "exit_reason",
    "risk_money": "risk_money",  # entry record: what the pair tracker divides by
}
TEXT_COLUMNS = ("regime", "exit_reason")
NUMBER_COLUMNS = tuple(name for name in RECORD_COLUMNS if name not in TEXT_COLUMNS)
RECORD_KEYS = tuple(RECORD_COLUMNS.values())
# The exit record's own keys: a trade whose custom data lacks them was never closed by
# the plugin's exit hook.
EXIT_KEY = "R_multiple"

# Freqtrade's side of each trade.
TRADE_COLUMNS = (
    "trade_id",
    "pair",
    "is_short",
    "open_ts",  # epoch seconds
    "close_ts",
    "profit_abs",  # Freqtrade's realised profit (net of its fees), stake currency
    "tracker_R",  # R as the pair tracker counts it: profit_abs / risk_money, else NaN
    "freqtrade_exit_reason",
)
COLUMNS = (*TRADE_COLUMNS, *RECORD_COLUMNS, "has_record")
NO_REGIME = "NO_RECORD"


def build_frame(trades: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """A trade table from dicts holding the TRADE_COLUMNS and (where known) the record keys."""
    frame = pd.DataFrame.from_records(list(trades))
    return finish_frame(frame)


def finish_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Rename record keys to columns, add what is missing, fix the dtypes, sort by close."""
    frame = frame.rename(columns={key: column for column, key in RECORD_COLUMNS.items()})
    for column in COLUMNS:
        if column not in frame.columns:
            frame[column] = np.nan
    for column in NUMBER_COLUMNS:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    frame["profit_abs"] = pd.to_numeric(frame["profit_abs"], errors="coerce").astype(float)
    for column in ("open_ts", "close_ts", "trade_id"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").fillna(0).astype("int64")
    frame["has_record"] = frame["R"].notna()
    # The pair tracker's R (see adapters/pairs/closed_trades.py): net, by the same number as the
    # win, and only for trades with the plugin's risk money.
    risk = frame["risk_money"]
    frame["tracker_R"] = (frame["profit_abs"] / risk).where(risk > 0)
    frame["regime"] = frame["regime"].where(frame["regime"].notna(), NO_REGIME).astype(str)
    frame["regime"] = frame["regime"].where(frame["has_record"], NO_REGIME)
    for column in ("exit_reason", "freqtrade_exit_reason", "pair"):
        frame[column] = frame[column].where(frame[column].notna(), "").astype(str)
    frame["is_short"] = frame["is_short"].fillna(False).astype(bool)
    # No exit reason of the plugin's own: Freqtrade's stands in.
    frame["exit_reason"] = frame["exit_reason"].where(
        frame["exit_reason"] != "", frame["freqtrade_exit_reason"]
    )
    frame = frame.sort_values(["close_ts", "trade_id"], kind="stable").reset_index(drop=True)
    return frame.loc[:, list(COLUMNS)]
