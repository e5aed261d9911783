"""Start-up of a composed strategy: the exit mode's attributes, what cannot be honoured,
and the startup candles the regime detector needs.

`replace` sets the plugin's exit attributes on the instance (the ROI table, static stop
and trailing stop of `QuantStrategy`, the one place they are written); `guard` switches
Freqtrade's custom_stoploss on so the plugin's stop can act beside the user's own; `none`
changes nothing. Freqtrade copies these attributes into its config after `__init__` (a
config value still wins, as for any strategy).
"""

from __future__ import annotations

import logging
from typing import Any

from freqtrade.exceptions import OperationalException

from freqtrade_quant_plugin.adapters.strategy.compose.guarded import user_definition
from freqtrade_quant_plugin.core.exit_modes import GUARD, NONE, REPLACE

logger = logging.getLogger(__name__)

REPLACED_ATTRIBUTES = ("minimal_roi", "stoploss", "trailing_stop", "use_custom_stoploss")
# A static stop this far or farther, with a custom_stoploss, is a backstop, not the stop.
_FAR_STOP = 0.25
_CALLBACKS_KEPT = ("custom_stoploss", "custom_exit", "custom_stake_amount", "leverage")


def apply_exit_mode(strategy: Any, mode: str, replace_defaults: type) -> None:
    """Set what `mode` changes; `replace_defaults` holds the plugin's exit attributes."""
    if mode == REPLACE:
        for name in REPLACED_ATTRIBUTES:
            setattr(strategy, name, getattr(replace_defaults, name))
    elif mode == GUARD:
        strategy.use_custom_stoploss = True


def raise_startup_candles(strategy: Any, config: dict, needed: int) -> None:
    """A strategy written without the plugin gets the detector's warm-up (INFO line)."""
    current = int(config.get("startup_candle_count") or strategy.startup_candle_count or 0)
    if current >= needed:
        return
    logger.info(
        "%s: startup_candle_count raised from %d to %d: the plugin's regime detector needs "
        "%d candles before its first regime",
        type(strategy).__name__,
        current,
        needed,
        needed,
    )
    strategy.startup_candle_count = needed
    if "startup_candle_count" in config:
        config["startup_candle_count"] = needed


def check_exit_settings(strategy: Any) -> None:
    """At bot start (after Freqtrade applied the config): refuse what would remove a safety
    exit, and say in one INFO line what the plugin does with the strategy's exits.

    `use_exit_signal` false and `exit_profit_only` need no refusal: the plugin's custom
    exits also act where Freqtrade skips custom_exit (exit_composition.should_exit)."""
    mode = strategy.quant_exits_mode
    if mode != NONE and not strategy.use_custom_stoploss:
        raise OperationalException(
            f"use_custom_stoploss=false: quant.exits.mode '{mode}' needs Freqtrade's "
            "custom_stoploss for the plugin's stop: remove the override, or set "
            "quant.exits.mode 'none'"
        )
    if mode == NONE and strategy._quant_user_stoploss and abs(strategy.stoploss) >= _FAR_STOP:
        logger.warning(
            "%s: quant.exits.mode 'none' sizes each entry to the static stoploss %.2f, while "
            "custom_stoploss sets the real stop: positions come out small. quant.exits.mode "
            "'guard' sizes to the tighter ATR stop",
            type(strategy).__name__,
            strategy.stoploss,
        )
    own = [name for name in _CALLBACKS_KEPT if user_definition(type(strategy), name)]
    kept = f"; the strategy's own {', '.join(own)} run as well" if own else ""
    text = {
        NONE: "the strategy's exits as they are (the plugin sizes, gates and records)",
        GUARD: "the strategy's exits plus the plugin's ATR stop (the tighter stop wins)",
        REPLACE: "the plugin's exits instead of the ROI table, static and trailing stop",
    }[mode]
    logger.info("%s: quant.exits.mode '%s': %s%s", type(strategy).__name__, mode, text, kept)
