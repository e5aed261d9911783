"""One pair's synthetic market: the 5m simulation and its views at any timeframe."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.core.validation import QuantConfigError, check_range, parse_int
from freqtrade_quant_plugin.synth import futures, labels, prices, regime_path
from freqtrade_quant_plugin.synth.profiles import PAIR_PATTERN, pair_seed_sequence, profile_for

logger = logging.getLogger(__name__)

BASE_MINUTES = 5
UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440}
FUTURES_ONLY_TIMEFRAMES = ("1h", "8h")  # mark candles, and the 8h funding grid
FUNDING_FILE_TIMEFRAMES = ("1h", "8h")  # Freqtrade 2026.9 reads 1h; older downloads hold 8h


@dataclass(frozen=True)
class SimulatedPair:
    """The 5m truth of one pair, from which every file is derived."""

    pair: str
    start: pd.Timestamp
    candles: dict[str, np.ndarray]
    volatility: np.ndarray
    trend: np.ndarray
    phase_count: int
    futures_seeds: tuple[np.random.SeedSequence, np.random.SeedSequence]  # basis, volume


def timeframe_factor(timeframe: str) -> int:
    """How many 5m candles make one candle of `timeframe` (5m is the finest we simulate)."""
    number, unit = timeframe[:-1], timeframe[-1:]
    if not number.isdigit() or unit not in UNIT_MINUTES or int(number) == 0:
        raise QuantConfigError("timeframe", timeframe, "a Freqtrade timeframe like 5m, 1h, 1d")
    minutes = int(number) * UNIT_MINUTES[unit]
    if minutes % BASE_MINUTES:
        raise QuantConfigError("timeframe", timeframe, "a multiple of 5m")
    return minutes // BASE_MINUTES


def parse_start(start: str | datetime | pd.Timestamp) -> pd.Timestamp:
    """A UTC timestamp; naive input is read as UTC, as Freqtrade does for candle dates."""
    try:
        stamp = pd.Timestamp(start)
    except (ValueError, TypeError):
        raise QuantConfigError("start", start, "a date like 2024-01-01") from None
    if pd.isna(stamp):
        raise QuantConfigError("start", start, "a date like 2024-01-01")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def simulate_pair(pair: str, start: pd.Timestamp, n_base: int, seed: int) -> SimulatedPair:
    """Draw the 5m path of `pair`; depends only on (seed, pair), and prefixes are stable."""
    if not PAIR_PATTERN.match(pair):
        raise QuantConfigError("pair", pair, "a spot pair like BTC/USDT")
    seed = int(check_range("seed", parse_int("seed", seed), 0))
    n_base = int(check_range("candles", n_base, 1))
    children = pair_seed_sequence(seed, pair).spawn(7)
    phase_rng, shocks, log_vol, wicks, volume = (np.random.default_rng(c) for c in children[:5])
    phases = regime_path.draw_phases(phase_rng, n_base)
    volatility, trend = regime_path.states_per_candle(phases, n_base)
    profile = profile_for(pair)
    candles = prices.build_candles(
        phases, volatility, profile, prices.Streams(shocks, log_vol, wicks, volume)
    )
    return SimulatedPair(
        pair, start, candles, volatility, trend, len(phases), (children[5], children[6])
    )


def candle_dates(start: pd.Timestamp, periods: int, factor: int) -> pd.DatetimeIndex:
    step = pd.Timedelta(minutes=BASE_MINUTES * factor)
    return pd.date_range(start, periods=periods, freq=step).as_unit("ms")


def check_alignment(start: pd.Timestamp, factor: int, timeframe: str) -> None:
    """Freqtrade expects candle dates on timeframe boundaries (from the Unix epoch)."""
    step = pd.Timedelta(minutes=BASE_MINUTES * factor)
    if (start - pd.Timestamp(0, tz="UTC")) % step:
        raise QuantConfigError("start", str(start), f"a time on a {timeframe} candle boundary")


def ohlcv_frame(candles: dict[str, np.ndarray], dates: pd.DatetimeIndex) -> pd.DataFrame:
    frame = pd.DataFrame({"date": dates})
    for name in ("open", "high", "low", "close", "volume"):
        frame[name] = candles[name].astype(np.float64)
    return frame


def spot_view(sim: SimulatedPair, timeframe: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ohlcv, regimes) of the simulation at `timeframe`."""
    factor = timeframe_factor(timeframe)
    check_alignment(sim.start, factor, timeframe)
    candles = prices.aggregate(sim.candles, factor)
    dates = candle_dates(sim.start, len(candles["close"]), factor)
    regimes = labels.regime_frame(
        dates,
        labels.states_at_close(sim.volatility, factor),
        labels.states_at_close(sim.trend, factor),
    )
    return ohlcv_frame(candles, dates), regimes


def generate_market(
    pair: str,
    timeframe: str,
    start: str | datetime | pd.Timestamp,
    periods: int,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`periods` candles of `pair` at `timeframe` and the true regime of each candle."""
    factor = timeframe_factor(timeframe)
    periods = int(check_range("periods", parse_int("periods", periods), 1))
    sim = simulate_pair(pair, parse_start(start), periods * factor, seed)
    return spot_view(sim, timeframe)


def futures_views(sim: SimulatedPair, timeframes: list[str]) -> dict[str, pd.DataFrame]:
    """Freqtrade's futures files for the pair, keyed by their filename suffix.

    `<tf>-futures` for every timeframe, `1h-mark` and `8h-mark`, and the funding rates in
    the legacy OHLCV layout (rate in `open`, zeros elsewhere) that Freqtrade still reads.
    The rates settle every 8h and are written as `8h-funding_rate` (the layout of older
    downloads) and as `1h-funding_rate`, the file Freqtrade 2026.9 loads for Binance
    (its funding_fee_timeframe is 1h): without it a futures backtest pays no funding.
    """
    basis_rng, volume_rng = (np.random.default_rng(seed) for seed in sim.futures_seeds)
    profile = profile_for(sim.pair)
    basis = futures.basis_path(sim.trend, basis_rng)
    futures_5m = futures.futures_candles(sim.candles, basis, profile.price_decimals, volume_rng)
    views: dict[str, pd.DataFrame] = {}
    for timeframe in timeframes:
        factor = timeframe_factor(timeframe)
        check_alignment(sim.start, factor, timeframe)
        candles = prices.aggregate(futures_5m, factor)
        views[f"{timeframe}-futures"] = ohlcv_frame(
            candles, candle_dates(sim.start, len(candles["close"]), factor)
        )
    for timeframe in FUTURES_ONLY_TIMEFRAMES:
        factor = timeframe_factor(timeframe)
        check_alignment(sim.start, factor, timeframe)
        mark = prices.aggregate(sim.candles, factor)
        mark["volume"] = np.zeros_like(mark["close"])
        views[f"{timeframe}-mark"] = ohlcv_frame(
            mark, candle_dates(sim.start, len(mark["close"]), factor)
        )
    funding_factor = timeframe_factor(f"{futures.FUNDING_HOURS}h")
    rates = futures.funding_rates(basis, funding_factor)
    zeros = np.zeros_like(rates)
    funding = ohlcv_frame(
        {"open": rates, "high": zeros, "low": zeros, "close": zeros, "volume": zeros},
        candle_dates(sim.start, len(rates), funding_factor),
    )
    for timeframe in FUNDING_FILE_TIMEFRAMES:
        views[f"{timeframe}-funding_rate"] = funding
    return views
