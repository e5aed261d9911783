"""What an open trade's exits need, fixed when its entry order fills.

The regime, ATR, stop, target and breakeven of a trade must not be recomputed from later
candles (a later regime would move a stop that was sized on the old one). They are stored
once, at the entry fill, and read from an in-memory cache keyed by trade id. Live, the
state is also written to the trade's custom data (one JSON value) so a restarted bot
rebuilds the cache with one query per trade on its first miss; per-candle callbacks never
touch the database.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from freqtrade_quant_plugin.core.stop_levels import StopRules

logger = logging.getLogger(__name__)

STATE_KEY = "quant_entry_state"


@dataclass(frozen=True)
class EntryState:
    trade_id: int
    pair: str
    is_short: bool
    regime: str
    volatility_regime: str
    atr: float
    signal_date: int  # epoch seconds of the signal candle
    entry_price: float
    size: float
    leverage: float
    stop_price: float
    take_profit_price: float
    breakeven_price: float | None
    risk_money: float  # size * |entry - stop|: what a stop-out loses before costs
    planned_risk_money: float  # balance * risk_per_trade * multipliers, before clamping
    balance: float
    regime_multiplier: float
    risk_modifier: float
    entry_slippage: float  # modelled, quote currency
    candle_volume: float | None
    rules: StopRules

    @property
    def stop_distance(self) -> float:
        return abs(self.entry_price - self.stop_price)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EntryState:
        values = dict(data)
        values["rules"] = StopRules(**values["rules"])
        return cls(**values)


class _TradeWithCustomData(Protocol):
    id: int

    def get_custom_data(self, key: str, default: Any = None) -> Any: ...


class TradeStateCache:
    """Entry states by trade id; a miss is looked up in the trade's custom data once."""

    def __init__(self) -> None:
        self._states: dict[int, EntryState | None] = {}

    def put(self, state: EntryState) -> None:
        self._states[state.trade_id] = state

    def clear(self) -> None:
        self._states.clear()

    def get(self, trade: _TradeWithCustomData, *, use_database: bool) -> EntryState | None:
        """The cached state; live, a first miss rebuilds it from the trade's custom data."""
        if trade.id in self._states:
            return self._states[trade.id]
        state = None
        if use_database:
            state = _load(trade)
            if state is None:
                logger.warning(
                    "Trade %s has no readable entry state (%s): rebuilding its stop",
                    trade.id,
                    STATE_KEY,
                )
            else:
                # After a restart: says which entry facts the stops now run on.
                logger.info(
                    "Trade %s %s: entry state rebuilt from the trade DB (regime %s, ATR %.8g, "
                    "stop %.8g, take-profit %.8g)",
                    trade.id,
                    state.pair,
                    state.regime,
                    state.atr,
                    state.stop_price,
                    state.take_profit_price,
                )
        self._states[trade.id] = state
        return state


def _load(trade: _TradeWithCustomData) -> EntryState | None:
    data = trade.get_custom_data(STATE_KEY)
    if not isinstance(data, dict):
        return None
    try:
        return EntryState.from_dict(data)
    except (TypeError, KeyError) as error:
        logger.warning("Trade %s: stored entry state unreadable (%s)", trade.id, error)
        return None
