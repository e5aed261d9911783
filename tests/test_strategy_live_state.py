"""Dry-run/live path of QuantStrategy with Freqtrade's real trade DB (in-memory SQLite).

Sizing -> entry fill (state and trade record entry fields in the trade's custom data) -> a
restarted strategy rebuilds the stop from the DB with one query, then serves every later
callback from its cache -> max-duration exit -> exit fields in the custom data.
Wallet and market lookups are stubbed: they are Freqtrade's, not what is under test.
"""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode, TradingMode
from freqtrade.persistence import Order, Trade, init_db
from freqtrade.persistence.custom_data import CustomDataWrapper
from freqtrade_support import REPO_ROOT

from freqtrade_quant_plugin.adapters.records.trade_state import STATE_KEY

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
PAIR = "BTC/USDT"
FEE = 0.0004


@pytest.fixture(scope="module")
def strategy_class():
    spec = importlib.util.spec_from_file_location("quant_regime_strategy_live", STRATEGY_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.QuantRegimeStrategy


def _candles(n: int = 1500) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    close = 40_000 * np.exp(np.cumsum(rng.normal(0, 0.008, n)))
    return pd.DataFrame(
        {
            "date": pd.date_range("2024-01-01", periods=n, freq="1h", tz="UTC"),
            "open": close,
            "high": close * 1.01,
            "low": close * 0.99,
            "close": close,
            "volume": np.full(n, 50_000.0),
        }
    )


def _started(strategy_class):
    strategy = strategy_class({"quant": {}, "runmode": RunMode.DRY_RUN, "trading_mode": "spot"})
    strategy.ft_load_hyper_params(False)
    strategy._ft_stop_uses_after_fill = True  # what Freqtrade's resolver sets for us
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: 10_000.0)
    strategy.dp = SimpleNamespace(market=lambda pair: {"taker": FEE, "maker": FEE})
    strategy.bot_start()
    frame = strategy.populate_indicators(_candles(), {"pair": PAIR})
    return strategy, frame


def _filled_order(side: str, price: float, amount: float, when) -> Order:
    return Order(
        ft_order_side=side,
        ft_pair=PAIR,
        ft_is_open=False,
        ft_amount=amount,
        ft_price=price,
        order_id=f"{side}-1",
        status="closed",
        symbol=PAIR,
        order_type="limit",
        side=side,
        price=price,
        average=price,
        amount=amount,
        filled=amount,
        remaining=0,
        cost=price * amount,
        order_date=when,
        order_filled_date=when,
    )


def _entered(strategy, frame, fill: float | None = None):
    """A long sized on the last known signal and recorded as filled (at `fill`, default the
    requested rate) in the trade DB, before the strategy hears of the fill."""
    signal = frame[frame["regime"] != "UNKNOWN"].iloc[-1]
    entry_time = signal["date"].to_pydatetime() + timedelta(hours=1)
    rate = float(signal["close"])
    stake = strategy.custom_stake_amount(
        pair=PAIR,
        current_time=entry_time,
        current_rate=rate,
        proposed_stake=5_000.0,
        min_stake=5.0,
        max_stake=9_000.0,
        leverage=1.0,
        entry_tag=None,
        side="long",
    )
    assert stake > 0
    amount = stake / rate
    fill = fill or rate
    trade = Trade(
        pair=PAIR,
        base_currency="BTC",
        stake_currency="USDT",
        stake_amount=stake,
        amount=amount,
        open_rate=fill,
        open_date=entry_time,
        fee_open=FEE,
        fee_close=FEE,
        exchange="binance",
        is_open=True,
        is_short=False,
        leverage=1.0,
        trading_mode=TradingMode.SPOT,
    )
    order = _filled_order("buy", rate, amount, entry_time)
    order.average, order.cost = fill, fill * amount
    trade.orders.append(order)
    Trade.session.add(trade)
    Trade.commit()
    return SimpleNamespace(
        trade=trade, signal=signal, entry_time=entry_time, rate=rate, amount=amount
    )


def test_state_survives_restart_and_exit_is_recorded(strategy_class, monkeypatch):
    init_db("sqlite://")
    strategy, frame = _started(strategy_class)
    entered = _entered(strategy, frame)
    trade, signal, entry_time = entered.trade, entered.signal, entered.entry_time
    rate, amount = entered.rate, entered.amount
    strategy.order_filled(pair=PAIR, trade=trade, order=trade.orders[0], current_time=entry_time)

    stored = trade.get_custom_data(STATE_KEY)
    atr = float(signal["atr"])
    k1 = strategy.effective_settings().exit_policy[signal["regime"]].k1_SL
    assert stored["stop_price"] == pytest.approx(rate - k1 * atr)
    assert trade.get_custom_data("regime_at_entry") == signal["regime"]
    assert trade.get_custom_data("sl_distance_atr") == pytest.approx(k1)

    # Restart: a new strategy object with an empty cache.
    restarted, _ = _started(strategy_class)
    reads = []
    original = CustomDataWrapper.get_custom_data
    monkeypatch.setattr(
        CustomDataWrapper,
        "get_custom_data",
        staticmethod(lambda **kw: reads.append(kw) or original(**kw)),
    )
    trade.adjust_stop_loss(trade.open_rate, restarted.stoploss, initial=True)
    restarted.ft_stoploss_adjust(rate, trade, entry_time, 0.0, 0, after_fill=True)
    assert trade.stop_loss == pytest.approx(rate - k1 * atr, rel=1e-9)
    for hour in range(1, 6):
        restarted.ft_stoploss_adjust(rate, trade, entry_time + timedelta(hours=hour), 0.0, 0)
        restarted.custom_exit(PAIR, trade, entry_time + timedelta(hours=hour), rate, 0.0)
    assert len(reads) == 1  # one query to rebuild, none per candle
    assert trade.stop_loss == pytest.approx(rate - k1 * atr, rel=1e-9)

    max_hours = stored["rules"]["max_duration_hours"]
    exit_time = entry_time + timedelta(hours=max_hours)
    assert restarted.custom_exit(PAIR, trade, exit_time, rate, 0.0) == "max_duration"
    trade.exit_reason = "max_duration"
    exit_order = _filled_order("sell", rate * 1.01, amount, exit_time)
    trade.orders.append(exit_order)
    trade.close(rate * 1.01)
    Trade.commit()
    restarted.order_filled(pair=PAIR, trade=trade, order=exit_order, current_time=exit_time)

    monkeypatch.undo()
    assert trade.get_custom_data("exit_reason") == "max_duration"
    assert trade.get_custom_data("duration_hours") == pytest.approx(max_hours)
    assert trade.get_custom_data("R_multiple") == pytest.approx(0.01 * rate / (k1 * atr), rel=1e-6)
    assert trade.get_custom_data("net_R_multiple") < trade.get_custom_data("R_multiple")
    tracker = restarted.pair_performance.tracker
    tracker.sync()  # the closed trade feeds the pair's performance from the DB, with its R
    assert tracker.stats(PAIR).total_trades == 1
    # The tracker's R is net: realised profit over the risk money recorded at the entry.
    net_r = trade.close_profit_abs / trade.get_custom_data("risk_money")
    assert net_r < trade.get_custom_data("R_multiple")
    assert tracker.stats(PAIR).total_R == pytest.approx(net_r)
