"""`freqtrade-quant offline-config`: the config fragment that sends Freqtrade to the server."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, required=True, help="port of `freqtrade-quant serve`")
    parser.add_argument("--host", default="127.0.0.1", help="host of the server (loopback)")
    parser.add_argument(
        "--output",
        type=Path,
        required=True,
        help="file to write; pass it to Freqtrade as an extra --config",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="for `serve --replay --live`: add the rehearsal key and secret and dry_run false",
    )


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range
    from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
    from freqtrade_quant_plugin.offline.loopback import require_loopback

    try:
        check_range("port", args.port, 1, 65535)
        require_loopback(args.host)
    except QuantConfigError as error:
        logger.error("%s", error)
        return 2
    fragment = offline_exchange_config(args.port, args.host)
    if args.live:
        from freqtrade_quant_plugin.offline.signing import REHEARSAL_KEY, REHEARSAL_SECRET

        fragment["dry_run"] = False
        fragment["exchange"].update(key=REHEARSAL_KEY, secret=REHEARSAL_SECRET)
    args.output.write_text(json.dumps(fragment, indent=4) + "\n", encoding="utf-8")
    logger.info("Wrote %s: pass it to freqtrade with --config", args.output)
    return 0
