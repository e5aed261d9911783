"""`freqtrade-quant synth`: write the deterministic synthetic market data set.

The project ships no market data; this command produces Freqtrade-ready candles and the
true regime of every candle, identical for a given seed on every machine.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_DATADIR = Path("user_data/data/binance")
DEFAULT_SEED = 42
DEFAULT_START = "2024-01-01"
DEFAULT_DAYS = 240
DEFAULT_TIMEFRAMES = "5m,1h"


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datadir", type=Path, default=DEFAULT_DATADIR, help="Freqtrade data dir to write into"
    )
    parser.add_argument("--seed", default=DEFAULT_SEED, help="random seed (default 42)")
    parser.add_argument(
        "--pairs",
        type=comma_list,
        default=None,
        help="comma-separated spot pairs (default BTC/USDT,ETH/USDT,SOL/USDT,XRP/USDT,DOGE/USDT)",
    )
    parser.add_argument(
        "--timeframes",
        type=comma_list,
        default=comma_list(DEFAULT_TIMEFRAMES),
        help=f"comma-separated timeframes, multiples of 5m (default {DEFAULT_TIMEFRAMES})",
    )
    parser.add_argument("--start", default=DEFAULT_START, help="first candle, UTC (2024-01-01)")
    parser.add_argument("--days", default=DEFAULT_DAYS, help="days of candles (default 240)")
    parser.add_argument(
        "--futures",
        action="store_true",
        help="also write PAIR:USDT futures, mark and funding-rate files under DATADIR/futures",
    )


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.core.validation import QuantConfigError
    from freqtrade_quant_plugin.synth import DEFAULT_PAIRS, write_synthetic_data

    try:
        written = write_synthetic_data(
            args.datadir,
            args.pairs or list(DEFAULT_PAIRS),
            args.timeframes,
            args.seed,
            args.start,
            args.days,
            args.futures,
        )
    except QuantConfigError as error:
        print(error)
        return 2
    print(f"Wrote {len(written)} files to {args.datadir} (true regimes in its regimes/ folder).")
    return 0
