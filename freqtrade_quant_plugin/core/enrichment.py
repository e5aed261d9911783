"""Trade records enriched for later analysis, and one readable log line per stage.

A trade stored as prices only cannot answer "which regime pays?" or "how much of my edge
goes to costs?". These dicts carry the risk geometry at entry and the result in R at exit;
the adapters store them in Freqtrade's trade custom data and export them with backtests.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from freqtrade_quant_plugin.core.costs import normalize_side, side_sign
from freqtrade_quant_plugin.core.regime_config import UNKNOWN
from freqtrade_quant_plugin.core.validation import (
    require_finite,
    require_non_negative,
    require_positive,
)

RISK_REWARD_DECIMALS = 4
PRICE_SIGNIFICANT_DIGITS = 6
STAGES = ("ENTRY", "EXIT")


def enrich_trade_entry(
    symbol: str,
    action: str,
    entry_price: float,
    quantity: float,
    stop_loss: float,
    take_profit: float,
    atr: float,
    confidence: float = 0.0,
    consensus: str = "UNKNOWN",
    regime: str | None = None,
) -> dict[str, Any]:
    """Entry record: stop and target distances in money, % of entry and ATR.

    sl_distance_dollars is the money at risk, |entry - stop| * quantity (1R in money).
    ATR distances are None when ATR is 0, since no ATR multiple exists then.
    """
    side = normalize_side(action)
    sign = side_sign(side)
    entry_price = require_positive("entry_price", entry_price)
    quantity = require_positive("quantity", quantity)
    stop_loss = require_positive("stop_loss", stop_loss)
    take_profit = require_positive("take_profit", take_profit)
    atr = require_non_negative("atr", atr)
    if not (stop_loss - entry_price) * sign < 0 < (take_profit - entry_price) * sign:
        raise ValueError(
            f"{side} at {entry_price} needs the stop ({stop_loss}) on the loss side and the "
            f"take-profit ({take_profit}) on the profit side of the entry"
        )
    sl_distance = abs(entry_price - stop_loss)
    tp_distance = abs(take_profit - entry_price)
    return {
        "symbol": symbol,
        "action": side,
        "entry_price": entry_price,
        "quantity": quantity,
        "stop_loss": stop_loss,
        "take_profit": take_profit,
        "atr": atr,
        "regime_at_entry": regime or UNKNOWN,
        "sl_distance_dollars": sl_distance * quantity,
        "sl_distance_pct": sl_distance / entry_price * 100,
        "sl_distance_atr": sl_distance / atr if atr > 0 else None,
        "tp_distance_dollars": tp_distance * quantity,
        "tp_distance_pct": tp_distance / entry_price * 100,
        "tp_distance_atr": tp_distance / atr if atr > 0 else None,
        "risk_reward_ratio": round(tp_distance / sl_distance, RISK_REWARD_DECIMALS),
        "confidence": confidence,
        "consensus": consensus,
    }


def enrich_trade_exit(
    trade_entry: Mapping[str, Any],
    exit_price: float,
    exit_reason: str,
    pnl_dollars: float,
    fees_estimate: float = 0.0,
    slippage_estimate: float = 0.0,
    mfe: float | None = None,
    mae: float | None = None,
    duration_hours: float | None = None,
    funding: float = 0.0,
    slippage_in_fills: bool = False,
) -> dict[str, Any]:
    """Exit record: the entry record plus the result in R, gross and after costs.

    pnl_dollars is the price move between the entry and exit prices given. Where those are
    real fills (`slippage_in_fills`, a live or dry-run bot), the slippage is already in
    them: it is reported (slippage_estimate is then the measured slippage) and counted in
    total_costs, but not subtracted again from the net result. Backtest fills are ideal,
    so there the modelled slippage is subtracted. was_winner is the sign of that net
    result (the pair tracker counts Freqtrade's realised profit over the risk money, the
    same number live and in dry-run; see adapters/pairs/closed_trades.py).

    mfe / mae are the most favourable / adverse prices seen; mfe_R / mae_R are their
    distances from entry in R, positive in the trade's favour (so mae_R is usually < 0).
    """
    entry_price = trade_entry["entry_price"]
    sign = side_sign(trade_entry["action"])
    risk_money = trade_entry["sl_distance_dollars"]
    risk_per_unit = abs(entry_price - trade_entry["stop_loss"])
    pnl = require_finite("pnl_dollars", pnl_dollars)
    slippage = require_finite("slippage_estimate", slippage_estimate)
    total_costs = require_finite("fees_estimate", fees_estimate) + slippage
    total_costs += require_finite("funding", funding)
    net_result = pnl - (total_costs - slippage if slippage_in_fills else total_costs)

    def excursion_r(price: float | None, name: str) -> float | None:
        if price is None:
            return None
        return (require_positive(name, price) - entry_price) * sign / risk_per_unit

    return {
        **trade_entry,
        "exit_price": require_positive("exit_price", exit_price),
        "exit_reason": exit_reason,
        "pnl_dollars": pnl,
        "R_multiple": pnl / risk_money,
        "net_R_multiple": net_result / risk_money,
        "total_costs": total_costs,
        "cost_in_R": total_costs / risk_money,
        "mfe": mfe,
        "mae": mae,
        "mfe_R": excursion_r(mfe, "mfe"),
        "mae_R": excursion_r(mae, "mae"),
        "duration_hours": duration_hours,
        "was_winner": net_result > 0,
    }


def format_trade_log_message(enriched: Mapping[str, Any], stage: str) -> str:
    """One line a trader can read at a glance; fields that are missing are left out."""
    stage = stage.upper() if isinstance(stage, str) else stage
    if stage not in STAGES:
        raise ValueError(f"Unknown log stage {stage!r}: expected ENTRY or EXIT")
    entry_price = enriched["entry_price"]
    head = f"{enriched['action']} {enriched['symbol']} {stage} @ "
    if stage == "ENTRY":
        parts = [
            head + format_price(entry_price),
            _level("SL", enriched["stop_loss"], entry_price),
            _level("TP", enriched["take_profit"], entry_price),
            _optional("R:R {:.1f}", enriched.get("risk_reward_ratio")),
            _optional("{}", _known(enriched.get("consensus"))),
            _optional("{}", enriched.get("regime_at_entry")),
        ]
    else:
        pnl = enriched.get("pnl_dollars")
        r_multiple = enriched.get("R_multiple")
        result = None
        if r_multiple is not None:
            result = f"{r_multiple:.2f}R" + ("" if pnl is None else f" ({format_price(pnl)})")
        parts = [
            head + format_price(enriched["exit_price"]),
            _optional("{}", enriched.get("exit_reason")),
            result,
            _optional("net {:.2f}R", enriched.get("net_R_multiple")),
            _optional("MFE {:.2f}R", enriched.get("mfe_R")),
        ]
    return " | ".join(part for part in parts if part)


def format_price(value: float) -> str:
    """Thousands separators and enough significant digits for any price.

    50000 -> "50,000", 1234.5678 -> "1,234.57", 0.00001234 -> "0.00001234": a meme coin
    price must never print as 0.
    """
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(2, PRICE_SIGNIFICANT_DIGITS - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _level(label: str, price: float, entry_price: float) -> str:
    change = (price - entry_price) / entry_price * 100
    return f"{label} {format_price(price)} ({change:+.1f}%)"


def _optional(template: str, value: object) -> str | None:
    return None if value is None or value == "" else template.format(value)


def _known(label: object) -> object:
    """UNKNOWN is the marker of a label nobody set: a log line leaves it out."""
    return None if label == UNKNOWN else label
