"""The rehearsal exchange: orders placed, matched against the replayed market, settled.

Matching is lazy: before answering any signed request, every open order is run through
the candles that closed since it was last looked at (`sync`). An order that fills while
no bot is asking (the bot is down) therefore fills at the candle where the market reached
it, with that candle's time, as soon as anyone asks again.

Balances move in `settlement` (locks, fees, positions).
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path

from freqtrade_quant_plugin.offline.account import (
    ALGO_DONE,
    AccountState,
    Fill,
    Order,
    load_account,
    save_account,
)
from freqtrade_quant_plugin.offline.api_base import SPOT, MarketData
from freqtrade_quant_plugin.offline.datadir import Instrument
from freqtrade_quant_plugin.offline.faults import Faults
from freqtrade_quant_plugin.offline.matching import (
    LIMIT_TYPES,
    STOP_LIMIT_TYPES,
    STOP_MARKET_TYPES,
    Bar,
    average_range,
    market_price,
    match_resting,
    slipped,
)
from freqtrade_quant_plugin.offline.params import BinanceError
from freqtrade_quant_plugin.offline.settlement import (
    rejected,
    release,
    reserve,
    settle_futures,
    settle_spot,
)

logger = logging.getLogger(__name__)

MIN_NOTIONAL = 5.0


class SimulatedExchange:
    """One account on one replayed market; every public method is thread-safe."""

    def __init__(
        self,
        market: MarketData,
        state_path: Path,
        wallet: float,
        currency: str = "USDT",
        faults: Faults | None = None,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        self.market = market
        self.faults = faults or Faults()
        self._path = state_path
        self._now_ms = now_ms or market._now_ms
        self._lock = threading.RLock()
        self.state: AccountState = load_account(state_path, wallet, currency)

    # -- queries ----------------------------------------------------------------------

    def snapshot(self) -> dict:
        with self._lock:
            self._sync()
            return self.state.to_json()

    def order(self, order_id: int) -> Order | None:
        with self._lock:
            self._sync()
            return self.state.orders.get(order_id)

    def find(self, market: str, symbol: str | None, order_id: int | None, client_id: str | None):
        """The order with that id (or client id) in `market` (and `symbol`, if given)."""
        with self._lock:
            self._sync()
            for order in self.state.orders.values():
                if order.market != market or symbol not in (None, order.symbol):
                    continue
                if order_id is not None and order.order_id == order_id:
                    return order
                if order_id is None and client_id is not None and order.client_id == client_id:
                    return order
            return None

    def synced(self) -> AccountState:
        """The state after matching up to now (read it under no further assumptions)."""
        with self._lock:
            self._sync()
            return self.state

    # -- commands ---------------------------------------------------------------------

    def place(self, order: Order, instrument: Instrument) -> Order:
        """Validate, lock the balance, fill at once what is marketable; or raise."""
        with self._lock:
            self._sync()
            rejection = self.faults.take_rejection()
            if rejection is not None:
                logger.info("Rehearsal: order %s %s rejected (fault)", order.side, order.symbol)
                raise rejection
            quote, _ = self.market._quote(instrument, order.market)
            reference = order.price if order.type in LIMIT_TYPES else quote.last
            if order.type in STOP_LIMIT_TYPES | STOP_MARKET_TYPES:
                reference = order.price or order.stop_price
                crossed = (
                    quote.last <= order.stop_price
                    if order.side == "SELL"
                    else (quote.last >= order.stop_price)
                )
                if crossed:
                    raise rejected("Order would immediately trigger.")
            if order.quantity * reference < MIN_NOTIONAL and not order.reduce_only:
                raise rejected("Filter failure: NOTIONAL", -1013)
            order.checked_from_ms = self.market.clock.stored_now_ms() if self.market.clock else 0
            order.order_id = self.state.next_order_id
            order.client_id = order.client_id or f"rehearsal{order.order_id}"
            reserve(self.state, order, instrument, reference)
            self.state.next_order_id += 1
            self.state.orders[order.order_id] = order
            if order.type == "MARKET":
                price = self._market_fill_price(instrument, order)
                self._fill(order, instrument, order.quantity, price, is_maker=False)
            elif order.type in LIMIT_TYPES:
                marketable = (
                    order.price >= quote.ask if order.side == "BUY" else (order.price <= quote.bid)
                )
                if marketable:
                    price = self._market_fill_price(instrument, order)
                    price = (
                        min(price, order.price) if order.side == "BUY" else max(price, order.price)
                    )
                    self._fill(order, instrument, order.quantity, price, is_maker=False)
            logger.info(
                "Rehearsal: %s %s %s %g @ %g (stop %g): order %d %s",
                order.market, order.side, order.type, order.quantity, order.price,
                order.stop_price, order.order_id, order.status,
            )  # fmt: skip
            self._save()
            return order

    def cancel(self, order: Order, instrument: Instrument) -> Order:
        with self._lock:
            self._sync()
            if not order.is_open:
                raise BinanceError(400, -2011, "Unknown order sent.")
            release(self.state, order, instrument)
            order.status = "CANCELED"
            order.updated_ms = self._now_ms()
            logger.info("Rehearsal: order %d %s canceled", order.order_id, order.symbol)
            self._save()
            return order

    # -- matching ---------------------------------------------------------------------

    def _market_fill_price(self, instrument: Instrument, order: Order) -> float:
        quote, _ = self.market._quote(instrument, order.market)
        bars = self._closed_bars(instrument, order.market, None)[1]
        volume = float(bars[-1, 4]) if len(bars) else None
        notional = order.quantity * quote.last
        return market_price(order.side, quote.bid, quote.ask, average_range(bars), notional, volume)

    def _closed_bars(self, instrument: Instrument, market: str, from_ms: int | None):
        store = self.market.store
        kind = "spot" if market == SPOT else "futures"
        candles = store.candles(instrument, kind, store.finest_timeframe(instrument, kind))
        end = store.closed_end(candles)
        if from_ms is None:
            return candles.open_ms[:end], candles.values[:end], candles.timeframe_ms
        begin = int(candles.open_ms.searchsorted(from_ms, side="left"))
        return candles.open_ms[begin:end], candles.values[begin:end], candles.timeframe_ms

    def _sync(self) -> None:
        """Run every open order through the candles closed since it was last checked."""
        changed = False
        for order in self.state.open_orders():
            if order.type == "MARKET" or order.held:
                continue
            instrument = self.market._instrument(order.market, order.symbol)
            times, bars, tf = self._closed_bars(instrument, order.market, order.checked_from_ms)
            for open_ms, row in zip(times.tolist(), bars.tolist(), strict=True):
                bar = Bar(*row)
                match = match_resting(
                    order.type, order.side, order.triggered, order.price, order.stop_price, bar
                )
                if match.triggered and not order.triggered:
                    order.triggered = True
                    logger.info("Rehearsal: stop order %d %s triggered", order.order_id,
                                order.symbol)  # fmt: skip
                    if order.algo:
                        self._hand_over(order, instrument, match.price, bar, open_ms + tf)
                        changed = True
                        break
                price = match.price
                if price is not None and order.type in STOP_MARKET_TYPES:
                    price = slipped(order.side, price, bar.high - bar.low, price * order.quantity)
                order.checked_from_ms = open_ms + tf
                changed = True
                if price is not None:
                    fill_ms = self.market._public(open_ms + tf)
                    self._fill(order, instrument, order.remaining, price, match.is_maker, fill_ms)
                    if not order.is_open or order.held:
                        break
        if changed:
            self._save()

    def _hand_over(
        self, algo: Order, instrument: Instrument, price: float | None, bar: Bar, close_ms: int
    ) -> None:
        """A triggered algo order places its regular order (market for STOP_MARKET, limit
        for STOP) and is finished; that order fills at `price` or rests (a jumped limit)."""
        fill_ms = self.market._public(close_ms)
        actual = Order(
            order_id=self.state.next_order_id,
            client_id=f"rehearsal{self.state.next_order_id}",
            symbol=algo.symbol, market=algo.market, side=algo.side,
            type="MARKET" if algo.type in STOP_MARKET_TYPES else "LIMIT",
            quantity=algo.quantity, price=algo.price, stop_price=0.0,
            time_in_force=algo.time_in_force, created_ms=fill_ms, checked_from_ms=close_ms,
            reduce_only=algo.reduce_only, updated_ms=fill_ms,
        )  # fmt: skip
        self.state.next_order_id += 1
        self.state.orders[actual.order_id] = actual
        algo.actual_order_id, algo.status, algo.updated_ms = actual.order_id, ALGO_DONE, fill_ms
        algo.checked_from_ms = close_ms
        if price is not None:
            if actual.type == "MARKET":
                price = slipped(algo.side, price, bar.high - bar.low, price * algo.quantity)
            self._fill(actual, instrument, actual.quantity, price, False, fill_ms)
            algo.executed = actual.executed

    def _fill(
        self,
        order: Order,
        instrument: Instrument,
        quantity: float,
        price: float,
        is_maker: bool,
        time_ms: int | None = None,
    ) -> None:
        ratio = self.faults.take_partial() if order.type != "MARKET" else None
        if ratio is not None:
            step = self.market.precision(instrument, order.market).step_size
            quantity = max(step, round(math.floor(quantity * ratio / step + 1e-9) * step, 12))
            order.held = True
            logger.info("Rehearsal: order %d %s fills partially (%g of %g), the rest is held",
                        order.order_id, order.symbol, quantity, order.quantity)  # fmt: skip
        time_ms = self._now_ms() if time_ms is None else time_ms
        if order.market == SPOT:
            commission, asset = settle_spot(self.state, order, instrument, quantity, price)
        else:
            commission, asset = settle_futures(
                self.state, order, instrument, quantity, price, is_maker, time_ms
            )
        order.executed = round(order.executed + quantity, 12)
        order.quote_executed = round(order.quote_executed + quantity * price, 12)
        order.updated_ms = time_ms
        if order.remaining <= 1e-12:
            order.status = "FILLED"
            release(self.state, order, instrument)
        else:
            order.status = "PARTIALLY_FILLED"
        self.state.fills.append(
            Fill(self.state.next_trade_id, order.order_id, order.symbol, order.market,
                 order.side, price, quantity, commission, asset, time_ms, is_maker)
        )  # fmt: skip
        self.state.next_trade_id += 1
        logger.info("Rehearsal: order %d %s %s filled %g @ %g", order.order_id, order.symbol,
                    order.side, quantity, price)  # fmt: skip

    def _save(self) -> None:
        save_account(self._path, self.state)
