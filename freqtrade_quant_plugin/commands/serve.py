"""`freqtrade-quant serve`: the offline Binance market server for Freqtrade without internet."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def _reserve(text: str) -> int:
    from freqtrade_quant_plugin.offline.datadir import timeframe_ms

    try:
        return timeframe_ms(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid reserve {text!r}: a duration such as 12h, 1d or 3d"
        ) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--datadir",
        type=Path,
        required=True,
        help="Freqtrade data folder of the exchange, e.g. user_data/data/binance",
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument("--port", type=int, required=True, help="port to listen on, e.g. 8765")
    parser.add_argument(
        "--replay",
        action="store_true",
        help="shift the stored history so that it looks live now (for freqtrade trade --dry-run)",
    )
    parser.add_argument(
        "--replay-reserve",
        type=_reserve,
        default="1d",
        metavar="DURATION",
        help="stored history kept ahead of the replay clock, e.g. 12h or 3d (default 1d)",
    )


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range
    from freqtrade_quant_plugin.offline.server import OfflineExchangeServer, serve_forever

    try:
        check_range("port", args.port, 0, 65535)
        server = OfflineExchangeServer(
            args.datadir,
            host=args.host,
            port=args.port,
            replay=args.replay,
            replay_reserve_ms=args.replay_reserve,
        )
    except (QuantConfigError, FileNotFoundError) as error:
        logger.error("%s", error)
        return 2
    if not server.inventory.spot and not server.inventory.futures:
        logger.error("No Freqtrade feather candle files found in %s", args.datadir)
        return 2
    try:
        serve_forever(server)
    except OSError as error:
        logger.error("Cannot listen on %s:%s: %s", args.host, args.port, error)
        return 2
    return 0
