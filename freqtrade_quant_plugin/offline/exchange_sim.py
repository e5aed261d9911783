"""The rehearsal exchange: orders placed, matched against the replayed market, settled.

Matching is lazy: before answering any signed request, every open order is run through
the candles that closed since it was last looked at (`sync`). An order that fills while
no bot is asking (the bot is down) therefore fills at the candle where the market reached
it, with that candle's time, as soon as anyone asks again.

Spot fees are Binance's 0.1 % (charged in the asset received); USD-M fees 0.02 % maker,
0.05 % taker, in the settle currency.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from pathlib import Path

from freqtrade_quant_plugin.offline.account import (
    AccountState,
    Fill,
    Order,
    load_account,
    save_account,
)
from freqtrade_quant_plugin.offline.api_base import FUTURES, SPOT, MarketData
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

logger = logging.getLogger(__name__)

SPOT_FEE = 0.001
FUTURES_FEES = (0.0002, 0.0005)  # maker, taker
MIN_NOTIONAL = 5.0


def rejected(msg: str, code: int = -2010) -> BinanceError:
    return BinanceError(400, code, msg)


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

    def find(self, market: str, symbol: str, order_id: int | None, client_id: str | None):
        with self._lock:
            self._sync()
            for order in self.state.orders.values():
                if order.market != market or order.symbol != symbol:
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
            self._reserve(order, instrument, reference)
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
            self._release(order, instrument)
            order.status = "CANCELED"
            order.updated_ms = self._now_ms()
            logger.info("Rehearsal: order %d %s canceled", order.order_id, order.symbol)
            self._save()
            return order

    # -- balances ---------------------------------------------------------------------

    def _reserve(self, order: Order, instrument: Instrument, price: float) -> None:
        if order.market == FUTURES:
            self._reserve_margin(order, instrument, price)
            return
        if order.side == "BUY":
            asset, need = instrument.quote, order.quantity * price
        else:
            asset, need = instrument.base, order.quantity
        if self.state.free(asset) + 1e-9 < need:
            raise rejected("Account has insufficient balance for requested action.")
        need = min(need, self.state.free(asset))
        self.state.move(asset, free=-need, locked=need)
        order.locked = need

    def _reserve_margin(self, order: Order, instrument: Instrument, price: float) -> None:
        position = self.state.position(order.symbol)
        signed = order.quantity if order.side == "BUY" else -order.quantity
        reduces = position.amount * signed < 0 and abs(signed) <= abs(position.amount) + 1e-12
        if order.reduce_only and not reduces:
            raise rejected("ReduceOnly Order is rejected.", -2022)
        if order.reduce_only or reduces or order.type in STOP_LIMIT_TYPES | STOP_MARKET_TYPES:
            return
        need = order.quantity * price / position.leverage
        settle = instrument.settle or instrument.quote
        if self._available_margin(settle) + 1e-9 < need:
            raise rejected("Margin is insufficient.", -2019)

    def _available_margin(self, settle: str) -> float:
        used = sum(
            abs(p.amount) * p.entry_price / p.leverage for p in self.state.positions.values()
        )
        return self.state.futures_wallet.get(settle, 0.0) - used

    def _release(self, order: Order, instrument: Instrument) -> None:
        if order.market == SPOT and order.locked:
            asset = instrument.quote if order.side == "BUY" else instrument.base
            self.state.move(asset, free=order.locked, locked=-order.locked)
            order.locked = 0.0

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
            commission, asset = self._settle_spot(order, instrument, quantity, price)
        else:
            commission, asset = self._settle_futures(order, instrument, quantity, price, is_maker)
        order.executed = round(order.executed + quantity, 12)
        order.quote_executed = round(order.quote_executed + quantity * price, 12)
        order.updated_ms = time_ms
        if order.remaining <= 1e-12:
            order.status = "FILLED"
            self._release(order, instrument)
        else:
            order.status = "PARTIALLY_FILLED"
        self.state.fills.append(
            Fill(self.state.next_trade_id, order.order_id, order.symbol, order.market,
                 order.side, price, quantity, commission, asset, time_ms, is_maker)
        )  # fmt: skip
        self.state.next_trade_id += 1
        logger.info("Rehearsal: order %d %s %s filled %g @ %g", order.order_id, order.symbol,
                    order.side, quantity, price)  # fmt: skip

    def _settle_spot(self, order: Order, instrument: Instrument, qty: float, price: float):
        base, quote = instrument.base, instrument.quote
        if order.side == "BUY":
            locked_part = min(order.locked, qty * (order.locked / max(order.remaining, 1e-18)))
            self.state.move(quote, free=locked_part - qty * price, locked=-locked_part)
            order.locked -= locked_part
            commission = qty * SPOT_FEE
            self.state.move(base, free=qty - commission)
            return commission, base
        taken = min(order.locked, qty)
        self.state.move(base, locked=-taken, free=taken - qty)
        order.locked -= taken
        commission = qty * price * SPOT_FEE
        self.state.move(quote, free=qty * price - commission)
        return commission, quote

    def _settle_futures(
        self, order: Order, instrument: Instrument, qty: float, price: float, is_maker: bool
    ):
        settle = instrument.settle or instrument.quote
        position = self.state.position(order.symbol)
        signed = qty if order.side == "BUY" else -qty
        if position.amount * signed < 0:  # reduces (and may flip)
            closed = min(abs(signed), abs(position.amount))
            direction = 1 if position.amount > 0 else -1
            pnl = (price - position.entry_price) * closed * direction
            position.realized += pnl
            self.state.futures_wallet[settle] = self.state.futures_wallet.get(settle, 0.0) + pnl
            rest = position.amount + signed
            if abs(rest) > 1e-12 and rest * position.amount < 0:
                position.entry_price = price
            position.amount = 0.0 if abs(rest) <= 1e-12 else rest
        else:
            total = abs(position.amount) + qty
            position.entry_price = (
                abs(position.amount) * position.entry_price + qty * price
            ) / total
            position.amount += signed
        position.updated_ms = self._now_ms()
        commission = qty * price * FUTURES_FEES[0 if is_maker else 1]
        self.state.futures_wallet[settle] = self.state.futures_wallet.get(settle, 0.0) - commission
        return commission, settle

    def _save(self) -> None:
        save_account(self._path, self.state)
