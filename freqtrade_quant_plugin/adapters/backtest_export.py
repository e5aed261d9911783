"""Writes the strategies' SPEC 8 records beside Freqtrade's backtest result.

Freqtrade has no strategy callback at the end of a backtest and keeps trade custom data
only in memory. So `install` wraps the `store_backtest_results` name that
`freqtrade.optimize.backtesting` calls: once Freqtrade has written
`backtest-result-<ts>.zip`, the records collected in this process go to
`backtest-result-<ts>.quant.json`, a list with one object per trade.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from freqtrade_quant_plugin.adapters import trade_records

logger = logging.getLogger(__name__)

EXPORT_SUFFIX = ".quant.json"
_MARKER = "__quant_export__"


def export_path(zip_path: Path) -> Path:
    """backtest-result-<ts>.zip -> backtest-result-<ts>.quant.json"""
    return zip_path.with_suffix("").with_name(zip_path.with_suffix("").name + EXPORT_SUFFIX)


def write_export(zip_path: Path, records: dict[str, list[dict[str, Any]]]) -> Path:
    """Atomic write, so a reader never sees half a file."""
    rows = [
        {"strategy": name, **{key: _json_value(value) for key, value in record.items()}}
        for name, items in records.items()
        for record in items
    ]
    target = export_path(zip_path)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(rows, stream, indent=1, allow_nan=False, default=str)
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


def install(backtesting_module: ModuleType) -> None:
    """Wrap backtesting_module.store_backtest_results; a second call changes nothing."""
    original: Callable[..., Path] = backtesting_module.store_backtest_results
    if getattr(original, _MARKER, False):
        return

    @functools.wraps(original)
    def store_and_export(*args: Any, **kwargs: Any) -> Path:
        zip_path = original(*args, **kwargs)
        records = trade_records.take_collected()
        if records:
            write_export(Path(zip_path), records)
        return zip_path

    setattr(store_and_export, _MARKER, True)
    backtesting_module.store_backtest_results = store_and_export
