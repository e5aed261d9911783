"""What every endpoint of the offline Binance API shares: instruments, time, prices.

The endpoints themselves live in `api` (spot and common) and `futures_api` (USD-M only).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import numpy as np

from freqtrade_quant_plugin.offline.candles import CandleStore
from freqtrade_quant_plugin.offline.datadir import Instrument
from freqtrade_quant_plugin.offline.markets import (
    Precision,
    precision_for_price,
    reference_price,
)
from freqtrade_quant_plugin.offline.params import (
    BinanceError,
    Query,
    invalid_symbol,
    param,
    symbol_text,
)
from freqtrade_quant_plugin.offline.quotes import Quote, quote_from_candle
from freqtrade_quant_plugin.offline.replay import wall_clock_ms

SPOT, FUTURES = "spot", "futures"


def num(value: float) -> str:
    """Fixed-point text as Binance sends it, without float noise past 8 decimals."""
    return np.format_float_positional(round(value, 8), precision=12, unique=True, trim="-")


class MarketData:
    """Instruments, clock mapping, precision and quotes of one datadir; thread-safe."""

    def __init__(self, store: CandleStore, now_ms: Callable[[], int] = wall_clock_ms) -> None:
        self.store = store
        self.inventory = store.inventory
        self.clock = store.clock
        self._now_ms = now_ms
        self._precision: dict[tuple[str, str], Precision] = {}
        self._info_symbols: dict[str, list[dict]] = {}
        self._lock = threading.Lock()

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
