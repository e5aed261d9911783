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

What a closed trade counts for (issue 16, defect 8): one number decides both the win and
the R, so they always agree. R is net: Freqtrade's realised profit (`close_profit_abs`,
after its fees and funding; live and dry-run the fills also carry the slippage) over the
risk money the plugin recorded when the entry filled (`risk_money` in the trade's custom
data; in backtests the strategy's own record, since Freqtrade keeps no custom data there).
A win is that profit > 0. A trade without the plugin's risk money (history from before the
plugin, another strategy's trade, a lost record) has no R the plugin can vouch for: it
gets `r_multiple = None` and the tracker leaves it out (and says so), instead of counting
it at a made-up +-1 R or against Freqtrade's wide static backstop.
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

RISK_KEY = "risk_money"  # stored with the plugin's entry record
_ID_CHUNK = 5000

RiskMoneyLookup = Callable[[Any], float | None]


class ClosedTrade(NamedTuple):
    trade_id: int
    pair: str
    closed_at: int  # epoch seconds
    pnl: float  # close_profit_abs: net of fees, in stake currency
    r_multiple: float | None  # pnl over the recorded risk money; None: no plugin record

    @property
    def is_win(self) -> bool:
        """The same net result as the R: a win is a realised profit after fees."""
        return self.pnl > 0


def epoch(moment: datetime) -> int:
    """Database dates are naive UTC; backtest dates are aware."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def net_r_multiple(pnl: float, risk_money: float | None) -> float | None:
    """Realised profit after fees over the recorded risk money; None without a record."""
    if _usable(risk_money) and risk_money > 0 and _usable(pnl):  # type: ignore[operator]
        return pnl / risk_money  # type: ignore[operator]
    return None


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
            Trade.close_date,
            Trade.close_profit_abs,
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
        risk = _risk_money([row.id for row in closed])
        trades = [
            ClosedTrade(
                trade_id=row.id,
                pair=row.pair,
                closed_at=epoch(row.close_date),
                pnl=float(row.close_profit_abs or 0.0),
                r_multiple=net_r_multiple(float(row.close_profit_abs or 0.0), risk.get(row.id)),
            )
            for row in closed
        ]
        return sorted(trades, key=lambda trade: (trade.closed_at, trade.trade_id))


def _risk_money(trade_ids: Sequence[int]) -> dict[int, float]:
    """The risk money recorded at each trade's entry fill, in a few queries."""
    values: dict[int, float] = {}
    for start in range(0, len(trade_ids), _ID_CHUNK):
        chunk = trade_ids[start : start + _ID_CHUNK]
        statement = select(_CustomData.ft_trade_id, _CustomData.cd_value).where(
            _CustomData.ft_trade_id.in_(chunk), _CustomData.cd_key == RISK_KEY
        )
        for trade_id, text in _CustomData.session.execute(statement).all():
            try:
                values[trade_id] = float(text)
            except (TypeError, ValueError):
                logger.warning(
                    "Trade %s: custom data %s=%r is not a number", trade_id, RISK_KEY, text
                )
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
            r_multiple=net_r_multiple(pnl, risk),
        )
