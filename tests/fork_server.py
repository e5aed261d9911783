"""A fork server for the tests' `freqtrade` commands: Freqtrade imported once, not per run.

Every `python -m freqtrade` start spends about 4.6 s of CPU importing Freqtrade (ccxt,
pandas, scipy, sqlalchemy...) before it does anything, and the suite starts a few hundred.
Here one helper process per pytest process (tests/fork_zygote.py, started on first use,
stopped at the end of the session) imports those modules once, then forks a child per run
that becomes `python -m freqtrade ARGS` with the run's folder, environment and output
files: same code, same exit codes and signals, a fraction of the CPU. `ForkedProcess` is
the test side's handle, shaped like subprocess.Popen.

What cannot be forked runs as a fresh subprocess (freqtrade_support decides, via `usable`):
an environment whose interpreter-level variables (PYTHONPATH, PYTHON*, LD_*, locale, TZ,
thread counts of the numeric libraries, the terminal's COLUMNS and colours that Freqtrade's
console reads at import) differ from the ones the helper started with, a
run asked for with `fresh=True` (tests about interpreter start-up), a platform without
fork, and every run when QUANT_TEST_FORK_SERVER=0.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from parallel_support import ceiling

SWITCH_ENV = "QUANT_TEST_FORK_SERVER"
ZYGOTE = Path(__file__).resolve().with_name("fork_zygote.py")
# Read once by the interpreter, a native library or an import (Freqtrade's error console
# takes its width and colours at import): a run that changes one needs its own interpreter.
INTERPRETER_PREFIXES = ("PYTHON", "LD_", "LC_", "OMP_", "OPENBLAS_", "MKL_", "NUMEXPR_", "TTY_")
INTERPRETER_NAMES = ("LANG", "LANGUAGE", "TZ", "PATH", "VIRTUAL_ENV", "COLUMNS", "LINES")
INTERPRETER_NAMES += ("TERM", "COLORTERM", "NO_COLOR", "FORCE_COLOR")
# Freqtrade's log lines wrap at the console width, which in a test run comes from whatever
# COLUMNS the run inherited (80 under pytest-xdist workers): wide enough for any log line.
LOG_COLUMNS = "400"
HEADER = struct.Struct("!I")


def run_env(environ: Mapping[str, str]) -> dict[str, str]:
    """A test run's environment: no proxy may divert a 127.0.0.1 call elsewhere; log lines
    are not wrapped."""
    env = {k: v for k, v in environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"
    env["COLUMNS"] = LOG_COLUMNS
    return env


# The helper's environment: a run's, from the environment before any test changed it.
ZYGOTE_ENV = run_env(os.environ)


def _interpreter_level(env: Mapping[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in env.items()
        if key.startswith(INTERPRETER_PREFIXES) or key in INTERPRETER_NAMES
    }


def usable(env: Mapping[str, str]) -> bool:
    """Whether a run with this environment may be forked from the helper."""
    if os.environ.get(SWITCH_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return False
    return _interpreter_level(env) == _interpreter_level(ZYGOTE_ENV)


class ForkedProcess:
    """A forked `freqtrade` run, used like subprocess.Popen (pid, poll, wait, signals).

    The helper reports the exit code on the run's own connection; the handle reads it.
    Thread-safe: each call holds the lock only for a short look at the connection."""

    def __init__(self, conn: socket.socket, pid: int, args: list[str]) -> None:
        self._conn = conn
        self._lock = threading.Lock()
        self._buffer = b""
        self.pid = pid
        self.args = args
        self.returncode: int | None = None

    def _read(self, timeout: float) -> None:
        with self._lock:
            if self.returncode is not None:
                return
            readable, _, _ = select.select([self._conn], [], [], timeout)
            if not readable:
                return
            chunk = self._conn.recv(64)
            if not chunk and b"\n" not in self._buffer:
                self._conn.close()
                raise RuntimeError(f"fork server lost run {self.pid} ({self.args})")
            self._buffer += chunk
            if b"\n" in self._buffer:
                self.returncode = int(self._buffer.split(b"\n", 1)[0])
                self._conn.close()

    def poll(self) -> int | None:
        self._read(0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
            if left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)
            self._read(left)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:  # like Popen: never signal a pid that may be reused
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def __enter__(self) -> ForkedProcess:
        return self

    def __exit__(self, *_) -> None:
        self.wait()


class ForkServer:
    """The test side of one helper process: starts it on first use, sends it runs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._folder: Path | None = None

    def _socket_path(self) -> Path:
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._start()
            return self._folder / "socket"

    def _start(self) -> None:
        self._folder = Path(tempfile.mkdtemp(prefix="quant-fork-"))
        log = (self._folder / "zygote.log").open("wb")
        self._process = subprocess.Popen(
            [sys.executable, str(ZYGOTE), str(self._folder / "socket")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
            cwd=self._folder, env=ZYGOTE_ENV,
        )  # fmt: skip
        log.close()
        readable, _, _ = select.select([self._process.stdout], [], [], ceiling(120))
        line = self._process.stdout.readline() if readable else b""
        if line.strip() != b"ready":
            self._process.kill()
            text = (self._folder / "zygote.log").read_text(errors="replace")
            raise RuntimeError(f"fork server did not start:\n{text[-3000:]}")

    def start(
        self, args: Sequence[str], cwd: Path, env: Mapping[str, str], stdout: int, stderr: int
    ) -> ForkedProcess:
        """Fork `python -m freqtrade ARGS` writing to the file descriptors stdout, stderr."""
        args = [str(arg) for arg in args]
        request = json.dumps({"args": args, "cwd": str(cwd), "env": dict(env)}).encode()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(ceiling(60))
        conn.connect(str(self._socket_path()))
        socket.send_fds(conn, [HEADER.pack(len(request)) + request], [stdout, stderr])
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = conn.recv(64)
            if not chunk:
                raise RuntimeError(f"fork server refused {args}; see {self._folder}/zygote.log")
            reply += chunk
        conn.settimeout(None)
        return ForkedProcess(conn, int(reply), [sys.executable, "-m", "freqtrade", *args])

    def stop(self) -> None:
        """End the helper (it kills runs still going) and remove its folder."""
        with self._lock:
            if self._process is None:
                return
            self._process.stdin.close()
            try:
                self._process.wait(timeout=ceiling(30))
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None
            shutil.rmtree(self._folder, ignore_errors=True)


SERVER = ForkServer()
atexit.register(SERVER.stop)
