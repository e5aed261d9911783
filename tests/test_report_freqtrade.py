"""`freqtrade-quant report` on results of real Freqtrade runs of QuantRegimeStrategy.

- a `freqtrade backtesting` run (spot 1h, five real pairs, four months) with its
  `.quant.json`: the report's figures equal an independent computation from the raw
  result (Freqtrade's trades in the zip joined with the plugin's records);
- a short `freqtrade trade --dry-run` against the replayed offline market, with a test
  subclass that enters on every candle and exits a few seconds later, so trades close
  within a minute; a loss threshold of 1 disables pairs at once. The report, run while the bot
  trades and after, reads the SQLite DB without writing it; its figures equal an
  independent computation from the raw `trades` and `trade_custom_data` rows, and its
  enabled state matches the locks the bot's own protection set.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import chromium_support
import pytest
from api_support import api_server_config, stop_at_loop_end
from freqtrade_support import (
    FIVE_MINUTE_PAIRS,
    REPO_ROOT,
    interrupt_and_wait,
    only_backtest_result,
    output_of,
    run_freqtrade,
    start_freqtrade,
    start_offline_server,
    write_freqtrade_config,
)
from parallel_support import ceiling
from report_support import assert_figures, report_json, run_report

from freqtrade_quant_plugin.core.regime import REGIMES
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

pytestmark = pytest.mark.freqtrade

STRATEGY_FILE = REPO_ROOT / "user_data" / "strategies" / "quant_regime_strategy.py"
SPOT_PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT", "DOGE/USDT"]
# Freqtrade locks a pair for the rest of the candle after each exit: one trade per pair and
# 5m candle, so many pairs make many trades quickly.
DRY_PAIRS = list(FIVE_MINUTE_PAIRS)
MIN_CLOSED = 12
LOSS_THRESHOLD = 1  # the first loss disables a pair, so disabled pairs appear at once


@dataclass
class Backtest:
    results: Path  # user_data/backtest_results
    zip_path: Path
    trades: list[dict]  # Freqtrade's trades joined with the plugin's record


@pytest.fixture(scope="module")
def backtest(tmp_path_factory, offline_server, market_datadir) -> Backtest:
    root = tmp_path_factory.mktemp("report_bt")
    userdir = root / "user_data"
    strategies = userdir / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    config = write_freqtrade_config(
        root / "config.json",
        offline_server.port,
        {"timeframe": "1h", "exchange": {"pair_whitelist": SPOT_PAIRS}},
    )
    completed = run_freqtrade(
        ["backtesting", "--config", config, "--userdir", userdir,
         "--datadir", market_datadir, "--strategy-path", strategies,
         "--strategy", "QuantRegimeStrategy", "--timerange", "20240201-20240601",
         "--export", "trades", "--cache", "none"],
        cwd=root,
        timeout=900,
    )  # fmt: skip
    assert completed.returncode == 0, output_of(completed)[-4000:]
    results = userdir / "backtest_results"
    zip_path, document = only_backtest_result(results)
    export = zip_path.with_name(zip_path.name.removesuffix(".zip") + ".quant.json")
    records = {
        (row["pair"], datetime.fromisoformat(row["open_date"])): row
        for row in json.loads(export.read_text())["trades"]
    }
    trades = []
    for trade in document["strategy"]["QuantRegimeStrategy"]["trades"]:
        record = records[(trade["pair"], datetime.fromisoformat(trade["open_date"]))]
        trades.append({**record, "profit_abs": trade["profit_abs"]})
    assert len(trades) == len(records) > 20
    return Backtest(results, zip_path, trades)


def test_backtest_report_matches_the_raw_trades(backtest: Backtest, tmp_path: Path) -> None:
    # A folder means its newest result (.last_result.json), like Freqtrade.
    report = report_json(["--backtest-filename", backtest.results], tmp_path)
    assert report == report_json(["--backtest-filename", backtest.zip_path], tmp_path)
    assert report["trades"] == len(backtest.trades)
    assert report["trades_without_record"] == 0
    # The plugin's summary counts of the run (the strategy refuses some entries for cost).
    export = backtest.zip_path.with_name(
        backtest.zip_path.name.removesuffix(".zip") + ".quant.json"
    )
    assert report["skipped"] == json.loads(export.read_text())["skipped"]
    assert report["stake_currency"] == "USDT"  # from the config stored in the result
    assert_figures(report, backtest.trades)
    assert len(report["by_regime"]) >= 2 and len(report["by_pair"]) == len(SPOT_PAIRS)
    reasons = {}
    for trade in backtest.trades:
        reasons[trade["exit_reason"]] = reasons.get(trade["exit_reason"], 0) + 1
    assert {k: v["trades"] for k, v in report["exit_reasons"].items()} == reasons
    assert set(report["pairs"]) == set(SPOT_PAIRS)


def test_backtest_report_filters(backtest: Backtest, tmp_path: Path) -> None:
    regime = max(
        {t["regime_at_entry"] for t in backtest.trades},
        key=lambda r: sum(t["regime_at_entry"] == r for t in backtest.trades),
    )
    start, stop = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 5, 1, tzinfo=UTC)
    report = report_json(
        ["--backtest-filename", backtest.zip_path, "--pairs", "BTC/USDT", "ETH/USDT",
         "--regimes", regime.lower(), "--timerange", "20240301-20240501"],
        tmp_path,
    )  # fmt: skip
    kept = [
        t
        for t in backtest.trades
        if t["pair"] in ("BTC/USDT", "ETH/USDT")
        and t["regime_at_entry"] == regime
        and start <= datetime.fromisoformat(t["open_date"]) < stop
    ]
    assert 0 < len(kept) < len(backtest.trades)
    assert report["trades"] == len(kept)
    assert_figures(report, kept)
    assert set(report["pairs"]) <= {"BTC/USDT", "ETH/USDT"}


def test_backtest_report_reads_skipped_counts(backtest: Backtest, tmp_path: Path) -> None:
    """An export as an object with "trades" and "skipped": the counts are reported as given."""
    copy = tmp_path / backtest.zip_path.name
    shutil.copy(backtest.zip_path, copy)
    export = backtest.zip_path.with_name(copy.name.removesuffix(".zip") + ".quant.json")
    document = {
        "trades": json.loads(export.read_text())["trades"],
        "skipped": {"cost_gate": 7, "unknown_regime": 3},
    }
    (tmp_path / export.name).write_text(json.dumps(document))
    report = report_json(["--backtest-filename", copy], tmp_path)
    assert report["skipped"] == {"cost_gate": 7, "unknown_regime": 3}
    assert_figures(report, backtest.trades)
    tables = run_report(["--backtest-filename", copy], tmp_path).stdout
    assert "SKIPPED ENTRIES" in tables and "cost_gate" in tables


EVERY_CANDLE_QUICK_EXIT = '''
from quant_regime_strategy import QuantRegimeStrategy


class QuickTradeStrategy(QuantRegimeStrategy):
    """Enters long at market on every candle with a known regime and leaves a few seconds
    later, so a dry-run closes trades within a minute."""

    timeframe = "5m"
    order_types = {**QuantRegimeStrategy.order_types, "entry": "market", "exit": "market"}

    def populate_entry_trend(self, dataframe, metadata):
        known = dataframe["regime"] != "UNKNOWN"
        dataframe["enter_long"] = known.astype(int)
        dataframe["enter_short"] = 0
        dataframe["enter_tag"] = "every_long:" + dataframe["regime"]
        return dataframe

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        if (current_time - trade.open_date_utc).total_seconds() >= 3:
            return "quick_exit"
        return super().custom_exit(
            pair, trade, current_time, current_rate, current_profit, **kwargs
        )
'''


def _query(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return []
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        try:
            return connection.execute(sql).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []


def _closed_with_records(db: Path) -> int:
    rows = _query(
        db,
        "SELECT count(*) FROM trades t JOIN trade_custom_data d ON d.ft_trade_id = t.id "
        "WHERE t.is_open = 0 AND d.cd_key = 'R_multiple'",
    )
    return rows[0][0] if rows else 0


def _raw_trades(db: Path) -> list[dict]:
    """Closed trades with their custom data, decoded as Freqtrade stored it."""
    trades = {
        trade_id: {"pair": pair, "profit_abs": profit}
        for trade_id, pair, profit in _query(
            db, "SELECT id, pair, close_profit_abs FROM trades WHERE is_open = 0"
        )
    }
    for trade_id, key, kind, value in _query(
        db, "SELECT ft_trade_id, cd_key, cd_type, cd_value FROM trade_custom_data"
    ):
        if trade_id in trades:
            trades[trade_id][key] = _decode(kind, value)
    return [trade for trade in trades.values() if "R_multiple" in trade]


def _decode(kind: str, text: str):
    """Freqtrade writes bool, float, int and str with str() and anything else as JSON."""
    plain = {"bool": lambda v: v == "True", "float": float, "int": int, "str": str}
    return plain[kind](text) if kind in plain else json.loads(text)


def _wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return predicate()


@dataclass
class DryRun:
    db: Path
    config: Path
    log: str
    report_while_running: dict


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory, market_datadir) -> Iterator[DryRun]:
    root = tmp_path_factory.mktemp("report_dry")
    server: OfflineExchangeServer = start_offline_server(market_datadir, replay=True)
    try:
        userdir = root / "user_data"
        strategies = userdir / "strategies"
        strategies.mkdir(parents=True)
        shutil.copy(STRATEGY_FILE, strategies)
        (strategies / "quick_trade_strategy.py").write_text(EVERY_CANDLE_QUICK_EXIT)
        db = root / "trades.sqlite"
        api = api_server_config()
        config = write_freqtrade_config(
            root / "config.json",
            server.port,
            {
                "timeframe": "5m",
                "max_open_trades": len(DRY_PAIRS),
                "db_url": f"sqlite:///{db}",
                "exchange": {"pair_whitelist": DRY_PAIRS},
                "entry_pricing": {"price_side": "other"},
                "exit_pricing": {"price_side": "other"},
                "internals": {"process_throttle_secs": 1},
                "api_server": api,
                # Entries on 5m candles must pass the cost gate and fit 20 slots of the
                # wallet: wide stops (k1 4 ATR), small risk, no minimum risk fraction.
                "dry_run_wallet": 10_000,
                "quant": {
                    "risk": {
                        "max_cost_in_R": 1.0,
                        "risk_per_trade": 0.0004,
                        "min_risk_fraction": 0.0,
                    },
                    "exit_policy": {regime: {"k1_SL": 4.0, "k2_TP": 12.0} for regime in REGIMES},
                    "symbol_performance": {
                        "consecutive_loss_disable_threshold": LOSS_THRESHOLD,
                        "min_trades_for_adjustment": 2,
                    },
                },
            },
        )
        log_file = root / "bot.log"
        bot = start_freqtrade(
            ["trade", "--config", config, "--userdir", userdir, "--strategy-path", strategies,
             "--strategy", "QuickTradeStrategy"],
            cwd=root,
            log_file=log_file,
        )  # fmt: skip
        try:
            assert _wait_for(
                lambda: _closed_with_records(db) >= MIN_CLOSED, timeout=ceiling(240)
            ), log_file.read_text(errors="replace")[-4000:]
            # The bot keeps trading while the report reads its DB.
            while_running = report_json(["--config", config], root)
            # Freqtrade commits a closed trade, then (order_close_notify -> handle_protections)
            # the protection's lock, tens of milliseconds later: between the two commits a
            # reader sees a closed loss without its lock. Stop trading at a loop boundary
            # (the REST API's /stop takes effect when the running loop is done) so the DB
            # the tests read holds every close together with its lock.
            assert stop_at_loop_end(api, lambda: log_file.read_text(errors="replace")), (
                log_file.read_text(errors="replace")[-4000:]
            )
        finally:
            exit_code = interrupt_and_wait(bot)
        log = log_file.read_text(errors="replace")
        assert exit_code == 130, log[-4000:]
        assert "Traceback" not in log, log[-4000:]
        yield DryRun(db, config, log, while_running)
    finally:
        server.stop()


def test_dry_run_report_matches_the_raw_trades(dry_run: DryRun, tmp_path: Path) -> None:
    assert dry_run.report_while_running["trades"] >= MIN_CLOSED
    before = hashlib.sha256(dry_run.db.read_bytes()).hexdigest()
    siblings = set(dry_run.db.parent.iterdir())
    # The config's db_url is the default source.
    report = report_json(["--config", dry_run.config], tmp_path)
    # --db-url wins over the config's db_url; the config still gives the quant settings.
    by_url = report_json(
        ["--config", dry_run.config, "--db-url", f"sqlite:///{dry_run.db}"], tmp_path
    )
    # Freqtrade's one-candle "Auto lock"s may expire between the two reads.
    assert _without_locks(report) == _without_locks(by_url)
    assert hashlib.sha256(dry_run.db.read_bytes()).hexdigest() == before
    assert set(dry_run.db.parent.iterdir()) == siblings  # no journal or lock file left

    trades = _raw_trades(dry_run.db)
    assert report["trades"] == len(trades) >= MIN_CLOSED
    assert_figures(report, trades)
    assert report["exit_reasons"].keys() >= {"quick_exit"}
    assert report["skipped"] == {}


def _without_locks(report: dict) -> dict:
    pairs = {pair: {**state, "locks": None} for pair, state in report["pairs"].items()}
    return {**report, "pairs": pairs}


def _symbol_performance_locks(db: Path) -> set[str]:
    sql = (
        "SELECT pair FROM pairlocks WHERE active = 1 "
        "AND reason LIKE 'Symbol performance:%' AND lock_end_time > datetime('now')"
    )
    return {pair for (pair,) in _query(db, sql)}


def _symbol_performance_lock_times(db: Path) -> dict[str, float]:
    """When each active plugin lock was set (Freqtrade stores naive UTC)."""
    sql = (
        "SELECT pair, lock_time FROM pairlocks WHERE active = 1 "
        "AND reason LIKE 'Symbol performance:%'"
    )
    return {
        pair: datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp()
        for pair, moment in _query(db, sql)
    }


def _disabled_pairs(report: dict) -> set[str]:
    return {pair for pair, state in report["pairs"].items() if not state["enabled"]}


def test_dry_run_pair_state_matches_the_bots_locks(dry_run: DryRun, tmp_path: Path) -> None:
    """A pair the report calls disabled holds the bot's symbol-performance lock, and only
    such a pair does. The lock is the protection's, set when the loss closed (Freqtrade
    runs protections right after committing the close): not one the lock reconciliation
    of a later loop had to add, which would mean the protection missed the loss."""
    report = report_json(["--config", dry_run.config], tmp_path)
    locked = _symbol_performance_locks(dry_run.db)
    disabled = _disabled_pairs(report)
    assert disabled  # a loss disables a pair (threshold 1): some pair lost
    assert disabled == locked
    assert "it had no lock" not in dry_run.log  # reconcile_locks never stood in
    lock_times = _symbol_performance_lock_times(dry_run.db)
    for pair in disabled:
        state = report["pairs"][pair]
        assert state["disabled_since"] is not None
        # Within the second of the disabling close (epoch seconds, truncated).
        since = state["disabled_since"]
        assert 0 <= lock_times[pair] - since < 2, (pair, lock_times[pair], since)
        assert f"{LOSS_THRESHOLD} consecutive losses" in state["disabled_why"]
        assert any(lock["reason"].startswith("Symbol performance:") for lock in state["locks"])
        assert f"Disabling {pair}" in dry_run.log
    for pair, state in report["pairs"].items():
        assert 0.5 <= state["risk_modifier"] <= 1.0, pair


def test_html_report_draws_every_chart_in_chromium(backtest: Backtest, tmp_path: Path) -> None:
    """The page, opened offline in headless Chromium, draws each chart from the trades, and
    its console stays silent; a screenshot is kept beside the test's files."""
    page = tmp_path / "report.html"
    run_report(["--backtest-filename", backtest.zip_path, "--html", page], tmp_path)
    assert "https://" not in page.read_text()[:2000]  # plotly.js is inline, nothing to fetch
    loaded = chromium_support.load(page)
    assert loaded.console == []
    sections = chromium_support.chart_sections(loaded.dom)
    assert list(sections) == [
        "equity", "r_distribution", "excursions", "cost_in_r", "regime_timeline"
    ]  # fmt: skip
    drawn = {name: chromium_support.marks(body) for name, body in sections.items()}
    trades = len(backtest.trades)
    regimes = len({t["regime_at_entry"] for t in backtest.trades})
    assert drawn["equity"]["lines"] >= 3  # gross, net, realised
    assert drawn["r_distribution"]["boxes"] == regimes
    assert drawn["excursions"]["markers"] == trades
    assert drawn["cost_in_r"]["bars"] == 3 * regimes  # fees, slippage, funding
    assert drawn["regime_timeline"]["bars"] == trades
    shot = chromium_support.screenshot(page, tmp_path / "report.png")
    print(f"HTML report screenshot: {shot}")


def test_the_chromium_check_sees_a_broken_page(tmp_path: Path) -> None:
    """The console check above can fail: a page with a script error is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>not_defined_anywhere();</script></body></html>")
    assert any("not_defined_anywhere" in line for line in chromium_support.load(page).console)
