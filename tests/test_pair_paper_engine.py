"""The paper-trade engine: disabled pairs' signals, closed candles only, re-enable + unlock."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, PairLocks, Trade

from freqtrade_quant_plugin.adapters.pairs.pair_locks import lock_reason
from freqtrade_quant_plugin.adapters.pairs.pair_performance import PairPerformanceHooks
from freqtrade_quant_plugin.adapters.signal_rows import SignalRow, SignalTable
from freqtrade_quant_plugin.core.costs import CostModel
from freqtrade_quant_plugin.core.exit_policy import DEFAULT_EXIT_PARAMS
from freqtrade_quant_plugin.core.paper_trading import PaperTerms
from freqtrade_quant_plugin.core.settings import QuantSettings
from freqtrade_quant_plugin.core.stop_levels import StopRules

HOUR = timedelta(hours=1)
START = datetime(2024, 3, 1, tzinfo=UTC)
QUANT = {
    "symbol_performance": {
        "consecutive_loss_disable_threshold": 2,
        "consecutive_win_reenable_threshold": 2,
    }
}


def candles(n: int, signals: list[int], up: bool = True) -> pd.DataFrame:
    """Flat at 100 (ATR 1); after a signal candle the next one spikes past the NORMAL_VOL
    target (+3 ATR) when `up`, or through the stop when not."""
    close = np.full(n, 100.0)
    high, low = close + 0.2, close - 0.2
    enter = np.zeros(n)
    for index in signals:
        enter[index] = 1
        if index + 1 < n:
            if up:
                high[index + 1] = 104.0
            else:
                low[index + 1] = 97.0
    return pd.DataFrame(
        {
            "date": pd.date_range(START, periods=n, freq="1h"),
            "open": close,
            "high": high,
            "low": low,
            "close": close,
            "volume": 1000.0,
            "atr": 1.0,
            "regime": "NORMAL_VOL",
            "volatility_regime": "NORMAL_VOL",
            "enter_long": enter,
        }
    )


class FakeDataProvider:
    runmode = RunMode.BACKTEST

    def __init__(self) -> None:
        self.messages: list[str] = []

    def send_msg(self, message, *, always_send=False):
        self.messages.append(message)


def strategy(frame: pd.DataFrame) -> SimpleNamespace:
    """A backtest's view: the whole analysed frame is recorded, the engine must cut it."""
    table = SignalTable()
    table.record("ETH/USDT", frame)
    table.record_signals("ETH/USDT", frame)
    return SimpleNamespace(
        timeframe="1h",
        can_short=False,
        config={"trading_mode": "spot", "quant": QUANT},
        dp=FakeDataProvider(),
        signal_table=table,
        log_decision=logging.getLogger("quant_strategy").info,
        paper_entry_terms=default_terms,
    )


def default_terms(pair: str, row: SignalRow, *, is_short: bool) -> PaperTerms | None:
    """The default exit rules of the row's regime and the default cost model's breakeven
    (tests/test_paper_twin.py checks the real strategy's own terms)."""
    if row.regime == "UNKNOWN":
        return None
    rules = StopRules.from_exit_params(DEFAULT_EXIT_PARAMS[row.regime])
    stop = row.close + (1 if is_short else -1) * rules.k1_SL * row.atr
    action = "SHORT" if is_short else "LONG"
    return PaperTerms(rules, CostModel().breakeven_price(row.close, stop, 1.0, row.atr, action))


def losing_trade(trade_id: int, hours: int) -> SimpleNamespace:
    return SimpleNamespace(
        id=trade_id,
        pair="ETH/USDT",
        close_date=START + hours * HOUR,
        close_profit_abs=-1.0,
        is_short=False,
        open_rate=100.0,
        close_rate=99.0,
        amount=1.0,
        initial_stop_loss=98.0,
    )


@pytest.fixture
def backtest_mode():
    Trade.use_db, PairLocks.use_db, PairLocks.timeframe = False, False, "1h"
    LocalTrade.bt_trades = []
    PairLocks.locks = []
    yield
    Trade.use_db, PairLocks.use_db = True, True


def run_engine(
    frame: pd.DataFrame, until_hours: int, fake: SimpleNamespace | None = None
) -> PairPerformanceHooks:
    fake = fake or strategy(frame)
    # The strategy's record: each losing trade risked 2 (-0.5 R).
    hooks = PairPerformanceHooks(fake, QuantSettings.load(QUANT, {}), risk_money_of=lambda _: 2.0)
    LocalTrade.bt_trades = [losing_trade(1, 2), losing_trade(2, 4)]  # a fresh backtest run
    PairLocks.locks = []
    PairLocks.lock_pair("ETH/USDT", START + 1000 * HOUR, lock_reason("2 losses"), now=START)
    for hour in range(1, until_hours + 1):
        if hasattr(fake, "now_hours"):
            fake.now_hours = hour
        hooks.bot_loop_start(START + hour * HOUR)
    return hooks


