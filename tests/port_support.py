"""Ports for servers that cannot bind port 0, or must bind the same port again.

Binding port 0 and reading the port is race-free, and the offline server does that. Two
cases cannot: Freqtrade's REST API (the bot binds the port its config names) and a server
restarted on its port (while stopped, anyone may take it). Picking a port by binding 0 and
closing is racy there: the kernel hands that port to the next bind(0) or connect() of any
process. So `reserved_port` picks outside the kernel's ephemeral range, which bind(0) and
connect() never use, and reserves the port with a lock file that every test process
(each xdist worker, each concurrent pytest run of this user) respects.

Residual risk: a foreign process binding that very port by number while a test uses it;
the start then fails with "address already in use" (see `start_on_port`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from parallel_support import ceiling

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

# One folder per user: the locks of all this user's test processes, kept across runs.
PORT_LOCKS = Path(tempfile.gettempdir()) / f"quant-test-ports-{os.getuid()}"
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 20_000  # below it: the usual fixed ports of services (5432, 8080, ...)

_held: list[IO[str]] = []  # a reservation lasts as long as the process that made it


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(part) for part in EPHEMERAL_RANGE.read_text().split())
    except (OSError, ValueError):  # not Linux: assume its default range
        low, high = 32_768, 60_999
    return low, high


def port_pool() -> Sequence[int]:
    """The ports `reserved_port` picks from: the larger gap beside the ephemeral range."""
    low, high = _ephemeral_range()
    return max(range(LOWEST_PORT, low), range(high + 1, 65_536), key=len)


def _bindable(port: int) -> bool:
    """Nobody listens on or holds the port (without SO_REUSEADDR: strict)."""
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def reserved_port() -> int:
    """A free loopback port no other test process is handed until this process ends."""
    pool = port_pool()
    PORT_LOCKS.mkdir(exist_ok=True)
    for port in pool:  # in order: the lock files stay few, one per port ever used at once
        handle = (PORT_LOCKS / f"{port}.lock").open("a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another test process has it
            handle.close()
            continue
        if _bindable(port):
            _held.append(handle)
            return port
        handle.close()  # a foreign process uses it
    raise RuntimeError(f"No free port outside the ephemeral range {_ephemeral_range()}")


def start_on_port(server: OfflineExchangeServer, patience: float = 10.0) -> OfflineExchangeServer:
    """Start `server`; while its port is in use, retry for `patience` (stretched by the
    load) seconds, then fail saying so: a test that restarts on a port taken by another
    process cannot go on (its clients keep the old url)."""
    deadline = time.monotonic() + ceiling(patience)
    while True:
        try:
            return server.start()
        except OSError as error:
            if error.errno != errno.EADDRINUSE:
                raise
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"Port {server.port} is held by another process: the server cannot "
                    f"start there (waited {ceiling(patience):.0f} s)"
                ) from error
        time.sleep(0.2)
