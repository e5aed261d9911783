"""Protection: locks a pair once symbol performance disables it.

Add it to the strategy's `protections` (Freqtrade reads protections from the strategy):
`[{"method": "SymbolPerformanceProtection"}]`. It works live, in dry-run and in backtests
run with --enable-protections. The lock lasts until paper wins re-enable the pair (the
strategy's paper-trade engine then lifts it), so the stop_duration / unlock_at settings
of other protections do not apply and are refused.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade.constants import Config, LongShort
from freqtrade.exceptions import OperationalException
from freqtrade.plugins.protections import IProtection, ProtectionReturn

from freqtrade_quant_plugin.adapters.freqtrade_compat import STARTING_BALANCE_UNKNOWN
from freqtrade_quant_plugin.adapters.pairs.pair_locks import LOCK_HORIZON, lock_detail, lock_reason
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import get_tracker

logger = logging.getLogger(__name__)

_DURATION_KEYS = ("stop_duration", "stop_duration_candles", "unlock_at")


class SymbolPerformanceProtection(IProtection):
    has_global_stop: bool = False
    has_local_stop: bool = True

    def __init__(self, config: Config, protection_config: dict[str, Any]) -> None:
        given = [key for key in _DURATION_KEYS if key in protection_config]
        if given:
            # Not ConfigurationError: Freqtrade exits 0 on that one.
            raise OperationalException(
                f"SymbolPerformanceProtection: {', '.join(given)} is not supported; the lock "
                "lasts until consecutive paper wins re-enable the pair "
                "(quant.symbol_performance.consecutive_win_reenable_threshold)."
            )
        super().__init__(config, protection_config)
        self._tracker = get_tracker(config)

    def short_desc(self) -> str:
        cfg = self._tracker.config
        return (
            f"{self.name} - Locks a pair after {cfg.consecutive_loss_disable_threshold} "
            f"consecutive losses until {cfg.consecutive_win_reenable_threshold} consecutive "
            "paper wins re-enable it."
        )

    # starting_balance: not passed before Freqtrade 2026.2 (see adapters/freqtrade_compat.py)
    def global_stop(
        self,
        date_now: datetime,
        side: LongShort,
        starting_balance: float = STARTING_BALANCE_UNKNOWN,
    ) -> ProtectionReturn | None:
        return None

    def stop_per_pair(
        self,
        pair: str,
        date_now: datetime,
        side: LongShort,
        starting_balance: float = STARTING_BALANCE_UNKNOWN,
    ) -> ProtectionReturn | None:
        self._tracker.sync()
        if self._tracker.is_enabled(pair):
            return None
        detail = lock_detail(self._tracker.stats(pair))
        self.log_once(f"Locking {pair}: {detail}", logger.info)
        return ProtectionReturn(
            lock=True, until=date_now + LOCK_HORIZON, reason=lock_reason(detail)
        )
