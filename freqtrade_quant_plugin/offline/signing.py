"""Binance's request signing, checked the way Binance checks it.

A signed request carries the API key in the `X-MBX-APIKEY` header and, as its last
parameter, `signature`: the hex HMAC-SHA256, keyed with the secret, of every other
parameter exactly as sent (the query string followed by the form body). `timestamp`
must lie within `recvWindow` (default 5000 ms) of the server's time. The rehearsal key
pair is public on purpose: it only opens the loopback rehearsal server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from urllib.parse import parse_qs

from freqtrade_quant_plugin.offline.params import BinanceError, Query

REHEARSAL_KEY = "rehearsalKey" + "0" * 52
REHEARSAL_SECRET = "rehearsalSecret" + "0" * 49
_KEY_FORMAT = re.compile(r"^[A-Za-z0-9]{64}$")
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60_000
FUTURE_TOLERANCE_MS = 1000


@dataclass(frozen=True)
class Credentials:
    key: str = REHEARSAL_KEY
    secret: str = REHEARSAL_SECRET


def sign(payload: str, secret: str) -> str:
    """What a client appends as `signature=` to `payload` (used by tests and docs)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def _signed_payload(query_text: str, body_text: str) -> tuple[str, str | None]:
    """(what was signed, the signature sent): the signature is the last parameter."""
    total = query_text + body_text if query_text and body_text else query_text or body_text
    head, marker, signature = total.rpartition("signature=")
    if not marker or (head and not head.endswith("&")):
        return total, None
    return head[:-1] if head else "", signature or None


def verify(
    credentials: Credentials,
    api_key: str | None,
    query_text: str,
    body_text: str,
    now_ms: int,
) -> Query:
    """The request's parameters (query and body merged), or the Binance error it gets."""
    if not api_key or not _KEY_FORMAT.match(api_key):
        raise BinanceError(401, -2014, "API-key format invalid.")
    if not hmac.compare_digest(api_key, credentials.key):
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    payload, signature = _signed_payload(query_text, body_text)
    if signature is None:
        raise BinanceError(
            400,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        )
    if not hmac.compare_digest(sign(payload, credentials.secret), signature.lower()):
        raise BinanceError(400, -1022, "Signature for this request is not valid.")
    params = parse_qs(payload, keep_blank_values=True)
    _check_time(params, now_ms)
    return params


def _check_time(params: Query, now_ms: int) -> None:
    try:
        timestamp = int(params["timestamp"][0])
    except (KeyError, IndexError, ValueError):
        raise BinanceError(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        ) from None
    window = DEFAULT_RECV_WINDOW_MS
    if "recvWindow" in params:
        try:
            window = int(params["recvWindow"][0])
        except ValueError:
            window = -1
        if not 0 < window <= MAX_RECV_WINDOW_MS:
            raise BinanceError(400, -1131, "recvWindow must be less than 60000")
    if timestamp > now_ms + FUTURE_TOLERANCE_MS or now_ms - timestamp > window:
        raise BinanceError(400, -1021, "Timestamp for this request is outside of the recvWindow.")
