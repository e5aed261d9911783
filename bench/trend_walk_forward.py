"""Walk-forward choice of a scale-free trend definition (issue 11).

Run from the repository root:

    PYTHONPATH=. .venv/bin/python bench/trend_walk_forward.py --datadir ../shared/data/binance

Every candidate (family x lookback x threshold) labels each candle TRENDING or RANGING
from trailing candles only. Its worth is TRENDING minus RANGING continuation (forward 24 h
log move signed by the past `lookback` move, in units of recent volatility; see
core/regime_evaluation.py), pooled over the pairs of a timeframe, with a 95 % moving-block
bootstrap interval over days (5-day blocks, 2000 resamples, seed 0).

The choice is made on the EARLY months only (candles whose 24 h future ends before
2024-06-01): the candidate whose worse timeframe (1h universe, 5m deep set) has the highest
lower interval bound, among those labelling 5-60 % of candles TRENDING at both. Only the
chosen candidate and the old `adx_roc` method are then measured on the LATER months
(2024-06-01 on), once. The script rewrites the "Trend regime walk-forward" section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import talib
from results_file import write_section

from freqtrade_quant_plugin.commands.candle_history import available_data, load_candles
from freqtrade_quant_plugin.core import trend
from freqtrade_quant_plugin.core.regime import RegimeDetector
from freqtrade_quant_plugin.core.regime_evaluation import (
    NANOSECONDS_PER_DAY,
    EvaluationConfig,
    RegimeEvaluator,
    block_weights,
    continuation,
)

SPLIT = pd.Timestamp("2024-06-01", tz="UTC")
HORIZON_HOURS = 24
# Round 1: windows in candles (the same number at every timeframe).
LOOKBACK_CANDLES = (12, 24, 48, 96, 192)
# Round 2: windows in hours (converted to candles per timeframe).
LOOKBACK_HOURS = (4, 12, 24, 72, 168, 336)
MAX_TSTAT_WINDOW = 600  # the lag-by-lag regression costs O(n x window): skipped above
VOL_WINDOW = 100  # candles of realised volatility behind the scaled move (at least lookback)
THRESHOLDS = {
    "scaled_move": (0.5, 1.0, 1.5, 2.0),  # |z|
    "efficiency_ratio": (0.2, 0.3, 0.4, 0.5),
    "regression_tstat": (2.0, 4.0, 6.0, 8.0),  # |t|
    "variance_ratio": (1.2, 1.5, 2.0),  # over 10 x lookback candles
    "scaled_move_adx": (0.5, 1.0, 1.5, 2.0),  # |z| and ADX(14) > 20
}
MIN_SHARE, MAX_SHARE = 0.05, 0.60
HEADING = "## Trend regime walk-forward"
OLD_METHOD = "adx_roc|20|0.0"


@dataclass
class Tally:
    """Per day: [TRENDING sum, RANGING sum] and counts, early and late rows apart."""

    sums: dict[str, np.ndarray]
    counts: dict[str, np.ndarray]


def features(log_close: np.ndarray, adx: np.ndarray, lookback: int) -> dict[str, np.ndarray]:
    """family -> the value compared with its thresholds (larger = more trending)."""
    z = np.abs(trend.scaled_move(log_close, lookback, max(VOL_WINDOW, lookback)))
    found = {
        "scaled_move": z,
        "efficiency_ratio": trend.efficiency_ratio(log_close, lookback),
        "variance_ratio": trend.variance_ratio(log_close, lookback, 10 * lookback),
        "scaled_move_adx": np.where(adx > 20, z, np.where(np.isfinite(z), 0.0, np.nan)),
    }
    if lookback <= MAX_TSTAT_WINDOW:
        found["regression_tstat"] = np.abs(trend.regression_tstat(log_close, lookback))
    return found


def lookbacks(grid: str, minutes: int) -> dict[str, int]:
    """label (shared by the timeframes) -> window in candles of this timeframe."""
    if grid == "candles":
        return {str(n): n for n in LOOKBACK_CANDLES}
    return {f"{h}h": h * 60 // minutes for h in LOOKBACK_HOURS}


def tally_timeframe(
    datadir: Path, timeframe: str, pairs: list[str], n_days: int, grid: str
) -> dict:
    """candidate -> Tally over all pairs; day index 0 = the first day of the data."""
    minutes = {"1h": 60, "5m": 5}[timeframe]
    horizon = HORIZON_HOURS * 60 // minutes
    out: dict[str, Tally] = {}
    detector = RegimeDetector()
    for pair in pairs:
        frame = load_candles(datadir, pair, timeframe)
        if frame.empty:
            continue
        dates = pd.DatetimeIndex(frame["date"])
        day = dates.as_unit("ns").asi8 // NANOSECONDS_PER_DAY
        horizon_end = dates + pd.Timedelta(minutes=minutes * horizon)
        periods = {"early": np.asarray(horizon_end < SPLIT), "late": np.asarray(dates >= SPLIT)}
        high, low, close = (frame[c].to_numpy(np.float64) for c in ("high", "low", "close"))
        log_close = trend.log_prices(close)
        adx = talib.ADX(high, low, close, timeperiod=14)
        labels = {}
        old = detector.detect(frame.copy())["trend_regime"].to_numpy(dtype=object)
        labels[("adx_roc", "20", 0.0)] = (old == "TRENDING", old != "UNKNOWN")
        windows = lookbacks(grid, minutes)
        for label, lookback in windows.items():
            for family, value in features(log_close, adx, lookback).items():
                for threshold in THRESHOLDS[family]:
                    labels[(family, label, threshold)] = (value >= threshold, np.isfinite(value))
        windows["20"] = 20
        cont_by_label = {
            label: continuation(log_close, horizon, lookback) for label, lookback in windows.items()
        }
        for key, (trending, defined) in labels.items():
            cont = cont_by_label[key[1]]
            ok = defined & np.isfinite(cont)
            tally = out.setdefault(
                "|".join(map(str, key)),
                Tally(
                    {p: np.zeros((n_days, 2)) for p in periods},
                    {p: np.zeros((n_days, 2)) for p in periods},
                ),
            )
            for period, mask in periods.items():
                rows = ok & mask
                index = (day[rows] - BASE_DAY) * 2 + (~trending[rows]).astype(np.int64)
                size = n_days * 2
                tally.sums[period] += np.bincount(
                    index, weights=cont[rows], minlength=size
                ).reshape(n_days, 2)
                tally.counts[period] += np.bincount(index, minlength=size).reshape(n_days, 2)
    return out


BASE_DAY = pd.Timestamp("2024-01-01", tz="UTC").value // NANOSECONDS_PER_DAY


def summarise(tally: Tally, period: str, weights_by_days: dict) -> dict:
    """TRENDING/RANGING means, share, difference and its bootstrap interval."""
    sums, counts = tally.sums[period], tally.counts[period]
    used = counts.sum(axis=1) > 0
    sums, counts = sums[used], counts[used]
    total = counts.sum(axis=0)
    means = sums.sum(axis=0) / np.where(total > 0, total, np.nan)
    n_days = int(used.sum())
    if n_days < 2:
        nan = float("nan")
        return dict.fromkeys(("trending", "ranging", "share", "diff", "low", "high"), nan) | {
            "days": n_days
        }
    weights = weights_by_days.setdefault(
        n_days, block_weights(n_days, EvaluationConfig(horizon=1, block_days=5))
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        resampled = (weights @ sums) / (weights @ counts)
    diff = resampled[:, 0] - resampled[:, 1]
    diff = diff[np.isfinite(diff)]
    low, high = np.percentile(diff, [2.5, 97.5]) if diff.size else (np.nan, np.nan)
    return {
        "trending": means[0],
        "ranging": means[1],
        "share": total[0] / total.sum() if total.sum() else np.nan,
        "diff": means[0] - means[1],
        "low": low,
        "high": high,
        "days": n_days,
    }


def volatility_spread(datadir: Path, timeframe: str, pairs: list[str]) -> tuple[float, ...]:
    """Held-out forward volatility by volatility regime (labels do not depend on trend)."""
    minutes = {"1h": 60, "5m": 5}[timeframe]
    config = EvaluationConfig(
        horizon=HORIZON_HOURS * 60 // minutes, typical_window=30 * 1440 // minutes
    )
    evaluator = RegimeEvaluator(config)
    detector = RegimeDetector()
    for pair in pairs:
        frame = load_candles(datadir, pair, timeframe)
        if not frame.empty:
            evaluator.add_pair(detector.detect(frame), start=SPLIT)
    part = evaluator.evaluate().volatility
    return (*part.means, part.statistic, part.low, part.high)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datadir", type=Path, default=Path("../shared/data/binance"))
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--grid",
        choices=("candles", "hours"),
        default="hours",
        help="windows in candles (round 1) or in hours (round 2, default)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    stored = available_data(args.datadir)
    universe = {"1h": stored["1h"], "5m": stored["5m"]}
    n_days = 300
    weights_by_days: dict = {}
    early: dict[str, dict[str, dict]] = {}
    tallies = {}
    for timeframe, pairs in universe.items():
        tallies[timeframe] = tally_timeframe(args.datadir, timeframe, pairs, n_days, args.grid)
        early[timeframe] = {
            key: summarise(t, "early", weights_by_days) for key, t in tallies[timeframe].items()
        }
        print(f"{timeframe}: {len(pairs)} pairs tallied ({time.perf_counter() - started:.0f} s)")

    keys = [k for k in early["1h"] if k in early["5m"]]
    eligible = [
        k
        for k in keys
        if all(MIN_SHARE <= early[tf][k]["share"] <= MAX_SHARE for tf in universe)
        and not k.startswith("adx_roc")
    ]
    score = {k: min(early[tf][k]["low"] for tf in universe) for k in eligible}
    chosen = max(eligible, key=lambda k: score[k])
    late = {
        tf: {k: summarise(tallies[tf][k], "late", weights_by_days) for k in (OLD_METHOD, chosen)}
        for tf in universe
    }
    spreads = {tf: volatility_spread(args.datadir, tf, pairs) for tf, pairs in universe.items()}
    seconds = time.perf_counter() - started
    text = report(universe, early, score, chosen, late, spreads, seconds, args.grid)
    print(text)
    if not args.no_write:
        write_section(f"{HEADING} ({args.grid})", text)


def _row(key: str, fig: dict[str, dict]) -> str:
    cells = []
    for tf in ("1h", "5m"):
        f = fig[tf]
        cells.append(
            f"{f['share'] * 100:.0f} % | {f['trending']:+.3f} | {f['ranging']:+.3f} | "
            f"{f['diff']:+.3f} [{f['low']:+.3f}, {f['high']:+.3f}]"
        )
    return f"| `{key}` | " + " | ".join(cells) + " |"


def _target_line(late: dict, spreads: dict, chosen: str) -> str:
    """The issue's target, checked on the held-out months only."""
    trend_ok = all(late[tf][chosen]["low"] > 0 for tf in late)
    vol_ok = all(s[4] >= 1.5 for s in spreads.values())
    verdict = "REACHED" if trend_ok and vol_ok else "NOT REACHED"
    return (
        f"Target (held out: TRENDING - RANGING interval above 0 at 1h and 5m, and "
        f"EXTREME / LOW >= 1.5 at both): **{verdict}** (trend part "
        f"{'met' if trend_ok else 'not met'}, volatility part {'met' if vol_ok else 'not met'})."
    )


