"""`freqtrade-quant regimes`: what the detector sees on a pair's stored candles.

A quick look before trading a pair: how often each regime occurs and what the latest
candles are labelled, read from the same feather files Freqtrade backtests on.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.ArgumentDefaultsHelpFormatter
    parser.add_argument(
        "--datadir", type=Path, default=Path("user_data/data/binance"), help="Freqtrade data dir"
    )
    parser.add_argument("--pair", default="BTC/USDT", help="pair, e.g. BTC/USDT")
    parser.add_argument("--timeframe", default="1h", help="candle timeframe, e.g. 1h")
    parser.add_argument("--tail", type=int, default=10, help="latest candles to list")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from freqtrade_quant_plugin.core.regime import RegimeDetector

    path = (
        args.datadir / f"{args.pair.replace('/', '_').replace(':', '_')}-{args.timeframe}.feather"
    )
    if not path.is_file():
        print(f"No candles for {args.pair} {args.timeframe}: {path} does not exist.")
        return 2
    frame = RegimeDetector().detect(pd.read_feather(path))
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
