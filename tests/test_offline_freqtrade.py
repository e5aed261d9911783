"""Real Freqtrade commands, real market data, no internet: only the offline server answers."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from freqtrade_support import (
    interrupt_and_wait,
    output_of,
    run_freqtrade,
    start_freqtrade,
    start_offline_server,
)
from parallel_support import ceiling

pytestmark = pytest.mark.freqtrade

PAIRS = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
PROBLEMS = ("Outdated history", "ExchangeError", "Could not", "Traceback", "Exception")


def test_backtesting_prints_a_report_with_trades(
    freqtrade_config, freqtrade_user_data: Path, market_datadir: Path, tmp_path: Path
) -> None:
    config = freqtrade_config({"exchange": {"pair_whitelist": PAIRS}})
    completed = run_freqtrade(
        ["backtesting", "--config", config, "--userdir", freqtrade_user_data,
         "--datadir", market_datadir, "--strategy", "SampleStrategy",
         "--timeframe", "1h", "--timerange", "20240101-20240601", "--export", "none"],
        cwd=tmp_path,
    )  # fmt: skip
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    assert "BACKTESTING REPORT" in output
    total = re.search(r"│\s*TOTAL\s*│\s*(\d+)\s*│", completed.stdout)
    assert total, completed.stdout[-4000:]
    assert int(total.group(1)) > 0
    for pair in PAIRS:
        assert pair in completed.stdout


def test_hyperopt_finishes_and_reports_a_best_result(
    freqtrade_config, freqtrade_user_data: Path, market_datadir: Path, tmp_path: Path
) -> None:
    config = freqtrade_config({"exchange": {"pair_whitelist": PAIRS}})
    completed = run_freqtrade(
        ["hyperopt", "--config", config, "--userdir", freqtrade_user_data,
         "--datadir", market_datadir, "--strategy", "SampleStrategy",
         "--hyperopt-loss", "SharpeHyperOptLossDaily", "--spaces", "buy", "-e", "3", "-j", "1",
         "--timerange", "20240101-20240401", "--disable-param-export", "--random-state", "1"],
        cwd=tmp_path,
    )  # fmt: skip
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    assert "Best result:" in completed.stdout
    assert re.search(r'"buy_rsi": \d+', completed.stdout)


def _wait_for(log_file: Path, predicate, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = log_file.read_text(errors="replace") if log_file.exists() else ""
        if predicate(text):
            return text
        time.sleep(1)
    return text


def _analysed_pairs(text: str) -> list[str]:
    return re.findall(r"Populating indicators for pair (\S+)\.", text)


def test_dry_run_trades_against_the_replayed_market(
    freqtrade_config, freqtrade_user_data: Path, market_datadir: Path, tmp_path: Path
) -> None:
    """Start-up, candle refresh and the strategy loop on every pair, then a clean Ctrl-C.

    A 5m candle closes only every five minutes; when the next boundary falls inside the
    test's time budget the test also waits for it and checks the bot picked up the new
    candle on every pair, otherwise it settles for several loop iterations.
    """
    server = start_offline_server(market_datadir, replay=True)
    try:
        config = freqtrade_config(
            {
                "timeframe": "5m",
                "exchange": {"pair_whitelist": PAIRS},
                "internals": {"process_throttle_secs": 2},
            },
            port=server.port,
        )
        log_file = tmp_path / "freqtrade.log"
        bot = start_freqtrade(
            ["trade", "--config", config, "--userdir", freqtrade_user_data,
             "--strategy", "SampleStrategy", "--db-url", f"sqlite:///{tmp_path / 'trades.sqlite'}",
             "-v"],
            cwd=tmp_path,
            log_file=log_file,
        )  # fmt: skip
        try:
            text = _wait_for(
                log_file, lambda t: set(PAIRS) <= set(_analysed_pairs(t)), timeout=ceiling(90)
            )
            assert set(PAIRS) <= set(_analysed_pairs(text)), text[-4000:]
            seconds_to_boundary = 300 - time.time() % 300
            if seconds_to_boundary < 100:
                text = _wait_for(
                    log_file,
                    lambda t: len(_analysed_pairs(t)) >= 2 * len(PAIRS),
                    timeout=seconds_to_boundary + ceiling(40),
                )
                assert len(_analysed_pairs(text)) >= 2 * len(PAIRS), text[-4000:]
            text = _wait_for(
                log_file,
                lambda t: t.count("Throttling with '_process_running()'") >= 4,
                timeout=ceiling(40),
            )
            assert text.count("Throttling with '_process_running()'") >= 4, text[-4000:]
        finally:
            exit_code = interrupt_and_wait(bot)
    finally:
        server.stop()
    text = log_file.read_text(errors="replace")
    assert exit_code == 130, text[-4000:]  # Freqtrade's exit code after a handled Ctrl-C
    assert "Cleaning up modules" in text
    for problem in PROBLEMS:
        assert problem not in text, text[-4000:]
