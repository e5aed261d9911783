"""Writes a synthetic data directory the way Freqtrade lays it out.

Candles go to DATADIR/PAIR-TF.feather (futures under DATADIR/futures/), written like
Freqtrade's FeatherDataHandler (lz4, level 9). The true regimes go to DATADIR/regimes/,
a folder Freqtrade never scans, so `list-data` and backtests see only candles.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range, parse_int
from freqtrade_quant_plugin.synth.generate import (
    BASE_MINUTES,
    FUTURES_ONLY_TIMEFRAMES,
    check_alignment,
    futures_views,
    parse_start,
    simulate_pair,
    spot_view,
    timeframe_factor,
)
from freqtrade_quant_plugin.synth.profiles import PAIR_PATTERN

logger = logging.getLogger(__name__)

REGIMES_FOLDER = "regimes"
FUTURES_FOLDER = "futures"


def pair_to_filename(pair: str) -> str:
    """BTC/USDT -> BTC_USDT, BTC/USDT:USDT -> BTC_USDT_USDT, as Freqtrade names its files."""
    return re.sub(r"[/ .@$+:]", "_", pair)


def regimes_path(datadir: Path, pair: str, timeframe: str) -> Path:
    """Where the true regimes of a spot pair and timeframe live (futures share them)."""
    return datadir / REGIMES_FOLDER / f"{pair_to_filename(pair)}-{timeframe}.regimes.feather"


def write_feather(frame: pd.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.reset_index(drop=True).to_feather(path, compression="lz4", compression_level=9)
    return path


def write_synthetic_data(
    datadir: str | Path,
    pairs: Sequence[str],
    timeframes: Sequence[str],
    seed: int,
    start: str | datetime | pd.Timestamp,
    days: int,
    futures: bool = False,
) -> list[Path]:
    """Write candles and regime labels for every pair and timeframe; return the files written."""
    datadir = Path(datadir)
    days = int(check_range("days", parse_int("days", days), 1))
    if not pairs:
        raise QuantConfigError("pairs", list(pairs), "at least one pair")
    if not timeframes:
        raise QuantConfigError("timeframes", list(timeframes), "at least one timeframe")
    start_stamp = parse_start(start)
    # Check everything before the first write, so a typo never leaves a half-written set.
    for pair in pairs:
        if not PAIR_PATTERN.match(pair):
            raise QuantConfigError("pairs", pair, "spot pairs like BTC/USDT")
    for timeframe in [*timeframes, *(FUTURES_ONLY_TIMEFRAMES if futures else ())]:
        check_alignment(start_stamp, timeframe_factor(timeframe), timeframe)
    n_base = days * 24 * 60 // BASE_MINUTES
    written: list[Path] = []
    for pair in pairs:
        sim = simulate_pair(pair, start_stamp, n_base, seed)
        pair_files: list[Path] = []
        for timeframe in timeframes:
            ohlcv, regimes = spot_view(sim, timeframe)
            name = pair_to_filename(pair)
            pair_files.append(write_feather(ohlcv, datadir / f"{name}-{timeframe}.feather"))
            pair_files.append(write_feather(regimes, regimes_path(datadir, pair, timeframe)))
        if futures:
            futures_name = pair_to_filename(f"{pair}:{pair.split('/')[1]}")
            for suffix, frame in futures_views(sim, list(timeframes)).items():
                path = datadir / FUTURES_FOLDER / f"{futures_name}-{suffix}.feather"
                pair_files.append(write_feather(frame, path))
        logger.info(
            "Synthetic %s: %d days, %d regime phases, %d files in %s",
            pair,
            days,
            sim.phase_count,
            len(pair_files),
            datadir,
        )
        written.extend(pair_files)
    return written
