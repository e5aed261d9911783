"""Position adjustment (DCA) composed with the user's `adjust_trade_position`."""

from __future__ import annotations

from typing import Any

from freqtrade.strategy import IStrategy


class PositionAdds(IStrategy):
    """Caps the user's adds so the money at the stop stays within the plan."""

    def _quant_cap_position_add(self, answer: Any, call: dict[str, Any]) -> Any:
        return answer
