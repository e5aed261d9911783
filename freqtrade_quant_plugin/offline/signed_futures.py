"""The USD-M account endpoints of the rehearsal: leverage, margin type, brackets, positions.

A mixin of `signed_api.RehearsalApi` (it provides `public`, `exchange` and `_now_ms`).
Every symbol gets the leverage brackets of a large Binance perpetual (`BRACKETS`).
"""

from __future__ import annotations

from collections.abc import Callable

from freqtrade_quant_plugin.offline.api import OfflineBinanceApi
from freqtrade_quant_plugin.offline.api_base import FUTURES
from freqtrade_quant_plugin.offline.exchange_sim import SimulatedExchange
from freqtrade_quant_plugin.offline.order_docs import futures_account_document, position_document
from freqtrade_quant_plugin.offline.params import BinanceError, Query, integer, param, required

# (max leverage, notional cap, maintenance margin ratio), as Binance lists BTCUSDT's
BRACKETS = (
    (125, 50_000, 0.004), (100, 600_000, 0.005), (50, 3_000_000, 0.01),
    (20, 12_000_000, 0.025), (10, 70_000_000, 0.05), (5, 100_000_000, 0.1),
    (4, 230_000_000, 0.125), (3, 480_000_000, 0.15), (2, 600_000_000, 0.25),
    (1, 800_000_000, 0.5),
)  # fmt: skip


def leverage_brackets() -> list[dict]:
    """Binance's leverageBracket entries; `cum` keeps the maintenance margin continuous."""
    brackets, floor, cum, previous_ratio = [], 0, 0.0, 0.0
    for number, (leverage, cap, ratio) in enumerate(BRACKETS, start=1):
        cum += floor * (ratio - previous_ratio)
        brackets.append(
            {"bracket": number, "initialLeverage": leverage, "notionalCap": cap,
             "notionalFloor": floor, "maintMarginRatio": ratio, "cum": round(cum, 8)}
        )  # fmt: skip
        floor, previous_ratio = cap, ratio
    return brackets


class FuturesAccountEndpoints:
    public: OfflineBinanceApi
    exchange: SimulatedExchange
    _now_ms: Callable[[], int]

    def _leverage(self, query: Query) -> dict:
        symbol = self.public._instrument(FUTURES, required(query, "symbol")).symbol
        leverage = integer(query, "leverage") or 0
        if not 1 <= leverage <= 125:
            raise BinanceError(400, -4028, "Leverage is not valid")
        with self.exchange._lock:
            self.exchange.state.position(symbol).leverage = leverage
            self.exchange._save()
        return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": symbol}

    def _margin_type(self, query: Query) -> dict:
        symbol = self.public._instrument(FUTURES, required(query, "symbol")).symbol
        margin_type = required(query, "marginType")
        if margin_type not in ("ISOLATED", "CROSSED"):
            raise BinanceError(400, -1116, "Invalid marginType.")
        with self.exchange._lock:
            self.exchange.state.position(symbol).margin_type = margin_type
            self.exchange._save()
        return {"code": 200, "msg": "success"}

    def _brackets(self, query: Query) -> list:
        symbols = [i.symbol for i in self.public._selected(query, FUTURES)]
        return [{"symbol": s, "brackets": leverage_brackets()} for s in symbols]

    def _positions(self, symbol: str | None) -> list[dict]:
        state = self.exchange.synced()
        now = self._now_ms()
        docs = []
        for name, position in sorted(state.positions.items()):
            if symbol is not None and name != symbol:
                continue
            instrument = self.public._instrument(FUTURES, name)
            quote, _ = self.public._quote(instrument, FUTURES)
            docs.append(position_document(name, position, quote.last, now))
        return docs

    def _position_risk(self, query: Query) -> list:
        symbol = param(query, "symbol")
        if symbol is not None:
            symbol = self.public._instrument(FUTURES, symbol).symbol
        return self._positions(symbol)

    def _futures_account(self, query: Query) -> dict:
        positions = [p for p in self._positions(None) if float(p["positionAmt"])]
        return futures_account_document(self.exchange.synced(), positions, self._now_ms())

    def _futures_balance(self, query: Query) -> list:
        return futures_account_document(self.exchange.synced(), [], self._now_ms())["assets"]
