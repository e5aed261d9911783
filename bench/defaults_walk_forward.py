"""Walk-forward choice of the default exit table and sizing multipliers (issue 11).

Run from the repository root (about 15-25 minutes on 2 shared cores):

    PYTHONPATH=. .venv/bin/python bench/defaults_walk_forward.py

What it does, all fixed here before any result was seen:

- Data: every 1h spot pair of `--datadir` (default ../shared/data/binance: the 136-pair
  universe, 2024-01-01 .. 2024-09-07), the repository's config.json otherwise (5 open
  trades, 10,000 USDT, spot), Freqtrade's default fee (Binance's 0.1 %), one real
  `freqtrade backtesting` per candidate and fold through the offline market server, as
  `freqtrade-quant compare` runs them (same runner, commands/compare_runs.py).
- Folds: EARLIER = 2024-01-01 .. 2024-06-01 (the choice; the first 520 candles are the
  strategy's warm-up), LATER = 2024-06-01 .. the end of the data (held out). The split is
  the one the trend study used (bench/trend_walk_forward.py).
- Candidates: QuantRegimeStrategy (the same entries in every row), each with one exit
  profile (`quant.exit_policy.profile`) and layer switches; see CANDIDATES.
- Rule: among the ELIGIBLE candidates (exits and sizing that do not depend on the trend
  label), those whose max drawdown on EARLIER is not worse than static's; of these, the
  best Calmar on EARLIER is chosen. On LATER it ships as the default only if its Calmar is
  not below static's and its max drawdown not above static's. Otherwise the default is
  FALLBACK: the static twin's exits and sizing (profile "static", every volatility
  multiplier 1.0). LATER never takes part in the choice.

The fold table goes to bench/RESULTS.md ("Default exits walk-forward"; `--no-write` to only
print) and, as JSON, to `--json FILE` if given.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from results_file import write_section

from freqtrade_quant_plugin.commands import compare_runs
from freqtrade_quant_plugin.commands.compare_folds import Fold
from freqtrade_quant_plugin.core.layers import REGIME_LAYERS

ROOT = Path(__file__).resolve().parent.parent
STRATEGY = "QuantRegimeStrategy"
HEADING = "## Default exits walk-forward"
EARLIER = Fold(1, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC))
LATER = Fold(2, datetime(2024, 6, 1, tzinfo=UTC), datetime(2024, 9, 8, tzinfo=UTC))
FOLD_NAMES = {1: "earlier", 2: "later"}


@dataclass(frozen=True)
class Candidate(compare_runs.Variant):
    """A compare variant with an exit profile; `eligible`: trend-free, so it may ship."""

    profile: str = "guide"
    eligible: bool = True
    what: str = ""

    def overlay(self) -> dict[str, Any]:
        overlay = super().overlay()
        overlay["quant"]["exit_policy"] = {"profile": self.profile}
        return overlay


STATIC = "static"
FALLBACK = "static_exits_flat_risk"
CANDIDATES: tuple[Candidate, ...] = (
    Candidate(STATIC, REGIME_LAYERS, "guide", False, "the static twin (baseline)"),
    Candidate("guide", (), "guide", False, "guide table, all layers on (defaults until now)"),
    Candidate("guide_no_trailing", ("trailing",), "guide", False, "guide table, no trailing"),
    Candidate("volatility", (), "volatility", True, "volatility table, vol multipliers"),
    Candidate(
        "volatility_flat_risk",
        ("regime_sizing",),
        "volatility",
        True,
        "volatility table, multipliers 1.0",
    ),
    Candidate("static_exits", (), "static", True, "static twin's exits, vol multipliers"),
    Candidate(
        FALLBACK,
        ("regime_sizing",),
        "static",
        True,
        "static twin's exits, multipliers 1.0",
    ),
)


def spot_pairs(datadir: Path) -> list[str]:
    """Every pair with a 1h spot file, alphabetically: a rule that ignores results."""
    names = sorted(path.name.removesuffix("-1h.feather") for path in datadir.glob("*-1h.feather"))
    return [name.replace("_", "/") for name in names]


def run_all(datadir: Path, scratch: Path, workers: int) -> list[compare_runs.RunResult]:
    from freqtrade_quant_plugin.offline.exchange_reach import offline_exchange

    pairs = spot_pairs(datadir)
    pairs_file = scratch / "pairs.json"
    pairs_file.write_text(json.dumps({"exchange": {"pair_whitelist": pairs}}), encoding="utf-8")
    print(f"{len(pairs)} pairs, {len(CANDIDATES)} candidates x 2 folds", file=sys.stderr)
    jobs = [
        compare_runs.Job(candidate, fold, fold.timerange)
        for fold in (EARLIER, LATER)
        for candidate in CANDIDATES
    ]
    with offline_exchange(datadir, scratch) as fragment:
        base = ["--config", str(ROOT / "config.json"), "--config", str(pairs_file)]
        base += ["--config", str(fragment), "--strategy", STRATEGY, "--datadir", str(datadir)]
        return compare_runs.run_jobs(jobs, base, scratch, STRATEGY, workers, progress)


def progress(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, file=sys.stderr, flush=True)


def calmar_key(row: dict[str, Any]) -> float:
    value = row.get("calmar")
    return -math.inf if value is None else value


def decide(rows: dict[tuple[str, int], dict[str, Any]]) -> dict[str, Any]:
    """The rule of the module docstring, on the rows by (candidate, fold number)."""
    static_early, static_late = rows[(STATIC, 1)], rows[(STATIC, 2)]
    qualified = [
        candidate.name
        for candidate in CANDIDATES
        if candidate.eligible
        and rows[(candidate.name, 1)]["max_drawdown_pct"] <= static_early["max_drawdown_pct"]
    ]
    chosen = max(qualified, key=lambda name: calmar_key(rows[(name, 1)]), default=None)
    passed = False
    if chosen is not None:
        late = rows[(chosen, 2)]
        passed = (
            calmar_key(late) >= calmar_key(static_late)
            and late["max_drawdown_pct"] <= static_late["max_drawdown_pct"]
        )
    return {
        "qualified_on_earlier": qualified,
        "chosen_on_earlier": chosen,
        "passes_on_later": passed,
        "ships": chosen if passed else FALLBACK,
    }


def figures(row: dict[str, Any]) -> str:
    calmar = "-" if row.get("calmar") is None else f"{row['calmar']:.2f}"
    net_r = "-" if row.get("avg_net_R") is None else f"{row['avg_net_R']:+.3f}"
    return (
        f"{row['trades']} | {row['profit_pct']:+.2f} | {row['max_drawdown_pct']:.2f} | "
        f"{calmar} | {net_r}"
    )


def report(rows: dict, decision: dict, pairs: int, minutes: float) -> str:
    lines = [
        "Script: `PYTHONPATH=. .venv/bin/python bench/defaults_walk_forward.py` "
        f"(QuantRegimeStrategy, {pairs} pairs 1h of ../shared/data/binance, config.json, "
        f"Freqtrade's default fee; earlier {EARLIER.timerange}, later {LATER.timerange}; "
        f"{minutes:.0f} min on 2 shared cores).",
        "Rule (fixed in the script before any run): among eligible (trend-free) candidates "
        "whose earlier max drawdown is not above static's, the best earlier Calmar; it ships "
        "only if on the later months its Calmar is not below static's and its drawdown not "
        f"above; otherwise `{FALLBACK}` (the static twin's exits and sizing).",
        "",
        "| candidate | what | eligible | earlier: trades | profit % | max DD % | Calmar | "
        "avg net R | later: trades | profit % | max DD % | Calmar | avg net R |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for candidate in CANDIDATES:
        early, late = rows[(candidate.name, 1)], rows[(candidate.name, 2)]
        eligible = "yes" if candidate.eligible else "no"
        lines.append(
            f"| `{candidate.name}` | {candidate.what} | {eligible} | {figures(early)} | "
            f"{figures(late)} |"
        )
    qualified = ", ".join(decision["qualified_on_earlier"]) or "none"
    lines += [
        "",
        f"Qualified on the earlier months: {qualified}. "
        f"Chosen: `{decision['chosen_on_earlier']}`; on the later months it "
        f"{'does not lose' if decision['passes_on_later'] else 'loses'} to static. "
        f"Ships as the default: **`{decision['ships']}`**.",
    ]
    return "\n".join(lines)


def row_of(result: compare_runs.RunResult) -> dict[str, Any]:
    from freqtrade_quant_plugin.commands.compare_table import ratio_or_none

    stats = result.stats
    return {
        "candidate": result.job.variant.name,
        "fold": FOLD_NAMES[result.job.fold.number],
        "timerange": result.job.timerange,
        "trades": stats["trades"],
        "profit_pct": stats["profit_pct"],
        "max_drawdown_pct": stats["max_drawdown_pct"],
        "calmar": ratio_or_none(stats["calmar"], stats["trades"]),
        "avg_net_R": stats["avg_net_R"],
    }


def refuse_leaks() -> str | None:
    """Settings that would reach every backtest and blur the comparison."""
    params = ROOT / "user_data" / "strategies" / "quant_regime_strategy.json"
    if params.exists():
        return f"{params} (a hyperopt result) would override the candidates: move it away"
    leaking = sorted(k for k in os.environ if k.startswith(("EXIT_REGIME_", "RISK_MULTIPLIER")))
    if leaking:
        return f"unset {', '.join(leaking)}: they would override every candidate"
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", type=Path, default=ROOT.parent / "shared/data/binance")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="backtests at a time")
    parser.add_argument("--keep", type=Path, help="keep every run's files in this folder")
    parser.add_argument("--json", type=Path, help="write the rows and the decision here")
    parser.add_argument("--no-write", action="store_true", help="do not touch RESULTS.md")
    args = parser.parse_args()
    problem = refuse_leaks()
    if problem:
        print(problem, file=sys.stderr)
        return 2
    started = time.monotonic()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="defaults-wf-") as temporary:
        scratch = args.keep or Path(temporary)
        results = run_all(args.datadir.resolve(), scratch.resolve(), args.jobs)
    failed = [result for result in results if result.error]
    for result in failed:
        print(f"{result.job.key} failed: {result.error}", file=sys.stderr)
    if failed:
        return 1
    rows = {(r.job.variant.name, r.job.fold.number): row_of(r) for r in results}
    decision = decide(rows)
    minutes = (time.monotonic() - started) / 60
    text = report(rows, decision, len(spot_pairs(args.datadir)), minutes)
    print(text)
    if args.json:
        document = {"rows": list(rows.values()), "decision": decision}
        args.json.write_text(json.dumps(document, indent=2), encoding="utf-8")
    if not args.no_write:
        print(f"Wrote {write_section(HEADING, text)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
