"""What the plugin adds to a strategy's own exits: `quant.exits.mode`.

- `none`: nothing. The strategy's ROI table, stoploss, trailing stop, custom_stoploss,
  custom_exit and exit signals decide every exit; the plugin sizes, gates and records,
  measuring risk to the strategy's own stop.
- `guard`: the plugin's ATR stop (initial, breakeven, trailing stages) as well; the
  effective stop is always the tighter of the two, so the plugin never loosens a stop.
- `replace`: the plugin's exits instead of the strategy's ROI table, static stop and
  trailing stop (take-profit, time exit, ATR stop stages); `QuantStrategy`'s behaviour.

A strategy class carries its default (`QuantMixin`: none, `QuantStrategy`: replace); the
setting overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass

from freqtrade_quant_plugin.core.validation import QuantConfigError

NONE = "none"
GUARD = "guard"
REPLACE = "replace"
EXIT_MODES = (NONE, GUARD, REPLACE)


@dataclass(frozen=True)
class ExitsConfig:
    mode: str = ""  # "": the strategy class's default (a user's empty value is refused)

    def __post_init__(self) -> None:
        if self.mode and self.mode not in EXIT_MODES:
            raise QuantConfigError("mode", self.mode, f"one of {', '.join(EXIT_MODES)}")

    def resolve(self, class_default: str) -> str:
        return self.mode or class_default


def stop_level(distance: float, rate: float, leverage: float, is_short: bool) -> float:
    """Freqtrade's stop price for a custom_stoploss answer `distance` at `rate`."""
    offset = abs(distance) / (leverage or 1.0)
    return rate * (1 + offset) if is_short else rate * (1 - offset)


def tighter_stoploss(
    user: float | None,
    plugin: float | None,
    *,
    rate: float,
    leverage: float,
    is_short: bool,
    current_stop: float | None,
) -> float | None:
    """The custom_stoploss answer of a composed strategy: the tighter of the user's answer
    and the plugin's; with no answer from the user, the plugin's only when it is tighter
    than the stop in force.

    So the stop is never looser than what the user's strategy alone would set, nor than the
    plugin's, also after a fill, where Freqtrade lets an answer lower the stop: a user's
    after-fill answer wider than the stop in force must not drop the plugin's tighter one.
    A user who answers None keeps Freqtrade's stop exactly as without the plugin.
    """
    if plugin is None:
        return user
    sign = -1.0 if is_short else 1.0
    level = stop_level(plugin, rate, leverage, is_short)
    if user is not None:
        other = stop_level(user, rate, leverage, is_short)
    elif current_stop:
        other = current_stop
    else:
        return plugin
    return plugin if (level - other) * sign > 0 else user
