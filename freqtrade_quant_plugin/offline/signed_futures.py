"""The USD-M account endpoints of the rehearsal: leverage, margin type, brackets, positions.

A mixin of `signed_api.RehearsalApi` (it provides `public`, `exchange` and `_now_ms`).
One leverage bracket (125x, 0.4 % maintenance) serves every symbol.
"""

from __future__ import annotations

from collections.abc import Callable

from freqtrade_quant_plugin.offline.api import OfflineBinanceApi
from freqtrade_quant_plugin.offline.api_base import FUTURES
from freqtrade_quant_plugin.offline.exchange_sim import SimulatedExchange
from freqtrade_quant_plugin.offline.order_docs import futures_account_document, position_document
from freqtrade_quant_plugin.offline.params import BinanceError, Query, integer, param, required


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
        bracket = {
            "bracket": 1, "initialLeverage": 125, "notionalCap": 1_000_000,
            "notionalFloor": 0, "maintMarginRatio": 0.004, "cum": 0.0,
        }  # fmt: skip
        return [{"symbol": s, "brackets": [bracket]} for s in symbols]

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
