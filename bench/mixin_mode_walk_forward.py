"""Walk-forward choice of QuantMixin's default exit mode: none or guard (issue 15).

Run from the repository root (about 20-30 minutes on 2 shared cores):

    PYTHONPATH=. nice -n 10 .venv/bin/python bench/mixin_mode_walk_forward.py

Fixed here before any result was seen:

- Strategies: the project's plain strategies of tests/strategies_any that run in spot
  without position adjustment (STRATEGIES), each as written, as `<S>Quant` (mode none) and
  `<S>Guard` (mode guard), plus S itself for reference. They stand for common patterns
  (ROI scalper, trailing stop, own custom_stoploss / custom_exit, exit signals, ...), not
  for good strategies.
- Data: 1h spot candles of PAIRS from --datadir (default ../shared/data/binance), 10,000
  USDT, 5 open trades, stake "unlimited" (the strategy's own stake is the ceiling),
  Freqtrade's default fee; one `freqtrade backtesting --strategy-list` per fold through the
  offline market server.
- Folds: EARLIER = 2024-02-01 .. 2024-06-01 (the choice; January is the detector's
  warm-up), LATER = 2024-06-01 .. the end of the data (reported, never used for the choice).
- Calmar is Freqtrade's; a run without drawdown (Freqtrade's -100 placeholder) is left out
  of the median.
- Rule: guard becomes the default only if, on EARLIER, its median Calmar across the
  strategies is higher than none's AND its median max drawdown is not higher; else none.

Writes docs/evidence-mixin-mode.md (the table and the verdict) whatever it shows.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from freqtrade_quant_plugin.offline.ccxt_urls import offline_exchange_config
from freqtrade_quant_plugin.offline.server import OfflineExchangeServer

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tests" / "strategies_any"
STRATEGIES = {
    "roi_scalper": "RoiScalper",
    "trailing_static": "TrailingStatic",
    "own_custom_stoploss": "OwnCustomStoploss",
    "own_custom_exit": "OwnCustomExit",
    "exit_signals": "ExitSignals",
    "informative_daily": "InformativeDaily",
    "protections_property": "ProtectionsProperty",
    "hyperopt_params": "HyperoptParams",
    "no_exit_signal": "NoExitSignal",
}
PAIRS = ["BTC", "ETH", "SOL", "XRP", "DOGE", "LINK", "AVAX", "LTC", "ATOM", "UNI"]
FOLDS = {"earlier": "20240201-20240601", "later": "20240601-"}
MODES = {"plain": "", "none": "Quant", "guard": "Guard"}
COMPOSED = """

from freqtrade_quant_plugin import QuantMixin


class {name}Quant(QuantMixin, {name}):
    pass


class {name}Guard(QuantMixin, {name}):
    quant_exits_default = "guard"
