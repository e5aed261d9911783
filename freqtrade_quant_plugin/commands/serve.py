"""`freqtrade-quant serve`: the offline Binance market server for Freqtrade without internet."""

from __future__ import annotations

import argparse
import logging
from datetime import UTC, datetime
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


def _instant(text: str) -> int:
    """An ISO date/time (UTC unless it names its zone) as epoch milliseconds."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid start {text!r}: an ISO date/time such as 2026-11-25T08:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


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
    parser.add_argument(
        "--replay-state",
        type=Path,
        metavar="FILE",
        help="where the replay offset is kept so that a restart resumes the same replay "
        "(default DATADIR/offline-replay.json)",
    )
    parser.add_argument(
        "--replay-start",
        type=_instant,
        metavar="TIME",
        help="fix the replay offset to the one of a replay started at TIME (ISO, UTC), "
        "instead of keeping it in the state file",
    )
    parser.add_argument(
        "--live",
        action="store_true",
        help="live rehearsal (with --replay): also answer Binance's signed endpoints for a "
        "simulated account, for freqtrade trade with dry_run false (see docs/live-rehearsal.md)",
    )
    parser.add_argument(
        "--wallet",
        type=float,
        default=10_000.0,
        help="starting balance of a new rehearsal account, in USDT (default 10000)",
    )
    parser.add_argument(
        "--account-state",
        type=Path,
        metavar="FILE",
        help="where the rehearsal account is kept across restarts "
        "(default DATADIR/offline-account.json)",
    )


def run(args: argparse.Namespace) -> int:
    from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range
    from freqtrade_quant_plugin.offline.rehearsal import LiveRehearsal
    from freqtrade_quant_plugin.offline.replay_state import STATE_FILE_NAME
    from freqtrade_quant_plugin.offline.server import OfflineExchangeServer, serve_forever

    try:
        check_range("port", args.port, 0, 65535)
        live = None
        if args.live:
            check_range("wallet", args.wallet, 0.0, 1e12)
            live = LiveRehearsal(wallet=args.wallet, account_state=args.account_state)
        server = OfflineExchangeServer(
            args.datadir,
            host=args.host,
            port=args.port,
            replay=args.replay,
            replay_reserve_ms=args.replay_reserve,
            replay_state=args.replay_state or Path(args.datadir) / STATE_FILE_NAME,
            replay_start_ms=args.replay_start,
            live=live,
        )
    except (QuantConfigError, FileNotFoundError, ValueError) as error:
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
