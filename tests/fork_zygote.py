"""The fork server's helper process (see fork_server.py): imports Freqtrade once, forks per run.

Started as `python fork_zygote.py SOCKET` by one pytest process. It is a plain interpreter
start (the plugin's .pth hook runs as in any), then imports Freqtrade's heavy modules and
serves requests on a Unix socket: each request carries a command line, a working folder,
an environment and two file descriptors (stdout, stderr). For each it forks a child that
becomes `python -m freqtrade ARGS` (runpy, as `-m` does) and reports the child's pid, then
its exit code (-N for signal N, like subprocess). Single-threaded, so forking is safe; it
reaps its children in its select loop, woken by SIGCHLD. It exits when its stdin (the
lifeline from pytest) closes, killing any child still running.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

# What a backtest, a bot or a hyperopt start imports anyway; their cost is paid once here.
PRELOAD = (
    "freqtrade.main",
    "freqtrade.commands",
    "freqtrade.optimize.backtesting",
    "freqtrade.optimize.hyperopt",
    "freqtrade.freqtradebot",
)
HEADER = struct.Struct("!I")


def preload() -> None:
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    if threading.active_count() != 1:  # a thread would not survive fork: say so, loudly
        print(f"fork zygote: {threading.active_count()} threads after preload", file=sys.stderr)


def receive(conn: socket.socket) -> tuple[dict, list[int]]:
    """One request: a length-prefixed JSON document with the stdout/stderr fds attached."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 20, 2)
    while len(data) < HEADER.size or len(data) < HEADER.size + HEADER.unpack_from(data)[0]:
        chunk = conn.recv(1 << 20)
        if not chunk:
            raise ConnectionError("request cut short")
        data += chunk
    (size,) = HEADER.unpack_from(data)
    return json.loads(data[HEADER.size : HEADER.size + size]), fds


def become_child(request: dict, fds: list[int], keep_closed: list[int]) -> None:
    """In the forked child: the process state of a fresh `python -m freqtrade` start."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for fd in keep_closed:
        os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    for source, target in ((devnull, 0), (fds[0], 1), (fds[1], 2)):
        os.dup2(source, target)
    for fd in {devnull, *fds} - {0, 1, 2}:
        os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    sys.path[0] = os.getcwd()  # `-m` puts the working folder first
    random.seed()  # a fresh interpreter seeds from the OS; a fork would repeat the parent's
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    sys.argv = ["-m", *request["args"]]


def serve(listener: socket.socket) -> tuple[dict, list[int]] | None:
    """Serve until the lifeline closes (returns None); in a forked child, return its request."""
    wake_read, wake_write = os.pipe()
    os.set_blocking(wake_read, False)
    os.set_blocking(wake_write, False)
    signal.set_wakeup_fd(wake_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    children: dict[int, socket.socket] = {}
    lifeline = sys.stdin.fileno()
    while True:
        readable, _, _ = select.select([listener, lifeline, wake_read], [], [], 1.0)
        if wake_read in readable:
            while True:
                try:
                    if not os.read(wake_read, 512):
                        break
                except BlockingIOError:
                    break
        reap(children)
        if lifeline in readable and not os.read(lifeline, 1):
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            return None
        if listener in readable:
            conn, _ = listener.accept()
            try:
                conn.settimeout(30)
                request, fds = receive(conn)
            except (OSError, ValueError) as error:
                print(f"fork zygote: bad request: {error}", file=sys.stderr, flush=True)
                conn.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                others = [c.detach() for c in (listener, conn, *children.values())]
                become_child(request, fds, [*others, lifeline, wake_read, wake_write])
                return request, fds
            for fd in fds:
                os.close(fd)
            children[pid] = conn
            conn.sendall(f"{pid}\n".encode())


def reap(children: dict[int, socket.socket]) -> None:
    """Report every child that ended: its exit code, or -N if signal N ended it."""
    for pid in list(children):
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done, status = pid, 255 << 8
        if done:
            conn = children.pop(pid)
            with contextlib.suppress(OSError):  # the test side may have gone: nobody to tell
                conn.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
            conn.close()


def run_as_main() -> None:
    """`python -m freqtrade`, then the exit of an interpreter minus the teardown of every
    module and object (unobservable, and touching all of them would copy the helper's
    memory into this child): non-daemon threads joined, atexit handlers run, streams
    flushed, the exit code (or an unhandled exception's traceback) as Python gives it."""
    import atexit
    import runpy
    import traceback

    code = 0
    try:
        runpy.run_module("freqtrade", run_name="__main__", alter_sys=True)
    except SystemExit as end:
        if end.code is None or isinstance(end.code, int):
            code = end.code or 0
        else:
            print(end.code, file=sys.stderr)
            code = 1
    except KeyboardInterrupt:
        traceback.print_exc()
        code = -signal.SIGINT
    except BaseException:
        traceback.print_exc()
        code = 1
    threading._shutdown()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    if code < 0:  # Python ends on an unhandled Ctrl-C by the signal itself
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


def main() -> None:
    preload()
    gc.freeze()  # the children's collections leave the helper's objects (and pages) alone
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sys.argv[1])
    listener.listen(64)
    print("ready", flush=True)
    if serve(listener) is not None:
        run_as_main()


if __name__ == "__main__":
    main()
