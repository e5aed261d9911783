"""The run a composed strategy is in: start-up checks, run state, and each loop's pair state.

A layer of QuantMixin of its own so mixin.py stays the composition of the layers. Which
run mode decides how decisions are logged and where state comes from; `bot_start` checks
the settings against the strategy and sets up the stale-candle watch and the pair hooks;
each backtest (hyperopt reruns them on the same object) starts from clean run state; each
loop counts the pairs disabled and re-enabled for the backtest summary.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from freqtrade.enums import RunMode
from freqtrade.exceptions import OperationalException
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.pairs.pair_events import DISABLED, REENABLED
from freqtrade_quant_plugin.adapters.pairs.pair_performance import PairPerformanceHooks
from freqtrade_quant_plugin.adapters.records import entry_summary, trade_records
from freqtrade_quant_plugin.adapters.records.entry_summary import EntrySummary
from freqtrade_quant_plugin.adapters.strategy.compose.exit_mode import check_exit_settings
from freqtrade_quant_plugin.adapters.strategy.exits.live_stops import advise_stop_on_exchange
from freqtrade_quant_plugin.adapters.strategy.fail_closed import (
    blocks_entries_on_failure,
    entry_blocks,
)
from freqtrade_quant_plugin.adapters.strategy.fills.fill_records import RECORDED_RUNS
from freqtrade_quant_plugin.adapters.strategy.gates.staleness import (
    StaleCandles,
    newest_closed_opens,
)
from freqtrade_quant_plugin.adapters.strategy.sizing.exchange_facts import (
    static_stoploss_notice,
)

logger = logging.getLogger(__name__)


class RunLifecycle(IStrategy):
    """Run mode, start-up, per-run state and per-loop pair state of QuantMixin."""

    @property
    def _runmode(self) -> RunMode | None:
        return self.config.get("runmode")

    @property
    def _is_live(self) -> bool:
        return self._runmode in (RunMode.LIVE, RunMode.DRY_RUN)

    @property
    def _stop_on_exchange_live(self) -> bool:
        """Freqtrade leaves stops to the exchange order (and never checks them itself)."""
        return bool(self.order_types.get("stoploss_on_exchange")) and not self.config.get(
            "dry_run", True
        )

    @property
    def _is_simulated(self) -> bool:
        """Backtests, hyperopt and Freqtrade's analysis commands (which run backtests)."""
        return not self._is_live

    def log_decision(self, message: str, *args: Any) -> None:
        """Skips, clamps and trade lines: INFO for a bot, DEBUG (shown with -v) in backtests."""
        logger.log(logging.DEBUG if self._is_simulated else logging.INFO, message, *args)

    def _quant_bot_start(self) -> None:
        """The plugin's start-up: checks, stale-data watch, run state, pair hooks."""
        needed = self.quant_settings.regime.startup_candles
        if self.startup_candle_count < needed:
            raise OperationalException(
                f"{type(self).__name__}.startup_candle_count={self.startup_candle_count} is "
                f"below the {needed} candles the regime detector needs before its first "
                "defined regime: raise startup_candle_count"
            )
        self._timeframe_seconds = timeframe_to_seconds(self.timeframe)
        self._stale_candles = StaleCandles(self._timeframe_seconds, entry_blocks(self))
        if self._runmode == RunMode.LIVE:
            advise_stop_on_exchange(self.order_types, bool(self.config.get("dry_run")))
        if self._is_live:
            logger.info(static_stoploss_notice(self.stoploss, self.quant_exits_mode))
        self._reset_run_state()
        self.pair_performance = PairPerformanceHooks(self, self.quant_settings, self._risk_money)
        check_exit_settings(self)

    @blocks_entries_on_failure
    def _quant_bot_loop_start(self, current_time: datetime) -> None:
        # A new run (trade ids start again at 1): hyperopt reruns backtests on the same
        # object (time goes backwards) or on a fresh copy in a worker process (first loop).
        # A bot's one run began at bot_start: what its start-up learnt (fills Freqtrade
        # reported before the first loop) stays.
        simulated = self._is_simulated
        if simulated and (self._last_loop_time is None or current_time < self._last_loop_time):
            self._reset_run_state()
        self._last_loop_time = current_time
        if self._is_live:
            pairs = self.dp.current_whitelist()
            self._stale_candles.update(self, newest_closed_opens(self, pairs), current_time)
        for event in self.pair_performance.bot_loop_start(current_time):
            if event.kind == DISABLED:
                self.entry_summary.pairs_disabled += 1
            elif event.kind == REENABLED:
                self.entry_summary.pairs_reenabled += 1

    def _quant_informative_pairs(self) -> list[tuple[str, str]]:
        """Disabled pairs stay informative: their signals feed paper trades."""
        return self.pair_performance.informative_pairs()

    def _reset_run_state(self) -> None:
        self._states.clear()
        self._recovery.clear()
        self._pending.clear()
        self._entry_records.clear()
        self._last_loop_time = None
        self.entry_summary = EntrySummary()
        if self._runmode in RECORDED_RUNS:
            trade_records.start_collecting(self.get_strategy_name())
            self.entry_summary = entry_summary.start(self.get_strategy_name())
