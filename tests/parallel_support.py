"""What lets the suite run in parallel (pytest-xdist) and on a busy machine.

- `run_folder`: expensive read-only inputs (the synthetic market) built once per test run
  and shared by every xdist worker, the first worker building under a file lock while the
  others wait for it.
- `slowdown` and `ceiling`: waits are for events, and their ceilings grow with the machine's
  load, so a test fails by a missing event, not by a busy CPU.
"""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

# Set to a number > 1 to stretch every ceiling and lead time (a slow or busy machine).
SLOWDOWN_ENV = "QUANT_TEST_SLOWDOWN"
MAX_SLOWDOWN = 8.0


def slowdown() -> float:
    """How much slower than an idle machine this one runs now: runnable processes per core
    (one-minute load average), at least 1, at most MAX_SLOWDOWN; QUANT_TEST_SLOWDOWN raises it."""
    cores = os.cpu_count() or 1
    try:
        measured = os.getloadavg()[0] / cores
    except OSError:  # no load average on this platform
        measured = 1.0
    try:
        asked = float(os.environ.get(SLOWDOWN_ENV, "1"))
    except ValueError:
        asked = 1.0
    return min(MAX_SLOWDOWN, max(1.0, measured, asked))


def ceiling(seconds: float) -> float:
    """A generous ceiling for a wait that ends on an event: `seconds` on an idle machine,
    stretched by the load. Waiting longer costs nothing when the event comes."""
    return seconds * slowdown()


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (the xdist workers of one run)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_folder(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], Path]
) -> Path:
    """`build(folder)` once per test run, its result shared read-only by every worker.

    Without xdist: a fresh folder of this session. Under xdist: `name` in the run's temp
    root (the parent of every worker's basetemp, new for each run), built by the first
    worker to ask while the others wait on the lock; a marker says the build finished.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return build(tmp_path_factory.mktemp(name))
    root = tmp_path_factory.getbasetemp().parent
    folder = root / name
    done = root / f"{name}.built"
    with file_lock(root / f"{name}.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)  # an interrupted build
            folder.mkdir()
            done.write_text(str(build(folder)))
    return Path(done.read_text())
