"""Closed trades from Freqtrade, each handed over once, in the order they closed.

Symbol performance must come from Freqtrade's own trade records (the database live, the
backtester's trade list in backtests) so a restart or a backtest sees the same history.
Reading all of it on every call would grow with the history; the feeds here remember how
far they got and return only the trades closed since.

Live watermark: trade ids only grow, but a trade opened earlier can close later. The feed
therefore asks, with one primary-key query, for trades newer than the highest id seen plus
the trades that were still open last time. Order: by close date, then id. Only trades of
different pairs can close out of that order between two calls (Freqtrade holds one trade
per pair), and per-pair statistics do not depend on the order across pairs, so the
incremental state equals a rebuild from the database.

R multiple of a closed trade, first available of:
1. the `R_multiple` the strategy stored in the trade's custom data at the exit fill;
2. the price move (close - open) * amount over the `risk_money` stored at the entry fill
   (backtests: the strategy's own record, since Freqtrade keeps no custom data there);
3. the price move over the distance to the plugin's stop stored at the entry fill
   (`stop_loss` in the trade's custom data);
4. +1 or -1 by the sign of the profit, when the plugin's stop is not known.
Freqtrade's `initial_stop_loss` is never used: for a trade the plugin has no record of, it
is the strategy's wide static backstop, and R measured against it would shrink a loss of
a few percent to a fraction of R.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from freqtrade.persistence import LocalTrade, Trade
from freqtrade.persistence.custom_data import _CustomData
from sqlalchemy import or_, select

logger = logging.getLogger(__name__)

R_KEY = "R_multiple"
RISK_KEY = "risk_money"
STOP_KEY = "stop_loss"  # the plugin's initial stop, stored with the entry record
_ID_CHUNK = 5000

RiskMoneyLookup = Callable[[Any], float | None]


class ClosedTrade(NamedTuple):
    trade_id: int
    pair: str
    closed_at: int  # epoch seconds
    pnl: float  # close_profit_abs: net of fees, in stake currency
    r_multiple: float


def epoch(moment: datetime) -> int:
    """Database dates are naive UTC; backtest dates are aware."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def r_multiple(
    *,
    is_short: bool,
    open_rate: float,
    close_rate: float | None,
    amount: float,
    pnl: float,
    stop_price: float | None = None,
    recorded_r: float | None = None,
    risk_money: float | None = None,
) -> float:
    """The trade's result in R by the first source available (see the module docstring)."""
    if _usable(recorded_r):
        return float(recorded_r)  # type: ignore[arg-type]
    sign = -1.0 if is_short else 1.0
    if _usable(close_rate) and _usable(open_rate):
        move = (close_rate - open_rate) * sign  # type: ignore[operator]
        if _usable(risk_money) and risk_money > 0:  # type: ignore[operator]
            return move * amount / risk_money  # type: ignore[operator]
        if _usable(stop_price) and stop_price > 0 and stop_price != open_rate:  # type: ignore[operator]
            return move / abs(open_rate - stop_price)  # type: ignore[operator]
    return 1.0 if pnl > 0 else -1.0


def _usable(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class DatabaseTradeFeed:
    """Closed trades of Freqtrade's trade database (live and dry-run)."""

    def __init__(self) -> None:
        self._max_id = 0
        self._open_ids: set[int] = set()

    def new_closed(self) -> list[ClosedTrade]:
        statement = select(
            Trade.id,
            Trade.pair,
            Trade.is_open,
            Trade.is_short,
            Trade.close_date,
            Trade.close_profit_abs,
            Trade.open_rate,
            Trade.close_rate,
            Trade.amount,
        ).where(or_(Trade.id > self._max_id, Trade.id.in_(sorted(self._open_ids))))
        rows = Trade.session.execute(statement).all()
        still_open: set[int] = set()
        closed = []
        for row in rows:
            self._max_id = max(self._max_id, row.id)
            if row.is_open or row.close_date is None:
                still_open.add(row.id)
            else:
                closed.append(row)
        self._open_ids = still_open  # an id that vanished (deleted trade) is dropped
        stored = _stored_values([row.id for row in closed])
        trades = [
            ClosedTrade(
                trade_id=row.id,
                pair=row.pair,
                closed_at=epoch(row.close_date),
                pnl=float(row.close_profit_abs or 0.0),
                r_multiple=r_multiple(
                    is_short=bool(row.is_short),
                    open_rate=row.open_rate,
                    close_rate=row.close_rate,
                    amount=row.amount,
                    pnl=float(row.close_profit_abs or 0.0),
                    stop_price=stored.get((row.id, STOP_KEY)),
                    recorded_r=stored.get((row.id, R_KEY)),
                    risk_money=stored.get((row.id, RISK_KEY)),
                ),
            )
            for row in closed
        ]
        return sorted(trades, key=lambda trade: (trade.closed_at, trade.trade_id))


def _stored_values(trade_ids: Sequence[int]) -> dict[tuple[int, str], float]:
    """R_multiple, risk_money and the plugin's stop from the custom data table, in a few
    queries."""
    values: dict[tuple[int, str], float] = {}
    for start in range(0, len(trade_ids), _ID_CHUNK):
        chunk = trade_ids[start : start + _ID_CHUNK]
        statement = select(_CustomData.ft_trade_id, _CustomData.cd_key, _CustomData.cd_value).where(
            _CustomData.ft_trade_id.in_(chunk), _CustomData.cd_key.in_((R_KEY, RISK_KEY, STOP_KEY))
        )
        for trade_id, key, text in _CustomData.session.execute(statement).all():
            try:
                values[(trade_id, key)] = float(text)
            except (TypeError, ValueError):
                logger.warning("Trade %s: custom data %s=%r is not a number", trade_id, key, text)
    return values


class BacktestTradeFeed:
    """Closed trades of the running backtest (Freqtrade's LocalTrade.bt_trades list).

    Freqtrade replaces that list when a new backtest starts; `restarted` tells the owner to
    forget the previous run.
    """

    def __init__(self, risk_money_of: RiskMoneyLookup | None = None) -> None:
        self.risk_money_of = risk_money_of
        self._trades: list[Any] | None = None
        self._seen = 0

    @property
    def restarted(self) -> bool:
        return self._trades is not None and LocalTrade.bt_trades is not self._trades

    def new_closed(self) -> list[ClosedTrade]:
        if LocalTrade.bt_trades is not self._trades:
            self._trades, self._seen = LocalTrade.bt_trades, 0
        fresh = self._trades[self._seen :]
        self._seen += len(fresh)
        return [self._closed(trade) for trade in fresh]

    def _closed(self, trade: Any) -> ClosedTrade:
        pnl = float(trade.close_profit_abs or 0.0)
        risk = self.risk_money_of(trade) if self.risk_money_of is not None else None
        return ClosedTrade(
            trade_id=trade.id,
            pair=trade.pair,
            closed_at=epoch(trade.close_date),
            pnl=pnl,
            r_multiple=r_multiple(
                is_short=trade.is_short,
                open_rate=trade.open_rate,
                close_rate=trade.close_rate,
                amount=trade.amount,
                pnl=pnl,
                risk_money=risk,
            ),
        )
