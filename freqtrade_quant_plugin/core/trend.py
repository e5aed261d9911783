"""Scale-free trend measures: how directional the last candles were, in the pair's own units.

A fixed percent move over a fixed number of candles means a different thing on BTC and on
a memecoin, at 5m and at 1h. Every measure here is either a pure ratio of price paths or a
move divided by the pair's own recent volatility, so one threshold serves every pair and
timeframe. All are trailing (row t uses candles up to t only) and NaN until their window
is full or while it holds a NaN price.
"""

from __future__ import annotations

import numpy as np


def log_prices(close: np.ndarray) -> np.ndarray:
    """Natural log of the close, NaN where the close is not a positive number."""
    price = np.asarray(close, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(price > 0, np.log(np.where(price > 0, price, 1.0)), np.nan)


def trailing_sum(values: np.ndarray, window: int) -> np.ndarray:
    """Sum of values[t-window+1..t]; NaN until the window is full or while it holds a NaN."""
    total = np.full(values.shape[0], np.nan)
    if values.shape[0] >= window:
        finite = np.isfinite(values)
        cumulative = np.concatenate(([0.0], np.cumsum(np.where(finite, values, 0.0))))
        bad = np.concatenate(([0], np.cumsum(~finite)))
        clean = (bad[window:] - bad[:-window]) == 0
        total[window - 1 :] = np.where(clean, cumulative[window:] - cumulative[:-window], np.nan)
    return total


def lagged(values: np.ndarray, periods: int) -> np.ndarray:
    """values[t - periods] at row t (negative periods look ahead), NaN beyond the ends."""
    out = np.full(values.shape[0], np.nan)
    if periods > 0:
        out[periods:] = values[:-periods]
    elif periods < 0:
        out[:periods] = values[-periods:]
    else:
        out[:] = values
    return out


def log_returns(log_close: np.ndarray) -> np.ndarray:
    return np.diff(log_close, prepend=np.nan)


def realised_volatility(log_close: np.ndarray, window: int) -> np.ndarray:
    """Root mean square of the last `window` log returns: the pair's volatility per candle."""
    squared = log_returns(log_close) ** 2
    return np.sqrt(trailing_sum(squared, window) / window)


def scaled_move(log_close: np.ndarray, lookback: int, vol_window: int) -> np.ndarray:
    """Log move over `lookback` candles in units of the move a random walk would make.

    ln(close[t] / close[t-lookback]) / (volatility per candle * sqrt(lookback)); about
    N(0, 1) when prices wander without direction, whatever the pair or timeframe.
    """
    move = log_close - lagged(log_close, lookback)
    scale = realised_volatility(log_close, vol_window) * np.sqrt(lookback)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, move / scale, np.nan)
    z[~np.isfinite(z)] = np.nan
    return z


def efficiency_ratio(log_close: np.ndarray, lookback: int) -> np.ndarray:
    """|net move| / path length over `lookback` candles: 1 a straight line, near 0 a range."""
    move = np.abs(log_close - lagged(log_close, lookback))
    path = trailing_sum(np.abs(log_returns(log_close)), lookback)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(path > 0, move / path, np.nan)
    ratio[~np.isfinite(ratio)] = np.nan
    return ratio


def regression_tstat(log_close: np.ndarray, lookback: int) -> np.ndarray:
    """t-statistic of the slope of log close on time over the last `lookback` candles.

    Computed lag by lag on prices relative to the current one (no large cumulative sums,
    so no cancellation); O(n * lookback) in a few vector passes.
    """
    n = log_close.shape[0]
    s_d = np.zeros(n)
    s_kd = np.zeros(n)
    s_dd = np.zeros(n)
    for k in range(lookback):
        d = lagged(log_close, k) - log_close  # x = -k
        s_d += d
        s_kd += k * d
        s_dd += d * d
    ks = np.arange(lookback, dtype=np.float64)
    k_mean = ks.mean()
    s_kk = float(((ks - k_mean) ** 2).sum())
    cov = -(s_kd - k_mean * s_d)  # covariance sum with x = -k
    slope = cov / s_kk
    residual = s_dd - s_d**2 / lookback - slope * cov
    with np.errstate(divide="ignore", invalid="ignore"):
        stderr = np.sqrt(np.maximum(residual, 0.0) / (lookback - 2) / s_kk)
        t = np.where(stderr > 0, slope / stderr, np.nan)
    t[~np.isfinite(t)] = np.nan
    return t


def variance_ratio(log_close: np.ndarray, lookback: int, window: int) -> np.ndarray:
    """Variance of `lookback`-candle moves over `lookback` times that of 1-candle moves.

    Both measured over the last `window` candles; above 1 the moves have been adding up
    (trending), below 1 cancelling out (mean reverting).
    """
    moves = (log_close - lagged(log_close, lookback)) ** 2
    steps = log_returns(log_close) ** 2
    long_var = trailing_sum(moves, window)
    short_var = trailing_sum(steps, window) * lookback
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(short_var > 0, long_var / short_var, np.nan)
    ratio[~np.isfinite(ratio)] = np.nan
    return ratio
