"""`freqtrade-quant compare`: what each plugin layer does to a strategy, on the same entries.

Backtests the strategy with every layer on (`all_on`), with each layer off alone
(`no_<layer>`) and with every regime layer off (`static`, the fixed-exit fixed-risk twin),
each through a real `freqtrade backtesting` run, and prints one table with the difference
of each variant to all_on. `--walk-forward N` repeats that on N consecutive slices of the
timerange, so a difference that only one period produces shows as such.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c", "--config", action="append", default=None, metavar="PATH",
        help=f"Freqtrade config file, repeatable like Freqtrade's (default: {DEFAULT_CONFIG})",
    )  # fmt: skip
    parser.add_argument("-s", "--strategy", help="strategy class (default: the config's)")
    parser.add_argument("--strategy-path", help="additional strategy lookup path")
    parser.add_argument("--userdir", "--user-data-dir", dest="userdir", help="user data dir")
    parser.add_argument("-d", "--datadir", help="data dir (default: <userdir>/data/<exchange>)")
    parser.add_argument("--timerange", help="Freqtrade timerange, e.g. 20240101-20240401")
    parser.add_argument("-i", "--timeframe", help="override the config's timeframe")
    parser.add_argument("--timeframe-detail", help="detail timeframe for the backtests")
    parser.add_argument("-p", "--pairs", nargs="+", help="limit to these pairs")
    parser.add_argument("--fee", type=float, help="fee ratio for entry and exit, e.g. 0.001")
    parser.add_argument(
        "--walk-forward", type=int, default=1, metavar="N",
        help="split the timerange into N consecutive folds and compare fold by fold",
    )  # fmt: skip
    parser.add_argument(
        "-j", "--job-workers", type=int, default=None, metavar="N",
        help="backtests run at the same time (default: the number of CPU cores)",
    )  # fmt: skip
    parser.add_argument(
        "--variants", nargs="+", metavar="NAME",
        help="run only these variants (all_on is always run): e.g. static no_cost_gate",
    )  # fmt: skip
    parser.add_argument(
        "--backtest-directory", "--export-directory", dest="backtest_directory", metavar="PATH",
        help="keep every run's result, config overlay and log in PATH/<variant>-fold<k>/ "
        "(default: a temporary folder, removed at the end)",
    )  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def freqtrade_args(args: argparse.Namespace, strategy: str, datadir: Path) -> list[str]:
    """The options every variant's `freqtrade backtesting` shares."""
    command: list[str] = []
    for path in args.config:
        command += ["--config", str(path)]
    command += ["--strategy", strategy, "--datadir", str(datadir)]
    for option, value in (
        ("--strategy-path", args.strategy_path), ("--userdir", args.userdir),
        ("--timeframe", args.timeframe), ("--timeframe-detail", args.timeframe_detail),
        ("--fee", args.fee),
    ):  # fmt: skip
        if value is not None:
            command += [option, str(value)]
    if args.pairs:
        command += ["--pairs", *args.pairs]
    return command


def resolve_datadir(args: argparse.Namespace, config: dict[str, Any]) -> Path:
    """Freqtrade's default: <userdir>/data/<exchange name>."""
    if args.datadir:
        return Path(args.datadir)
    userdir = Path(args.userdir or config.get("user_data_dir") or "user_data")
    return userdir / "data" / config.get("exchange", {}).get("name", "binance").lower()


def applied_parameter_files(args: argparse.Namespace, config: dict[str, Any], strategy: str):
    """Hyperopt parameter files Freqtrade will apply to every variant (beside the strategy,
    in --strategy-path or <userdir>/strategies): the rows are then not the defaults'."""
    from freqtrade_quant_plugin.commands.demo import parameter_files

    userdir = Path(args.userdir or config.get("user_data_dir") or "user_data")
    folders = [args.strategy_path or config.get("strategy_path"), userdir / "strategies"]
    found = [parameter_files(Path(f), strategy) for f in folders if f and Path(f).is_dir()]
    return list(dict.fromkeys(path.resolve() for paths in found for path in paths))


