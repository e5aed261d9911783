"""Old path of `exit_rule_spans`, imported by copies of the sample strategy."""

from freqtrade_quant_plugin.adapters.strategy.compose.parameters import exit_rule_spans

__all__ = ["exit_rule_spans"]
