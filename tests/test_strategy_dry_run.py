"""`freqtrade trade --dry-run` with QuantRegimeStrategy against the replayed offline market.

One bot opens a trade (a test subclass that enters on every candle with a known regime,
market orders, 5m), its entry facts land in the SQLite trade DB's custom data, then it is
stopped with Ctrl-C. A second bot starts on the same DB with a TIGHTER explicit k1_SL:
had it recomputed the stop from the settings and the current candles, the stop would move
up (custom_stoploss may tighten); it must keep the stop of the stored entry regime and ATR.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from api_support import api_server_config, stop_at_loop_end
from freqtrade_support import (
    REPO_ROOT,
    interrupt_and_wait,
    start_freqtrade,
    start_offline_server,
)
from parallel_support import ceiling

from freqtrade_quant_plugin.core.regime import REGIMES
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
PAIR = "BTC/USDT"
FIRST_K1, RESTART_K1 = 4.0, 2.0
PROBLEMS = ("Traceback", "Outdated history", "ExchangeError", "Could not")

EVERY_CANDLE_STRATEGY = '''
from quant_regime_strategy import QuantRegimeStrategy


class EveryCandleStrategy(QuantRegimeStrategy):
    """Enters long on every candle whose regime is known, at market, so a trade opens in
    the bot's first loop."""

    timeframe = "5m"
    order_types = {**QuantRegimeStrategy.order_types, "entry": "market", "exit": "market"}

    def populate_entry_trend(self, dataframe, metadata):
        known = dataframe["regime"] != "UNKNOWN"
        dataframe["enter_long"] = known.astype(int)
        dataframe["enter_short"] = 0
        dataframe["enter_tag"] = "every_long:" + dataframe["regime"]
        return dataframe
