"""`interrupt_and_wait`: Ctrl-C again only when Freqtrade lost the first one, never into its
clean-up. Stand-in processes count the SIGINTs they get."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from freqtrade_support import SIGINT_SEEN, interrupt_and_wait

# Ignores the first `lost` SIGINTs, then says SIGINT_SEEN, cleans up for `cleanup` seconds
# (counting any further SIGINT) and exits 130 like Freqtrade.
STAND_IN = """
import signal, sys, time
lost, cleanup = int(sys.argv[1]), float(sys.argv[2])
count = 0
def on_sigint(*_):
    global count
    count += 1
signal.signal(signal.SIGINT, on_sigint)
print("ready", flush=True)
while count <= lost:
    time.sleep(0.05)
print("%s, aborting ..." % sys.argv[3], flush=True)
end = time.monotonic() + cleanup
while time.monotonic() < end:
    time.sleep(0.05)
print("sigints", count, flush=True)
sys.exit(130)
"""


def _start(tmp_path: Path, lost: int, cleanup: float) -> tuple[subprocess.Popen, Path]:
    log_file = tmp_path / "bot.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", STAND_IN, str(lost), str(cleanup), SIGINT_SEEN],
            stdout=log,
            stderr=log,
        )
    process.log_file = log_file
    while "ready" not in log_file.read_text():
        assert process.poll() is None, log_file.read_text()
    return process, log_file


def test_a_lost_ctrl_c_is_pressed_again(tmp_path: Path) -> None:
    process, log_file = _start(tmp_path, lost=1, cleanup=0)
    assert interrupt_and_wait(process, timeout=120) == 130
    assert "sigints 2" in log_file.read_text()


def test_no_second_ctrl_c_into_a_slow_clean_up(tmp_path: Path) -> None:
    process, log_file = _start(tmp_path, lost=0, cleanup=12)
    assert interrupt_and_wait(process, timeout=120) == 130
    assert "sigints 1" in log_file.read_text()
