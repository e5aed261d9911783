"""Net R of each trade of a hyperopt epoch, for NetRHyperOptLoss.

Freqtrade hands a hyperopt loss the epoch's trades as a dataframe: profit after
Freqtrade's fees, but neither the money the trade risked nor the plugin's modelled
slippage and funding. Those live in the strategy's trade records (`net_R_multiple` =
(gross P&L - fees - slippage - funding) / risk money at entry), which QuantStrategy collects
per process during backtests and hyperopt epochs (adapters/records/trade_records.py). Freqtrade
computes the loss in the process that just ran the epoch's backtest (a worker with -j > 1),
and the strategy starts a fresh collection at the first candle of every run, so the
records at hand are exactly this epoch's.

Each trade of the dataframe is matched to its record by (pair, side, open time). A trade
without a usable record (e.g. its entry regime was unknown) counts with the R Freqtrade's
own numbers give: profit_abs (after Freqtrade's fees) over amount x |open rate - initial
stop|; that leaves out slippage and funding, so it is logged. Not one record for a
strategy with trades means it is not a QuantStrategy: the loss cannot be computed, and
says so, instead of scoring something else.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Any

import numpy as np
from freqtrade.exceptions import OperationalException
from pandas import DataFrame

from freqtrade_quant_plugin.adapters.records import trade_records

logger = logging.getLogger(__name__)

_Key = tuple[str, bool, int]


def net_r_of_trades(results: DataFrame, strategy_name: str) -> np.ndarray:
    """Net R per trade of `results` (Freqtrade's epoch trades), in closing order."""
    if results.empty:
        return np.empty(0)
    records = {_record_key(r): r for r in trade_records.run_records(strategy_name)}
    if not records:
        raise OperationalException(
            f"NetRHyperOptLoss needs the trade records of a QuantStrategy: strategy "
            f"{strategy_name} recorded none for its {len(results)} trades. Use it with a "
            "strategy derived from freqtrade_quant_plugin's QuantStrategy."
        )
    ordered = results.sort_values(["close_date", "open_date"], kind="stable")
    values, missing = [], 0
    for row in ordered.itertuples(index=False):
        key = (str(row.pair), bool(row.is_short), int(row.open_date.timestamp()))
        record = records.get(key)
        net_r = _finite(record.get("net_R_multiple")) if record else None
        if net_r is None:
            missing += 1
            net_r = _freqtrade_r(row)
        values.append(net_r)
    if missing:
        logger.warning(
            "NetRHyperOptLoss: %d of %d trades have no plugin record; their R is Freqtrade's "
            "profit over the distance to the initial stop (no slippage or funding)",
            missing,
            len(values),
        )
    return np.asarray(values, dtype=float)


def _record_key(record: dict[str, Any]) -> _Key:
    opened = datetime.fromisoformat(str(record["open_date"]))
    return (str(record["pair"]), bool(record.get("is_short")), int(opened.timestamp()))


def _finite(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def _freqtrade_r(row: Any) -> float:
    """profit_abs over the money at risk to Freqtrade's initial stop; +-1 when unknown."""
    profit = float(row.profit_abs or 0.0)
    stop = _finite(row.initial_stop_loss_abs)
    risk = abs(float(row.open_rate) - stop) * float(row.amount) if stop else 0.0
    if risk > 0:
        return profit / risk
    return 1.0 if profit > 0 else -1.0
