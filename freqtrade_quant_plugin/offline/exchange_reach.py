"""Give a Freqtrade run an exchange it can reach without the internet.

Freqtrade loads markets before any backtest. A config whose exchange urls already point at
a server answering on this machine (e.g. `freqtrade-quant serve`) is used as it is; for any
other config the plugin's offline server is started on the data dir and a config fragment
pointing the exchange at it is written, to be passed as an extra `--config` (Freqtrade
deep-merges it over the user's files). No address other than loopback is ever contacted.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from freqtrade_quant_plugin.core.validation import QuantConfigError
from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.loopback import require_loopback

logger = logging.getLogger(__name__)

FRAGMENT_NAME = "offline-exchange.json"


def configured_api_url(config: Mapping[str, Any]) -> str | None:
    """The `public` REST url the config gives ccxt, if it overrides one."""
    urls = config.get("exchange", {}).get("ccxt_config", {}).get("urls", {}).get("api", {})
    url = urls.get("public") if isinstance(urls, Mapping) else None
    return url if isinstance(url, str) and url else None


def reachable_local_server(url: str | None, timeout: float = 1.0) -> bool:
    """True when `url` names a loopback host that accepts a TCP connection right now."""
    if not url:
        return False
    parts = urlsplit(url)
    if not parts.hostname or not parts.port:
        return False
    try:
        require_loopback(parts.hostname)
    except QuantConfigError:
        return False
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=timeout):
            return True
    except OSError:
        return False


def write_offline_fragment(folder: Path, port: int) -> Path:
    """The config fragment pointing ccxt at the offline server on `port`."""
    fragment = folder / FRAGMENT_NAME
    fragment.write_text(json.dumps(offline_exchange_config(port), indent=2), encoding="utf-8")
    return fragment


@contextmanager
def offline_exchange(
    datadir: Path, scratch: Path, config: Mapping[str, Any] | None = None
) -> Iterator[Path | None]:
    """Yield the extra config file to pass to Freqtrade, or None when the config's own local
    server answers; the offline server (if started) stops when the block ends.

    `config=None` always starts the server (the demo's case).
    """
    from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

    if config is not None:
        url = configured_api_url(config)
        if reachable_local_server(url):
            logger.info("Using the exchange server the config points at: %s", url)
            yield None
            return
    with OfflineExchangeServer(datadir) as server:
        yield write_offline_fragment(scratch, server.port)
