"""Trade records: built at the entry and exit fills, stored where they survive.

Live and dry-run, every field goes into the trade's custom data (Freqtrade's trade DB).
Backtests keep custom data only in memory, scanned linearly on each write and dropped at
the end of the run, so there the records go to a per-process collection instead, which
the backtest export writes beside Freqtrade's result, and which NetRHyperOptLoss reads
after each hyperopt epoch (the loss runs in the process that ran the epoch's backtest).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Protocol

from freqtrade_quant_plugin.adapters.trade_state import EntryState
from freqtrade_quant_plugin.core.enrichment import enrich_trade_entry, enrich_trade_exit

logger = logging.getLogger(__name__)

_collected: dict[str, list[dict[str, Any]]] = {}


class _TradeWithCustomData(Protocol):
    def set_custom_data(self, key: str, value: Any) -> None: ...


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


def store_on_trade(trade: _TradeWithCustomData, record: dict[str, Any]) -> None:
    """One custom-data key per field, so each is queryable in the trade DB."""
    for key, value in record.items():
        trade.set_custom_data(key, value)


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
