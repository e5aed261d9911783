"""A restarted replay server resumes the same replay: a stored candle keeps its served time."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from parallel_support import ceiling
from test_offline_server import ManualClock, get_ok, served_port

from freqtrade_quant_plugin.offline.replay_state import STATE_FILE_NAME
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
START_2030 = 1893456000000 + 2 * MINUTE_MS + 30_000  # 2030-01-01 00:02:30 UTC
FILES = ["BTC_USDT-5m.feather", "BTC_USDT-1h.feather", "ETH_USDT-5m.feather"]


@pytest.fixture
def datadir(market_datadir: Path, tmp_path: Path) -> Path:
    """A writable data directory (the shared one is read-only) with 5m and 1h files only."""
    target = tmp_path / "binance"
    target.mkdir()
    for name in FILES:
        (target / name).symlink_to(market_datadir / name)
    return target


def replay(datadir: Path, clock: ManualClock, **kwargs) -> OfflineExchangeServer:
    """A replay server keeping its offset where `serve --replay` does (in `datadir`)."""
    kwargs.setdefault("replay_state", datadir / STATE_FILE_NAME)
    return OfflineExchangeServer(datadir, replay=True, now_ms=clock, **kwargs)


def test_a_replay_server_from_python_writes_no_state_file(datadir: Path) -> None:
    before = sorted(datadir.iterdir())
    with OfflineExchangeServer(datadir, replay=True, now_ms=ManualClock(START_2030)) as server:
        assert get_ok(server, "/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=2")
    assert sorted(datadir.iterdir()) == before


def test_a_restarted_server_serves_the_same_history(datadir: Path) -> None:
    clock = ManualClock(START_2030)
    with replay(datadir, clock) as first:
        before = get_ok(first, "/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=4")
        offset = first.store.clock.offset_ms
    clock.now += 2 * HOUR_MS + 7 * MINUTE_MS  # the server was down for two hours
    with replay(datadir, clock) as second:
        assert second.store.clock.offset_ms == offset
        again = get_ok(
            second, f"/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime={before[0][0]}&limit=4"
        )
        hourly = get_ok(second, "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=2")
    assert again[:3] == before[:3]  # closed candles: same time, same prices
    assert again[3][0] == before[3][0] and again[3][1] == before[3][1]  # then forming, now closed
    assert hourly[-1][0] <= clock.now < hourly[-1][6]
    state = json.loads((datadir / "offline-replay.json").read_text())
    assert state["offset_ms"] == offset and state["started_ms"] == START_2030


def test_the_replay_start_fixes_the_offset_without_a_state_file(datadir: Path) -> None:
    start = START_2030 - 5 * HOUR_MS
    offsets = []
    for now in (START_2030, START_2030 + 3 * HOUR_MS + 11 * MINUTE_MS):
        with replay(datadir, ManualClock(now), replay_start_ms=start) as server:
            offsets.append(server.store.clock.offset_ms)
    assert offsets[0] == offsets[1] and offsets[0] % DAY_MS == 0
    assert not (datadir / "offline-replay.json").exists()
    with replay(datadir, ManualClock(start)) as fresh:
        assert fresh.store.clock.offset_ms == offsets[0]  # as a replay that began at `start`


def test_a_replay_that_ran_out_starts_anew_with_a_warning(datadir: Path, caplog) -> None:
    caplog.set_level(logging.INFO, logger="freqtrade_quant_plugin.offline")
    clock = ManualClock(START_2030)
    with replay(datadir, clock) as first:
        offset = first.store.clock.offset_ms
    clock.now += 3 * DAY_MS  # the one-day reserve is long consumed
    with replay(datadir, clock) as second:
        assert second.store.clock.offset_ms == offset + 3 * DAY_MS
        rows = get_ok(second, "/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=2")
    assert rows[-1][0] <= clock.now < rows[-1][6]
    assert "the replay has run out of stored history" in caplog.text
    assert "offline-replay.json not reused" in caplog.text


def test_a_clock_before_the_stored_start_begins_a_new_replay(datadir: Path, caplog) -> None:
    with replay(datadir, ManualClock(START_2030)):
        pass
    earlier = ManualClock(START_2030 - 30 * DAY_MS)
    with replay(datadir, earlier) as server:
        rows = get_ok(server, "/api/v3/klines?symbol=ETHUSDT&interval=5m&limit=2")
    assert rows[-1][0] <= earlier.now < rows[-1][6]
    assert "the clock is before the replay's start" in caplog.text


def test_an_unreadable_state_file_begins_a_new_replay(datadir: Path, caplog) -> None:
    state = datadir / "offline-replay.json"
    state.write_text('{"offset_ms": "soon"')
    with replay(datadir, ManualClock(START_2030)) as server:
        offset = server.store.clock.offset_ms
    assert "is unreadable" in caplog.text
    assert json.loads(state.read_text())["offset_ms"] == offset


def test_an_unwritable_state_location_is_reported(datadir: Path, tmp_path: Path, caplog) -> None:
    nowhere = tmp_path / "no" / "such" / "dir" / "state.json"
    with replay(datadir, ManualClock(START_2030), replay_state=nowhere) as server:
        assert get_ok(server, "/api/v3/ping") == {}
    assert f"Cannot write the replay state {nowhere}" in caplog.text
    assert "--replay-state" in caplog.text


def test_serve_refuses_a_replay_start_that_is_no_time(datadir: Path) -> None:
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "serve", "--port", "8765",
               "--datadir", str(datadir), "--replay", "--replay-start", "yesterday"]  # fmt: skip
    completed = subprocess.run(command, capture_output=True, text=True, timeout=ceiling(60))
    assert completed.returncode == 2
    assert "invalid start 'yesterday'" in completed.stderr


def _serve_once(datadir: Path, log: Path, query: str) -> list:
    """Start `freqtrade-quant serve --replay`, read a few candles, stop it with SIGTERM."""
    command = [sys.executable, "-m", "freqtrade_quant_plugin.cli", "serve", "--replay",
               "--port", "0", "--datadir", str(datadir)]  # fmt: skip
    since = log.stat().st_size if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        port = served_port(log, process, since)
        url = f"http://127.0.0.1:{port}/api/v3/klines?symbol=BTCUSDT&interval=1h&{query}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            return json.loads(reply.read())
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=ceiling(30)) == 0, log.read_text()


def test_serve_command_resumes_its_replay(datadir: Path, tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    first = _serve_once(datadir, log, "limit=3")
    second = _serve_once(datadir, log, f"startTime={first[0][0]}&limit=2")
    assert second == first[:2]  # closed candles: same times, same prices
    text = log.read_text()
    assert "Replay resumed from" in text and "offline-replay.json" in text
    assert (datadir / "offline-replay.json").is_file()
