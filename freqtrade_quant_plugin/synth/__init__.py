"""Deterministic synthetic crypto markets with known regimes.

The project ships no market data: this package produces a realistic default data set
(Freqtrade's feather layout) together with the TRUE regime of every candle, so the
regime detector can be scored and the demo runs from a fresh clone.
"""

from freqtrade_quant_plugin.synth.generate import generate_market
from freqtrade_quant_plugin.synth.profiles import DEFAULT_PAIRS
from freqtrade_quant_plugin.synth.writer import write_synthetic_data

__all__ = ["DEFAULT_PAIRS", "generate_market", "write_synthetic_data"]
