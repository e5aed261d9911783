"""The backtests behind `freqtrade-quant compare`: one real `freqtrade backtesting` per
variant and fold, each in its own process and result folder, read back from the files
Freqtrade and the plugin's export wrote.

The command knows nothing of the strategy's internals: a variant is only an extra config
file `{"quant": {"layers": {...}}}` naming every layer, so Freqtrade's deep merge of its
`--config` files replaces whatever the user's own `quant.layers` says.
"""

from __future__ import annotations

import json
import logging
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from statistics import fmean
from typing import Any

from freqtrade_quant_plugin.commands.compare_folds import Fold
from freqtrade_quant_plugin.core.layers import LAYER_NAMES, LAYER_VARIABLES, REGIME_LAYERS

logger = logging.getLogger(__name__)

ALL_ON = "all_on"
STATIC = "static"
PLAIN = "plain"  # the strategy without the plugin (compare_plain)
# Environment that would override the overlay's switches inside Freqtrade.
OVERRIDING_PREFIXES = ("FREQTRADE__QUANT__LAYERS__",)


@dataclass(frozen=True)
class Variant:
    name: str
    layers_off: tuple[str, ...]

    def overlay(self) -> dict[str, Any]:
        """Every layer named, so the user's own `quant.layers` cannot leak through."""
        return {"quant": {"layers": {name: name not in self.layers_off for name in LAYER_NAMES}}}


def standard_variants() -> list[Variant]:
    """all_on, each layer off alone, and static (every regime layer off)."""
    return [
        Variant(ALL_ON, ()),
        *(Variant(f"no_{name}", (name,)) for name in LAYER_NAMES),
        Variant(STATIC, REGIME_LAYERS),
    ]


def plain_variant() -> Variant:
    return Variant(PLAIN, LAYER_NAMES)


def select_variants(names: Sequence[str] | None) -> list[Variant]:
    """The standard variants named (all when None); all_on always, as the baseline."""
    variants = standard_variants()
    if not names:
        return variants
    known = {variant.name for variant in variants}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"--variants: unknown {', '.join(unknown)}; choose from {', '.join(sorted(known))}"
        )
    wanted = {ALL_ON, *names}
    return [variant for variant in variants if variant.name in wanted]


@dataclass(frozen=True)
class Job:
    variant: Variant
    fold: Fold
    timerange: str | None  # what Freqtrade gets: the user's own without walk-forward

    @property
    def key(self) -> str:
        return f"{self.variant.name}-fold{self.fold.label}"


@dataclass
class RunResult:
    job: Job
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


def backtest_command(
    job: Job, base_args: Sequence[str], overlay_file: Path, result_dir: Path
) -> list[str]:
    """`freqtrade backtesting` with the user's options, the variant's overlay last."""
    command = [sys.executable, "-m", "freqtrade", "backtesting", *base_args]
    command += ["--config", str(overlay_file)]
    command += ["--backtest-directory", str(result_dir), "--export", "trades", "--cache", "none"]
    if job.timerange:
        command += ["--timerange", job.timerange]
    return command


