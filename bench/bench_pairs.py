"""Benchmark: symbol performance over a big trade database.

Run from the repository root: `.venv/bin/python bench/bench_pairs.py`. Builds a SQLite
trade DB (Freqtrade's own schema) with 100,000 closed trades over 500 pairs, then measures
the tracker's rebuild, a SymbolPerformanceFilter refresh over the 500 pairs (the target:
under 50 ms), and the cost of taking in one newly closed trade at 10,000 and at 100,000
trades in the DB (it must stay flat: the feed reads only what closed since its last call).
Rewrites the "Pair performance" section of bench/RESULTS.md, leaving the others intact.
"""

from __future__ import annotations

import platform
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from freqtrade.persistence import Trade, init_db
from freqtrade.resolvers import PairListResolver
from results_file import RESULTS, write_section
from sqlalchemy import insert

from freqtrade_quant_plugin.adapters.pairs.pair_tracker import PairPerformanceTracker
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig

PAIRS = [f"P{index:03d}/USDT" for index in range(500)]
TRADES = 100_000
NEW_TRADES = 300
REPEATS = 5
HEADING = "## Pair performance"
T0 = datetime(2024, 1, 1)
# High thresholds keep most pairs enabled, so the filter keeps (and checks) all 500.
CONFIG = {"quant": {"symbol_performance": {"consecutive_loss_disable_threshold": 50}}}


def trade_rows(start: int, count: int, rng: np.random.Generator) -> list[dict]:
    profits = rng.normal(0.2, 3.0, count)
    rows = []
    for offset, profit in enumerate(profits):
        index = start + offset
        opened = T0 + timedelta(minutes=index)
        rows.append(
            {
                "exchange": "binance",
                "pair": PAIRS[index % len(PAIRS)],
                "base_currency": PAIRS[index % len(PAIRS)].split("/")[0],
                "stake_currency": "USDT",
                "is_open": False,
                "open_rate": 100.0,
                "close_rate": 100.0 + float(profit),
                "stake_amount": 100.0,
                "amount": 1.0,
                "fee_open": 0.0,
                "fee_close": 0.0,
                "open_date": opened,
                "close_date": opened + timedelta(minutes=30),
                "close_profit_abs": float(profit),
                "close_profit": float(profit) / 100,
                "initial_stop_loss": 95.0,
                "stop_loss": 95.0,
                "leverage": 1.0,
                "is_short": False,
                "trading_mode": "spot",
            }
        )
    return rows


def insert_trades(start: int, count: int, rng: np.random.Generator) -> None:
    for chunk in range(start, start + count, 20_000):
        size = min(20_000, start + count - chunk)
        Trade.session.execute(insert(Trade.__table__), trade_rows(chunk, size, rng))
    Trade.session.commit()


def per_update_ms(tracker: PairPerformanceTracker, start: int, rng: np.random.Generator) -> float:
    """Median time to take in one newly closed trade (insert not included)."""
    times = []
    for index in range(start, start + NEW_TRADES):
        insert_trades(index, 1, rng)
        began = time.perf_counter()
        tracker.sync()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def run() -> dict[str, float]:
    rng = np.random.default_rng(42)
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        init_db(f"sqlite:///{Path(folder) / 'trades.sqlite'}")
        Trade.use_db = True
        insert_trades(0, TRADES // 10, rng)
        small = PairPerformanceTracker(
            SymbolPerformanceConfig(consecutive_loss_disable_threshold=50)
        )
        small.sync()
        figures["update_10k_ms"] = per_update_ms(small, TRADES // 10, rng)

        insert_trades(TRADES // 10 + NEW_TRADES, TRADES - TRADES // 10 - NEW_TRADES, rng)
        big = PairPerformanceTracker(SymbolPerformanceConfig(consecutive_loss_disable_threshold=50))
        began = time.perf_counter()
        big.sync()
        figures["rebuild_s"] = time.perf_counter() - began
        figures["update_100k_ms"] = per_update_ms(big, TRADES, rng)

        pairlist = PairListResolver.load_pairlist(
            "SymbolPerformanceFilter",
            exchange=None,
            pairlistmanager=None,
            config=CONFIG,
            pairlistconfig={"method": "SymbolPerformanceFilter"},
            pairlist_pos=1,
        )
        pairlist.filter_pairlist(list(PAIRS), {})  # first call: rebuild of the shared tracker
        refresh = []
        for _ in range(REPEATS):
            began = time.perf_counter()
            kept = pairlist.filter_pairlist(list(PAIRS), {})
            refresh.append(time.perf_counter() - began)
        figures["filter_ms"] = min(refresh) * 1000
        figures["kept"] = len(kept)
        figures["trades"] = Trade.session.query(Trade).count()
    return figures


def main() -> None:
    figures = run()
    ratio = figures["update_100k_ms"] / figures["update_10k_ms"]
    text = "\n".join(
        [
            "Script: `bench/bench_pairs.py` (SQLite trade DB in Freqtrade's schema, "
            f"{int(figures['trades']):,} closed trades over {len(PAIRS)} pairs; "
            f"Python {platform.python_version()}, 2 shared CPU cores).",
            "",
            "| what | figure |",
            "|---|---|",
            f"| SymbolPerformanceFilter refresh, {len(PAIRS)} pairs, nothing new closed "
            f"(best of {REPEATS}) | {figures['filter_ms']:.2f} ms |",
            f"| one newly closed trade taken in, 10,000 trades in the DB (median of "
            f"{NEW_TRADES}) | {figures['update_10k_ms']:.2f} ms |",
            f"| same, 100,000 trades in the DB | {figures['update_100k_ms']:.2f} ms |",
            f"| ratio 100k / 10k (flat = O(1) per update) | {ratio:.2f}x |",
            f"| rebuild from the DB at start-up (~100,000 trades) | {figures['rebuild_s']:.2f} s |",
            "",
            "An update is one primary-key query (trades newer than the last id seen, plus those",
            "open last time) and one custom-data query for the new trades, whatever the size of",
            "the history.",
        ]
    )
    print(text)
    write_section(HEADING, text)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
