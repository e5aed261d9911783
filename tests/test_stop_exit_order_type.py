"""Issue 16, defect 2: the plugin's stop-type exits leave with a stop's order type.

A stop the price has passed, or a trade left with no stop state, is closed through
`custom_exit` when Freqtrade will not close it on its own stop. Freqtrade's
`execute_trade_exit` picks the order type from the exit's type: a custom exit gets
`order_types["exit"]` (a limit at the proposed price, which a falling market leaves
unfilled) after the exchange stop was cancelled. The plugin's stop-type exits must instead
use the order type Freqtrade uses for a stop exit: `order_types["stoploss"]` where
Freqtrade checks stops itself, `order_types["emergency_exit"]` (market unless the user set
it) where the stop lives on the exchange (there `order_types["stoploss"]` is the exchange's
resting stop order, a stop-limit on Binance spot).

Freqtrade's own `_check_and_execute_exit` and `execute_trade_exit` run here, bound to a
stand-in bot that records the orders it is asked to place; the trade is a real `Trade`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MethodType, SimpleNamespace

import pytest
from freqtrade.enums import RunMode, TradingMode
from freqtrade.freqtradebot import FreqtradeBot
from live_trade_support import (  # noqa: F401 (fixture)
    PAIR,
    candles_from,
    fresh_pair_trackers,
    load_strategy_class,
    open_trade,
    started_strategy,
)

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY
from freqtrade_quant_plugin.adapters.strategy.exits.state_recovery import NO_STOP_STATE


@pytest.fixture(scope="module")
def strategy_class():
    return load_strategy_class()


class _Bot(SimpleNamespace):
    """What `execute_trade_exit` touches of FreqtradeBot, recording the exchange calls."""

    def __init__(self, strategy, dry_run: bool) -> None:
        self.calls: list[tuple] = []

        def create_order(**order):
            self.calls.append(("create_order", order["ordertype"], order["rate"]))
            return {
                "id": f"exit-{len(self.calls)}",
                "status": "open",
                "symbol": order["pair"],
                "type": order["ordertype"],
                "side": order["side"],
                "price": order["rate"],
                "amount": order["amount"],
                "filled": 0.0,
                "remaining": order["amount"],
            }

        def cancel_stop(trade, allow_nonblocking=False):
            self.calls.append(("cancel_stoploss_on_exchange",))
            return trade

        super().__init__(
            strategy=strategy,
            config={"dry_run": dry_run},
            trading_mode=TradingMode.SPOT,
            exchange=SimpleNamespace(
                get_funding_fees=lambda **kwargs: 0.0, create_order=create_order
            ),
            _exit_reason_cache={},
            cancel_stoploss_on_exchange=cancel_stop,
            _safe_exit_amount=lambda trade, pair, amount: amount,
            _notify_exit=lambda *args, **kwargs: None,
            calls=self.calls,
        )
        for name in ("_check_and_execute_exit", "execute_trade_exit", "get_valid_price"):
            setattr(self, name, MethodType(getattr(FreqtradeBot, name), self))

    def exit_now(self, trade, rate: float) -> list[tuple]:
        """FreqtradeBot.handle_trade's exit step (no exit signal), at `rate`."""
        self.calls.clear()
        assert self._check_and_execute_exit(trade, rate, False, False, None)
        return self.calls


def _live_on_exchange(strategy_class, *, fill: bool = True, **order_types):
    """A live bot with its stop on the exchange (Binance spot: a stop-limit order) and a
    trade entered an hour ago (`_check_and_execute_exit` asks for exits at the clock's
    time; the entry state was fixed at the fill)."""
    strategy, frame, _ = started_strategy(strategy_class, runmode=RunMode.LIVE, dry_run=False)
    strategy.order_types = {
        **strategy.order_types,
        "stoploss": "limit",
        "stoploss_on_exchange": True,
        **order_types,
    }
    trade = open_trade(strategy, frame, fill=fill)
    trade.adjust_stop_loss(trade.open_rate, strategy.stoploss, initial=True)
    trade.open_date = datetime.now(UTC).replace(tzinfo=None) - timedelta(hours=1)
    return strategy, trade


def test_a_passed_stop_with_the_stop_on_the_exchange_exits_at_market(strategy_class):
    strategy, trade = _live_on_exchange(strategy_class)
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    bot = _Bot(strategy, dry_run=False)
    calls = bot.exit_now(trade, round(stop * 0.97, 2))  # a gap through the stop-limit
    assert calls[0] == ("cancel_stoploss_on_exchange",)
    assert calls[1][:2] == ("create_order", "market"), calls
    assert trade.exit_reason == "stop_loss"


def test_the_user_s_emergency_exit_type_is_kept(strategy_class):
    strategy, trade = _live_on_exchange(strategy_class, emergency_exit="limit")
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    calls = _Bot(strategy, dry_run=False).exit_now(trade, round(stop * 0.97, 2))
    assert calls[1][:2] == ("create_order", "limit"), calls


def test_a_passed_stop_checked_by_the_bot_uses_the_stop_order_type(strategy_class):
    """No price tick: Freqtrade cannot put its stop on the price, the plugin asks for the
    exit; it leaves with `order_types["stoploss"]` (market), as Freqtrade's stop would."""
    strategy, frame, _ = started_strategy(strategy_class)
    trade = open_trade(strategy, frame)
    trade.price_precision = None
    stop = trade.get_custom_data(STATE_KEY)["stop_price"]
    calls = _Bot(strategy, dry_run=True).exit_now(trade, stop * 0.99)
    creates = [call for call in calls if call[0] == "create_order"]
    assert [call[1] for call in creates] == [strategy.order_types["stoploss"]] == ["market"]
    assert trade.exit_reason == "stop_loss"


def test_a_trade_without_a_stop_state_exits_at_market(strategy_class):
    """No entry state, and the analysed candles cannot rebuild one: the no_stop_state exit
    leaves at market too (the trade has only the static stoploss)."""
    strategy, trade = _live_on_exchange(strategy_class, fill=False)  # nothing stored
    restarted, _, _ = started_strategy(
        strategy_class, runmode=RunMode.LIVE, dry_run=False, analyse=False
    )
    restarted.order_types = strategy.order_types
    later = candles_from(trade.open_date_utc + timedelta(hours=2))
    restarted.populate_indicators(later, {"pair": PAIR})
    calls = _Bot(restarted, dry_run=False).exit_now(trade, trade.open_rate)
    assert [call[1] for call in calls if call[0] == "create_order"] == ["market"]
    assert trade.exit_reason == NO_STOP_STATE


def test_a_take_profit_stays_a_limit_exit(strategy_class):
    strategy, trade = _live_on_exchange(strategy_class)
    target = trade.get_custom_data(STATE_KEY)["take_profit_price"]
    calls = _Bot(strategy, dry_run=False).exit_now(trade, round(target * 1.001, 2))
    assert [call[1] for call in calls if call[0] == "create_order"] == ["limit"]
    assert trade.exit_reason == "take_profit"
