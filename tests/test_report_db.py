"""The report on a Freqtrade trade DB (SQLite and PostgreSQL) built with Freqtrade's own
models: figures, pair state (replayed trades and paper trades, locks), read-only access."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from freqtrade.persistence import PairLocks, Trade
from pair_db_support import (
    T0,
    add_trade,
    open_database,
)
from report_support import assert_figures
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from freqtrade_quant_plugin.adapters.pairs.paper_store import PaperTradeStore
from freqtrade_quant_plugin.core.paper_trading import PaperOutcome, PaperTrade
from freqtrade_quant_plugin.core.stop_levels import StopRules
from freqtrade_quant_plugin.core.symbol_performance import SymbolPerformanceConfig
from freqtrade_quant_plugin.report.aggregate import Filters
from freqtrade_quant_plugin.report.build import build_report
from freqtrade_quant_plugin.report.load_db import load_database
from freqtrade_quant_plugin.report.readonly_db import TradeDatabaseError, readonly_engine

CONFIG = SymbolPerformanceConfig(
    min_trades_for_adjustment=2,
    consecutive_loss_disable_threshold=3,
    consecutive_win_reenable_threshold=2,
)
EPOCH_T0 = int(T0.replace(tzinfo=UTC).timestamp())


def _record(trade: Trade, regime: str, profit: float, risk: float, costs: tuple) -> dict:
    """A trade record as the strategy stores it, for a trade that moved `profit`."""
    fees, slippage, funding = costs
    total = fees + slippage + funding
    record = {
        "regime_at_entry": regime,
        "volatility_regime_at_entry": "NORMAL_VOL",
        "risk_money": risk,
        "risk_modifier": 1.0,
        "pnl_dollars": profit,
        "R_multiple": profit / risk,
        "net_R_multiple": (profit - total) / risk,
        "total_costs": total,
        "cost_in_R": total / risk,
        "fees": fees,
        "slippage": slippage,
        "funding": funding,
        "mfe_R": max(profit, 0) / risk + 0.5,
        "mae_R": -0.4,
        "exit_reason": "take_profit" if profit > 0 else "stop_loss",
    }
    for key, value in record.items():
        trade.set_custom_data(key, value)
    return {**record, "pair": trade.pair, "profit_abs": profit}


def _paper_win(store: PaperTradeStore, pair: str, minute: int) -> None:
    opened = EPOCH_T0 + minute * 60
    trade = PaperTrade.open(
        pair=pair,
        is_short=False,
        regime="NORMAL_VOL",
        opened_at=opened,
        timeframe_seconds=3600,
        entry_price=100.0,
        atr=1.0,
        rules=StopRules(1.0, 2.0, None, None, 1.0, 24.0),
        breakeven_price=100.1,
    )
    paper_id = store.add(trade)
    store.close(paper_id, trade, PaperOutcome(opened + 60, 102.0, "take_profit", 2.0, True))


def _build(url: str) -> list[dict]:
    """Pairs: AAA disabled then re-enabled on paper; BBB disabled and locked; CCC mixed,
    with one trade the plugin never recorded and one still open."""
    open_database(url)
    records = []
    minute = 0
    plan = [
        ("AAA/USDT", "TRENDING", [-2.0, -1.0, -3.0]),
        ("BBB/USDT", "RANGING", [1.0, -2.0, -2.0, -1.0]),
        ("CCC/USDT", "TRENDING", [4.0, -1.0, 2.5]),
        ("CCC/USDT", "HIGH_VOL", [-0.5, 3.0]),
    ]
    for pair, regime, profits in plan:
        for profit in profits:
            minute += 60
            trade = add_trade(pair, minute, profit=profit)
            records.append(_record(trade, regime, profit, 5.0, (0.1, 0.05 * minute / 60, 0.01)))
    # No exit record: the tracker's R from the risk money stored at entry (CCC 5, DDD 2).
    add_trade("CCC/USDT", minute + 60, profit=-1.0, stop=95.0)
    add_trade("DDD/USDT", minute + 70, profit=-1.0, risk=2.0)
    add_trade("CCC/USDT", minute + 120)  # open
    store = PaperTradeStore(Trade.session.get_bind())
    _paper_win(store, "AAA/USDT", minute + 200)
    _paper_win(store, "AAA/USDT", minute + 300)
    _paper_win(store, "BBB/USDT", minute + 300)  # one win: not enough
    PairLocks.use_db = True
    PairLocks.timeframe = "1h"
    now = datetime.now(UTC)
    PairLocks.lock_pair("BBB/USDT", now + timedelta(days=300), "Symbol performance: disabled")
    PairLocks.lock_pair("CCC/USDT", now - timedelta(days=1), "expired", now=now - timedelta(days=2))
    Trade.session.commit()
    return records


def test_database_report_figures_and_pair_state(database_url: str) -> None:
    # Freqtrade's own models wrote it; end that session before the report reads.
    records = _build(database_url)
    Trade.session.remove()
    source = load_database(database_url)
    assert source.open_trades == 1
    report = build_report(source, Filters(), CONFIG)
    data = report.to_json()
    assert data["trades"] == len(records)
    assert data["trades_without_record"] == 2
    assert_figures(data, records)
    assert data["total"]["fees"] == pytest.approx(0.1 * len(records))

    pairs = data["pairs"]
    assert pairs["AAA/USDT"]["enabled"] is True  # 3 losses, then 2 paper wins
    assert pairs["AAA/USDT"]["paper_trades"] == 2
    assert pairs["BBB/USDT"]["enabled"] is False
    assert pairs["BBB/USDT"]["disabled_since"] == EPOCH_T0 + 7 * 3600 + 30 * 60
    assert pairs["BBB/USDT"]["disabled_why"].startswith("3 consecutive losses")
    assert [lock["reason"] for lock in pairs["BBB/USDT"]["locks"]] == [
        "Symbol performance: disabled"
    ]
    assert pairs["CCC/USDT"]["locks"] == []  # the expired lock is not shown
    # CCC: 6 closed trades (one without record, R from its risk money: -1/5), 3 wins.
    assert pairs["CCC/USDT"]["trades"] == 6
    assert pairs["CCC/USDT"]["win_rate"] == pytest.approx(3 / 6)
    assert pairs["CCC/USDT"]["avg_R"] == pytest.approx((4 - 1 + 2.5 - 0.5 + 3 - 1) / 5 / 6)
    assert pairs["CCC/USDT"]["risk_modifier"] == pytest.approx(
        0.5 + 0.5 * min((0.5 - 0.3) / (0.55 - 0.3), (7 / 30) / 1.5)
    )
    assert pairs["DDD/USDT"]["avg_R"] == pytest.approx(-1.0 / 2.0)  # move over risk money


def test_database_report_filters(database_url: str) -> None:
    records = _build(database_url)
    Trade.session.remove()
    start = EPOCH_T0 + 4 * 3600
    stop = EPOCH_T0 + 10 * 3600
    filters = Filters(pairs=("BBB/USDT", "CCC/USDT"), regimes=(), start_ts=start, stop_ts=stop)
    data = build_report(load_database(database_url), filters, CONFIG).to_json()
    opened = [EPOCH_T0 + 60 * 60 * (i + 1) for i in range(len(records))]
    kept = [
        record
        for record, at in zip(records, opened, strict=True)
        if record["pair"] in ("BBB/USDT", "CCC/USDT") and start <= at < stop
    ]
    assert 0 < len(kept) < len(records)
    assert_figures(data, kept)
    assert set(data["pairs"]) == {"BBB/USDT", "CCC/USDT"}


def test_the_report_never_writes(database_url: str, tmp_path: Path) -> None:
    _build(database_url)
    Trade.session.remove()
    engine = readonly_engine(database_url)
    with pytest.raises(DBAPIError, match=r"read-?only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM trades"))
    engine.dispose()
    if database_url.startswith("sqlite"):
        path = Path(database_url.removeprefix("sqlite:///"))
        before = hashlib.sha256(path.read_bytes()).hexdigest()
        load_database(database_url)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert len(load_database(database_url).trades) == 14


def test_missing_database_is_named(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'absent.sqlite'}"
    with pytest.raises(TradeDatabaseError, match="no trade database at"):
        load_database(url)
    assert not (tmp_path / "absent.sqlite").exists()
    with pytest.raises(TradeDatabaseError, match="in-memory"):
        load_database("sqlite://")


def test_empty_database_reports_nothing(database_url: str) -> None:
    open_database(database_url)  # Freqtrade's schema, no trade yet
    Trade.session.remove()
    data = build_report(load_database(database_url), Filters(), CONFIG).to_json()
    assert data["trades"] == 0 and data["open_trades"] == 0
    assert data["by_regime"] == {} and data["pairs"] == {}
