"""Net R of a real dry-run trade (issue 8, defect 8): slippage measured once, from fills.

A `freqtrade trade --dry-run` bot on the replayed offline market enters at market and
exits at market in the next loop. Freqtrade's dry-run market fills walk the order book, so
they differ from the rate it asked for; the exit record must report that difference as
the slippage and net the trade to what Freqtrade booked (`close_profit_abs`).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from api_support import api_server_config, stop_at_loop_end
from freqtrade_support import interrupt_and_wait, start_freqtrade
from parallel_support import ceiling
from test_strategy_dry_run import (  # noqa: F401  (replay_server is a fixture)
    EVERY_CANDLE_STRATEGY,
    ONE_PAIR_5M,
    PAIR,
    PROBLEMS,
    STRATEGY_FILE,
    _custom_data,
    _quant_section,
    _query,
    _wait_for,
    replay_server,
)

pytestmark = pytest.mark.freqtrade

QUICK_EXIT_STRATEGY = (
    EVERY_CANDLE_STRATEGY
    + '''

class QuickExitStrategy(EveryCandleStrategy):
    """Exits every trade at market in the first loop after its entry filled."""

    def custom_exit(self, pair, trade, current_time, current_rate, current_profit, **kwargs):
        return super().custom_exit(
            pair, trade, current_time, current_rate, current_profit, **kwargs
        ) or "quick_exit"
'''
)


def _closed_trades(db: Path) -> list[tuple]:
    return _query(
        db, "SELECT id, close_profit_abs FROM trades WHERE is_open = 0 AND close_date IS NOT NULL"
    )


def test_dry_run_exit_nets_measured_slippage_once(freqtrade_config, replay_server, tmp_path):  # noqa: F811
    strategies = tmp_path / "user_data" / "strategies"
    strategies.mkdir(parents=True)
    shutil.copy(STRATEGY_FILE, strategies)
    (strategies / "quick_exit_strategy.py").write_text(QUICK_EXIT_STRATEGY)
    db = tmp_path / "trades.sqlite"
    api = api_server_config()
    config = freqtrade_config(
        {
            **ONE_PAIR_5M,
            "api_server": api,
            # An order of about one BTC: more than the book's top level, so the fill walks it.
            "dry_run_wallet": 100_000,
            # The replayed candle is the one at this time of day: no gate may refuse the
            # entry on it. The cost gate is off (this is about measured slippage, not the
            # gate) and no stake clamp makes it dust, so the test never depends on the hour.
            "quant": {
                **_quant_section(4.0),
                "risk": {"risk_per_trade": 0.005, "min_risk_fraction": 0.0},
                "layers": {"cost_gate": False},
            },
        },
        port=replay_server.port,
        name="quick.json",
    )
    log_file = tmp_path / "quick.log"
    bot = start_freqtrade(
        ["trade", "--config", config, "--userdir", tmp_path / "user_data", "--strategy-path",
         strategies, "--strategy", "QuickExitStrategy", "--db-url", f"sqlite:///{db}"],
        cwd=tmp_path,
        log_file=log_file,
    )  # fmt: skip

    def exit_recorded() -> bool:
        """The exit's facts are stored one key at a time; its log line comes after the last."""
        logged = log_file.exists() and f"{PAIR} EXIT @" in log_file.read_text(errors="replace")
        closed = _closed_trades(db)
        return logged and bool(closed) and "net_R_multiple" in _custom_data(db, closed[0][0])

    try:
        _wait_for(exit_recorded, timeout=ceiling(150))
        # The bot enters and exits in every loop: stop it between loops, then Ctrl-C.
        assert stop_at_loop_end(api, lambda: log_file.read_text(errors="replace"))
    finally:
        exit_code = interrupt_and_wait(bot)
    text = log_file.read_text(errors="replace")
    assert exit_code == 130, text[-4000:]
    for problem in PROBLEMS:
        assert problem not in text, text[-4000:]
    assert exit_recorded(), text[-4000:]

    (trade_id, booked), *_ = _closed_trades(db)
    data = _custom_data(db, trade_id)
    orders = _query(
        db,
        "SELECT side, ft_price, average, filled FROM orders "
        f"WHERE ft_trade_id = {trade_id} AND filled > 0",
    )
    assert {side for side, *_ in orders} == {"buy", "sell"}
    measured = sum(
        (average - requested) * filled * (1 if side == "buy" else -1)
        for side, requested, average, filled in orders
    )
    # Usually the fills walk the book (measured > 0); a deep replayed candle can fill the
    # whole order at the top level (0). The cost model's estimate is never 0 (base bps).
    assert data["slippage"] == pytest.approx(measured, rel=1e-9, abs=1e-12)
    assert data["net_R_multiple"] * data["risk_money"] == pytest.approx(booked, rel=1e-6, abs=1e-6)
    assert data["was_winner"] is (booked > 0)
