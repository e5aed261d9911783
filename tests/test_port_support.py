"""The test ports: reserved ones lie outside the ephemeral range, are handed out once, and
skip ports another test process reserved or another process uses; a restart waits for its
port a little, then says it is taken."""

from __future__ import annotations

import fcntl
import socket
import threading
from pathlib import Path

import port_support
import pytest
from port_support import port_pool, reserved_port, start_on_port

from freqtrade_quant_plugin.offline.server import OfflineExchangeServer


def test_reserved_ports_are_distinct_bindable_and_outside_the_ephemeral_range() -> None:
    low, high = port_support._ephemeral_range()
    ports = [reserved_port() for _ in range(5)]
    assert len(set(ports)) == 5
    for port in ports:
        assert port in port_pool() and not low <= port <= high
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))  # free for the server it is meant for


def test_a_reserved_or_used_port_is_skipped(tmp_path: Path, monkeypatch) -> None:
    first, second = reserved_port(), reserved_port()
    monkeypatch.setattr(port_support, "PORT_LOCKS", tmp_path)
    monkeypatch.setattr(port_support, "port_pool", lambda: [first, second])
    with (tmp_path / f"{first}.lock").open("a") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # reserved elsewhere
        with socket.socket() as foreign:
            foreign.bind(("127.0.0.1", second))
            foreign.listen()
            with pytest.raises(RuntimeError, match="No free port"):
                reserved_port()
        assert reserved_port() == second  # the foreign server is gone
    assert reserved_port() == first  # released by the other process
    with pytest.raises(RuntimeError, match="No free port"):
        reserved_port()  # both now reserved by this process


def test_a_restart_waits_for_its_port_then_gives_up(market_datadir: Path) -> None:
    port = reserved_port()
    holder = socket.socket()
    holder.bind(("127.0.0.1", port))
    holder.listen()
    with pytest.raises(RuntimeError, match=f"Port {port} is held by another process"):
        start_on_port(OfflineExchangeServer(market_datadir, port=port), patience=0.5)
    threading.Timer(1.0, holder.close).start()
    server = start_on_port(OfflineExchangeServer(market_datadir, port=port), patience=60)
    try:
        assert server.port == port
    finally:
        server.stop()
