"""Helpers of the report tests: run the report command, and compute its figures again
independently from the raw trades (plain Python, no pandas, none of the report's code)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

import pytest

SUMMARY_KEYS = ("trades", "win_rate", "avg_R", "avg_net_R", "avg_cost_in_R", "total_costs")


def run_report(args: Sequence[object], cwd: Path, expect: int = 0) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "freqtrade_quant_plugin.cli", "report", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == expect, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def report_json(args: Sequence[object], cwd: Path) -> dict[str, Any]:
    return json.loads(run_report([*args, "--json"], cwd).stdout)


def expected_groups(trades: Iterable[Mapping[str, Any]], key: str) -> dict[str, dict[str, float]]:
    """The SUMMARY_KEYS per value of `key`; a win is Freqtrade's realised profit > 0."""
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for trade in trades:
        groups[trade[key]].append(trade)
    return {
        name: {
            "trades": len(items),
            "win_rate": sum(item["profit_abs"] > 0 for item in items) / len(items),
            "avg_R": fmean(item["R_multiple"] for item in items),
            "avg_net_R": fmean(item["net_R_multiple"] for item in items),
            "avg_cost_in_R": fmean(item["cost_in_R"] for item in items),
            "total_costs": sum(item["total_costs"] for item in items),
        }
        for name, items in groups.items()
    }


def assert_figures(report: Mapping[str, Any], trades: Sequence[Mapping[str, Any]]) -> None:
    """by_regime and by_pair of the report equal the independent computation."""
    for section, key in (("by_regime", "regime_at_entry"), ("by_pair", "pair")):
        expected = expected_groups(trades, key)
        assert set(report[section]) == set(expected), section
        for name, figures in expected.items():
            got = {k: report[section][name][k] for k in SUMMARY_KEYS}
            assert got == pytest.approx(figures, rel=1e-9, abs=1e-9), (section, name)
