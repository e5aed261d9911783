"""The Binance REST endpoints ccxt and Freqtrade use, answered from a datadir.

Transport-free: `handle(method, path, query)` returns (HTTP status, JSON body), so the
HTTP layer stays trivial and every answer, errors included, is a Binance-style document
that ccxt maps to its usual exceptions (-1121 -> BadSymbol, -1120/-1102/-1100 -> BadRequest).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qs

import numpy as np

from freqtrade_quant_plugin.offline.api_base import FUTURES, SPOT, num
from freqtrade_quant_plugin.offline.candles import (
    CandleStore,
    UnknownIntervalError,
)
from freqtrade_quant_plugin.offline.datadir import timeframe_ms
from freqtrade_quant_plugin.offline.futures_api import FuturesEndpoints
from freqtrade_quant_plugin.offline.markets import (
    as_decimal_string,
    exchange_info,
    futures_symbol,
    spot_symbol,
)
from freqtrade_quant_plugin.offline.params import (
    BinanceError,
    Query,
    check_no_duplicates,
    interval,
    invalid_symbol,
    limit,
    limit_in,
    param,
    required,
    time_range,
)
from freqtrade_quant_plugin.offline.quotes import (
    book_ticker,
    order_book,
    ticker_24h,
)
from freqtrade_quant_plugin.offline.replay import wall_clock_ms

logger = logging.getLogger(__name__)

KLINE_LIMITS = {SPOT: (500, 1000), FUTURES: (500, 1500)}  # (default, maximum)
DEPTH_LIMITS = {  # (default, documented values)
    SPOT: (100, (5, 10, 20, 50, 100, 500, 1000, 5000)),
    FUTURES: (500, (5, 10, 20, 50, 100, 500, 1000)),
}
DAY_MS = 86_400_000

Response = tuple[int, object]


class OfflineBinanceApi(FuturesEndpoints):
    """Routes and answers requests; safe to call from many server threads at once."""

    def __init__(self, store: CandleStore, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        super().__init__(store, now_ms)
        self._routes: dict[str, Callable[[Query], object]] = {
            "/api/v3/ping": lambda q: {},
            "/fapi/v1/ping": lambda q: {},
            "/api/v3/time": self._time,
            "/fapi/v1/time": self._time,
            "/api/v3/exchangeInfo": lambda q: self._exchange_info(q, SPOT),
            "/fapi/v1/exchangeInfo": lambda q: self._exchange_info(q, FUTURES),
            "/dapi/v1/exchangeInfo": self._coin_margined_info,
            "/eapi/v1/exchangeInfo": self._options_info,
            "/api/v3/klines": lambda q: self._klines(q, SPOT, "spot"),
            "/api/v3/uiKlines": lambda q: self._klines(q, SPOT, "spot"),
            "/fapi/v1/klines": lambda q: self._klines(q, FUTURES, "futures"),
            "/fapi/v1/markPriceKlines": lambda q: self._klines(q, FUTURES, "mark"),
            "/api/v3/ticker/24hr": lambda q: self._tickers(q, SPOT),
            "/fapi/v1/ticker/24hr": lambda q: self._tickers(q, FUTURES),
            "/api/v3/ticker/bookTicker": lambda q: self._book_tickers(q, SPOT),
            "/fapi/v1/ticker/bookTicker": lambda q: self._book_tickers(q, FUTURES),
            "/api/v3/ticker/price": lambda q: self._prices(q, SPOT),
            "/fapi/v1/ticker/price": lambda q: self._prices(q, FUTURES),
            "/fapi/v2/ticker/price": lambda q: self._prices(q, FUTURES),
            "/api/v3/depth": lambda q: self._depth(q, SPOT),
            "/fapi/v1/depth": lambda q: self._depth(q, FUTURES),
            "/fapi/v1/premiumIndex": self._premium_index,
            "/fapi/v1/fundingRate": self._funding_rate,
            "/sapi/v1/capital/config/getall": lambda q: [],
            "/sapi/v1/spot/delist-schedule": lambda q: [],
        }

    # -- dispatch ---------------------------------------------------------------------

    def handle_http(
        self, method: str, path: str, query_text: str, body: str, api_key: str | None
    ) -> Response:
        """The HTTP layer's entry: public market data reads the query string only."""
        return self.handle(method, path, parse_qs(query_text, keep_blank_values=True))

    def handle(self, method: str, path: str, query: Query) -> Response:
        path = path.rstrip("/") or "/"
        logger.debug("%s %s %s", method, path, query)
        route = self._routes.get(path)
        if method != "GET":
            return 405, {
                "code": -1,
                "msg": f"{method} is not supported: this offline server "
                "serves public market data only.",
            }
        if route is None:
            return 404, {"code": -1, "msg": f"Unknown endpoint {path} (offline server)."}
        try:
            check_no_duplicates(query)
            return 200, route(query)
        except BinanceError as error:
            return error.status, error.body()

    # -- endpoints --------------------------------------------------------------------

    def _time(self, query: Query) -> dict:
        return {"serverTime": self._now_ms()}

    def _exchange_info(self, query: Query, market: str) -> dict:
        wanted = {i.symbol for i in self._selected(query, market)}
        everything = self._all_symbols(market)
        return exchange_info([s for s in everything if s["symbol"] in wanted], self._now_ms())

    def _coin_margined_info(self, query: Query) -> dict:
        if param(query, "symbol") is not None or param(query, "symbols") is not None:
            raise invalid_symbol()  # this server lists no coin-margined contracts
        return exchange_info([], self._now_ms())

    def _all_symbols(self, market: str) -> list[dict]:
        with self._lock:
            symbols = self._info_symbols.get(market)
        if symbols is None:
            symbols = []
            for instrument in self._instruments(market).values():
                precision = self.precision(instrument, market)
                if market == SPOT:
                    symbols.append(spot_symbol(instrument, precision))
                else:
                    kind = self._kind(market)
                    tf = max(instrument.timeframes(kind), key=timeframe_ms)
                    first = self.store.candles(instrument, kind, tf).open_ms
                    onboard = self._public(int(first[0])) if len(first) else 0
                    symbols.append(futures_symbol(instrument, precision, onboard))
            with self._lock:
                self._info_symbols[market] = symbols
        return symbols

    def _options_info(self, query: Query) -> dict:
        return {
            "timezone": "UTC",
            "serverTime": self._now_ms(),
            "optionContracts": [],
            "optionAssets": [],
            "optionSymbols": [],
            "rateLimits": [],
        }

    def _klines(self, query: Query, market: str, kind: str) -> list:
        instrument = self._instrument(market, required(query, "symbol"))
        timeframe = interval(query)
        start, end = time_range(query)
        count = limit(query, *KLINE_LIMITS[market])
        if kind not in instrument.files:
            raise invalid_symbol()
        try:
            candles = self.store.candles(instrument, kind, timeframe)
        except UnknownIntervalError:
            raise BinanceError(
                400, -1120, f"Invalid interval: {timeframe} is not stored nor derivable offline."
            ) from None
        times, values = self.store.select(candles, self._stored(start), self._stored(end), count)
        tf = candles.timeframe_ms
        rows = []
        for open_ms, (o, h, low, c, v) in zip(times.tolist(), values.tolist(), strict=True):
            public = self._public(open_ms)
            volume = 0.0 if kind == "mark" else v
            rows.append(
                [
                    public, num(o), num(h), num(low), num(c), num(volume),
                    public + tf - 1, num(volume * c), int(volume > 0),
                    num(volume / 2), num(volume * c / 2), "0",
                ]
            )  # fmt: skip
        return rows

    def _tickers(self, query: Query, market: str) -> object:
        tickers = []
        kind = self._kind(market)
        for instrument, quote, close_ms in self._quotable(self._selected(query, market), market):
            timeframe = self.store.finest_timeframe(instrument, kind)
            candles = self.store.candles(instrument, kind, timeframe)
            end = self.store.closed_end(candles)
            begin = int(np.searchsorted(candles.open_ms, close_ms - DAY_MS, side="left"))
            tickers.append(
                ticker_24h(
                    instrument.symbol,
                    candles.values[begin:end],
                    quote,
                    self.precision(instrument, market),
                    self._public(close_ms - DAY_MS),
                    self._public(close_ms) - 1,
                    with_book=market == SPOT,
                )
            )
        return tickers[0] if param(query, "symbol") else tickers

    def _book_tickers(self, query: Query, market: str) -> object:
        books = [
            book_ticker(
                instrument.symbol, quote, self.precision(instrument, market), self._public(close)
            )
            for instrument, quote, close in self._quotable(self._selected(query, market), market)
        ]
        return books[0] if param(query, "symbol") else books

    def _prices(self, query: Query, market: str) -> object:
        prices = []
        for instrument, quote, close in self._quotable(self._selected(query, market), market):
            decimals = self.precision(instrument, market).price_decimals
            prices.append(
                {
                    "symbol": instrument.symbol,
                    "price": as_decimal_string(quote.last, decimals),
                    "time": self._public(close),
                }
            )
        return prices[0] if param(query, "symbol") else prices

    def _depth(self, query: Query, market: str) -> dict:
        instrument = self._instrument(market, required(query, "symbol"))
        levels = limit_in(query, *DEPTH_LIMITS[market])
        quote, close_ms = self._quote(instrument, market)
        bids, asks = order_book(quote, levels, self.precision(instrument, market))
        book: dict[str, object] = {"lastUpdateId": close_ms // 1000, "bids": bids, "asks": asks}
        if market == FUTURES:
            book.update(E=self._public(close_ms), T=self._public(close_ms))
        return book
