"""The Freqtrade config fragment that points ccxt's Binance at the offline server.

Every REST base url that ccxt 4.5's `binance` (and `binanceusdm`) knows is overridden,
so no call can leave the machine, even one the server does not answer (it gets a 404).
Websockets are turned off (`enable_ws: false`): the server speaks REST only, and
Freqtrade then polls klines over REST as it does for exchanges without websockets.
"""

from __future__ import annotations

# ccxt's urls['api'] key -> path on the offline server (Binance's own paths; the two
# "futures/data" families get a prefix because they share a path on different hosts).
BINANCE_API_PATHS: dict[str, str] = {
    "public": "/api/v3",
    "private": "/api/v3",
    "v1": "/api/v1",
    "sapi": "/sapi/v1",
    "sapiV2": "/sapi/v2",
    "sapiV3": "/sapi/v3",
    "sapiV4": "/sapi/v4",
    "fapiPublic": "/fapi/v1",
    "fapiPublicV2": "/fapi/v2",
    "fapiPublicV3": "/fapi/v3",
    "fapiPrivate": "/fapi/v1",
    "fapiPrivateV2": "/fapi/v2",
    "fapiPrivateV3": "/fapi/v3",
    "fapiData": "/fapi/futures/data",
    "dapiPublic": "/dapi/v1",
    "dapiPrivate": "/dapi/v1",
    "dapiPrivateV2": "/dapi/v2",
    "dapiData": "/dapi/futures/data",
    "eapiPublic": "/eapi/v1",
    "eapiPrivate": "/eapi/v1",
    "papi": "/papi/v1",
    "papiV2": "/papi/v2",
}


def offline_base_url(port: int, host: str = "127.0.0.1") -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def offline_exchange_config(port: int, host: str = "127.0.0.1") -> dict:
    """`{"exchange": {...}}` to deep-merge into a Freqtrade config (fresh dicts each call)."""
    base = offline_base_url(port, host)
    urls = {key: base + path for key, path in BINANCE_API_PATHS.items()}
    return {
        "exchange": {
            "enable_ws": False,
            "ccxt_config": {"urls": {"api": dict(urls)}},
            "ccxt_async_config": {"urls": {"api": dict(urls)}},
        }
    }
