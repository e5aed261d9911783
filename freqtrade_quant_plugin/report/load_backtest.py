"""A Freqtrade backtest result (`backtest-result-<ts>.zip`) with the plugin's `.quant.json`.

The zip holds Freqtrade's trades (realised profit, dates, exit reason) and the run's config;
the `.quant.json` beside it holds the plugin's trade record of each trade, written by
adapters/records/backtest_export.py. Records are matched to Freqtrade's trades by pair and
open date.
The export is a list of records, or an object with them under "trades" and the refused
entries under "skipped" ({reason: count}, or {strategy: {reason: count}}); the plugin's
export also has "summary" ({strategy: counts}), whose "skipped" is that strategy's own.
"""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from freqtrade_quant_plugin.report.source import ReportSource
from freqtrade_quant_plugin.report.trades import build_frame

LAST_RESULT = ".last_result.json"  # Freqtrade's pointer to the newest result of a folder
EXPORT_SUFFIX = ".quant.json"


class BacktestResultError(ValueError):
    """The result named on the command line cannot be read as asked."""


def resolve_result(path: Path) -> Path:
    """The result zip: the file itself, or a folder's newest (its .last_result.json)."""
    if path.name.endswith(EXPORT_SUFFIX):
        path = path.with_name(path.name.removesuffix(EXPORT_SUFFIX) + ".zip")
    if path.is_dir():
        pointer = path / LAST_RESULT
        if pointer.is_file():
            try:
                name = json.loads(pointer.read_text(encoding="utf-8"))["latest_backtest"]
            except (ValueError, KeyError, TypeError) as error:
                raise BacktestResultError(f"{pointer} is not Freqtrade's pointer file") from error
            return resolve_result(path / name)
        results = sorted(path.glob("backtest-result-*.zip"))
        if not results:
            raise BacktestResultError(f"No backtest result (backtest-result-*.zip) in {path}")
        return results[-1]
    if not path.is_file():
        raise BacktestResultError(f"--backtest-filename {path}: no such file or folder")
    if path.suffix != ".zip":
        raise BacktestResultError(
            f"--backtest-filename {path}: expected Freqtrade's backtest-result-<time>.zip "
            "or the folder holding it"
        )
    return path


def export_of(zip_path: Path) -> Path:
    return zip_path.with_name(zip_path.name.removesuffix(".zip") + EXPORT_SUFFIX)


def load_backtest(path: Path, strategy: str | None = None) -> ReportSource:
    zip_path = resolve_result(path)
    results, config = _read_zip(zip_path)
    strategies = results.get("strategy") or {}
    if strategy is None:
        if len(strategies) > 1:
            raise BacktestResultError(
                f"{zip_path.name} holds several strategies ({', '.join(sorted(strategies))}): "
                "choose one with --strategy"
            )
        strategy = next(iter(strategies), None)
    if strategy not in strategies:
        raise BacktestResultError(
            f"--strategy {strategy}: not in {zip_path.name} "
            f"(it holds {', '.join(sorted(strategies)) or 'no strategy'})"
        )
    export = export_of(zip_path)
    records, skipped = _read_export(export, strategy) if export.is_file() else ([], {})
    by_key = {(row.get("pair"), _epoch(row.get("open_date"))): row for row in records}
    trades = []
    for number, trade in enumerate(strategies[strategy].get("trades", []), start=1):
        record = by_key.get((trade["pair"], int(trade["open_timestamp"]) // 1000), {})
        trades.append({**record, **_freqtrade_columns(trade, record.get("trade_id", number))})
    note = "" if export.is_file() else f" (no {export.name}: no plugin records)"
    return ReportSource(
        trades=build_frame(trades),
        description=f"backtest {zip_path.name}, strategy {strategy}{note}",
        kind="backtest",
        skipped=skipped,
        paper=None,
        config=config,
    )


def _freqtrade_columns(trade: dict[str, Any], trade_id: int) -> dict[str, Any]:
    profit = float(trade.get("profit_abs") or 0.0)
    return {
        "trade_id": trade_id,
        "pair": trade["pair"],
        "is_short": bool(trade.get("is_short")),
        "open_ts": int(trade["open_timestamp"]) // 1000,
        "close_ts": int(trade["close_timestamp"]) // 1000,
        "profit_abs": profit,
        "freqtrade_exit_reason": trade.get("exit_reason") or "",
    }


def _read_zip(zip_path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Freqtrade's result document and the config the run used (when stored)."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            names = archive.namelist()
            documents = [n for n in names if n.endswith(".json") and not n.endswith("_config.json")]
            configs = [n for n in names if n.endswith("_config.json")]
            if len(documents) != 1:
                raise BacktestResultError(f"{zip_path} holds no single result document")
            results = json.loads(archive.read(documents[0]))
            config = json.loads(archive.read(configs[0])) if configs else None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise BacktestResultError(
            f"{zip_path} is not a readable backtest result: {error}"
        ) from error
    return results, config


def _read_export(export: Path, strategy: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    try:
        document = json.loads(export.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BacktestResultError(f"{export} is not readable JSON: {error}") from error
    skipped: Any = {}
    if isinstance(document, dict):
        skipped = document.get("skipped") or {}
        own = (document.get("summary") or {}).get(strategy)
        if isinstance(own, dict) and isinstance(own.get("skipped"), dict):
            skipped = own["skipped"]  # this strategy's alone (a --strategy-list run)
        document = document.get("trades", document.get("records", []))
    if not isinstance(document, list):
        raise BacktestResultError(f"{export}: expected a list of trade records")
    records = [row for row in document if row.get("strategy", strategy) == strategy]
    if isinstance(skipped, dict) and isinstance(skipped.get(strategy), dict):
        skipped = skipped[strategy]
    return records, _counts(skipped, export)


def _counts(skipped: Any, export: Path) -> dict[str, int]:
    if not isinstance(skipped, dict):
        raise BacktestResultError(f"{export}: 'skipped' must map a reason to a count")
    counts = {}
    for reason, count in skipped.items():
        if isinstance(count, bool) or not isinstance(count, int | float):
            raise BacktestResultError(f"{export}: skipped[{reason!r}]={count!r} is not a count")
        counts[str(reason)] = int(count)
    return counts


def _epoch(text: Any) -> int | None:
    if not isinstance(text, str):
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())
