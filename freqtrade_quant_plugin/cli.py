"""`freqtrade-quant`: the plugin's own commands for what Freqtrade lacks.

Each subcommand lives in `freqtrade_quant_plugin/commands/<name>.py`, exposing
`add_arguments(parser)` and `run(args) -> int`. Those modules keep their top-level
imports light (no Freqtrade, no pandas) so that `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

# Loggers of libraries whose INFO lines say nothing to a user of these commands
# ("NumExpr defaulting to 2 threads", logged when pandas first imports numexpr).
QUIET_LOGGERS = ("numexpr.utils",)

# name -> (module, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "freqtrade_quant_plugin.commands.serve",
        "run the offline Binance-compatible market server on 127.0.0.1 (backtest or replay)",
    ),
    "offline-config": (
        "freqtrade_quant_plugin.commands.offline_config",
        "write the Freqtrade config fragment that points the exchange at the offline server",
    ),
    "regimes": (
        "freqtrade_quant_plugin.commands.regimes",
        "show how often each regime occurs on a pair's stored candles, and the latest labels",
    ),
    "synth": (
        "freqtrade_quant_plugin.commands.synth",
        "write the deterministic synthetic market data set and its true regimes",
    ),
    "report": (
        "freqtrade_quant_plugin.commands.report",
        "per regime and pair: trades, win rate, R, costs, exits; from a trade DB or a backtest",
    ),
    "demo": (
        "freqtrade_quant_plugin.commands.demo",
        "backtest offline on synthetic data (generated if missing) through the offline server",
    ),
    "compare": (
        "freqtrade_quant_plugin.commands.compare",
        "backtest a strategy with each plugin layer switched off and compare to all layers on",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="freqtrade-quant",
        description="Regime, cost and risk toolkit for Freqtrade: the plugin's own commands.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s - %(name)s - %(levelname)s - %(message)s",
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    if args.command is None:
        parser.print_help()
        return 0
    module = importlib.import_module(SUBCOMMANDS[args.command][0])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
