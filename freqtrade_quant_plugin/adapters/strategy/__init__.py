"""The strategy's callbacks: `QuantMixin`, `QuantStrategy` and their layers, one folder each."""

# The import path README and user strategies have always used (one re-export, no code).
from freqtrade_quant_plugin.adapters.strategy.mixin import QuantMixin, QuantStrategy

__all__ = ["QuantMixin", "QuantStrategy"]
