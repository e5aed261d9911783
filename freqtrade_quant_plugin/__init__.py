"""Regime detection, cost model, risk sizing, regime exits and pair tracking for Freqtrade.

The names below are the original design guide's module APIs. They are loaded on first use
(PEP 562), so that importing the package - which the Freqtrade registration hook does in
every Python process of the environment - costs nothing until a name is needed. For the
same reason this file imports nothing at start-up (not even typing or importlib).
"""

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "CostConfig": "costs",
    "CostEstimate": "costs",
    "CostModel": "costs",
    "estimate_trade_cost": "costs",
    "enrich_trade_entry": "enrichment",
    "enrich_trade_exit": "enrichment",
    "format_trade_log_message": "enrichment",
    "ExitParams": "exit_policy",
    "get_exit_params": "exit_policy",
    "RegimeDetector": "regime",
    "RegimeDetectorConfig": "regime",
    "RegimeResult": "regime",
    "detect_regime": "regime",
    "QuantSettings": "settings",
    "SymbolPerformanceConfig": "symbol_performance",
    "SymbolPerformanceManager": "symbol_performance",
    "SymbolStats": "symbol_performance",
    "QuantConfigError": "validation",
    "QuantMixin": "adapters.strategy.mixin",
    "QuantStrategy": "adapters.strategy.mixin",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> "Any":
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    where = _EXPORTS[name]
    package = (
        "freqtrade_quant_plugin" if where.startswith("adapters.") else "freqtrade_quant_plugin.core"
    )
    module = importlib.import_module(f"{package}.{where}")
    return getattr(module, name)