def test_paper_wins_reenable_and_unlock(backtest_mode):
    frame = candles(40, signals=[6, 10])
    hooks = run_engine(frame, 30)
    assert hooks.tracker.is_enabled("ETH/USDT")
    assert hooks.tracker.stats("ETH/USDT").paper_trades == 2
    assert not PairLocks.is_pair_locked("ETH/USDT", START + 30 * HOUR)
    messages = hooks._strategy.dp.messages
    assert any("ETH/USDT disabled after 2 consecutive losses" in m for m in messages)
    assert any("ETH/USDT re-enabled after 2 consecutive paper wins" in m for m in messages)
    closed = hooks.tracker.paper_store.closed_trades()
    assert [trade.closed_at for trade in closed] == [
        int((START + 8 * HOUR).timestamp()),  # signal 06:00, entry 07:00, target hit in 07:00
        int((START + 12 * HOUR).timestamp()),
    ]


def test_results_count_only_after_the_resolving_candle_closed(backtest_mode):
    frame = candles(40, signals=[6, 10])
    # The second win resolves in the 11:00 candle, which closes at 12:00.
    assert not run_engine(frame, 11).tracker.is_enabled("ETH/USDT")
    assert run_engine(frame, 12).tracker.is_enabled("ETH/USDT")


@pytest.mark.parametrize("cut", [5, 8, 11, 15])
def test_rows_after_current_time_are_never_read(backtest_mode, cut):
    """Rewriting every candle after the cut (losses instead of wins) changes nothing at it."""
    honest = candles(40, signals=[6, 10])
    rewritten = honest.copy()
    future = candles(40, signals=[6, 10, 12], up=False)
    rewritten.iloc[cut:] = future.iloc[cut:].to_numpy()
    # At `cut`, the candle dated cut - 1 has closed; rows from `cut` on are the future.
    assert outcome(honest, cut) == outcome(rewritten, cut)


def outcome(frame: pd.DataFrame, hours: int) -> tuple:
    """What the (process-wide) tracker holds after a run, copied before the next run."""
    tracker = run_engine(frame, hours).tracker
    closed = [trade[1:] for trade in tracker.paper_store.closed_trades()]
    return tracker.stats("ETH/USDT").to_dict(), closed


def test_no_paper_trade_on_unknown_regime(backtest_mode):
    frame = candles(40, signals=[6, 10])
    frame["regime"] = "UNKNOWN"
    hooks = run_engine(frame, 30)
    assert hooks.tracker.stats("ETH/USDT").paper_trades == 0
    assert PairLocks.is_pair_locked("ETH/USDT", START + 30 * HOUR)


class LiveStrategy(SimpleNamespace):
    """A dry-run bot whose disabled pair left the whitelist: Freqtrade only downloads its
    candles (those closed by `now_hours`), the engine has the strategy analyse them."""

    def __init__(self, frame: pd.DataFrame) -> None:
        dp = FakeDataProvider()
        dp.runmode = RunMode.DRY_RUN
        dp.get_pair_dataframe = lambda pair, timeframe: frame.iloc[: self.now_hours].copy()
        super().__init__(**{**vars(strategy(frame)), "dp": dp, "signal_table": SignalTable()})
        self.frame = frame
        self.now_hours = 0
        self.analysed: list[int] = []

    def advise_indicators(self, dataframe, metadata):
        self.analysed.append(self.now_hours)
        self.signal_table.record(metadata["pair"], dataframe)
        return dataframe

    def advise_entry(self, dataframe, metadata):
        self.signal_table.record_signals(metadata["pair"], dataframe)
        return dataframe


def test_live_analyses_a_dropped_pair_once_per_new_candle(backtest_mode):
    fake = LiveStrategy(candles(40, signals=[6, 10]))
    hooks = run_engine(fake.frame, 11, fake)
    hooks.bot_loop_start(START + 11 * HOUR + HOUR / 2)  # a later loop, no new candle
    assert fake.analysed == list(range(1, 12))
    assert not hooks.tracker.is_enabled("ETH/USDT")
    fake.now_hours = 12
    hooks.bot_loop_start(START + 12 * HOUR)
    assert hooks.tracker.is_enabled("ETH/USDT")  # at the same candle as in a backtest


def test_live_stores_open_paper_progress_for_a_restart(backtest_mode):
    frame = candles(40, signals=[6])
    frame.loc[7, "high"] = 100.2  # no spike: the paper trade stays open
    fake = LiveStrategy(frame)
    store = run_engine(frame, 10, fake).tracker.paper_store
    (stored,) = store.open_trades()
    assert stored.trade.last_candle == int((START + 9 * HOUR).timestamp())
