"""Benchmark: hyperopt throughput of QuantRegimeStrategy against the trivial-callback floor.

Run from the repository root: `.venv/bin/python bench/bench_hyperopt.py` (options:
--epochs, --jobs, --months, --runs, --no-write). In one session, against the offline server
and on the same candles (1h, 5 pairs: ../shared/data/binance, or the project's synthetic
set where that is absent), `freqtrade hyperopt --spaces sell risk --hyperopt-loss
SharpeHyperOptLoss -j 2` of:

- QuantRegimeStrategy, the plugin as shipped (its strategy, tracker and hooks pickled to
  the worker processes every epoch);
- HourlyTrivialCallbackStrategy: bench_strategy.py's TrivialCallbackStrategy (the same
  indicators, entries and parameters, trivial callbacks) with a fixed 2 % stop and ROI
  instead of 0.5 %, so that on 1h candles its trades last about as long as the plugin's
  (the per-candle callbacks run once per open trade and candle).

Throughput = epochs / the time between Freqtrade's "Effective number of parallel workers"
and "epochs saved" log lines, i.e. the epoch loop alone (data loading and indicators are
done before it). Best of --runs, the variants alternating so both see the same machine
load. Rewrites the "Hyperopt throughput" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

from bench_strategy import FLOOR_SOURCE, PAIRS, PLUGIN, STRATEGY_FILE, write_config
from results_file import write_section

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer
from freqtrade_quant_plugin.synth import write_synthetic_data

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared" / "data" / "binance"
HEADING = "## Hyperopt throughput"
FLOOR = "HourlyTrivialCallbackStrategy"
HOURLY_FLOOR_SOURCE = f"""
from trivial_callback_strategy import TrivialCallbackStrategy


class {FLOOR}(TrivialCallbackStrategy):
    minimal_roi = {{"0": 0.02}}

    def custom_stoploss(self, pair, trade, current_time, current_rate, current_profit,
                        after_fill, **kwargs):
        return -0.02
