"""Headless Chromium for the HTML report test: the DOM after the page's scripts ran, the
console messages, and a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import NamedTuple

import pytest
from parallel_support import ceiling

CONSOLE = re.compile(r":CONSOLE[^\]]*\] (.*)")
# Let plotly draw: scripts run until the page is idle or this much virtual time passed.
BUDGET_MS = "20000"


class Page(NamedTuple):
    dom: str
    console: list[str]  # every console message the page logged (errors included)


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium; .ci/run does)")
    return path


def _run(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """One headless Chromium with a profile of its own (none shared between test runs)."""
    with tempfile.TemporaryDirectory(prefix="quant-chromium-") as profile:
        base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                f"--virtual-time-budget={BUDGET_MS}"]  # fmt: skip
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, timeout=ceiling(timeout), check=False
        )


def load(page: Path) -> Page:
    """Open `page` (file URL only, nothing else is contacted) and dump the DOM."""
    completed = _run(["--dump-dom", page.resolve().as_uri()])
    assert completed.returncode == 0, completed.stderr[-3000:]
    messages = [match.group(1) for match in CONSOLE.finditer(completed.stderr)]
    return Page(completed.stdout, messages)


def screenshot(page: Path, target: Path, width: int = 1300, height: int = 2600) -> Path:
    completed = _run(
        [f"--screenshot={target}", f"--window-size={width},{height}", page.resolve().as_uri()]
    )
    assert completed.returncode == 0 and target.is_file(), completed.stderr[-3000:]
    return target


def chart_sections(dom: str) -> dict[str, str]:
    """The DOM of each `<section class="chart" data-chart=NAME>`."""
    parts = re.split(r'<section class="chart" data-chart="([^"]+)">', dom)
    bodies = zip(parts[1::2], parts[2::2], strict=True)
    return {name: body.split("</section>")[0] for name, body in bodies}


def marks(section: str) -> dict[str, int]:
    """Data marks plotly drew (an SVG path with a shape) in one chart, by kind."""
    patterns = {
        "bars": r'<g class="point"><path[^>]*\bd="M',
        "markers": r'<path class="point"[^>]*\bd="M',
        "lines": r'<path class="js-line"[^>]*\bd="M',
        "boxes": r'<path class="box"[^>]*\bd="M',
    }
    return {kind: len(re.findall(pattern, section)) for kind, pattern in patterns.items()}
