"""`freqtrade-quant demo`: a Freqtrade backtest from a fresh clone, with no internet.

Generates the synthetic market data when it is missing, starts the offline Binance server
on a free port, points Freqtrade at it through a temporary config fragment and streams
Freqtrade's own backtest output; the exit code is Freqtrade's.

Reproducible figures: Freqtrade applies a strategy's hyperopt parameter file
(`user_data/strategies/<strategy file>.json`, written by every `freqtrade hyperopt`)
whenever it lies beside the strategy. The demo therefore runs a copy of the strategies
folder without those files, on the strategies' own defaults, and says so when it leaves
one out; `--use-params` applies it instead, and says that too.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_DATADIR = Path("user_data/data/binance")
DEFAULT_CONFIG = Path("config.json")
STRATEGIES_DIR = Path("user_data/strategies")
DEMO_TIMEFRAMES = ("5m", "1h")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datadir",
        type=Path,
        default=DEFAULT_DATADIR,
        help="Freqtrade data dir (generated if empty)",
    )
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="Freqtrade config")
    parser.add_argument("--strategy", default=None, help="strategy class (default: the config's)")
    parser.add_argument("--timerange", default=None, help="Freqtrade timerange, e.g. 20240101-")
    parser.add_argument(
        "--use-params",
        action="store_true",
        help=f"apply the strategy's hyperopt parameter file in {STRATEGIES_DIR} if there is "
        "one (by default the demo runs on the strategy's own defaults)",
    )


def parameter_files(strategies_dir: Path, strategy: str) -> list[Path]:
    """The hyperopt parameter files Freqtrade would apply to `strategy`."""
    found = []
    for path in sorted(strategies_dir.glob("*.json")):
        try:
            content = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(content, dict) and content.get("strategy_name") == strategy:
            found.append(path)
    return found


def strategies_for_run(strategy: str, use_params: bool, scratch: Path) -> Path:
    """The folder Freqtrade loads the strategy from: the repository's, or a copy of it
    without parameter files; logs which parameters the run uses."""
    files = parameter_files(STRATEGIES_DIR, strategy)
    if use_params:
        if files:
            logger.info("%s runs with the hyperopt parameters in %s", strategy, files[0])
        else:
            logger.info(
                "%s runs on its defaults: no parameter file in %s", strategy, STRATEGIES_DIR
            )
        return STRATEGIES_DIR
    if files:
        logger.info(
            "%s runs on its defaults: the hyperopt parameters in %s are NOT applied "
            "(pass --use-params to apply them)",
            strategy,
            files[0],
        )
    else:
        logger.info("%s runs on its defaults (no parameter file)", strategy)
    copy = scratch / "strategies"
    shutil.copytree(STRATEGIES_DIR, copy, ignore=shutil.ignore_patterns("*.json", "__pycache__"))
    return copy


def spot_pair(pair: str) -> str:
    return pair.split(":", 1)[0]


def demo_pairs(config: dict[str, Any]) -> list[str]:
    """The config's whitelist in spot form; the generator's defaults when it names none."""
    from freqtrade_quant_plugin.synth import DEFAULT_PAIRS
    from freqtrade_quant_plugin.synth.profiles import PAIR_PATTERN

    whitelist = config.get("exchange", {}).get("pair_whitelist", [])
    pairs = [spot_pair(p) for p in whitelist if PAIR_PATTERN.match(spot_pair(p))]
    return list(dict.fromkeys(pairs)) or list(DEFAULT_PAIRS)


def candle_file(datadir: Path, pair: str, timeframe: str, futures: bool) -> Path:
    from freqtrade_quant_plugin.synth.writer import FUTURES_FOLDER, pair_to_filename

    if futures:
        settle = pair.split("/")[1]
        name = pair_to_filename(f"{pair}:{settle}")
        return datadir / FUTURES_FOLDER / f"{name}-{timeframe}-futures.feather"
    return datadir / f"{pair_to_filename(pair)}-{timeframe}.feather"


def ensure_data(datadir: Path, pairs: list[str], timeframes: list[str], futures: bool) -> None:
    """Generate the pairs that lack candles; pairs that have them (maybe real data) stay."""
    from freqtrade_quant_plugin.commands import synth
    from freqtrade_quant_plugin.synth import write_synthetic_data

    missing = [
        pair
        for pair in pairs
        if not all(candle_file(datadir, pair, tf, futures).is_file() for tf in timeframes)
    ]
    if not missing:
        logger.info("Using the candles in %s", datadir)
        return
    logger.info("Generating synthetic candles for %s in %s", ", ".join(missing), datadir)
    write_synthetic_data(
        datadir,
        missing,
        timeframes,
        synth.DEFAULT_SEED,
        synth.DEFAULT_START,
        synth.DEFAULT_DAYS,
        futures,
    )


def run(args: argparse.Namespace) -> int:
    from freqtrade.configuration.load_config import load_config_file

    from freqtrade_quant_plugin.offline.exchange_reach import offline_exchange

    if not args.config.is_file():
        print(
            f"Config {args.config} not found: run the demo from the project root or pass --config."
        )
        return 2
    config = load_config_file(str(args.config))
    strategy = args.strategy or config.get("strategy")
    if not strategy:
        print(f"No strategy: {args.config} names none; pass --strategy NAME.")
        return 2
    futures = config.get("trading_mode", "spot") == "futures"
    timeframes = list(dict.fromkeys([*DEMO_TIMEFRAMES, *filter(None, [config.get("timeframe")])]))
    ensure_data(args.datadir, demo_pairs(config), timeframes, futures)

    with (
        tempfile.TemporaryDirectory(prefix="freqtrade-quant-demo-") as scratch_name,
        offline_exchange(args.datadir, Path(scratch_name)) as fragment,
    ):
        strategies = strategies_for_run(strategy, args.use_params, Path(scratch_name))
        command = [
                sys.executable, "-m", "freqtrade", "backtesting",
                "--config", str(args.config), "--config", str(fragment),
                "--datadir", str(args.datadir),
                "--strategy", strategy, "--strategy-path", str(strategies),
            ]  # fmt: skip
        if args.timerange:
            command += ["--timerange", args.timerange]
        logger.info("Running %s", " ".join(command))
        sys.stdout.flush()
        sys.stderr.flush()
        return subprocess.run(command, check=False).returncode
