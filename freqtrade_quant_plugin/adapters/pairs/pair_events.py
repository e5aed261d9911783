"""What users are told when a pair changes state, apart from how the state is kept.

The tracker (pair_tracker.py) decides when a pair is disabled or re-enabled; the strategy
hooks, the summary counters and the messages sent through Telegram, webhooks and the log
only need the event kinds and their wording, which live here.
"""

from __future__ import annotations

from typing import NamedTuple

from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig, SymbolStats

DISABLED = "disabled"
REENABLED = "re-enabled"
REENABLED_BY_HAND = "re-enabled by hand"


class PairEvent(NamedTuple):
    """A pair changed state; `message` is what users are told (Telegram, webhook, log)."""

    pair: str
    kind: str
    at: int  # epoch seconds
    message: str


def disable_message(stats: SymbolStats, config: SymbolPerformanceConfig) -> str:
    return (
        f"{stats.symbol} disabled after {stats.consecutive_losses} consecutive losses "
        f"(win rate {stats.win_rate:.0%}, average R {stats.avg_R:.2f} over "
        f"{stats.total_trades} trades); {config.consecutive_win_reenable_threshold} "
        "consecutive paper wins re-enable it"
    )


def reenable_message(pair: str, config: SymbolPerformanceConfig) -> str:
    return (
        f"{pair} re-enabled after {config.consecutive_win_reenable_threshold} "
        "consecutive paper wins"
    )


def unlock_message(pair: str, config: SymbolPerformanceConfig) -> str:
    return (
        f"{pair} re-enabled by hand (its lock was removed, e.g. /unlock); "
        f"{config.consecutive_loss_disable_threshold} new consecutive losses disable it again"
    )