def clean_environment() -> dict[str, str]:
    """The caller's environment minus the switches that would override the overlay, and
    with loopback exempt from any proxy."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in LAYER_VARIABLES and not key.startswith(OVERRIDING_PREFIXES)
    }
    dropped = sorted(set(os.environ) - set(env))
    if dropped:
        logger.warning("Ignoring %s: each variant sets every layer itself", ", ".join(dropped))
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))
    return env


def run_job(
    job: Job,
    base_args: Sequence[str],
    scratch: Path,
    env: dict[str, str],
    strategy: str,
    progress: Callable[[str], None],
    plain: tuple[Sequence[str], str] | None = None,
) -> RunResult:
    """One backtest to completion; its log goes to `<scratch>/<key>/freqtrade.log`.

    `plain`: the options and name of the strategy without the plugin (the `plain` row).
    """
    if job.variant.name == PLAIN and plain is not None:
        base_args, strategy = plain
    progress(f"started {job.variant.name}{fold_suffix(job.fold)}")
    folder = scratch / job.key
    result_dir = folder / "results"
    result_dir.mkdir(parents=True, exist_ok=True)
    overlay_file = folder / "layers.json"
    overlay_file.write_text(json.dumps(job.variant.overlay(), indent=2), encoding="utf-8")
    log_file = folder / "freqtrade.log"
    started = time.monotonic()
    command = backtest_command(job, base_args, overlay_file, result_dir)
    with log_file.open("wb") as log:
        log.write(f"$ {shlex.join(command)}\n".encode())  # how to re-run this row by hand
        log.flush()
        completed = subprocess.run(
            command,
            stdout=log, stderr=subprocess.STDOUT, env=env, check=False,
        )  # fmt: skip
    seconds = time.monotonic() - started
    if completed.returncode != 0:
        tail = log_file.read_text(encoding="utf-8", errors="replace")[-2000:]
        return RunResult(job, error=f"exit code {completed.returncode}:\n{tail}", seconds=seconds)
    try:
        stats = read_result(result_dir, strategy)
    except (OSError, ValueError, KeyError) as error:
        return RunResult(job, error=f"no readable result in {result_dir}: {error}", seconds=seconds)
    return RunResult(job, stats=stats, seconds=seconds)


def read_result(result_dir: Path, strategy: str) -> dict[str, Any]:
    """Freqtrade's figures for `strategy` from the newest result, plus the plugin's R."""
    from freqtrade.data.btanalysis import get_latest_backtest_filename, load_backtest_stats

    zip_path = result_dir / get_latest_backtest_filename(result_dir)
    stats = load_backtest_stats(zip_path)["strategy"][strategy]
    records = read_quant_records(zip_path, strategy)
    return {
        "trades": int(stats["total_trades"]),
        "profit_pct": 100.0 * float(stats["profit_total"]),
        "max_drawdown_pct": 100.0 * float(stats.get("max_drawdown_account") or 0.0),
        "calmar": stats.get("calmar"),
        "sharpe": stats.get("sharpe"),
        "avg_net_R": mean_of(records, "net_R_multiple"),
        "avg_cost_in_R": mean_of(records, "cost_in_R"),
        "backtest_start": stats.get("backtest_start"),
        "backtest_end": stats.get("backtest_end"),
        "result_file": str(zip_path),
    }


def read_quant_records(zip_path: Path, strategy: str) -> list[dict[str, Any]]:
    """The plugin's per-trade records beside the result (none for a plain strategy)."""
    from freqtrade_quant_plugin.adapters.records.backtest_export import export_path

    path = export_path(zip_path)
    if not path.is_file():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = data.get("trades", []) if isinstance(data, dict) else data
    return [row for row in rows if row.get("strategy", strategy) == strategy]


def mean_of(records: list[dict[str, Any]], key: str) -> float | None:
    values = [float(row[key]) for row in records if isinstance(row.get(key), (int, float))]
    return fmean(values) if values else None


def prepare_user_data(userdir: Path) -> None:
    """Freqtrade makes a user_data dir's missing sub-folders at start-up (check, then mkdir):
    parallel backtests on a fresh user_data race there and one fails with FileExistsError.
    Made once before they start; a missing user_data is left to Freqtrade's own error."""
    if userdir.is_dir():
        from freqtrade.configuration.directory_operations import create_userdata_dir

        create_userdata_dir(str(userdir))


def run_jobs(
    jobs: Sequence[Job],
    base_args: Sequence[str],
    scratch: Path,
    strategy: str,
    workers: int,
    progress: Callable[[str], None],
    plain: tuple[Sequence[str], str] | None = None,
) -> list[RunResult]:
    """Every job, `workers` Freqtrade processes at a time; results in the jobs' order."""
    env = clean_environment()
    results: dict[str, RunResult] = {}
    total = len(jobs)
    progress(f"Running {total} backtests, {max(1, workers)} at a time")
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        futures = [
            pool.submit(run_job, job, base_args, scratch, env, strategy, progress, plain)
            for job in jobs
        ]
        for done, future in enumerate(as_completed(futures), start=1):
            result = future.result()
            results[result.job.key] = result
            name = result.job.variant.name + fold_suffix(result.job.fold)
            progress(f"[{done}/{total}] {name}: {outcome_text(result)} ({result.seconds:.0f} s)")
    finally:
        # Ctrl-C reaches the running backtests too; the queued ones must not start.
        pool.shutdown(wait=True, cancel_futures=True)
    return [results[job.key] for job in jobs]


def fold_suffix(fold: Fold) -> str:
    return "" if fold.number is None else f" fold {fold.label}"


def outcome_text(result: RunResult) -> str:
    if result.error:
        return f"failed ({result.error.splitlines()[0]})"
    return f"{result.stats['trades']} trades, {result.stats['profit_pct']:.2f} %"
