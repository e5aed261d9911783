"""Switches for the plugin's layers, so a user can see what each one does to a strategy.

Every layer is on by default. Off means the plugin behaves as if that layer did not exist:

- `regime_exits`: off, every trade takes NORMAL_VOL's exit table whatever its entry regime;
- `breakeven`, `trailing`, `time_exit`: off, that stop stage or exit is never used;
- `regime_sizing`: off, the volatility multipliers are all 1.0;
- `pair_risk_modifier`: off, every pair's risk modifier is 1.0;
- `pair_disabling`: off, no pair is disabled and no paper trades are kept;
- `cost_gate`: off, entries are not refused or cut for their modelled cost in R.

"All regime layers off" (`REGIME_LAYERS`) is the static twin: the same entries with fixed
exits and fixed risk, the baseline every regime layer has to beat.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


@dataclass(frozen=True)
class LayerSwitches:
    regime_exits: bool = True
    breakeven: bool = True
    trailing: bool = True
    time_exit: bool = True
    regime_sizing: bool = True
    pair_risk_modifier: bool = True
    pair_disabling: bool = True
    cost_gate: bool = True

    def without(self, *names: str) -> LayerSwitches:
        """A copy with the named layers switched off."""
        return dataclasses.replace(self, **dict.fromkeys(names, False))

    @property
    def off(self) -> tuple[str, ...]:
        """Names of the layers switched off, in declaration order."""
        return tuple(name for name in LAYER_NAMES if not getattr(self, name))


LAYER_NAMES: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(LayerSwitches))
# The layers that depend on the regime or the pair's record: all off = the static twin.
REGIME_LAYERS: tuple[str, ...] = (
    "regime_exits",
    "breakeven",
    "trailing",
    "regime_sizing",
    "pair_risk_modifier",
)
# Environment variable of each layer, e.g. QUANT_LAYER_BREAKEVEN=false.
LAYER_VARIABLES: dict[str, str] = {f"QUANT_LAYER_{name.upper()}": name for name in LAYER_NAMES}
