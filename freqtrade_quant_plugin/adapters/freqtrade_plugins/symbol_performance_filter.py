"""Pairlist filter: drops pairs that symbol performance has disabled.

Configure after the pairlist generator, e.g.
`"pairlists": [{"method": "StaticPairList"}, {"method": "SymbolPerformanceFilter"}]`.
Live and dry-run it reads the trade database through the shared tracker. In backtests the
pairlist is evaluated once before the first candle, so there the pair locks of
SymbolPerformanceProtection do the job (run with --enable-protections).
"""

from __future__ import annotations

import logging

from freqtrade.exchange.exchange_types import Tickers
from freqtrade.plugins.pairlist.IPairList import IPairList, SupportsBacktesting

from freqtrade_quant_plugin.adapters.pairs.pair_tracker import get_tracker

logger = logging.getLogger(__name__)


class SymbolPerformanceFilter(IPairList):
    supports_backtesting = SupportsBacktesting.NO_ACTION

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._tracker = get_tracker(self._config)

    @property
    def needstickers(self) -> bool:
        """No tickers: the decision reads the trade DB (abstract before Freqtrade 2026.3)."""
        return False

    def short_desc(self) -> str:
        return f"{self.name} - Removing pairs disabled by symbol performance."

    @staticmethod
    def description() -> str:
        return "Remove pairs disabled after a losing streak, until paper wins re-enable them."

    def filter_pairlist(self, pairlist: list[str], tickers: Tickers) -> list[str]:
        self._tracker.sync()
        kept = []
        for pair in pairlist:
            if self._tracker.is_enabled(pair):
                kept.append(pair)
                continue
            stats = self._tracker.stats(pair)
            self.log_once(
                f"Removed {pair} from whitelist: disabled by symbol performance after "
                f"{stats.consecutive_losses} consecutive losses (win rate {stats.win_rate:.0%}, "
                f"average R {stats.avg_R:.2f} over {stats.total_trades} trades; paper wins in a "
                f"row {stats.paper_consecutive_wins}/"
                f"{self._tracker.config.consecutive_win_reenable_threshold})",
                logger.info,
            )
        return kept
