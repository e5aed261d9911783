"""`freqtrade-quant regimes`: what the detector sees on stored candles, and whether it helps.

Without `--evaluate`: a quick look before trading a pair: how often each regime occurs and
what the latest candles are labelled. With `--evaluate`: for every timeframe of a data
directory, whether the labels say anything about the next hours (forward volatility by
volatility regime, continuation by trend regime) with a bootstrap verdict. Candles are read
from the same files and through the same loader (sorted, duplicates merged, gaps filled)
as a Freqtrade backtest.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_HORIZON_HOURS = 24.0
TYPICAL_WINDOW_DAYS = 30


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.add_argument(
        "--datadir", type=Path, default=Path("user_data/data/binance"), help="Freqtrade data dir"
    )
    parser.add_argument("--pair", default="BTC/USDT", help="pair, e.g. BTC/USDT")
    parser.add_argument("--timeframe", default="1h", help="candle timeframe, e.g. 1h")
    parser.add_argument("--tail", type=int, default=10, help="latest candles to list")
    parser.add_argument(
        "--config",
        default=None,
        help="Freqtrade config whose `quant.regime` settings to use (REGIME_* variables apply)",
    )
    parser.add_argument(
        "--trend-method",
        default=None,
        help="regime.trend_method to label with, overriding the settings",
    )
    group = parser.add_argument_group("evaluation (--evaluate)")
    group.add_argument(
        "--evaluate",
        action="store_true",
        help="measure whether the labels predict the next hours, per timeframe",
    )
    group.add_argument(
        "--pairs", type=comma_list, default=None, help="comma-separated pairs (default: all)"
    )
    group.add_argument(
        "--timeframes",
        type=comma_list,
        default=None,
        help="comma-separated timeframes (default: every timeframe in the data dir)",
    )
    group.add_argument(
        "--timerange", default=None, help="candles to evaluate, e.g. 20240601-20240901"
    )
    group.add_argument(
        "--horizon-hours",
        type=float,
        default=DEFAULT_HORIZON_HOURS,
        help=f"hours ahead measured after each candle (default {DEFAULT_HORIZON_HOURS:g})",
    )
    group.add_argument(
        "--block-days", type=int, default=5, help="days per bootstrap block (default 5)"
    )
    group.add_argument(
        "--resamples", type=int, default=2000, help="bootstrap resamples (default 2000)"
    )
    group.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    group.add_argument("--json", action="store_true", help="print the result as JSON")


def _detector(args: argparse.Namespace):
    """The detector the bot would run: config file, then REGIME_* variables, then the flag."""
    import dataclasses
    import os

    from freqtrade_quant_plugin.core.regime import RegimeDetector
    from freqtrade_quant_plugin.core.settings import QuantSettings

    quant = None
    if args.config:
        from freqtrade.configuration.load_config import load_config_file

        quant = load_config_file(args.config).get("quant")
    regime = QuantSettings.load(quant, os.environ).regime
    if args.trend_method is not None:
        regime = dataclasses.replace(regime, trend_method=args.trend_method)
    return RegimeDetector(regime)


def run(args: argparse.Namespace) -> int:
    from freqtrade.exceptions import OperationalException

    from freqtrade_quant_plugin.core.validation import QuantConfigError

    try:
        detector = _detector(args)
    except (QuantConfigError, OperationalException) as error:
        print(error)
        return 2
    if args.evaluate:
        from freqtrade_quant_plugin.commands.regimes_evaluate import run_evaluation

        return run_evaluation(args, detector)
    return _show_pair(args, detector)


def _show_pair(args: argparse.Namespace, detector) -> int:
    from freqtrade_quant_plugin.commands.candle_history import load_candles

    candles = load_candles(args.datadir, args.pair, args.timeframe)
    if candles.empty:
        print(f"No candles for {args.pair} {args.timeframe} in {args.datadir}.")
        return 2
    frame = detector.detect(candles)
    shares = frame["regime"].value_counts(normalize=True).mul(100).round(1)
    print(f"{args.pair} {args.timeframe}: {len(frame)} candles, regime share in %")
    print(shares.to_string())
    columns = [
        "date",
        "close",
        "vol_percentile",
        "adx",
        "volatility_regime",
        "trend_regime",
        "regime",
    ]
    print(frame[columns].tail(args.tail).to_string(index=False))
    return 0
