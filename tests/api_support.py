"""Freqtrade's REST API for tests of a running bot: its config block and plain HTTP calls
(the standard library only; the server listens on 127.0.0.1 and a reserved port)."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from parallel_support import ceiling
from port_support import reserved_port

USER, PASSWORD = "quant", "rest-api-test"


def api_server_config() -> dict[str, Any]:
    """The `api_server` block of a config, on a loopback port reserved for this test process:
    the bot binds the port itself, so it cannot be 0 (see `port_support` for what is left
    of the risk that another process takes it first)."""
    return {
        "enabled": True,
        "listen_ip_address": "127.0.0.1",
        "listen_port": reserved_port(),
        "username": USER,
        "password": PASSWORD,
        "jwt_secret_key": "a-test-secret-of-at-least-32-characters",
        "ws_token": "rest-api-test-token",
        "CORS_origins": [],
    }


def api_call(api: dict[str, Any], method: str, path: str) -> Any:
    """`method /api/v1/<path>` with basic auth; the decoded JSON answer."""
    url = f"http://127.0.0.1:{api['listen_port']}/api/v1/{path}"
    request = urllib.request.Request(url, method=method)
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


STOPPED = "Changing state from RUNNING to: STOPPED"


def stop_at_loop_end(api: dict[str, Any], log: Callable[[], str], timeout: float = 120) -> bool:
    """Ask a running bot to stop trading (`POST /stop`) and wait until it says so: the state
    changes once the running loop is done, so nothing is half-written when Ctrl-C follows.
    A Ctrl-C in the middle of a DB write makes Freqtrade's clean-up commit fail with a
    traceback (the interrupted transaction is never rolled back), and a test reading the DB
    between two commits of one loop sees half of what that loop did. False when the bot
    did not say it stopped within `timeout` (stretched by the load), or its API is down."""
    try:
        api_call(api, "POST", "stop")
    except OSError:
        return False
    deadline = time.monotonic() + ceiling(timeout)
    while STOPPED not in log():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.5)
    return True
