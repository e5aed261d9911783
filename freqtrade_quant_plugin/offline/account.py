"""The simulated account of the live rehearsal: balances, orders and fills, kept on disk.

One spot account (free and locked per asset) and one USD-M futures account (a wallet in
the settle currency and one position per symbol). Every change is written at once to a
small JSON file (atomic replace, as `replay_state` does), so a restarted server resumes
with the same balances, open orders and trade history: a bot restarted on its database
then finds the exchange it left.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

ACCOUNT_FILE_NAME = "offline-account.json"
_FORMAT = 1
OPEN_STATUSES = frozenset({"NEW", "PARTIALLY_FILLED"})
ALGO_DONE = "FINISHED"  # an algo order that triggered and placed its regular order


@dataclass
class Order:
    """One order as Binance keeps it; quantities in base units, times public (ms)."""

    order_id: int
    client_id: str
    symbol: str
    market: str  # "spot" or "futures"
    side: str  # BUY / SELL
    type: str
    quantity: float
    price: float
    stop_price: float
    time_in_force: str
    created_ms: int
    checked_from_ms: int  # stored open time of the first candle not yet applied
    reduce_only: bool = False
    status: str = "NEW"
    executed: float = 0.0
    quote_executed: float = 0.0
    updated_ms: int = 0
    triggered: bool = False
    held: bool = False  # a partial fill's rest: never fills further (see `Faults`)
    locked: float = 0.0  # what the order still holds of its balance
    algo: bool = False  # a USD-M conditional order (Binance's algo orders)
    actual_order_id: int = 0  # the regular order an algo order placed when triggered

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def remaining(self) -> float:
        return max(self.quantity - self.executed, 0.0)


@dataclass
class Fill:
    trade_id: int
    order_id: int
    symbol: str
    market: str
    side: str
    price: float
    quantity: float
    commission: float
    commission_asset: str
    time_ms: int
    is_maker: bool


@dataclass
class Position:
    """A one-way futures position: signed amount (negative is short)."""

    amount: float = 0.0
    entry_price: float = 0.0
    leverage: int = 20
    margin_type: str = "CROSSED"
    realized: float = 0.0
    updated_ms: int = 0


@dataclass
class AccountState:
    balances: dict[str, dict[str, float]] = field(default_factory=dict)
    futures_wallet: dict[str, float] = field(default_factory=dict)
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    fills: list[Fill] = field(default_factory=list)
    next_order_id: int = 1
    next_trade_id: int = 1

    @classmethod
    def funded(cls, wallet: float, currency: str) -> AccountState:
        return cls(
            balances={currency: {"free": wallet, "locked": 0.0}},
            futures_wallet={currency: wallet},
        )

    def free(self, asset: str) -> float:
        return self.balances.get(asset, {}).get("free", 0.0)

    def move(self, asset: str, free: float = 0.0, locked: float = 0.0) -> None:
        """Add to (or, negative, take from) an asset's free and locked amounts."""
        entry = self.balances.setdefault(asset, {"free": 0.0, "locked": 0.0})
        entry["free"] = _clean(entry["free"] + free)
        entry["locked"] = _clean(entry["locked"] + locked)

    def open_orders(self) -> list[Order]:
        return [order for order in self.orders.values() if order.is_open]

    def position(self, symbol: str) -> Position:
        return self.positions.setdefault(symbol, Position())

    def to_json(self) -> dict:
        return {
            "format": _FORMAT,
            "balances": self.balances,
            "futures_wallet": self.futures_wallet,
            "positions": {k: asdict(v) for k, v in self.positions.items()},
            "orders": [asdict(order) for order in self.orders.values()],
            "fills": [asdict(fill) for fill in self.fills],
            "next_order_id": self.next_order_id,
            "next_trade_id": self.next_trade_id,
        }

    @classmethod
    def from_json(cls, raw: dict) -> AccountState:
        if raw.get("format") != _FORMAT:
            raise ValueError(f"unknown format {raw.get('format')!r}")
        orders = [Order(**item) for item in raw["orders"]]
        return cls(
            balances=raw["balances"],
            futures_wallet=raw["futures_wallet"],
            positions={k: Position(**v) for k, v in raw["positions"].items()},
            orders={order.order_id: order for order in orders},
            fills=[Fill(**item) for item in raw["fills"]],
            next_order_id=int(raw["next_order_id"]),
            next_trade_id=int(raw["next_trade_id"]),
        )


def _clean(value: float) -> float:
    """Balances without float dust: 1e-12 of a coin is nothing on any exchange."""
    return 0.0 if abs(value) < 1e-12 else round(value, 12)


def load_account(path: Path, wallet: float, currency: str) -> AccountState:
    """The stored account, or a fresh one funded with `wallet` (said in the log)."""
    if path.exists():
        try:
            state = AccountState.from_json(json.loads(path.read_text()))
        except (OSError, ValueError, TypeError, KeyError) as error:
            raise ValueError(
                f"Account state {path} is unreadable ({error}); move it away to start a new account"
            ) from error
        logger.info(
            "Rehearsal account resumed from %s: %d open orders", path, len(state.open_orders())
        )
        return state
    state = AccountState.funded(wallet, currency)
    try:
        save_account(path, state)
    except OSError as error:
        raise ValueError(
            f"Cannot write the rehearsal account {path} ({error}); pass --account-state FILE"
        ) from error
    logger.info("Rehearsal account created in %s with %s %s", path, wallet, currency)
    return state


def save_account(path: Path, state: AccountState) -> None:
    """Atomic write: a crash leaves the previous state or the new one, never half of one."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state.to_json(), separators=(",", ":")))
    os.replace(partial, path)
