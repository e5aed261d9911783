"""The signed Binance endpoints of the live rehearsal, in front of the public market API.

Spot: account, order (place, query, cancel), openOrders, allOrders, myTrades. USD-M:
positionSide/dual, multiAssetsMargin, leverage, marginType, leverageBracket,
positionRisk, account, balance, order, openOrders, allOrders, userTrades, income.
Every signed request is checked first (see `signing`). `/rehearsal/...` is the control
endpoint: unsigned (the server only listens on loopback), to read the account and switch
faults on (see `faults`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from urllib.parse import parse_qs

from freqtrade_quant_plugin.offline.account import Order
from freqtrade_quant_plugin.offline.api import OfflineBinanceApi, Response
from freqtrade_quant_plugin.offline.api_base import FUTURES, SPOT
from freqtrade_quant_plugin.offline.exchange_sim import SimulatedExchange
from freqtrade_quant_plugin.offline.faults import TIMEOUT_HOLD_S
from freqtrade_quant_plugin.offline.order_docs import (
    algo_document,
    new_order_document,
    order_document,
    spot_account_document,
    trade_document,
)
from freqtrade_quant_plugin.offline.params import BinanceError, Query, integer, param, required
from freqtrade_quant_plugin.offline.signed_futures import FuturesAccountEndpoints
from freqtrade_quant_plugin.offline.signing import Credentials, verify

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/rehearsal/"
ORDER_TYPES = {
    SPOT: frozenset({"LIMIT", "MARKET", "STOP_LOSS_LIMIT", "LIMIT_MAKER"}),
    FUTURES: frozenset({"LIMIT", "MARKET"}),
    "algo": frozenset({"STOP", "STOP_MARKET"}),  # USD-M conditional orders: /fapi/v1/algoOrder
}


def _number(query: Query, name: str, needed: bool = False) -> float:
    text = required(query, name) if needed else param(query, name)
    if text is None:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise BinanceError(400, -1100, f"Illegal characters found in parameter '{name}'.") from None
    if value <= 0:
        raise BinanceError(400, -1013, f"Invalid {name}.")
    return value


class RehearsalApi(FuturesAccountEndpoints):
    """Routes signed, control and public requests; `handle_http` is what the server calls."""

    def __init__(
        self,
        public: OfflineBinanceApi,
        exchange: SimulatedExchange,
        credentials: Credentials,
        now_ms: Callable[[], int],
    ) -> None:
        self.public = public
        self.exchange = exchange
        self.credentials = credentials
        self._now_ms = now_ms
        self._routes: dict[tuple[str, str], Callable[[Query], object]] = {
            ("GET", "/api/v3/account"): self._spot_account,
            ("POST", "/api/v3/order"): lambda q: self._new_order(q, SPOT),
            ("GET", "/api/v3/order"): lambda q: self._get_order(q, SPOT),
            ("DELETE", "/api/v3/order"): lambda q: self._cancel_order(q, SPOT),
            ("GET", "/api/v3/openOrders"): lambda q: self._orders(q, SPOT, True),
            ("GET", "/api/v3/allOrders"): lambda q: self._orders(q, SPOT, False),
            ("GET", "/api/v3/myTrades"): lambda q: self._trades(q, SPOT),
            ("GET", "/sapi/v1/margin/allPairs"): lambda q: [],
            ("GET", "/sapi/v1/margin/isolated/allPairs"): lambda q: [],
            ("GET", "/fapi/v1/positionSide/dual"): lambda q: {"dualSidePosition": False},
            ("GET", "/fapi/v1/multiAssetsMargin"): lambda q: {"multiAssetsMargin": False},
            ("POST", "/fapi/v1/leverage"): self._leverage,
            ("POST", "/fapi/v1/marginType"): self._margin_type,
            ("GET", "/fapi/v1/leverageBracket"): self._brackets,
            ("GET", "/fapi/v2/positionRisk"): self._position_risk,
            ("GET", "/fapi/v3/positionRisk"): self._position_risk,
            ("GET", "/fapi/v2/account"): self._futures_account,
            ("GET", "/fapi/v3/account"): self._futures_account,
            ("GET", "/fapi/v2/balance"): self._futures_balance,
            ("GET", "/fapi/v3/balance"): self._futures_balance,
            ("POST", "/fapi/v1/order"): lambda q: self._new_order(q, FUTURES),
            ("GET", "/fapi/v1/order"): lambda q: self._get_order(q, FUTURES),
            ("DELETE", "/fapi/v1/order"): lambda q: self._cancel_order(q, FUTURES),
            ("GET", "/fapi/v1/openOrders"): lambda q: self._orders(q, FUTURES, True),
            ("GET", "/fapi/v1/allOrders"): lambda q: self._orders(q, FUTURES, False),
            ("GET", "/fapi/v1/userTrades"): lambda q: self._trades(q, FUTURES),
            ("POST", "/fapi/v1/algoOrder"): lambda q: self._new_order(q, FUTURES, algo=True),
            ("GET", "/fapi/v1/algoOrder"): lambda q: self._get_order(q, FUTURES, algo=True),
            ("DELETE", "/fapi/v1/algoOrder"): self._cancel_algo,
            ("GET", "/fapi/v1/openAlgoOrders"): lambda q: self._orders(q, FUTURES, True, algo=True),
            ("GET", "/fapi/v1/allAlgoOrders"): lambda q: self._orders(q, FUTURES, False, algo=True),
            ("GET", "/fapi/v1/income"): lambda q: [],
        }
        self._signed_paths = {path for _, path in self._routes}
        self.answered = 0  # signed requests answered with data (tests watch a bot come back)

    def handle_http(
        self, method: str, path: str, query_text: str, body: str, api_key: str | None
    ) -> Response:
        path = path.rstrip("/") or "/"
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path, parse_qs(query_text, keep_blank_values=True))
        outage = self.exchange.faults.outage(path)
        if outage == 0:
            time.sleep(TIMEOUT_HOLD_S)  # no answer in time: the client gives up first
            outage = 504
        if outage is not None:
            return self.exchange.faults.outage_answer(outage)
        if path not in self._signed_paths:
            return self.public.handle_http(method, path, query_text, body, api_key)
        route = self._routes.get((method, path))
        try:
            query = verify(self.credentials, api_key, query_text, body, self._now_ms())
            if route is None:
                return 405, {"code": -1, "msg": f"{method} {path} is not supported."}
            answer = route(query)
            self.answered += 1
            return 200, answer
        except BinanceError as error:
            if error.code in (-2014, -2015, -1022):
                logger.warning("Rehearsal: %s %s refused: %s", method, path, error.msg)
            return error.status, error.body()

    # -- control ----------------------------------------------------------------------

    def _control(self, method: str, path: str, query: Query) -> Response:
        faults = self.exchange.faults
        try:
            name = path[len(CONTROL_PREFIX) :]
            if method == "GET" and name == "account":
                return 200, self.exchange.snapshot()
            if method == "GET" and name == "faults":
                return 200, faults.describe()
            if method == "POST" and name == "outage":
                faults.start_outage(
                    int(required(query, "status")),
                    _number(query, "seconds", True),
                    param(query, "path") or "/",
                )
            elif method == "POST" and name == "reject":
                faults.reject_orders(
                    int(required(query, "count")), int(param(query, "code") or -2010)
                )
            elif method == "POST" and name == "partial":
                faults.partial_fills(int(required(query, "count")), _number(query, "ratio", True))
            else:
                return 404, {"code": -1, "msg": f"Unknown control {method} {path}."}
        except (ValueError, BinanceError) as error:
            return 400, {"code": -1, "msg": str(error)}
        logger.info("Rehearsal control: %s %s", name, {k: v[0] for k, v in query.items()})
        return 200, faults.describe()

    # -- spot and common --------------------------------------------------------------

    def _spot_account(self, query: Query) -> dict:
        return spot_account_document(self.exchange.synced(), self._now_ms())

    def _new_order(self, query: Query, market: str, algo: bool = False) -> dict:
        instrument = self.public._instrument(market, required(query, "symbol"))
        side = required(query, "side")
        kind = required(query, "type")
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1100, "Illegal characters found in parameter 'side'.")
        if market == FUTURES and kind in ORDER_TYPES["algo"] and not algo:
            raise BinanceError(
                400, -4120, "Order type not supported for this endpoint. Please use the Algo "
                "Order API endpoints instead."
            )  # fmt: skip
        if kind not in ORDER_TYPES["algo" if algo else market]:
            raise BinanceError(400, -1116, "Invalid orderType.")
        needs_price = kind in ("LIMIT", "LIMIT_MAKER", "STOP_LOSS_LIMIT", "STOP")
        needs_stop = kind in ("STOP_LOSS_LIMIT", "STOP", "STOP_MARKET")
        now = self._now_ms()
        order = Order(
            order_id=0,
            client_id=param(query, "clientAlgoId" if algo else "newClientOrderId") or "",
            symbol=instrument.symbol,
            market=market,
            side=side,
            type=kind,
            quantity=_number(query, "quantity", True),
            price=_number(query, "price", needs_price),
            stop_price=_number(query, "triggerPrice" if algo else "stopPrice", needs_stop),
            time_in_force=param(query, "timeInForce") or ("GTC" if needs_price else ""),
            created_ms=now,
            checked_from_ms=0,
            reduce_only=param(query, "reduceOnly") == "true",
            updated_ms=now,
            algo=algo,
        )
        placed = self.exchange.place(order, instrument)
        if algo:
            return algo_document(placed)
        fills = [f for f in self.exchange.state.fills if f.order_id == placed.order_id]
        return new_order_document(placed, fills)

    def _cancel_algo(self, query: Query) -> dict:
        order = self._lookup(query, FUTURES, algo=True, unknown=(-2011, "Unknown order sent."))
        self.exchange.cancel(order, self.public._instrument(FUTURES, order.symbol))
        return {"algoId": order.order_id, "clientAlgoId": order.client_id, "code": "200",
                "msg": "success"}  # fmt: skip

    def _lookup(
        self,
        query: Query,
        market: str,
        algo: bool = False,
        unknown: tuple[int, str] = (-2013, "Order does not exist."),
    ) -> Order:
        symbol = param(query, "symbol")
        if symbol is None and not algo:
            required(query, "symbol")
        symbol = None if symbol is None else self.public._instrument(market, symbol).symbol
        order_id = integer(query, "algoId" if algo else "orderId")
        client_id = param(query, "clientAlgoId" if algo else "origClientOrderId")
        if order_id is None and client_id is None:
            raise BinanceError(
                400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both "
                "were empty/null!"
            )  # fmt: skip
        order = self.exchange.find(market, symbol, order_id, client_id)
        if order is None or order.algo != algo:
            raise BinanceError(400, *unknown)
        return order

    def _get_order(self, query: Query, market: str, algo: bool = False) -> dict:
        order = self._lookup(query, market, algo)
        return algo_document(order) if algo else order_document(order)

    def _cancel_order(self, query: Query, market: str) -> dict:
        order = self._lookup(query, market, unknown=(-2011, "Unknown order sent."))
        instrument = self.public._instrument(market, order.symbol)
        doc = order_document(self.exchange.cancel(order, instrument))
        doc["origClientOrderId"] = order.client_id
        return doc

    def _orders(self, query: Query, market: str, only_open: bool, algo: bool = False) -> list:
        symbol = param(query, "symbol") if only_open else required(query, "symbol")
        if symbol is not None:
            symbol = self.public._instrument(market, symbol).symbol
        state = self.exchange.synced()
        start = integer(query, "startTime") or 0
        document = algo_document if algo else order_document
        return [
            document(order)
            for order in state.orders.values()
            if order.market == market and order.algo == algo
            and (symbol is None or order.symbol == symbol)
            and (order.is_open or not only_open)
            and order.created_ms >= start
        ]  # fmt: skip

    def _trades(self, query: Query, market: str) -> list:
        symbol = self.public._instrument(market, required(query, "symbol")).symbol
        order_id = integer(query, "orderId")
        start = integer(query, "startTime") or 0
        from_id = integer(query, "fromId") or 0
        count = integer(query, "limit") or 500
        fills = [
            trade_document(fill)
            for fill in self.exchange.synced().fills
            if fill.market == market and fill.symbol == symbol
            and (order_id is None or fill.order_id == order_id)
            and fill.time_ms >= start and fill.trade_id >= from_id
        ]  # fmt: skip
        return fills[:count]
