"""What the exit mode changes in an entry's terms, and the entry gates inside the strategy.

The stop an entry is sized and recorded with (`_entry_stop_distance`, `_initial_stop`):
- replace: the plugin's ATR stop (k1 * ATR);
- none: the strategy's own static stop (Freqtrade: `stoploss` of the stake, so the price
  distance is rate * |stoploss| / leverage); risk is measured to it;
- guard: the tighter of the two (the stop in force once the entry fills).

`_quant_entry_refused`: pair disabling and the entry blocks (stale candles, a failed loop)
refuse the entry in `confirm_trade_entry`, so they act without the pairlist filter or the
protection (`custom_stake_amount` already answers 0 for them).
"""

from __future__ import annotations

from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.strategy.fail_closed import entry_blocks
from freqtrade_quant_plugin.core.exit_modes import NONE, REPLACE
from freqtrade_quant_plugin.core.stop_levels import StopRules


class LayerTerms(IStrategy):
    """Mode-dependent stop terms and the in-strategy entry gate of QuantMixin."""

    def _static_stop_distance(self, rate: float, leverage: float) -> float:
        return rate * abs(float(self.stoploss)) / (leverage or 1.0)

    def _entry_stop_distance(self, rules: StopRules, row, rate: float, leverage: float) -> float:
        """Price distance to the stop an entry at `rate` is sized with."""
        atr_stop = rules.k1_SL * row.atr
        if self.quant_exits_mode == REPLACE:
            return atr_stop
        static = self._static_stop_distance(rate, leverage)
        return static if self.quant_exits_mode == NONE else min(atr_stop, static)

    def _initial_stop(self, entry: float, is_short: bool, leverage: float, rules, atr) -> float:
        """The stop price in force right after the entry fill (see the module docstring)."""
        sign = -1.0 if is_short else 1.0
        atr_stop = entry - sign * rules.k1_SL * atr
        if self.quant_exits_mode == REPLACE:
            return atr_stop
        static = entry - sign * self._static_stop_distance(entry, leverage)
        if self.quant_exits_mode == NONE:
            return static
        return max(atr_stop, static) if not is_short else min(atr_stop, static)

    def _quant_entry_refused(self, pair: str, side: str) -> bool:
        block = entry_blocks(self).holding(pair)
        if block is not None:
            self.log_decision("%s: %s entry refused: %s", pair, side, block[1])
            return True
        hooks = getattr(self, "pair_performance", None)
        if hooks is not None and not hooks.tracker.is_enabled(pair):
            self.log_decision("%s: %s entry refused: the pair is disabled", pair, side)
            return True
        return False
