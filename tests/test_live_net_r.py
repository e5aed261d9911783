"""Net R of live trades (issue 8, defect 8): slippage counted once, from the fills.

Live and dry-run fill prices already carry their slippage. The exit record measures it
(fill vs the price Freqtrade asked for) instead of subtracting the model a second time;
the pair's statistics count the net result; and the tracker's R never comes from
Freqtrade's static backstop (`initial_stop_loss`).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from freqtrade.persistence import Order, Trade, init_db
from pair_db_support import add_trade, close_trade, open_database
from test_strategy_live_state import (  # noqa: F401  (strategy_class is a fixture)
    FEE,
    PAIR,
    _entered,
    _filled_order,
    _started,
    strategy_class,
)

from freqtrade_quant_plugin.adapters.pairs.closed_trades import DatabaseTradeFeed
from freqtrade_quant_plugin.adapters.pairs.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.core.enrichment import enrich_trade_entry, enrich_trade_exit


def _order(side: str, requested: float, fill: float, amount: float, when) -> Order:
    """A filled market order asked at `requested` and filled at `fill`."""
    order = _filled_order(side, requested, amount, when)
    order.order_type, order.average, order.cost = "market", fill, fill * amount
    return order


def test_live_exit_measures_slippage_and_nets_it_once(strategy_class):  # noqa: F811
    init_db("sqlite://")
    strategy, frame = _started(strategy_class)
    requested = float(frame[frame["regime"] != "UNKNOWN"].iloc[-1]["close"])
    entry_fill = requested * 1.001  # bought 10 bps above the request
    entered = _entered(strategy, frame, fill=entry_fill)
    trade, entry_time, amount = entered.trade, entered.entry_time, entered.amount
    strategy.order_filled(pair=PAIR, trade=trade, order=trade.orders[0], current_time=entry_time)

    # Exit asked at +0.15 %, filled 10 bps lower: +0.05 % gross, less than the two fees.
    exit_time = entry_time + timedelta(hours=3)
    exit_requested = entry_fill * 1.0015
    exit_fill = exit_requested * 0.999
    exit_order = _order("sell", exit_requested, exit_fill, amount, exit_time)
    trade.orders.append(exit_order)
    trade.exit_reason = "force_exit"
    trade.close(exit_fill)
    Trade.commit()
    strategy.order_filled(pair=PAIR, trade=trade, order=exit_order, current_time=exit_time)

    measured = (entry_fill - requested) * amount + (exit_requested - exit_fill) * amount
    assert trade.get_custom_data("slippage") == pytest.approx(measured, rel=1e-9)
    risk = trade.get_custom_data("risk_money")
    net_r = trade.get_custom_data("net_R_multiple")
    # The fills hold the slippage: the net result is what Freqtrade booked, nothing less.
    assert net_r * risk == pytest.approx(trade.close_profit_abs, rel=1e-6)
    assert trade.get_custom_data("R_multiple") > 0 > trade.close_profit_abs
    assert trade.get_custom_data("was_winner") is False  # as the tracker counts it
    tracker = PairPerformanceTracker(strategy.quant_settings.symbol_performance)
    tracker.sync()  # a tracker of its own: the process-wide one saw other tests' databases
    assert (tracker.stats(PAIR).wins, tracker.stats(PAIR).losses) == (0, 1)


def test_slippage_in_fills_is_reported_not_subtracted_again():
    entry = enrich_trade_entry("BTC/USDT", "LONG", 100.0, 10.0, 98.0, 104.0, 1.0)
    gross_win_net_loss = enrich_trade_exit(entry, 100.05, "x", 0.5, fees_estimate=1.0)
    assert gross_win_net_loss["was_winner"] is False
    backtest = enrich_trade_exit(entry, 100.5, "x", 5.0, fees_estimate=1.0, slippage_estimate=3.0)
    live = enrich_trade_exit(
        entry, 100.5, "x", 5.0, fees_estimate=1.0, slippage_estimate=3.0, slippage_in_fills=True
    )
    assert backtest["net_R_multiple"] == pytest.approx((5.0 - 4.0) / 20.0)
    assert live["net_R_multiple"] == pytest.approx((5.0 - 1.0) / 20.0)
    assert live["total_costs"] == backtest["total_costs"] == 4.0


def test_database_r_is_net_profit_over_risk_money_never_the_backstop(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    backstop = add_trade("BTC/USDT", 0, profit=-3.0, risk=None)  # plugin kept no record
    backstop.initial_stop_loss = 70.0  # Freqtrade's -30 % static stoploss
    stored = add_trade("ETH/USDT", 1, risk=2.0)  # the plugin's risk money at the entry fill
    stored.initial_stop_loss = 70.0
    close_trade(stored, -3.0)
    results = {trade.pair: trade.r_multiple for trade in DatabaseTradeFeed().new_closed()}
    assert results["ETH/USDT"] == pytest.approx(-1.5)  # -3 over the plugin's 2
    assert results["BTC/USDT"] is None  # unknown to the plugin: not counted, not -3/30