"""
_STAMP = r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) - .*"
_LOOP_START = re.compile(_STAMP + "Effective number of parallel workers used", re.M)
_LOOP_END = re.compile(_STAMP + r"\d+ epochs? saved to", re.M)


def market(tmp: Path) -> tuple[Path, str]:
    """The candles to run on and how to name them in the results."""
    if SHARED.is_dir():
        return SHARED, "real 1h candles of ../shared/data/binance"
    datadir = tmp / "binance"
    write_synthetic_data(datadir, PAIRS, ["1h"], 42, "2024-01-01", 240)
    return datadir, "synthetic 1h candles (freqtrade-quant synth, seed 42)"


def hyperopt(root: Path, datadir: Path, config: Path, strategy: str, args) -> Measured:
    """Epochs per minute of the epoch loop, and what the epochs traded."""
    userdir = root / f"user_data_{strategy}"
    shutil.rmtree(userdir, ignore_errors=True)
    userdir.mkdir()
    command = [
        sys.executable, "-m", "freqtrade", "hyperopt", "--config", str(config),
        "--userdir", str(userdir), "--datadir", str(datadir),
        "--strategy-path", str(root / "strategies"), "--strategy", strategy,
        "--spaces", "sell", "risk", "--hyperopt-loss", "SharpeHyperOptLoss",
        "-e", str(args.epochs), "-j", str(args.jobs), "--random-state", "3",
        "--timerange", f"20240101-2024{args.months + 1:02d}01", "--disable-param-export",
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["COLUMNS"] = "200"
    completed = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    output = completed.stdout + completed.stderr
    start, end = _LOOP_START.search(output), _LOOP_END.search(output)
    if completed.returncode != 0 or not start or not end:
        raise RuntimeError(f"{strategy} hyperopt failed:\n{output[-4000:]}")
    seconds = (_time(end.group(1)) - _time(start.group(1))).total_seconds()
    (results,) = (userdir / "hyperopt_results").glob("*.fthypt")
    metrics = [
        json.loads(line)["results_metrics"]
        for line in results.read_text().splitlines()
        if line.strip()
    ]
    trades = sum(m["total_trades"] for m in metrics) / len(metrics)
    hours = sum(m["holding_avg_s"] for m in metrics) / len(metrics) / 3600
    return Measured(len(metrics) * 60 / seconds, len(metrics), trades, hours)


class Measured(NamedTuple):
    rate: float  # epochs per minute
    epochs: int
    trades: float  # per epoch, mean
    hours: float  # mean holding time of a trade


def row(label: str, measured: Measured, floor: Measured) -> str:
    ratio = measured.rate / floor.rate
    return (
        f"| {label} | {measured.rate:.1f} | {ratio:.2f} | {measured.trades:.0f} | "
        f"{measured.hours:.1f} |"
    )


def _runs(rates: dict[str, list[float]]) -> str:
    pairs = zip(rates[PLUGIN], rates[FLOOR], strict=True)
    return ", ".join(f"{mine:.1f} / {floor:.1f} = {mine / floor:.2f}" for mine, floor in pairs)


def _time(stamp: str) -> datetime:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per hyperopt")
    parser.add_argument("--jobs", type=int, default=2, help="hyperopt -j")
    parser.add_argument("--months", type=int, default=8, help="months of 1h candles from 2024-01")
    parser.add_argument("--runs", type=int, default=2, help="hyperopts per variant (best kept)")
    parser.add_argument("--no-write", action="store_true", help="print only, keep RESULTS.md")
    args = parser.parse_args()
    best: dict[str, Measured] = {}
    rates: dict[str, list[float]] = {FLOOR: [], PLUGIN: []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        datadir, data_name = market(root)
        (root / "strategies").mkdir()
        shutil.copy(STRATEGY_FILE, root / "strategies")
        (root / "strategies" / "trivial_callback_strategy.py").write_text(FLOOR_SOURCE)
        (root / "strategies" / "hourly_trivial_callback_strategy.py").write_text(
            HOURLY_FLOOR_SOURCE
        )
        with OfflineExchangeServer(datadir, port=0) as server:
            config = write_config(root / "config.json", server.port, PAIRS, {})
            content = json.loads(config.read_text())
            content["timeframe"] = "1h"
            content["quant"] = {}  # the plugin's defaults: 1h stops pass the cost gate
            config.write_text(json.dumps(content, indent=2))
            for run in range(args.runs):
                for strategy in (FLOOR, PLUGIN):
                    got = hyperopt(root, datadir, config, strategy, args)
                    print(f"run {run + 1} {strategy}: {got}", flush=True)
                    rates[strategy].append(got.rate)
                    if strategy not in best or got.rate > best[strategy].rate:
                        best[strategy] = got
    plugin, floor = best[PLUGIN], best[FLOOR]
    section = f"""Script: `bench/bench_hyperopt.py` (`freqtrade hyperopt --spaces sell risk
--hyperopt-loss SharpeHyperOptLoss -j {args.jobs} -e {args.epochs}`, {len(PAIRS)} pairs
({", ".join(PAIRS)}) x {args.months} months of {data_name}, spot, offline server; best of
{args.runs} alternating runs; Python {platform.python_version()}, 2 shared CPU cores).
Epochs per minute of the epoch loop (from Freqtrade's "Effective number of parallel
workers" log line to "epochs saved"), the strategy pickled to the worker processes each
epoch.

| variant | epochs / min | / floor | trades per epoch | mean holding h |
|---|---|---|---|---|
{row("QuantRegimeStrategy (the plugin as shipped)", plugin, floor)}
{row("same entries, trivial callbacks, 2 % stop and ROI (floor)", floor, floor)}

Every run, epochs / min (plugin / floor): {_runs(rates)}. On shared cores the figure
moves with the other load; the table keeps each variant's best run.

Target: at least 0.87 of the floor's throughput. Read the ratio next to the trades per
epoch: the work of an epoch grows with its trades and their holding time, and the two
variants' exits differ (with the `guide` exit profile, the default before the exit
walk-forward, the plugin made 242 trades per epoch and reached 0.83-0.93).
"""
    print(section)
    if not args.no_write:
        write_section(HEADING, section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
