"""The project's own plain strategies (tests/strategies_any) composed with QuantMixin.

`composed_source(stem)` is the strategy's file, unmodified, followed by the one line a user
adds, in two variants: `<Name>Quant` (the mixin's default exit mode) and `<Name>Guard`
(guard mode through the class attribute, so one Freqtrade run holds every variant).
`run_backtest` runs the plain strategy and both variants in one `freqtrade backtesting
--strategy-list` and returns each one's trades and plugin records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from freqtrade_support import (
    REPO_ROOT,
    only_backtest_result,
    output_of,
    run_freqtrade,
    write_freqtrade_config,
)
from parallel_support import run_folder
from stop_probe import Trades, probe_source, read_stops

from freqtrade_quant_plugin.synth import write_synthetic_data

STRATEGIES_ANY = REPO_ROOT / "tests" / "strategies_any"
# file stem -> strategy class
STRATEGIES = {
    "roi_scalper": "RoiScalper",
    "trailing_static": "TrailingStatic",
    "own_custom_stoploss": "OwnCustomStoploss",
    "own_custom_exit": "OwnCustomExit",
    "exit_signals": "ExitSignals",
    "informative_daily": "InformativeDaily",
    "protections_property": "ProtectionsProperty",
    "hyperopt_params": "HyperoptParams",
    "short_futures": "ShortFutures",
    "dca_adds": "DcaAdds",
    "partial_exit": "PartialExit",
    "no_exit_signal": "NoExitSignal",
}
SPOT = tuple(stem for stem in STRATEGIES if stem != "short_futures")
# ShortFutures' market: synthetic perpetual candles (mark and funding files included) and
# the config entries that make Freqtrade trade them.
FUTURES_PAIR = "XRP/USDT:USDT"
FUTURES = {"trading_mode": "futures", "margin_mode": "isolated"}

COMPOSED = """

from freqtrade_quant_plugin import QuantMixin


class {name}Quant(QuantMixin, {name}):
    pass


class {name}Guard(QuantMixin, {name}):
    quant_exits_default = "guard"
"""


def composed_source(stem: str) -> str:
    name = STRATEGIES[stem]
    return (STRATEGIES_ANY / f"{stem}.py").read_text() + COMPOSED.format(name=name)


def write_strategies(
    folder: Path, stems: tuple[str, ...], append: dict[str, str] | None = None
) -> Path:
    """The composed strategy files; `append`: stem -> source added to that file."""
    folder.mkdir(parents=True, exist_ok=True)
    for stem in stems:
        source = composed_source(stem) + (append or {}).get(stem, "")
        (folder / f"{stem}.py").write_text(source)
    return folder


def futures_datadir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """FUTURES_PAIR's 1h futures data, 2024-01-01 + 90 days, built once per test run."""

    def build(folder: Path) -> Path:
        datadir = folder / "binance"
        spot = FUTURES_PAIR.split(":")[0]
        write_synthetic_data(datadir, [spot], ["1h"], 42, "2024-01-01", 90, futures=True)
        return datadir

    return run_folder(tmp_path_factory, "mixin_futures", build)


def variants(stem: str) -> tuple[str, str, str]:
    name = STRATEGIES[stem]
    return name, f"{name}Quant", f"{name}Guard"


@dataclass
class Run:
    output: str
    trades: dict[str, list[dict]]  # strategy -> Freqtrade's result trades
    records: dict[str, list[dict]]  # strategy -> the plugin's .quant.json records
    summary: dict[str, dict]
    stops: dict[str, Trades] = field(default_factory=dict)  # with `probe`: stop_probe.py


def run_backtest(
    root: Path,
    datadir: Path,
    port: int,
    strategies: list[str],
    *,
    pairs: list[str],
    timerange: str,
    overrides: dict | None = None,
    stems: tuple[str, ...] = SPOT,
    extra: tuple[str, ...] = (),
    append: dict[str, str] | None = None,
    probe: bool = False,
) -> Run:
    """`probe`: also note the stop in force at every candle of every trade (stop_probe.py)."""
    userdir = root / "user_data"
    notes = root / "stops.jsonl"
    if probe:
        append = {stem: (append or {}).get(stem, "") + probe_source(notes) for stem in stems}
    folder = write_strategies(userdir / "strategies", stems, append)
    base = {
        "exchange": {"pair_whitelist": pairs},
        "stake_amount": 100,
        "dry_run_wallet": 10000,
        "max_open_trades": 10,
    }
    config = write_freqtrade_config(root / "config.json", port, {**base, **(overrides or {})})
    completed = run_freqtrade(
        [
            "backtesting",
            "--config",
            config,
            "--userdir",
            userdir,
            "--datadir",
            datadir,
            "--strategy-path",
            folder,
            "--strategy-list",
            *strategies,
            "--timerange",
            timerange,
            "--export",
            "trades",
            "--cache",
            "none",
            *extra,
        ],
        cwd=root,
        timeout=1500,
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-6000:]
    zip_path, stats = only_backtest_result(userdir / "backtest_results")
    export = zip_path.with_name(zip_path.name.removesuffix(".zip") + ".quant.json")
    document = json.loads(export.read_text()) if export.is_file() else {"trades": []}
    records: dict[str, list[dict]] = {}
    for record in document["trades"]:
        records.setdefault(record["strategy"], []).append(record)
    return Run(
        output=output,
        trades={name: stats["strategy"][name]["trades"] for name in strategies},
        records=records,
        summary=document.get("summary", {}),
        stops=read_stops(notes) if probe else {},
    )
