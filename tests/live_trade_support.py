"""A dry-run QuantRegimeStrategy with one real `Trade` in Freqtrade's in-memory trade DB.

For narrow tests of the live callbacks (stops, exits, fill handling) with Freqtrade's own
`Trade`, `Order` and stop logic (`ft_stoploss_adjust`, `should_exit`); only the wallet,
the market lookup and the message queue are stubbed.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode, TradingMode
from freqtrade.persistence import Order, Trade, init_db
from freqtrade_support import REPO_ROOT

from freqtrade_quant_plugin.adapters.pairs import pair_tracker

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
PAIR = "BTC/USDT"
FEE = 0.0004


@pytest.fixture(autouse=True)
def fresh_pair_trackers() -> Iterator[None]:
    """Each test has its own in-memory trade DB (an earlier test may have left another one
    bound), and the process-wide pair trackers, which remember trade ids, start empty."""
    init_db("sqlite://")
    pair_tracker._trackers.clear()
    yield
    pair_tracker._trackers.clear()


def load_strategy_class() -> type:
    spec = importlib.util.spec_from_file_location("quant_regime_strategy_faults", STRATEGY_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.QuantRegimeStrategy


def candles(n: int = 1500, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
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


def candles_from(first: datetime) -> pd.DataFrame:
    """`candles()` moved to start at `first`: analysed, they cannot reach back before it."""
    raw = candles()
    raw["date"] = pd.date_range(first, periods=len(raw), freq="1h")
    return raw


@dataclass
class Messages:
    """Stands in for `dp.send_msg`: what the bot would send to Telegram/webhooks."""

    sent: list[str] = field(default_factory=list)

    def send_msg(self, message: str, *, always_send: bool = False) -> None:
        self.sent.append(message)


def started_strategy(
    strategy_class: type,
    runmode: RunMode = RunMode.DRY_RUN,
    pair: str = PAIR,
    *,
    analyse: bool = True,
    **config: Any,
) -> tuple[Any, pd.DataFrame, Messages]:
    """A strategy after bot_start with one analysed pair; Freqtrade's resolver steps done.

    `analyse=False`: a bot right after start-up, before its first loop analysed any candle
    (the frame returned is then the raw candles, for the test to analyse later).
    """
    strategy = strategy_class(
        {"quant": {}, "runmode": runmode, "trading_mode": "spot", "dry_run": True, **config}
    )
    strategy.ft_load_hyper_params(False)
    # What Freqtrade's resolver does to a loaded strategy:
    strategy._ft_stop_uses_after_fill = True
    strategy.minimal_roi = {int(key): value for key, value in strategy.minimal_roi.items()}
    strategy.use_exit_signal = True
    strategy.exit_profit_only = False
    strategy.exit_profit_offset = 0.0
    strategy.ignore_roi_if_entry_signal = False
    strategy.wallets = SimpleNamespace(get_total_stake_amount=lambda: 10_000.0)
    messages = Messages()
    raw = candles()
    strategy.dp = SimpleNamespace(
        market=lambda pair: {"taker": FEE, "maker": FEE},
        send_msg=messages.send_msg,
        runmode=runmode,
        current_whitelist=lambda: [pair],
        ohlcv=lambda pair, timeframe=None, copy=True: raw,  # Freqtrade's candle cache
    )
    strategy.bot_start()
    if not analyse:
        return strategy, raw, messages
    frame = strategy.populate_indicators(raw.copy(), {"pair": pair})
    return strategy, frame, messages


def filled_order(side: str, price: float, amount: float, when: datetime) -> Order:
    return Order(
        ft_order_side=side,
        ft_pair=PAIR,
        ft_is_open=False,
        ft_amount=amount,
        ft_price=price,
        order_id=f"{side}-{when.timestamp():.0f}",
        status="closed",
        symbol=PAIR,
        order_type="market",
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


def signal_candle(frame: pd.DataFrame) -> pd.Series:
    """The last candle with a known regime: the entry's signal candle."""
    return frame[frame["regime"] != "UNKNOWN"].iloc[-1]


def long_stake(
    custom_stake_amount: Any, when: datetime, rate: float, proposed: float = 5_000.0
) -> float:
    """The stake `custom_stake_amount` (or Freqtrade's wrapper of it) gives a long entry."""
    return custom_stake_amount(
        pair=PAIR,
        current_time=when,
        current_rate=rate,
        proposed_stake=proposed,
        min_stake=5.0,
        max_stake=9_000.0,
        leverage=1.0,
        entry_tag=None,
        side="long",
    )


def open_trade(strategy: Any, frame: pd.DataFrame, *, fill: bool = True) -> Trade:
    """Size, open and (with `fill`) report the entry fill of a long at the signal close."""
    signal = signal_candle(frame)
    entry_time = signal["date"].to_pydatetime() + timedelta(hours=1)
    rate = float(signal["close"])
    stake = long_stake(strategy.custom_stake_amount, entry_time, rate)
    assert stake > 0
    amount = stake / rate
    trade = Trade(
        pair=PAIR,
        base_currency="BTC",
        stake_currency="USDT",
        stake_amount=stake,
        amount=amount,
        open_rate=rate,
        open_date=entry_time,
        fee_open=FEE,
        fee_close=FEE,
        exchange="binance",
        is_open=True,
        is_short=False,
        leverage=1.0,
        trading_mode=TradingMode.SPOT,
        price_precision=0.01,
        precision_mode_price=4,  # TICK_SIZE
    )
    trade.orders.append(filled_order("buy", rate, amount, entry_time))
    Trade.session.add(trade)
    Trade.commit()
    if fill:
        strategy.order_filled(
            pair=PAIR, trade=trade, order=trade.orders[0], current_time=entry_time
        )
    return trade
