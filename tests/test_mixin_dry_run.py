"""`freqtrade trade --dry-run` with every plain strategy in tests/strategies_any composed with
QuantMixin (`class XQuant(QuantMixin, X): pass`, the mixin's default exit mode `none`).

The twelve bots run at once (they mostly wait on their throttle), each with its own
user_data, trade DB and REST API port, against one replayed spot market (ShortFutures: a
replayed synthetic futures market). Each bot runs until its first full loop is done
(Freqtrade's first heartbeat comes after it), the test reads the analysed candles of every
pair through the REST API, and then all bots are stopped with Ctrl-C. Per strategy:

- a clean start and stop: exit code 130, no Traceback or ERROR line in the log;
- the plugin's start-up lines: the raised startup_candle_count, the exit mode `none`, and
  that the static stoploss is the trade's stop in that mode (not a backstop);
- the loop evaluated the strategy on every pair: the analysed frame holds the strategy's
  own indicator column and signal columns beside the plugin's `quant_regime`, whose
  newest candle has a regime (the raised warm-up was loaded);
- every trade the loop opened (whether the replayed candle gives an entry signal depends on
  the hour the test runs) has the plugin's entry state stored, at its fill price.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from api_support import STOPPED, api_call, api_server_config
from freqtrade_support import start_freqtrade, start_offline_server, write_freqtrade_config
from mixin_support import FUTURES, FUTURES_PAIR, STRATEGIES, futures_datadir, write_strategies
from parallel_support import ceiling

pytestmark = pytest.mark.freqtrade

SPOT_PAIRS = ["BTC/USDT", "ETH/USDT"]
HEARTBEAT = "Bot heartbeat."
# The column each strategy computes itself in populate_indicators.
OWN_COLUMN = {
    "roi_scalper": "rsi",
    "trailing_static": "ema_fast",
    "own_custom_stoploss": "rsi",
    "own_custom_exit": "rsi",
    "exit_signals": "rsi",
    "informative_daily": "btc_usdt_ema_1d",
    "protections_property": "rsi",
    "hyperopt_params": "rsi",
    "short_futures": "rsi",
    "dca_adds": "rsi",
    "partial_exit": "rsi",
    "no_exit_signal": "rsi",
}


@dataclass
class Bot:
    stem: str
    pairs: list[str]
    log: Path
    db: Path
    api: dict
    process: subprocess.Popen[bytes]
    exit_code: int | None = None
    candles: dict[str, dict] = field(default_factory=dict)  # pair -> pair_candles answer

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def looped(self) -> bool:
        return HEARTBEAT in self.text() or self.process.poll() is not None


def _start_bot(root: Path, stem: str, port: int, pairs: list[str], overrides: dict) -> Bot:
    userdir = root / "user_data"
    folder = write_strategies(userdir / "strategies", (stem,))
    api = api_server_config()
    config = write_freqtrade_config(
        root / "config.json",
        port,
        {**overrides, "exchange": {"pair_whitelist": pairs}, "max_open_trades": 2,
         "stake_amount": 100, "api_server": api, "entry_pricing": {"price_side": "other"},
         "internals": {"process_throttle_secs": 2, "heartbeat_interval": 1}},
    )  # fmt: skip
    log, db = root / "bot.log", root / "trades.sqlite"
    process = start_freqtrade(
        ["trade", "--config", config, "--userdir", userdir, "--strategy-path", folder,
         "--strategy", f"{STRATEGIES[stem]}Quant", "--db-url", f"sqlite:///{db}"],
        cwd=root,
        log_file=log,
    )  # fmt: skip
    return Bot(stem, pairs, log, db, api, process)


def _stop(bots: list[Bot]) -> None:
    """Stop trading at a loop boundary, then Ctrl-C to every bot at once and wait for each
    (kill one only if it hangs). Freqtrade commits a filled entry before the plugin stores
    its entry state in the same loop: a Ctrl-C in between would leave a trade the test
    reads without its state. The REST API's /stop takes effect once the running loop ends."""
    running = [bot for bot in bots if bot.process.poll() is None]
    for bot in running:
        try:
            api_call(bot.api, "POST", "stop")
        except OSError:  # its API is not up (a bot that never looped): Ctrl-C at once
            continue
    deadline = time.monotonic() + ceiling(120)
    while time.monotonic() < deadline and not all(
        STOPPED in bot.text() or bot.process.poll() is not None for bot in running
    ):
        time.sleep(1)
    for bot in running:
        bot.process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + ceiling(60)
    for bot in bots:
        try:
            bot.exit_code = bot.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            bot.process.kill()
            bot.process.wait()


def _entry_states(db: Path) -> list[tuple[float, str | None]]:
    """Each filled trade's open rate and stored entry state (None when missing); a trade
    whose entry order is still open has amount 0 and no state yet."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT t.open_rate, c.cd_value FROM trades t LEFT JOIN trade_custom_data c "
            "ON c.ft_trade_id = t.id AND c.cd_key = 'quant_entry_state' WHERE t.amount > 0"
        ).fetchall()


@pytest.fixture(scope="module")
def bots(tmp_path_factory: pytest.TempPathFactory, market_datadir: Path) -> Iterator[dict]:
    spot = start_offline_server(market_datadir, replay=True)
    futures = start_offline_server(futures_datadir(tmp_path_factory), replay=True)
    started: list[Bot] = []
    try:
        for stem in STRATEGIES:
            root = tmp_path_factory.mktemp(f"dry_{stem}")
            if stem == "short_futures":
                started.append(_start_bot(root, stem, futures.port, [FUTURES_PAIR], FUTURES))
            else:
                started.append(_start_bot(root, stem, spot.port, SPOT_PAIRS, {}))
        deadline = time.monotonic() + ceiling(300)
        waiting = list(started)
        while waiting and time.monotonic() < deadline:
            for bot in [bot for bot in waiting if bot.looped()]:
                waiting.remove(bot)
                if bot.process.poll() is None:
                    for pair in bot.pairs:
                        query = f"pair_candles?pair={pair}&timeframe=1h&limit=5"
                        bot.candles[pair] = api_call(bot.api, "GET", query)
            time.sleep(1)
    finally:
        _stop(started)
        spot.stop()
        futures.stop()
    yield {bot.stem: bot for bot in started}


@pytest.mark.parametrize("stem", list(STRATEGIES))
def test_composed_strategy_runs_a_dry_run_loop(stem: str, bots: dict[str, Bot]) -> None:
    bot = bots[stem]
    text = bot.text()
    name = f"{STRATEGIES[stem]}Quant"
    assert HEARTBEAT in text, text[-4000:]
    assert bot.exit_code == 130, text[-4000:]  # Freqtrade's exit code after a handled Ctrl-C
    assert "Traceback" not in text and " - ERROR - " not in text, text[-4000:]
    assert f"{name}: startup_candle_count raised from" in text, text[-4000:]
    assert f"{name}: quant.exits.mode 'none'" in text, text[-4000:]
    assert "is the trade's stop with the strategy's own exits" in text, text[-4000:]
    assert set(bot.candles) == set(bot.pairs)
    for pair, answer in bot.candles.items():
        columns = answer["columns"]
        for column in (OWN_COLUMN[stem], "enter_long", "quant_regime"):
            assert column in columns, (pair, column, columns)
        newest = dict(zip(columns, answer["data"][-1], strict=True))
        assert newest["quant_regime"] not in (None, "UNKNOWN"), (pair, newest)
    for open_rate, state in _entry_states(bot.db):
        assert state is not None, text[-4000:]
        assert json.loads(state)["entry_price"] == pytest.approx(open_rate)