"""
OUT = ROOT / "docs" / "evidence-mixin-mode.md"


def write_strategies(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for stem, name in STRATEGIES.items():
        source = (SOURCES / f"{stem}.py").read_text() + COMPOSED.format(name=name)
        (folder / f"{stem}.py").write_text(source)


def config(port: int) -> dict[str, Any]:
    return {
        "max_open_trades": 5,
        "stake_currency": "USDT",
        "stake_amount": "unlimited",
        "tradable_balance_ratio": 0.99,
        "dry_run": True,
        "dry_run_wallet": 10000,
        "trading_mode": "spot",
        "margin_mode": "",
        "timeframe": "1h",
        "exchange": {
            "name": "binance",
            "key": "",
            "secret": "",
            "pair_whitelist": [f"{pair}/USDT" for pair in PAIRS],
            **offline_exchange_config(port)["exchange"],
        },
        "pairlists": [{"method": "StaticPairList"}],
        "entry_pricing": {"price_side": "same"},
        "exit_pricing": {"price_side": "same"},
    }


def run_fold(root: Path, datadir: Path, port: int, timerange: str) -> dict[str, dict]:
    import subprocess
    import sys

    userdir = root / "user_data"
    write_strategies(userdir / "strategies")
    config_file = root / "config.json"
    config_file.write_text(json.dumps(config(port)))
    names = [f"{name}{suffix}" for name in STRATEGIES.values() for suffix in MODES.values()]
    command = [
        sys.executable, "-m", "freqtrade", "backtesting", "--config", str(config_file),
        "--userdir", str(userdir), "--datadir", str(datadir), "--strategy-list", *names,
        "--timerange", timerange, "--export", "trades", "--cache", "none",
        "--enable-protections",
    ]  # fmt: skip
    log = root / "freqtrade.log"
    with log.open("wb") as stream:
        subprocess.run(command, stdout=stream, stderr=subprocess.STDOUT, check=True, cwd=root)
    (zip_path,) = (userdir / "backtest_results").glob("backtest-result-*.zip")
    with zipfile.ZipFile(zip_path) as archive:
        (member,) = [
            n for n in archive.namelist() if n.endswith(".json") and not n.endswith("_config.json")
        ]
        stats = json.loads(archive.read(member))["strategy"]
    return {
        name: {
            "trades": stats[name]["total_trades"],
            "profit_pct": 100 * stats[name]["profit_total"],
            "max_dd_pct": 100 * (stats[name].get("max_drawdown_account") or 0.0),
            "calmar": stats[name].get("calmar") or 0.0,
        }
        for name in names
    }


def median(results: dict[str, dict], suffix: str, key: str) -> float:
    rows = [results[name + suffix] for name in STRATEGIES.values()]
    if key == "calmar":
        rows = [row for row in rows if row["max_dd_pct"] > 0]
    return statistics.median(row[key] for row in rows) if rows else float("nan")


def report(results: dict[str, dict[str, dict]]) -> str:
    earlier = results["earlier"]
    guard_wins = median(earlier, "Guard", "calmar") > median(earlier, "Quant", "calmar") and median(
        earlier, "Guard", "max_dd_pct"
    ) <= median(earlier, "Quant", "max_dd_pct")
    choice = "guard" if guard_wins else "none"
    lines = [
        "# Evidence: QuantMixin's default exit mode",
        "",
        "Written by `bench/mixin_mode_walk_forward.py` (its docstring fixes the method and the",
        "rule before any result). Strategies: the project's plain test strategies",
        f"({', '.join(STRATEGIES.values())}), 1h spot, {len(PAIRS)} pairs, 10,000 USDT, 5 open",
        "trades, stake unlimited, protections on.",
        "",
        f"**Chosen on EARLIER ({FOLDS['earlier']}): `{choice}`.** Rule: guard only if its",
        "median Calmar is higher than none's and its median max drawdown not higher.",
        "",
        "| fold | mode | median Calmar | median max DD % | median profit % | trades |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for fold, fold_results in results.items():
        for mode, suffix in MODES.items():
            trades = sum(fold_results[n + suffix]["trades"] for n in STRATEGIES.values())
            lines.append(
                f"| {fold} | {mode} | {median(fold_results, suffix, 'calmar'):.2f} | "
                f"{median(fold_results, suffix, 'max_dd_pct'):.2f} | "
                f"{median(fold_results, suffix, 'profit_pct'):.2f} | {trades} |"
            )
    lines += ["", "Per strategy (Calmar / max DD % / profit %):", ""]
    lines += ["| strategy | fold | plain | none | guard |", "|---|---|---|---|---|"]
    for name in STRATEGIES.values():
        for fold, fold_results in results.items():
            cells = [
                "{calmar:.2f} / {max_dd_pct:.2f} / {profit_pct:.2f}".format(
                    **fold_results[name + suffix]
                )
                for suffix in MODES.values()
            ]
            lines.append(f"| {name} | {fold} | {' | '.join(cells)} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", default=str(ROOT.parent / "shared" / "data" / "binance"))
    args = parser.parse_args()
    datadir = Path(args.datadir)
    server = OfflineExchangeServer(datadir, port=0).start()
    results = {}
    try:
        with tempfile.TemporaryDirectory(prefix="mixin-mode-") as scratch:
            for fold, timerange in FOLDS.items():
                root = Path(scratch) / fold
                root.mkdir()
                results[fold] = run_fold(root, datadir, server.port, timerange)
                print(f"{fold} done", flush=True)
    finally:
        server.stop()
    OUT.write_text(report(results))
    print(OUT.read_text())


if __name__ == "__main__":
    main()
