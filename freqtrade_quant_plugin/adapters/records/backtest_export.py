"""Writes the strategies' trade records beside Freqtrade's backtest result.

Freqtrade has no strategy callback at the end of a backtest and keeps trade custom data
only in memory. So `install_export` wraps the `store_backtest_results` name that
`freqtrade.optimize.backtesting` calls: once Freqtrade has written
`backtest-result-<ts>.zip`, the records collected in this process go to
`backtest-result-<ts>.quant.json`: `{"trades": [one object per trade], "skipped": {reason:
count}, "summary": {strategy: entry_summary counts}}` (`skipped` adds up every strategy's).
`install_summary` wraps `show_backtest_results`: the plugin's summary table (entries
taken, skipped by reason, ...) prints below Freqtrade's report, with or without `--export`.
The two are separate hooks (freqtrade_quant_plugin.registration): if one does not fit a
Freqtrade release, the other still works, and a second call of either changes nothing.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from freqtrade_quant_plugin.adapters.records import entry_summary, trade_records

logger = logging.getLogger(__name__)

EXPORT_SUFFIX = ".quant.json"
_MARKER = "__quant_export__"


def export_path(zip_path: Path) -> Path:
    """backtest-result-<ts>.zip -> backtest-result-<ts>.quant.json"""
    return zip_path.with_suffix("").with_name(zip_path.with_suffix("").name + EXPORT_SUFFIX)


def write_export(
    zip_path: Path,
    records: dict[str, list[dict[str, Any]]],
    summaries: dict[str, dict[str, Any]] | None = None,
) -> Path:
    """Atomic write, so a reader never sees half a file."""
    rows = [
        {"strategy": name, **{key: _json_value(value) for key, value in record.items()}}
        for name, items in records.items()
        for record in items
    ]
    summaries = summaries or {}
    skipped: dict[str, int] = {}
    for summary in summaries.values():
        for reason, count in summary["skipped"].items():
            skipped[reason] = skipped.get(reason, 0) + count
    document = {
        "trades": rows,
        "skipped": skipped,
        "summary": {
            name: {key: _json_value(value) for key, value in summary.items()}
            for name, summary in summaries.items()
        },
    }
    target = export_path(zip_path)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=1, allow_nan=False, default=str)
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    logger.info("Quant trade records (%d trades) written to %s", len(rows), target)
    return target


def _json_value(value: Any) -> Any:
    """Strict JSON has no NaN or infinity: an undefined number is written as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _run_summaries(strategy_names: Any) -> dict[str, dict[str, Any]]:
    """Summaries of the strategies of this backtest, by name."""
    if strategy_names is None:
        return {}  # an unknown run: a summary left from another run must not be reported
    found = entry_summary.summaries()
    return {name: found[name].to_dict() for name in strategy_names if name in found}


def _strategy_names(results: Any) -> Any:
    try:
        return list(results["strategy"])
    except (TypeError, KeyError):
        return None


def install_export(backtesting_module: ModuleType) -> None:
    """Wrap store_backtest_results: the `.quant.json` is written beside Freqtrade's zip."""
    original: Callable[..., Path] = backtesting_module.store_backtest_results
    if getattr(original, _MARKER, False):
        return
    _check_results_parameter(original, "stats")

    @functools.wraps(original)
    def store_and_export(*args: Any, **kwargs: Any) -> Path:
        zip_path = original(*args, **kwargs)
        records = trade_records.take_collected()
        results = args[1] if len(args) > 1 else kwargs.get("stats")
        summaries = _run_summaries(_strategy_names(results))
        if records or summaries:
            write_export(Path(zip_path), records, summaries)
        return zip_path

    setattr(store_and_export, _MARKER, True)
    backtesting_module.store_backtest_results = store_and_export


def install_summary(backtesting_module: ModuleType) -> None:
    """Wrap show_backtest_results: the plugin's summary table prints below Freqtrade's."""
    show: Callable[..., Any] = backtesting_module.show_backtest_results
    if getattr(show, _MARKER, False):
        return
    _check_results_parameter(show, "backtest_stats")

    @functools.wraps(show)
    def show_with_summary(*args: Any, **kwargs: Any) -> Any:
        shown = show(*args, **kwargs)
        try:
            results = args[1] if len(args) > 1 else kwargs.get("backtest_stats")
            summaries = _run_summaries(_strategy_names(results))
            if summaries:
                entry_summary.print_summary(summaries)
        except Exception:  # the report is out already; a summary failure must not hide it
            logger.exception("Could not print the quant plugin's backtest summary")
        return shown

    setattr(show_with_summary, _MARKER, True)
    backtesting_module.show_backtest_results = show_with_summary


def _check_results_parameter(function: Callable[..., Any], name: str) -> None:
    """The wraps read the run's results as the second argument or as keyword `name`."""
    parameters = list(inspect.signature(function).parameters.values())
    if any(parameter.kind is parameter.VAR_POSITIONAL for parameter in parameters[:2]):
        return
    if len(parameters) < 2 or parameters[1].name != name:
        signature = inspect.signature(function)
        raise TypeError(f"{function.__name__}{signature}: the results are no longer `{name}`")
