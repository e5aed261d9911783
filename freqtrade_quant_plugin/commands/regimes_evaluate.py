"""`freqtrade-quant regimes --evaluate`: do the labels say anything about the next hours?

Per timeframe, all pairs pooled: forward volatility by volatility regime and continuation
by trend regime, with a verdict from a moving-block bootstrap over days (see
core/regime_evaluation.py for the definitions).
"""

from __future__ import annotations

import argparse
import json
import logging

import pandas as pd

from freqtrade_quant_plugin.commands.candle_history import available_data, load_candles
from freqtrade_quant_plugin.core.regime import RegimeDetector
from freqtrade_quant_plugin.core.regime_evaluation import (
    Evaluation,
    EvaluationConfig,
    PartResult,
    RegimeEvaluator,
)

logger = logging.getLogger(__name__)

TYPICAL_WINDOW_DAYS = 30


def _timeframe_minutes(timeframe: str) -> int:
    from freqtrade.exchange import timeframe_to_minutes

    return int(timeframe_to_minutes(timeframe))


def _timerange_start(timerange: str | None) -> pd.Timestamp | None:
    from freqtrade.configuration import TimeRange

    if not timerange:
        return None
    parsed = TimeRange.parse_timerange(timerange)
    return pd.Timestamp(parsed.startts, unit="s", tz="UTC") if parsed.startts else None


def evaluation_config(args: argparse.Namespace, timeframe: str, lookback: int) -> EvaluationConfig:
    """Horizon and typical window converted from hours and days to candles of `timeframe`."""
    minutes = _timeframe_minutes(timeframe)
    return EvaluationConfig(
        horizon=max(1, round(args.horizon_hours * 60 / minutes)),
        lookback=lookback,
        typical_window=max(2, TYPICAL_WINDOW_DAYS * 1440 // minutes),
        block_days=args.block_days,
        resamples=args.resamples,
        seed=args.seed,
    )


def evaluate_timeframe(
    args: argparse.Namespace, detector: RegimeDetector, timeframe: str, pairs: list[str]
) -> tuple[Evaluation, int, EvaluationConfig]:
    """Label every pair, pool them, measure. Returns (evaluation, pairs used, config)."""
    config = evaluation_config(args, timeframe, detector.config.trend_lookback)
    evaluator = RegimeEvaluator(config)
    start = _timerange_start(args.timerange)
    startup = detector.config.startup_candles + config.typical_window
    used = 0
    for pair in pairs:
        candles = load_candles(
            args.datadir, pair, timeframe, timerange=args.timerange, startup_candles=startup
        )
        if candles.empty:
            logger.warning("No candles for %s %s in %s: skipped.", pair, timeframe, args.datadir)
            continue
        evaluator.add_pair(detector.detect(candles), start=start)
        used += 1
    return evaluator.evaluate(), used, config


def run_evaluation(args: argparse.Namespace, detector: RegimeDetector) -> int:
    from freqtrade.exceptions import OperationalException

    stored = available_data(args.datadir)
    timeframes = args.timeframes or sorted(stored, key=_timeframe_minutes)
    if not timeframes:
        print(f"No candles in {args.datadir}.")
        return 2
    results = {}
    for timeframe in timeframes:
        pairs = args.pairs or stored.get(timeframe, [])
        if not pairs:
            print(f"No candles of timeframe {timeframe} in {args.datadir}.")
            return 2
        try:
            evaluation, used, config = evaluate_timeframe(args, detector, timeframe, pairs)
        except OperationalException as error:  # e.g. an unreadable --timerange
            print(f"Cannot evaluate {timeframe}: {error}")
            return 2
        if used == 0:
            print(f"No candles for the pairs given at {timeframe} in {args.datadir}.")
            return 2
        results[timeframe] = (evaluation, used, config)
    if args.json:
        print(json.dumps(_as_json(args, detector, results), indent=2))
    else:
        _print_tables(args, detector, results)
    return 0


def _as_json(args: argparse.Namespace, detector: RegimeDetector, results: dict) -> dict:
    return {
        "datadir": str(args.datadir),
        "timerange": args.timerange,
        "trend_method": detector.config.trend_method,
        "test": _test_description(args),
        "timeframes": {
            timeframe: {
                "pairs": used,
                "horizon_candles": config.horizon,
                "lookback_candles": config.lookback,
                "typical_window_candles": config.typical_window,
                **evaluation.as_dict(),
            }
            for timeframe, (evaluation, used, config) in results.items()
        },
    }


def _test_description(args: argparse.Namespace) -> str:
    return (
        f"95 % interval of a moving-block bootstrap over whole days ({args.block_days}-day "
        f"blocks, {args.resamples} resamples, seed {args.seed}); a part is informative when "
        "its interval lies entirely on the predicted side (ratio above 1, difference above 0)"
    )


def _verdict_line(part: PartResult, what: str) -> str:
    interval = f"95 % interval {part.low:.3f} to {part.high:.3f}"
    side = "1" if part.null_value == 1.0 else "0"
    if part.verdict == "informative":
        return f"{what}: INFORMATIVE on this data ({interval}, above {side})."
    if part.verdict == "contrary":
        return f"{what}: CONTRARY on this data, the opposite of the label ({interval})."
    if part.verdict == "too little data":
        return f"{what}: too little data for a verdict."
    return f"{what}: NOT INFORMATIVE on this data ({interval} includes {side})."


def _print_tables(args: argparse.Namespace, detector: RegimeDetector, results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=110)
    for timeframe, (evaluation, used, config) in results.items():
        title = (
            f"{timeframe}: {used} pairs, {evaluation.days} days, next {args.horizon_hours:g} h "
            f"= {config.horizon} candles, trend method {detector.config.trend_method}"
        )
        console.print(title, highlight=False)
        table = Table()
        table.add_column("label")
        table.add_column("candles", justify="right")
        table.add_column("forward vol / typical", justify="right")
        table.add_column("continuation", justify="right")
        vol, trend = evaluation.volatility, evaluation.trend
        for label, count, mean in zip(vol.labels, vol.counts, vol.means, strict=True):
            table.add_row(label, f"{count:,}", f"{mean:.3f}", "")
        for label, count, mean in zip(trend.labels, trend.counts, trend.means, strict=True):
            table.add_row(label, f"{count:,}", "", f"{mean:+.3f}")
        console.print(table)
        console.print(
            _verdict_line(vol, f"Volatility: EXTREME_VOL / LOW_VOL = {vol.statistic:.3f}"),
            highlight=False,
        )
        console.print(
            _verdict_line(trend, f"Trend: TRENDING - RANGING = {trend.statistic:+.3f}"),
            highlight=False,
        )
        console.print()
    console.print(f"Test: {_test_description(args)}.", highlight=False)
