"""Stored candles made servable: what a real exchange never sends is cleaned or refused.

Freqtrade cleans candles as it loads them: rows of one date are merged (first open,
highest high, lowest low, last close, largest volume, missing values skipped), and a date
left without a price becomes a gap that its fill-up turns into a flat zero-volume candle.
The server follows the same rules so that a bot fed over HTTP sees what a backtest on the
same files sees:

- rows with a missing, infinite, zero or negative price are dropped (Freqtrade then fills
  the gap as it does for a missing candle); a missing or negative volume counts as 0 (mark
  price candles carry none);
- duplicated dates are merged as Freqtrade merges them;
- a candle whose high is below its low, open or close (or whose low is above them) is
  repaired to span all four prices: Binance never sends one, and quotes, spreads and
  order books are derived from the range;
- rows are sorted by date; rows without a date are dropped.

Every file that needed any of this gets one warning naming it and what was done.
Funding-rate files hold one value (the rate, in `funding_rate` or, in the older layout,
`open`): only rows without a date or rate and duplicated dates (first kept) are removed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PRICE_COLUMNS = ["open", "high", "low", "close"]
_MERGE = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "max"}


def _ohlcv(frame: pd.DataFrame, kind: str, notes: list[str]) -> pd.DataFrame:
    prices = frame[PRICE_COLUMNS].to_numpy(dtype=np.float64)
    valid = (np.isfinite(prices) & (prices > 0)).all(axis=1)
    if not valid.all():
        notes.append(f"dropped {int((~valid).sum())} rows with a missing or invalid price")
        frame = frame[valid]
    volume = frame["volume"].to_numpy(dtype=np.float64)
    unusable = ~(np.isfinite(volume) & (volume >= 0))
    if unusable.any():
        frame = frame.assign(volume=np.where(unusable, 0.0, volume))
        if kind != "mark":  # mark price candles carry no volume: nothing was lost
            notes.append(f"set {int(unusable.sum())} missing or negative volumes to 0")
    if frame["date"].duplicated().any():
        before = len(frame)
        frame = frame.groupby("date", as_index=False, sort=True).agg(_MERGE)
        notes.append(f"merged {before - len(frame)} duplicated candles")
    prices = frame[PRICE_COLUMNS].to_numpy(dtype=np.float64)
    top, bottom = prices.max(axis=1), prices.min(axis=1)
    broken = (frame["high"].to_numpy() < top) | (frame["low"].to_numpy() > bottom)
    if broken.any():
        frame = frame.assign(high=top, low=bottom)
        notes.append(f"repaired {int(broken.sum())} candles whose high/low did not span the prices")
    return frame


def _funding(frame: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    rate = frame["funding_rate"] if "funding_rate" in frame.columns else frame["open"]
    rate = pd.to_numeric(rate, errors="coerce").astype(np.float64)
    frame = pd.DataFrame({"date": frame["date"], "open": rate})
    valid = np.isfinite(frame["open"].to_numpy())
    if not valid.all():
        notes.append(f"dropped {int((~valid).sum())} rows without a rate")
        frame = frame[valid]
    duplicated = frame["date"].duplicated()
    if duplicated.any():
        notes.append(f"dropped {int(duplicated.sum())} duplicated dates")
        frame = frame[~duplicated]
    return frame.assign(high=0.0, low=0.0, close=0.0, volume=0.0)


def clean_candle_frame(frame: pd.DataFrame, path: Path, kind: str) -> pd.DataFrame:
    """`date` + OHLCV columns, cleaned as described above, sorted by date."""
    notes: list[str] = []
    dated = frame["date"].notna()
    if not dated.all():
        notes.append(f"dropped {int((~dated).sum())} rows without a date")
        frame = frame[dated]
    if not frame["date"].is_monotonic_increasing:
        frame = frame.sort_values("date", kind="stable")
        notes.append("sorted the rows by date")
    frame = _funding(frame, notes) if kind == "funding_rate" else _ohlcv(frame, kind, notes)
    if notes:
        logger.warning("Cleaned candle file %s: %s", path, "; ".join(notes))
    return frame.reset_index(drop=True)
