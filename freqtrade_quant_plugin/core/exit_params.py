"""The exit rules of one regime and their validation.

Distances are in ATR of the entry candle, profits in R. A row validates itself, so a bad
value from a profile, the config or the environment stops the bot before it trades.
"""

from __future__ import annotations

from dataclasses import dataclass

from freqtrade_quant_plugin.core.regime_config import REGIMES
from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range, parse_number

PARAM_FIELDS = (
    "k1_SL",
    "k2_TP",
    "breakeven_R",
    "trailing_enabled",
    "trailing_activation_R",
    "trailing_distance_atr",
    "max_duration_hours",
    "breakeven_enabled",
)
BOOL_FIELDS = ("trailing_enabled", "breakeven_enabled")
NUMBER_FIELDS = tuple(name for name in PARAM_FIELDS if name not in BOOL_FIELDS)


@dataclass(frozen=True)
class ExitParams:
    """Exit rules of one regime; distances in ATR of the entry candle, profits in R.

    `breakeven_enabled` False: the stop never moves to breakeven (`breakeven_R` unused);
    it comes last so the guide's positional order of the other fields still holds.
    """

    regime: str
    k1_SL: float
    k2_TP: float
    breakeven_R: float
    trailing_enabled: bool
    trailing_activation_R: float
    trailing_distance_atr: float
    max_duration_hours: float
    description: str
    breakeven_enabled: bool = True

    def __post_init__(self) -> None:
        if self.regime not in REGIMES:
            raise QuantConfigError("regime", self.regime, f"one of {', '.join(REGIMES)}")
        for name in NUMBER_FIELDS:
            key = f"{self.regime}.{name}"
            object.__setattr__(self, name, parse_number(key, getattr(self, name)))
        for name in BOOL_FIELDS:
            if not isinstance(getattr(self, name), bool):
                raise QuantConfigError(
                    f"{self.regime}.{name}", getattr(self, name), "true or false"
                )
        key = f"{self.regime}."
        check_range(key + "k1_SL", self.k1_SL, 0.0, low_open=True)
        if not self.k2_TP > self.k1_SL:
            raise QuantConfigError(key + "k2_TP", self.k2_TP, f"> k1_SL ({self.k1_SL:g})")
        check_range(key + "breakeven_R", self.breakeven_R, 0.0, low_open=True)
        both_stages = self.trailing_enabled and self.breakeven_enabled
        if both_stages and self.trailing_activation_R < self.breakeven_R:
            allowed = f">= breakeven_R ({self.breakeven_R:g}) while trailing is enabled"
            raise QuantConfigError(
                key + "trailing_activation_R", self.trailing_activation_R, allowed
            )
        check_range(key + "trailing_distance_atr", self.trailing_distance_atr, 0.0, low_open=True)
        check_range(key + "max_duration_hours", self.max_duration_hours, 0.0, low_open=True)
