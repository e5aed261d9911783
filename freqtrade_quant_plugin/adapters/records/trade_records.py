"""Trade records: built at the entry and exit fills, stored where they survive.

Live and dry-run, the fields go into the trade's custom data (Freqtrade's trade DB), one
key each so the report and the pair tracker query them and FreqUI lists them: the SPEC 8
fields and the few the readers need (`STORED_ENTRY_KEYS`, `STORED_EXIT_KEYS`), not the
copies of Freqtrade's own trade columns (pair, side, rates, amount, leverage, its exit
reason) or of the JSON entry state (the sizing facts). Each fill's keys are written in one
transaction: Freqtrade's `set_custom_data` commits per key.

Backtests keep custom data only in memory, scanned linearly on each write and dropped at
the end of the run, so there the whole records go to a per-process collection instead,
which the backtest export writes beside Freqtrade's result, and which NetRHyperOptLoss
reads after each hyperopt epoch (the loss runs in the process that ran the epoch's
backtest).
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any, Protocol

from freqtrade.persistence.custom_data import CustomDataWrapper, _CustomData
from freqtrade.util import dt_now
from sqlalchemy import select

from freqtrade_quant_plugin.adapters.records.trade_state import EntryState
from freqtrade_quant_plugin.core.enrichment import enrich_trade_entry, enrich_trade_exit

logger = logging.getLogger(__name__)

_collected: dict[str, list[dict[str, Any]]] = {}

# SPEC 8's entry fields, the plugin's stop (report, pair tracker) and risk money (pair
# tracker), and the levels a lost entry state is rebuilt from (state_recovery).
STORED_ENTRY_KEYS = (
    "regime_at_entry",
    "stop_loss",
    "take_profit",
    "breakeven_price",
    "atr",
    "risk_money",
    "sl_distance_dollars",
    "sl_distance_pct",
    "sl_distance_atr",
    "tp_distance_dollars",
    "tp_distance_pct",
    "tp_distance_atr",
    "risk_reward_ratio",
    "confidence",
    "consensus",
)
# SPEC 8's exit fields, the cost items and plugin exit reason the report shows, and the
# net win/loss flag (a gross win can be a net loss).
STORED_EXIT_KEYS = (
    "exit_reason",
    "was_winner",
    "pnl_dollars",
    "R_multiple",
    "net_R_multiple",
    "total_costs",
    "cost_in_R",
    "fees",
    "slippage",
    "funding",
    "mfe",
    "mae",
    "mfe_R",
    "mae_R",
    "duration_hours",
)


class _TradeWithId(Protocol):
    id: int


def entry_record(state: EntryState) -> dict[str, Any]:
    """The trade record's entry fields plus the sizing facts behind them."""
    record = enrich_trade_entry(
        symbol=state.pair,
        action="SHORT" if state.is_short else "LONG",
        entry_price=state.entry_price,
        quantity=state.size,
        stop_loss=state.stop_price,
        take_profit=state.take_profit_price,
        atr=state.atr,
        regime=state.regime,
    )
    record.update(
        volatility_regime_at_entry=state.volatility_regime,
        breakeven_price=state.breakeven_price,
        leverage=state.leverage,
        risk_money=state.risk_money,
        planned_risk_money=state.planned_risk_money,
        balance_at_entry=state.balance,
        regime_multiplier=state.regime_multiplier,
        risk_modifier=state.risk_modifier,
    )
    return record


def exit_record(
    entry: dict[str, Any],
    *,
    exit_price: float,
    exit_reason: str,
    freqtrade_exit_reason: str | None,
    pnl: float,
    fees: float,
    slippage: float,
    funding: float,
    mfe: float | None,
    mae: float | None,
    duration_hours: float,
    slippage_in_fills: bool = False,
) -> dict[str, Any]:
    """The trade record's exit fields; pnl is gross (price move only), costs are itemised beside it.

    `slippage_in_fills`: the prices are real fills and `slippage` was measured from them
    (live and dry-run), so the net result does not subtract it a second time.
    """
    record = enrich_trade_exit(
        entry,
        exit_price=exit_price,
        exit_reason=exit_reason,
        pnl_dollars=pnl,
        fees_estimate=fees,
        slippage_estimate=slippage,
        mfe=mfe,
        mae=mae,
        duration_hours=duration_hours,
        funding=funding,
        slippage_in_fills=slippage_in_fills,
    )
    record.update(
        freqtrade_exit_reason=freqtrade_exit_reason,
        fees=fees,
        slippage=slippage,
        funding=funding,
    )
    return record


def measured_slippage(trade: Any) -> float:
    """What the trade's fills paid against the prices Freqtrade asked for, in quote money.

    Per filled order: (average fill - requested price) x filled amount, signed so that a
    worse fill (a buy above, a sell below the request) is a cost and a better one a gain.
    The requested price is the one Freqtrade placed the order with (`ft_price`: the limit,
    the rate a market order was sent at, a stop order's trigger). Orders missing either
    price are left out.
    """
    total = 0.0
    for order in trade.orders:
        filled = order.safe_filled
        fill = order.average
        requested = order.ft_price or order.price
        if not (filled and fill and requested):
            continue
        side = order.side if order.side in ("buy", "sell") else None
        if side is None:
            side = trade.exit_side if order.ft_order_side == "stoploss" else order.ft_order_side
        sign = 1.0 if side == "buy" else -1.0
        total += (float(fill) - float(requested)) * sign * float(filled)
    return total


def stored_fields(record: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The record's fields that are kept on the trade (see the module docstring)."""
    return {key: record[key] for key in keys if key in record}


def store_on_trade(trade: _TradeWithId, values: dict[str, Any]) -> None:
    """One custom-data key per value, all in one commit, as Freqtrade stores them: the
    type's name, and str() of a bool/float/int/str or JSON text of anything else."""
    session = _CustomData.session
    rows = session.scalars(
        select(_CustomData).where(
            _CustomData.ft_trade_id == trade.id, _CustomData.cd_key.in_(list(values))
        )
    )
    existing = {row.cd_key: row for row in rows}
    now = dt_now()
    for key, value in values.items():
        kind = type(value).__name__
        text = str(value) if kind in CustomDataWrapper.unserialized_types else json.dumps(value)
        row = existing.get(key)
        if row is None:
            row = _CustomData(ft_trade_id=trade.id, cd_key=key, created_at=now)
            session.add(row)
        else:
            row.updated_at = now
        row.cd_type, row.cd_value = kind, text
    session.commit()


def start_collecting(strategy_name: str) -> None:
    """A new backtest of this strategy starts: forget the records of its previous run."""
    _collected[strategy_name] = []


def collect(strategy_name: str, record: dict[str, Any]) -> None:
    _collected.setdefault(strategy_name, []).append(record)


def run_records(strategy_name: str) -> list[dict[str, Any]]:
    """The records of the strategy's current (or just finished) run, left in place."""
    return list(_collected.get(strategy_name, ()))


def take_collected() -> dict[str, list[dict[str, Any]]]:
    """Every strategy's records of this process, handed over once (the store is emptied)."""
    records = dict(_collected)
    _collected.clear()
    return records


def iso(moment: datetime) -> str:
    return moment.isoformat()