class UsageError(Exception):
    """A problem with the command line or the config: exit code 2, one line."""


@dataclass
class Plan:
    config: dict[str, Any]
    strategy: str
    datadir: Path
    folds: list[Any]
    jobs: list[Any]


def make_plan(args: argparse.Namespace) -> Plan:
    """Everything decided before the first backtest starts; raises UsageError."""
    from freqtrade.configuration.load_config import load_from_files

    from freqtrade_quant_plugin.commands import compare_runs

    args.config = args.config or [DEFAULT_CONFIG]
    missing = [path for path in args.config if not Path(path).is_file()]
    if missing:
        raise UsageError(f"Config {', '.join(missing)} not found: pass --config FILE.")
    config = load_from_files(list(args.config))
    strategy = args.strategy or config.get("strategy")
    if not strategy:
        raise UsageError("No strategy: the config names none; pass --strategy NAME.")
    datadir = resolve_datadir(args, config)
    if not datadir.is_dir():
        raise UsageError(
            f"No data dir {datadir}: pass --datadir, or fill it with `freqtrade download-data` "
            "or `freqtrade-quant synth`."
        )
    try:
        folds = build_folds(args, config, datadir)
        variants = compare_runs.select_variants(args.variants)
    except ValueError as error:
        raise UsageError(f"compare: {error}") from error
    jobs = [
        compare_runs.Job(variant, fold, fold.timerange if fold.number else args.timerange)
        for fold in folds
        for variant in variants
    ]
    return Plan(config, strategy, datadir, folds, jobs)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.commands import compare_plain, compare_runs, compare_table
    from freqtrade_quant_plugin.offline.exchange_reach import offline_exchange

    try:
        plan = make_plan(args)
    except UsageError as error:
        print(error, file=sys.stderr)
        return 2
    workers = min(args.job_workers or os.cpu_count() or 1, len(plan.jobs))
    for path in applied_parameter_files(args, plan.config, plan.strategy):
        logger.warning(
            "Every variant runs with the hyperopt parameters in %s (Freqtrade applies them "
            "to %s); move the file away to compare on the strategy's defaults",
            path,
            plan.strategy,
        )
    # Freqtrade's result loader logs each file at INFO: the progress lines say enough.
    logging.getLogger("freqtrade").setLevel(logging.WARNING)
    with (
        work_folder(args.backtest_directory) as scratch_name,
        offline_exchange(plan.datadir, Path(scratch_name), plan.config) as fragment,
    ):
        strategy, jobs, base_args, plain = compare_plain.setup_runs(
            args, plan, Path(scratch_name), fragment
        )
        workers = min(args.job_workers or os.cpu_count() or 1, len(jobs))
        logger.info("Each variant runs: freqtrade backtesting %s", " ".join(base_args))
        compare_runs.prepare_user_data(
            Path(args.userdir or plan.config.get("user_data_dir") or "user_data")
        )
        results = compare_runs.run_jobs(
            jobs, base_args, Path(scratch_name), strategy, workers, progress, plain
        )
    failed = [result for result in results if result.error]
    for result in failed:
        progress(f"{result.job.key} failed: {result.error}")
    rows = [
        result_row(result, keep_files=bool(args.backtest_directory))
        for result in results
        if not result.error
    ]
    rows = compare_table.add_differences(rows)
    summary = compare_table.spread(rows) if args.walk_forward > 1 else None
    if compare_table.no_variant_differs(rows):
        logger.warning(
            "Every variant traded exactly like all_on: does %s read the quant.layers "
            "switches (a QuantStrategy subclass)?",
            plan.strategy,
        )
    if args.json:
        print(json.dumps(json_document(plan, rows, summary), indent=2))
    elif rows:
        print_tables(plan.strategy, rows, summary)
        if summary is not None:
            for fold in plan.folds:
                print(f"Fold {fold.label}: --timerange {fold.timerange}")
    return 1 if failed else 0


