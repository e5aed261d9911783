"""The Binance REST endpoints ccxt and Freqtrade use, answered from a datadir.

Transport-free: `handle(method, path, query)` returns (HTTP status, JSON body), so the
HTTP layer stays trivial and every answer, errors included, is a Binance-style document
that ccxt maps to its usual exceptions (-1121 -> BadSymbol, -1120/-1102/-1100 -> BadRequest).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable

import numpy as np

from freqtrade_quant_plugin.offline.candles import (
    OPEN,
    CandleStore,
    UnknownIntervalError,
)
from freqtrade_quant_plugin.offline.datadir import Instrument, timeframe_ms
from freqtrade_quant_plugin.offline.markets import (
    Precision,
    as_decimal_string,
    exchange_info,
    futures_symbol,
    precision_for_price,
    reference_price,
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
    symbol_text,
    time_range,
)
from freqtrade_quant_plugin.offline.quotes import (
    Quote,
    book_ticker,
    order_book,
    quote_from_candle,
    ticker_24h,
)
from freqtrade_quant_plugin.offline.replay import wall_clock_ms

logger = logging.getLogger(__name__)

SPOT, FUTURES = "spot", "futures"
KLINE_LIMITS = {SPOT: (500, 1000), FUTURES: (500, 1500)}  # (default, maximum)
DEPTH_LIMITS = {  # (default, documented values)
    SPOT: (100, (5, 10, 20, 50, 100, 500, 1000, 5000)),
    FUTURES: (500, (5, 10, 20, 50, 100, 500, 1000)),
}
FUNDING_LIMITS = (100, 1000)
FUNDING_PERIOD_MS = 8 * 3_600_000
DAY_MS = 86_400_000

Response = tuple[int, object]


def _num(value: float) -> str:
    """Fixed-point text as Binance sends it, without float noise past 8 decimals."""
    return np.format_float_positional(round(value, 8), precision=12, unique=True, trim="-")


class OfflineBinanceApi:
    """Routes and answers requests; safe to call from many server threads at once."""

    def __init__(self, store: CandleStore, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.store = store
        self.inventory = store.inventory
        self.clock = store.clock
        self._now_ms = now_ms
        self._precision: dict[tuple[str, str], Precision] = {}
        self._info_symbols: dict[str, list[dict]] = {}
        self._lock = threading.Lock()
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

    # -- helpers ----------------------------------------------------------------------

    def _instruments(self, market: str) -> dict[str, Instrument]:
        return self.inventory.spot if market == SPOT else self.inventory.futures

    def _instrument(self, market: str, symbol: str) -> Instrument:
        instrument = self._instruments(market).get(symbol_text(symbol))
        if instrument is None:
            raise invalid_symbol()
        return instrument

    def _selected(self, query: Query, market: str) -> list[Instrument]:
        """`symbol`, a JSON `symbols` list, or every instrument of the market."""
        symbol, symbols = param(query, "symbol"), param(query, "symbols")
        if symbol is not None and symbols is not None:
            raise BinanceError(400, -1128, "Combination of optional parameters invalid.")
        if symbol is not None:
            return [self._instrument(market, symbol)]
        if symbols is not None:
            try:
                names = json.loads(symbols)
            except ValueError:
                names = None
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names or [1]):
                raise BinanceError(400, -1100, "Illegal characters found in parameter 'symbols'.")
            if len(set(names)) != len(names):
                raise BinanceError(400, -1101, "Duplicate values in parameter 'symbols'.")
            return [self._instrument(market, name) for name in names]
        return list(self._instruments(market).values())

    def _public(self, stored_ms: int) -> int:
        return stored_ms if self.clock is None else self.clock.to_public(stored_ms)

    def _stored(self, public_ms: int | None) -> int | None:
        if public_ms is None or self.clock is None:
            return public_ms
        return self.clock.to_stored(public_ms)

    def _kind(self, market: str) -> str:
        return "spot" if market == SPOT else "futures"

    def precision(self, instrument: Instrument, market: str) -> Precision:
        key = (market, instrument.symbol)
        with self._lock:
            cached = self._precision.get(key)
        if cached is None:
            price = reference_price(self.store, instrument, self._kind(market))
            cached = precision_for_price(price)
            with self._lock:
                self._precision[key] = cached
        return cached

    def _last_closed(self, instrument: Instrument, market: str) -> tuple[np.ndarray, int, int]:
        """Last complete candle of the finest timeframe: (values row, open ms, timeframe ms)."""
        kind = self._kind(market)
        timeframe = self.store.finest_timeframe(instrument, kind)
        if timeframe is None:
            raise invalid_symbol()
        candles = self.store.candles(instrument, kind, timeframe)
        end = self.store.closed_end(candles)
        if end == 0:
            raise BinanceError(400, -1121, f"No market data yet for {instrument.symbol}.")
        return candles.values[end - 1], int(candles.open_ms[end - 1]), candles.timeframe_ms

    def _quote(self, instrument: Instrument, market: str) -> tuple[Quote, int]:
        row, open_ms, tf_ms = self._last_closed(instrument, market)
        return quote_from_candle(row, self.precision(instrument, market)), open_ms + tf_ms

    def _quotable(self, instruments: list[Instrument], market: str):
        """Skip pairs with no closed candle yet when listing all (Binance omits them too)."""
        for instrument in instruments:
            try:
                yield instrument, *self._quote(instrument, market)
            except BinanceError:
                if len(instruments) == 1:
                    raise

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
                    public, _num(o), _num(h), _num(low), _num(c), _num(volume),
                    public + tf - 1, _num(volume * c), int(volume > 0),
                    _num(volume / 2), _num(volume * c / 2), "0",
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

    def _funding(self, instrument: Instrument):
        stored = instrument.timeframes("funding_rate")
        if not stored:
            return None
        return self.store.candles(instrument, "funding_rate", min(stored, key=timeframe_ms))

    def _mark_price(self, instrument: Instrument, at_stored_ms: int) -> float | None:
        """Open of the finest mark candle whose file covers the instant (None if none does)."""
        for timeframe in sorted(instrument.timeframes("mark"), key=timeframe_ms):
            candles = self.store.candles(instrument, "mark", timeframe)
            index = int(np.searchsorted(candles.open_ms, at_stored_ms, side="right")) - 1
            if index >= 0 and at_stored_ms < candles.open_ms[index] + candles.timeframe_ms:
                return float(candles.values[index, OPEN])
        return None

    def _premium_index(self, query: Query) -> object:
        answers = []
        for instrument, quote, close_ms in self._quotable(self._selected(query, FUTURES), FUTURES):
            precision = self.precision(instrument, FUTURES)
            mark = self._mark_price(instrument, close_ms)
            mark = quote.last if mark is None else mark
            funding = self._funding(instrument)
            rate = 0.0
            if funding is not None:
                index = int(np.searchsorted(funding.open_ms, close_ms, side="right")) - 1
                rate = float(funding.values[index, OPEN]) if index >= 0 else 0.0
            public_now = self._public(close_ms)
            next_funding = (public_now // FUNDING_PERIOD_MS + 1) * FUNDING_PERIOD_MS
            price = np.format_float_positional(mark, precision=precision.price_decimals + 2)
            answers.append(
                {
                    "symbol": instrument.symbol,
                    "markPrice": price,
                    "indexPrice": price,
                    "estimatedSettlePrice": price,
                    "lastFundingRate": _num(rate),
                    "interestRate": "0.00010000",
                    "nextFundingTime": next_funding,
                    "time": public_now,
                }
            )
        return answers[0] if param(query, "symbol") else answers

    def _funding_rate(self, query: Query) -> list:
        public_start, public_end = time_range(query)
        start, end = self._stored(public_start), self._stored(public_end)
        count = limit(query, *FUNDING_LIMITS)
        history = []
        for instrument in self._selected(query, FUTURES):
            funding = self._funding(instrument)
            if funding is None:
                continue
            times, values = self.store.select(funding, start, end, count)
            for stored_ms, rate in zip(times.tolist(), values[:, OPEN].tolist(), strict=True):
                mark = self._mark_price(instrument, stored_ms)
                history.append(
                    {
                        "symbol": instrument.symbol,
                        "fundingTime": self._public(stored_ms),
                        "fundingRate": _num(rate),
                        "markPrice": "" if mark is None else _num(mark),
                    }
                )
        history.sort(key=lambda item: item["fundingTime"])
        return history[:count] if start is not None else history[-count:]
