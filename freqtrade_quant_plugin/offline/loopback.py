"""Loopback-only binding: the offline server has no authentication and must stay local."""

from __future__ import annotations

import ipaddress
import socket

from freqtrade_quant_plugin.core.validation import QuantConfigError


def require_loopback(host: str) -> None:
    """Raise unless every address `host` resolves to is a loopback address."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        addresses = set()
    if not addresses or not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise QuantConfigError("host", host, "a loopback address such as 127.0.0.1 or ::1")