def build_folds(args: argparse.Namespace, config: dict[str, Any], datadir: Path) -> list:
    """One whole-range fold, or `--walk-forward N` slices of the timerange (its open sides
    taken from the stored candles)."""
    from datetime import timedelta

    from freqtrade.exchange import timeframe_to_seconds

    from freqtrade_quant_plugin.commands.compare_folds import Fold, split_folds, timerange_bounds

    start, stop = timerange_bounds(args.timerange)
    if args.walk_forward == 1:
        return [Fold(None, start, stop)]  # type: ignore[arg-type]
    timeframe = args.timeframe or config.get("timeframe")
    if not timeframe:
        raise ValueError("no timeframe: the config names none; pass --timeframe")
    step = timeframe_to_seconds(timeframe)
    if start is None or stop is None:
        first, last = stored_range(config, datadir, timeframe, args.pairs)
        start = start or first
        stop = stop or last
    return split_folds(start, stop + timedelta(seconds=1), args.walk_forward, step)


def stored_range(config: dict[str, Any], datadir: Path, timeframe: str, pairs: list | None):
    """First and last candle stored for any of the pairs (what Freqtrade would backtest)."""
    from freqtrade.data.history import get_datahandler
    from freqtrade.enums import CandleType

    handler = get_datahandler(datadir, config.get("dataformat_ohlcv", "feather"))
    candle_type = CandleType.get_default(config.get("trading_mode", "spot"))
    spans = []
    for pair in pairs or config.get("exchange", {}).get("pair_whitelist", []):
        first, last, count = handler.ohlcv_data_min_max(pair, timeframe, candle_type)
        if count:
            spans.append((first, last))
    if not spans:
        raise ValueError(f"no {timeframe} candles in {datadir} for the config's pairs")
    return min(first for first, _ in spans), max(last for _, last in spans)


def work_folder(keep: str | None) -> Any:
    """The folder the runs write into: the user's (kept) or a temporary one."""
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return nullcontext(keep)
    return tempfile.TemporaryDirectory(prefix="freqtrade-quant-compare-")


def result_row(result: Any, keep_files: bool = False) -> dict[str, Any]:
    from freqtrade_quant_plugin.commands.compare_table import ratio_or_none

    stats = result.stats
    return {
        "name": result.job.variant.name,
        "layers_off": list(result.job.variant.layers_off),
        "fold": result.job.fold.number,
        "timerange": result.job.timerange,
        **{key: stats[key] for key in ("trades", "profit_pct", "max_drawdown_pct")},
        "calmar": ratio_or_none(stats["calmar"], stats["trades"]),
        "sharpe": ratio_or_none(stats["sharpe"], stats["trades"]),
        "avg_net_R": stats["avg_net_R"],
        "avg_cost_in_R": stats["avg_cost_in_R"],
        "backtest_start": stats["backtest_start"],
        "backtest_end": stats["backtest_end"],
        **({"result_file": stats["result_file"]} if keep_files else {}),
    }


def json_document(plan: Plan, rows: list, summary: list | None) -> dict:
    """The timerange each fold ran (the user's own, maybe none, without walk-forward)."""
    ranges = {job.fold.number: job.timerange for job in plan.jobs}
    return {
        "strategy": plan.strategy,
        "folds": [{"fold": fold.number, "timerange": ranges[fold.number]} for fold in plan.folds],
        "variants": rows,
        **({"spread": summary} if summary is not None else {}),
    }


def print_tables(strategy: str, rows: list, summary: list | None) -> None:
    from rich.console import Console

    from freqtrade_quant_plugin.commands.compare_table import spread_table, variants_table

    # Piped or redirected output keeps every column readable instead of 80 wide.
    console = Console(width=None if sys.stdout.isatty() else 200)
    folds = summary is not None
    console.print(variants_table(rows, f"LAYER COMPARISON | {strategy}", folds))
    if summary is not None:
        console.print(spread_table(summary))
