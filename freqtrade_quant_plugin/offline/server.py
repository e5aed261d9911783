"""HTTP transport of the offline Binance server: loopback only, threaded, never hangs.

Clock semantics (backtest vs replay) are documented in
`freqtrade_quant_plugin.offline.replay`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from freqtrade_quant_plugin.core.validation import QuantConfigError
from freqtrade_quant_plugin.offline.api import OfflineBinanceApi
from freqtrade_quant_plugin.offline.candles import CandleStore
from freqtrade_quant_plugin.offline.datadir import scan_datadir
from freqtrade_quant_plugin.offline.loopback import require_loopback
from freqtrade_quant_plugin.offline.rehearsal import LiveRehearsal, rehearsal_api
from freqtrade_quant_plugin.offline.replay import wall_clock_ms
from freqtrade_quant_plugin.offline.replay_state import stable_clock
from freqtrade_quant_plugin.offline.signed_api import RehearsalApi

logger = logging.getLogger(__name__)

DEFAULT_REPLAY_RESERVE_MS = 86_400_000
_SOCKET_TIMEOUT_S = 30
_MAX_BODY = 65_536


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "OfflineBinance/1.0"
    timeout = _SOCKET_TIMEOUT_S  # a silent client cannot hold a thread forever
    api: OfflineBinanceApi | RehearsalApi

    def _body(self) -> str:
        """The form body of a signed POST/PUT/DELETE (at most 64 kB; more is refused)."""
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if not 0 < length <= _MAX_BODY:
            if length:
                self.close_connection = True
            return ""
        return self.rfile.read(length).decode("utf-8", errors="replace")

    def _answer(self, method: str) -> None:
        try:
            body = self._body()
            parts = urlsplit(self.path)
            api_key = self.headers.get("X-MBX-APIKEY")
            status, body = self.api.handle_http(method, parts.path, parts.query, body, api_key)
        except Exception:
            logger.exception("Offline server failed on %s %s", method, self.path)
            status, body = 500, {"code": -1000, "msg": "Internal error of the offline server."}
        self._send_json(status, body)

    def _send_json(self, status: int, body: object, with_body: bool = True) -> None:
        """A JSON document; a str body goes out as an HTML page (a gateway's 5xx page)."""
        content_type = "application/json;charset=UTF-8"
        if isinstance(body, str):
            payload, content_type = body.encode(), "text/html"
        else:
            try:  # NaN or inf is not JSON: never let one out as a bare token
                payload = json.dumps(body, separators=(",", ":"), allow_nan=False).encode()
            except ValueError:
                logger.exception("Offline server built a non-JSON answer for %s", self.path)
                status = 500
                payload = b'{"code":-1000,"msg":"Internal error of the offline server."}'

        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if with_body:
            self.wfile.write(payload)

    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def do_PUT(self) -> None:
        self._answer("PUT")

    def do_DELETE(self) -> None:
        self._answer("DELETE")

    def do_PATCH(self) -> None:
        self._answer("PATCH")

    def do_OPTIONS(self) -> None:
        self._answer("OPTIONS")

    def do_HEAD(self) -> None:
        """Status and headers of the GET answer, without its body (HTTP's rule for HEAD)."""
        self.close_connection = True
        parts = urlsplit(self.path)
        status, body = self.api.handle_http("HEAD", parts.path, parts.query, "", None)
        self._send_json(status, body, with_body=False)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed HTTP (bad request line, oversized headers, unknown method) also gets
        Binance-style JSON, with a 4xx status: the fault is the client's, never the server's."""
        self.close_connection = True
        self.request_version = self.protocol_version  # garbage parses as HTTP/0.9: no headers
        if code == 501:  # http.server's answer to a method it has no do_X for
            code, message = 405, f"Method {self.command!r} is not supported."
        self._send_json(code, {"code": -1, "msg": message or "Malformed request."})

    def log_message(self, format: str, *args: object) -> None:
        logger.debug("%s - %s", self.address_string(), format % args)


class _HttpServer(ThreadingHTTPServer):
    """Threaded HTTP server that can be restarted on its port at once and that drops its
    open keep-alive connections when stopped (a stopped exchange answers nobody)."""

    allow_reuse_address = True  # a restart must not wait for TIME_WAIT sockets to expire
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler]) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def close_request(self, request) -> None:  # type: ignore[no-untyped-def]
        with self._connections_lock:
            self._connections.discard(request)
        super().close_request(request)

    def drop_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):  # already closed by its handler
                connection.shutdown(socket.SHUT_RDWR)


class _HttpServerV6(_HttpServer):
    address_family = socket.AF_INET6


class OfflineExchangeServer:
    """Binance-compatible market data for Freqtrade/ccxt, served from a Freqtrade datadir.

    `now_ms` replaces the wall clock (tests move time by hand); it drives the replay
    clock and the server time.
    """

    def __init__(
        self,
        datadir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        replay: bool = False,
        *,
        replay_reserve_ms: int = DEFAULT_REPLAY_RESERVE_MS,
        replay_state: Path | None = None,
        replay_start_ms: int | None = None,
        now_ms: Callable[[], int] = wall_clock_ms,
        live: LiveRehearsal | None = None,
    ) -> None:
        """`replay_state` is the file that keeps the replay offset across restarts; none
        unless given (`serve --replay` gives `<datadir>/offline-replay.json`), so a server
        started from Python writes nothing into a data folder it may share with others.
        `replay_start_ms` fixes the offset from a start instant instead. `live`
        adds the signed endpoints of a simulated account (replay only)."""
        require_loopback(host)
        self.host = host
        self._requested_port = port
        self.inventory = scan_datadir(Path(datadir))
        self.store = CandleStore(self.inventory)
        if replay:
            self.store.clock = stable_clock(
                self.store.latest_stored_ms(),
                replay_reserve_ms,
                self.store.grid_ms,
                state_path=replay_state,
                replay_start_ms=replay_start_ms,
                now_ms=now_ms,
            )
        self.public_api = OfflineBinanceApi(self.store, now_ms)
        self.api: OfflineBinanceApi | RehearsalApi = self.public_api
        if live is not None:
            if not replay:
                raise QuantConfigError("--live", "without --replay", "--replay with --live")
            self.api = rehearsal_api(self.public_api, live, Path(datadir), now_ms)
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            return self._requested_port
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def bind(self) -> None:
        handler = type("BoundHandler", (_Handler,), {"api": self.api})
        server_class = _HttpServerV6 if ":" in self.host else _HttpServer
        self._httpd = server_class((self.host, self._requested_port), handler)
        # A restart (stop, then start) binds the same port again, even when it was chosen
        # by the system (port 0): clients keep their url across an outage.
        self._requested_port = int(self._httpd.server_address[1])

    def start(self) -> Self:
        """Serve in a daemon thread; returns at once with the port bound."""
        self.bind()
        assert self._httpd is not None
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
            name=f"offline-binance-{self.port}", daemon=True,
        )  # fmt: skip
        self._thread.start()
        logger.info(
            "Offline Binance server on %s: %d spot and %d futures pairs (%s)",
            self.url,
            len(self.inventory.spot),
            len(self.inventory.futures),
            "replay" if self.store.clock else "backtest timestamps",
        )
        if self.store.clock is not None:
            stored_now = self.store.clock.stored_now_ms()
            logger.info(
                "Replay clock: stored candles are served %.2f days later; now replays %s UTC",
                self.store.clock.offset_ms / 86_400_000,
                time.strftime("%Y-%m-%d %H:%M", time.gmtime(stored_now / 1000)),
            )
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        self._httpd.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_forever(server: OfflineExchangeServer) -> None:
    """Run until SIGINT or SIGTERM, then shut down cleanly (for the CLI, main thread only)."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    server.start()
    try:
        stop.wait()
    finally:
        logger.info("Stopping offline Binance server on %s", server.url)
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
