"""Paper trades of disabled pairs take the terms a real entry would get."""

from __future__ import annotations

import logging

from freqtrade.strategy import IStrategy

from freqtrade_quant_plugin.adapters.signal_rows import SignalRow
from freqtrade_quant_plugin.core.paper_trading import PaperTerms
from freqtrade_quant_plugin.core.regime_config import UNKNOWN
from freqtrade_quant_plugin.core.sizing import plan_position

logger = logging.getLogger(__name__)


class PaperTermsLayer(IStrategy):
    """paper_entry_terms of QuantMixin."""

    def paper_entry_terms(self, pair: str, row: SignalRow, *, is_short: bool) -> PaperTerms | None:
        """Exit rules and breakeven of a paper trade on `row`: those a real entry gets.

        Same `stop_rules` (a twin's overrides and hyperopt results included), same fee
        (Freqtrade's), breakeven priced for the size the entry would have been planned
        with; None where the strategy would not enter (UNKNOWN regime, no ATR, sizing skip).
        """
        if row.regime == UNKNOWN or not row.atr > 0 or not row.close > 0:
            return None
        settings = self.effective_settings()
        rules = self.stop_rules(row.regime, settings)
        if is_short and row.close - rules.k2_TP * row.atr <= 0:
            return None
        cost_model = self._cost_model(settings, self._fee_rate(pair, settings))
        plan = plan_position(
            balance=self.wallets.get_total_stake_amount() if self.wallets else 0.0,
            price=row.close,
            stop_distance=rules.k1_SL * row.atr,
            volatility_regime=row.volatility_regime,
            risk_modifier=self.pair_risk_modifier(pair),
            atr=row.atr,
            is_short=is_short,
            config=self.sizing_risk_config(settings),
            cost_model=cost_model,
            candle_volume=row.volume,
            cost_gate=settings.layers.cost_gate,
        )
        if plan.skip_reason:
            logger.debug("No paper trade for %s: %s", pair, plan.skip_reason)
            return None
        try:
            breakeven = cost_model.breakeven_price(
                row.close,
                plan.stop_price,
                plan.size,
                row.atr,
                action="SHORT" if is_short else "LONG",
                candle_volume=row.volume,
            )
        except ValueError as error:
            logger.debug("No breakeven for a paper trade of %s: %s", pair, error)
            breakeven = None
        return PaperTerms(rules, breakeven)
