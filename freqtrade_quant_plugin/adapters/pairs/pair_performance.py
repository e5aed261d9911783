"""The strategy's side of symbol performance: the few calls a strategy base makes.

    hooks = PairPerformanceHooks(self, settings, risk_money_of=...)   # bot_start
    hooks.bot_loop_start(current_time)                                 # bot_loop_start
    hooks.risk_modifier(pair)                                          # custom_stake_amount
    hooks.informative_pairs()                                          # informative_pairs

The pairlist filter and the protection read the same process-wide tracker, so they all
agree on which pairs are disabled. Disabling and re-enabling are announced through
`dp.send_msg` (Telegram / webhook users see them; Freqtrade sends nothing in backtests).

Hyperopt pickles the strategy, these hooks included, to its worker processes: the tracker
travels as a reference to the worker's own tracker (see pair_tracker), and unpickled
hooks hand that tracker their strategy's risk-money lookup again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade_quant_plugin.adapters.pairs.closed_trades import RiskMoneyLookup
from freqtrade_quant_plugin.adapters.pairs.pair_events import PairEvent
from freqtrade_quant_plugin.adapters.pairs.pair_locks import protection_in_use, reconcile_locks
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import get_tracker
from freqtrade_quant_plugin.adapters.pairs.paper_engine import PaperTradeEngine
from freqtrade_quant_plugin.core.settings import QuantSettings

logger = logging.getLogger(__name__)


class PairPerformanceHooks:
    def __init__(
        self,
        strategy: Any,
        settings: QuantSettings,
        risk_money_of: RiskMoneyLookup | None = None,
    ) -> None:
        """`risk_money_of(trade)`: the risk money the strategy sized a trade with, or None;
        used in backtests, where Freqtrade keeps no custom data (see closed_trades)."""
        self._strategy = strategy
        self._risk_money_of = risk_money_of
        self.tracker = get_tracker(strategy.config)
        self.tracker.set_risk_money_lookup(risk_money_of)
        self._protection = protection_in_use(getattr(strategy, "protections", None))
        # Paper trades take their exit rules and fee from the strategy (paper_entry_terms).
        self._engine = PaperTradeEngine(strategy, self.tracker)

    def __setstate__(self, state: dict[str, Any]) -> None:
        """In a worker process: the worker's tracker reads this copy's risk money."""
        self.__dict__.update(state)
        self.tracker.set_risk_money_lookup(self._risk_money_of)

    def bot_loop_start(self, current_time: datetime) -> list[PairEvent]:
        """Take in closed trades, advance paper trades, announce state changes (returned)."""
        self.tracker.sync()
        if self.tracker.uses_database:  # start-up and every loop: locks follow the state
            reconcile_locks(self.tracker, current_time, self._protection)
        self._engine.advance(current_time)
        events = self.tracker.take_events()
        for event in events:
            self._strategy.dp.send_msg(f"Symbol performance: {event.message}", always_send=True)
        return events

    def risk_modifier(self, pair: str) -> float:
        return self.tracker.risk_modifier(pair)

    def informative_pairs(self) -> list[tuple[str, str]]:
        """Disabled pairs, so Freqtrade keeps their candles coming for the paper trades."""
        return [(pair, self._strategy.timeframe) for pair in self.tracker.disabled_pairs()]
