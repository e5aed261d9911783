"""`freqtrade-quant report`: regimes, pairs, costs and exits of a trade DB or a backtest.

Option names are Freqtrade's own (`--config`, `--db-url`, `--backtest-filename`, `--pairs`,
`--timerange`), so habits and scripts carry over. Without `--db-url` or
`--backtest-filename` the report reads the config's `db_url`, or Freqtrade's default
database for the config's dry-run / live mode. The database is only ever read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.json"  # what Freqtrade reads when no --config is given


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        metavar="PATH",
        help=f"Freqtrade config file(s), merged like Freqtrade does (default: {DEFAULT_CONFIG} "
        "if present); its db_url and `quant` settings are used",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--db-url", help="trade database URL (default: the config's db_url)")
    source.add_argument(
        "--backtest-filename",
        "--export-filename",
        type=Path,
        metavar="PATH",
        help="backtest result .zip, or the folder holding results (its newest is used); "
        "the plugin's .quant.json beside it supplies the records",
    )
    parser.add_argument("--strategy", help="strategy in a result holding several")
    parser.add_argument("-p", "--pairs", nargs="+", default=[], metavar="PAIR", help="only these")
    parser.add_argument(
        "--regimes", nargs="+", default=[], metavar="REGIME", help="only trades entered in these"
    )
    parser.add_argument(
        "--timerange", help="only trades opened in this range, Freqtrade syntax: 20240101-20240301"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object, no tables")
    parser.add_argument("--html", type=Path, metavar="FILE", help="also write the charts page")


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.core.settings import QuantSettings
    from freqtrade_quant_plugin.core.validation import QuantConfigError
    from freqtrade_quant_plugin.report.build import build_report
    from freqtrade_quant_plugin.report.load_backtest import BacktestResultError, load_backtest
    from freqtrade_quant_plugin.report.load_db import load_database
    from freqtrade_quant_plugin.report.readonly_db import TradeDatabaseError

    try:
        config = _load_config(args.config)
        filters = _filters(args)
        if args.backtest_filename is not None:
            source = load_backtest(args.backtest_filename, args.strategy)
        else:
            source = load_database(args.db_url or default_db_url(config))
        # A backtest is judged by the settings it ran with; env overrides apply as in a run.
        run_config = source.config if source.config is not None else config
        performance = QuantSettings.load(run_config.get("quant"), os.environ).symbol_performance
        currency = str(run_config.get("stake_currency") or "")
        report = build_report(source, filters, performance, currency)
    except (BacktestResultError, TradeDatabaseError, QuantConfigError, ValueError) as error:
        print(f"freqtrade-quant report: {error}", file=sys.stderr)
        return 2
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        from freqtrade_quant_plugin.report.tables import print_report

        print_report(report)
    if args.html is not None:
        from freqtrade_quant_plugin.report.html import write_html

        path = write_html(report, args.html)
        print(f"HTML report written to {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


def default_db_url(config: dict[str, Any]) -> str:
    """The config's db_url, else Freqtrade's default for its dry-run or live mode."""
    from freqtrade.constants import DEFAULT_DB_DRYRUN_URL, DEFAULT_DB_PROD_URL

    if config.get("db_url"):
        return str(config["db_url"])
    return DEFAULT_DB_DRYRUN_URL if config.get("dry_run", False) else DEFAULT_DB_PROD_URL


def _load_config(files: list[str] | None) -> dict[str, Any]:
    if not files:
        if not Path(DEFAULT_CONFIG).is_file():
            return {}
        files = [DEFAULT_CONFIG]
    from freqtrade_quant_plugin.report.config_files import load_config_files

    return load_config_files(files)


def _filters(args: argparse.Namespace):
    from freqtrade_quant_plugin.report.aggregate import Filters

    start = stop = None
    if args.timerange:
        from freqtrade.configuration import TimeRange
        from freqtrade.exceptions import OperationalException

        try:
            timerange = TimeRange.parse_timerange(args.timerange)
        except OperationalException as error:
            raise ValueError(f"--timerange {args.timerange}: {error}") from error
        start, stop = timerange.startts or None, timerange.stopts or None
    return Filters(
        pairs=tuple(args.pairs),
        regimes=tuple(regime.upper() for regime in args.regimes),
        start_ts=start,
        stop_ts=stop,
    )