'''


# One 5m pair, one trade at a time, market-side prices, a loop every 2 seconds.
ONE_PAIR_5M = {
    "timeframe": "5m",
    "max_open_trades": 1,
    "exchange": {"pair_whitelist": [PAIR]},
    "entry_pricing": {"price_side": "other"},
    "exit_pricing": {"price_side": "other"},
    "internals": {"process_throttle_secs": 2},
}


def _quant_section(k1: float) -> dict:
    """The same k1 for every regime, an explicit setting; 5m stops need a looser cost gate.
    The replayed candle is the one at this time of day: no minimum risk fraction, so a stake
    clamped to the wallet is never refused as dust on some candles and not on others."""
    return {
        "risk": {"max_cost_in_R": 1.0, "min_risk_fraction": 0.0},
        "exit_policy": {regime: {"k1_SL": k1, "k2_TP": 3 * k1} for regime in REGIMES},
    }


@pytest.fixture
def replay_server(market_datadir: Path) -> Iterator[OfflineExchangeServer]:
    server = start_offline_server(market_datadir, replay=True)
    yield server
    server.stop()


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return predicate()


def _query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _custom_data(db: Path, trade_id: int) -> dict:
    """Freqtrade stores a str as is, a bool as True/False and anything else as JSON (cd_type
    says which)."""
    rows = _query(
        db,
        f"SELECT cd_key, cd_type, cd_value FROM trade_custom_data WHERE ft_trade_id = {trade_id}",
    )
    readers = {"str": str, "bool": lambda text: text.lower() == "true"}
    return {key: readers.get(kind, json.loads)(value) for key, kind, value in rows}


def _open_trades(db: Path) -> list[tuple]:
    return _query(db, "SELECT id, open_rate, stop_loss FROM trades WHERE is_open = 1")


def test_dry_run_stores_entry_facts_and_keeps_the_stop_after_a_restart(
    freqtrade_config, replay_server: OfflineExchangeServer, tmp_path: Path
) -> None:
    userdir = tmp_path / "user_data"
    strategies = userdir / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    (strategies / "every_candle_strategy.py").write_text(EVERY_CANDLE_STRATEGY)
    db = tmp_path / "trades.sqlite"

    def run_bot(name: str, k1: float, until: Callable[[str], bool], linger: float = 0) -> str:
        """Run a bot until `until(log text)` holds (at most 2 minutes), `linger` seconds
        more, then stop it between loops and Ctrl-C; the log is checked for a clean stop."""
        api = api_server_config()
        config = freqtrade_config(
            {**ONE_PAIR_5M, "api_server": api, "quant": _quant_section(k1)},
            port=replay_server.port,
            name=f"{name}.json",
        )
        log_file = tmp_path / f"{name}.log"
        bot = start_freqtrade(
            ["trade", "--config", config, "--userdir", userdir, "--strategy-path", strategies,
             "--strategy", "EveryCandleStrategy", "--db-url", f"sqlite:///{db}"],
            cwd=tmp_path,
            log_file=log_file,
        )  # fmt: skip
        try:
            if _wait_for(lambda: until(log_file.read_text(errors="replace")), timeout=ceiling(120)):
                time.sleep(linger)
            assert stop_at_loop_end(api, lambda: log_file.read_text(errors="replace"))
        finally:
            exit_code = interrupt_and_wait(bot)
        text = log_file.read_text(errors="replace")
        assert exit_code == 130, text[-4000:]  # Freqtrade's exit code after a handled Ctrl-C
        for problem in PROBLEMS:
            assert problem not in text, text[-4000:]
        return text

    # First bot: a trade opens, and its entry facts reach the DB before the bot stops. The
    # facts are stored one key at a time; the entry's log line comes after the last one.
    # Freqtrade commits the trade's ATR stop later in the same loop, after a price fetch.
    def entry_stored(text: str) -> bool:
        trades = _open_trades(db)
        if f"LONG {PAIR} ENTRY @" not in text or not trades:
            return False
        data = _custom_data(db, trades[0][0])
        state = data.get("quant_entry_state")
        if "regime_at_entry" not in data or state is None:
            return False
        return abs(trades[0][2] - state["stop_price"]) <= 0.05 * state["atr"]

    first = run_bot("first", FIRST_K1, entry_stored)
    assert f"LONG {PAIR} ENTRY @" in first, first[-4000:]
    (trade_id, open_rate, stop_before), *others = _open_trades(db)
    assert not others
    data = _custom_data(db, trade_id)
    state = data["quant_entry_state"]
    assert data["regime_at_entry"] == state["regime"] != "UNKNOWN"
    assert data["sl_distance_atr"] == pytest.approx(FIRST_K1)
    # "dollars": the money the stop risks, size * k1 * ATR
    assert data["sl_distance_dollars"] == pytest.approx(
        state["size"] * FIRST_K1 * state["atr"], rel=1e-6
    )
    assert data["sl_distance_pct"] == pytest.approx(
        100 * FIRST_K1 * state["atr"] / open_rate, rel=1e-3
    )
    stored_stop = open_rate - FIRST_K1 * state["atr"]
    assert state["stop_price"] == pytest.approx(stored_stop, rel=1e-9)
    # The entry candle already trades against the ATR stop, not the static -30 %.
    assert stop_before == pytest.approx(stored_stop, abs=0.05 * state["atr"])

    # Second bot, same DB, k1 2.0: its exits must still run on the stored entry facts.
    rebuilt = f"Trade {trade_id} {PAIR}: entry state rebuilt from the trade DB"
    # A few more loops (2 s apart) after the rebuild: later calls must not move the stop.
    second = run_bot("restart", RESTART_K1, lambda text: rebuilt in text, linger=8)
    assert rebuilt in second, second[-4000:]
    assert f"(regime {state['regime']}, ATR {state['atr']:.8g}" in second
    assert "has no readable entry state" not in second
    ((same_id, _, stop_after),) = _open_trades(db)
    assert same_id == trade_id
    assert stop_after == pytest.approx(stored_stop, abs=0.05 * state["atr"])
    recomputed = open_rate - RESTART_K1 * state["atr"]
    assert abs(stop_after - recomputed) > 0.5 * state["atr"]
