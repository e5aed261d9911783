"""What an order does to the rehearsal account's money: locks, fills, fees, positions.

Spot: an open order locks what it may spend (the quote of a buy, the base of a sell); a
fill spends the locked part and credits the other asset less Binance's 0.1 % fee, charged
in the asset received. USD-M: one-way positions with an average entry price; reducing
realises the PnL into the wallet; fees 0.02 % maker, 0.05 % taker in the settle currency;
a new position needs its margin (notional / leverage) free, a reduce-only order must
reduce.
"""

from __future__ import annotations

from freqtrade_quant_plugin.offline.account import AccountState, Order
from freqtrade_quant_plugin.offline.api_base import FUTURES, SPOT
from freqtrade_quant_plugin.offline.datadir import Instrument
from freqtrade_quant_plugin.offline.matching import STOP_LIMIT_TYPES, STOP_MARKET_TYPES
from freqtrade_quant_plugin.offline.params import BinanceError

SPOT_FEE = 0.001
FUTURES_FEES = (0.0002, 0.0005)  # maker, taker


def rejected(msg: str, code: int = -2010) -> BinanceError:
    return BinanceError(400, code, msg)


def reserve(state: AccountState, order: Order, instrument: Instrument, price: float) -> None:
    """Lock what a new order may spend, or refuse it as Binance does."""
    if order.market == FUTURES:
        _reserve_margin(state, order, instrument, price)
        return
    if order.side == "BUY":
        asset, need = instrument.quote, order.quantity * price
    else:
        asset, need = instrument.base, order.quantity
    if state.free(asset) + 1e-9 < need:
        raise rejected("Account has insufficient balance for requested action.")
    need = min(need, state.free(asset))
    state.move(asset, free=-need, locked=need)
    order.locked = need


def _reserve_margin(state: AccountState, order: Order, instrument: Instrument, price: float):
    position = state.position(order.symbol)
    signed = order.quantity if order.side == "BUY" else -order.quantity
    reduces = position.amount * signed < 0 and abs(signed) <= abs(position.amount) + 1e-12
    if order.reduce_only and not reduces:
        raise rejected("ReduceOnly Order is rejected.", -2022)
    if order.reduce_only or reduces or order.type in STOP_LIMIT_TYPES | STOP_MARKET_TYPES:
        return
    settle = instrument.settle or instrument.quote
    used = sum(abs(p.amount) * p.entry_price / p.leverage for p in state.positions.values())
    if state.futures_wallet.get(settle, 0.0) - used + 1e-9 < order.quantity * price / (
        position.leverage
    ):
        raise rejected("Margin is insufficient.", -2019)


def release(state: AccountState, order: Order, instrument: Instrument) -> None:
    """Give back what a finished or cancelled spot order still holds."""
    if order.market == SPOT and order.locked:
        asset = instrument.quote if order.side == "BUY" else instrument.base
        state.move(asset, free=order.locked, locked=-order.locked)
        order.locked = 0.0


def settle_spot(
    state: AccountState, order: Order, instrument: Instrument, qty: float, price: float
) -> tuple[float, str]:
    """Move the money of a spot fill; (commission, its asset)."""
    base, quote = instrument.base, instrument.quote
    if order.side == "BUY":
        locked_part = min(order.locked, qty * (order.locked / max(order.remaining, 1e-18)))
        state.move(quote, free=locked_part - qty * price, locked=-locked_part)
        order.locked -= locked_part
        commission = qty * SPOT_FEE
        state.move(base, free=qty - commission)
        return commission, base
    taken = min(order.locked, qty)
    state.move(base, locked=-taken, free=taken - qty)
    order.locked -= taken
    commission = qty * price * SPOT_FEE
    state.move(quote, free=qty * price - commission)
    return commission, quote


def settle_futures(
    state: AccountState,
    order: Order,
    instrument: Instrument,
    qty: float,
    price: float,
    is_maker: bool,
    time_ms: int,
) -> tuple[float, str]:
    """Move the position and wallet of a USD-M fill; (commission, its asset)."""
    settle = instrument.settle or instrument.quote
    wallet = state.futures_wallet
    position = state.position(order.symbol)
    signed = qty if order.side == "BUY" else -qty
    if position.amount * signed < 0:  # reduces (and may flip)
        closed = min(abs(signed), abs(position.amount))
        direction = 1 if position.amount > 0 else -1
        pnl = (price - position.entry_price) * closed * direction
        position.realized += pnl
        wallet[settle] = wallet.get(settle, 0.0) + pnl
        rest = position.amount + signed
        if abs(rest) > 1e-12 and rest * position.amount < 0:
            position.entry_price = price
        position.amount = 0.0 if abs(rest) <= 1e-12 else rest
    else:
        total = abs(position.amount) + qty
        position.entry_price = (abs(position.amount) * position.entry_price + qty * price) / total
        position.amount += signed
    position.updated_ms = time_ms
    commission = qty * price * FUTURES_FEES[0 if is_maker else 1]
    wallet[settle] = wallet.get(settle, 0.0) - commission
    return commission, settle