def report(universe, early, score, chosen, late, spreads, seconds, grid) -> str:
    header = (
        "| candidate | 1h TRENDING share | 1h TRENDING | 1h RANGING | 1h difference [95 %] "
        "| 5m TRENDING share | 5m TRENDING | 5m RANGING | 5m difference [95 %] |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    top = sorted(score, key=lambda k: -score[k])[:10]
    lines = [
        "Script: `PYTHONPATH=. .venv/bin/python bench/trend_walk_forward.py --datadir "
        f"../shared/data/binance --grid {grid}` (Freqtrade's loader; "
        f"{len(universe['1h'])} pairs 1h, {len(universe['5m'])} pairs 5m; {seconds:.0f} s).",
        "Continuation: forward 24 h log move signed by the past `lookback` move, in units of "
        "the last 24 h realised volatility x sqrt(24 h). Interval: moving-block bootstrap over "
        "days, 5-day blocks, 2000 resamples, seed 0. Candidate = `family|lookback|threshold`.",
        "Round 1 is `--grid candles`; round 2 (`--grid hours`) was run after round 1's "
        "held-out result was known, so its later months are not fully untouched.",
        "",
        f"### Early months (choice): candles whose 24 h future ends before {SPLIT.date()}",
        "",
        f"Rule: highest lower bound at the worse timeframe, TRENDING share "
        f"{MIN_SHARE:.0%}-{MAX_SHARE:.0%} at both. Top 10 of {len(score)} eligible, and the "
        "old method:",
        "",
        header,
        *(_row(k, {tf: early[tf][k] for tf in universe}) for k in top),
        _row(OLD_METHOD, {tf: early[tf][OLD_METHOD] for tf in universe}),
        "",
        f"Chosen: `{chosen}`.",
        "",
        f"### Later months (held out): candles from {SPLIT.date()} on, measured once",
        "",
        header,
        _row(OLD_METHOD, {tf: late[tf][OLD_METHOD] for tf in universe}),
        _row(chosen, {tf: late[tf][chosen] for tf in universe}),
        "",
        "Forward volatility / typical by volatility regime, later months (the volatility "
        "labels do not depend on the trend method):",
        "",
        "| timeframe | LOW_VOL | NORMAL_VOL | HIGH_VOL | EXTREME_VOL | EXTREME / LOW [95 %] |",
        "|---|---|---|---|---|---|",
        *(
            f"| {tf} | {s[0]:.3f} | {s[1]:.3f} | {s[2]:.3f} | {s[3]:.3f} | "
            f"{s[4]:.2f} [{s[5]:.2f}, {s[6]:.2f}] |"
            for tf, s in spreads.items()
        ),
        "",
        _target_line(late, spreads, chosen),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
