"""Walk-forward folds for `freqtrade-quant compare`: consecutive slices of one timerange.

A difference between two variants that holds in one period only is luck, not a property of
a layer; splitting the range by time and comparing fold by fold shows that. Freqtrade trims
candles with an inclusive stop, so each fold stops one second before the next one starts:
every candle belongs to exactly one fold. Freqtrade loads the strategy's startup candles
before each fold's start by itself, so every fold trades from its first candle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

TIMERANGE_FORMAT = "%Y%m%dT%H%M%S"


@dataclass(frozen=True)
class Fold:
    """One slice: `start` inclusive, `end` exclusive (the next fold's start)."""

    number: int | None  # 1-based; None for the whole range (no walk-forward)
    start: datetime
    end: datetime

    @property
    def timerange(self) -> str:
        """Freqtrade's timerange for this slice (inclusive stop one second before `end`)."""
        last = self.end - timedelta(seconds=1)
        return f"{self.start.strftime(TIMERANGE_FORMAT)}-{last.strftime(TIMERANGE_FORMAT)}"

    @property
    def label(self) -> str:
        return "all" if self.number is None else str(self.number)


def split_folds(start: datetime, end: datetime, count: int, step_seconds: int) -> list[Fold]:
    """`count` consecutive folds covering [start, end), boundaries on the candle grid.

    `step_seconds` is the timeframe; every boundary falls on a candle open counted from
    `start`. Raises ValueError when the range holds fewer candles than folds.
    """
    if count < 1:
        raise ValueError(f"--walk-forward must be at least 1, got {count}")
    if step_seconds < 1:
        raise ValueError(f"timeframe must last at least one second, got {step_seconds}")
    candles = int((end - start).total_seconds()) // step_seconds
    if candles < count:
        raise ValueError(
            f"the timerange {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} holds {candles} "
            f"candles, too few for {count} folds"
        )
    step = timedelta(seconds=step_seconds)
    bounds = [start + step * (candles * index // count) for index in range(count)] + [end]
    if count == 1:
        return [Fold(None, start, end)]
    return [Fold(index + 1, bounds[index], bounds[index + 1]) for index in range(count)]


def parse_day_or_time(text: str) -> datetime:
    """One side of a Freqtrade timerange: yyyymmdd, yyyymmddThhmm(ss) or epoch seconds."""
    for layout in ("%Y%m%d", "%Y%m%dT%H%M", "%Y%m%dT%H%M%S"):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    if text.isdigit() and len(text) in (10, 13):
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, tz=UTC)
    raise ValueError(f"--timerange: cannot read {text!r} as a date")


def timerange_bounds(timerange: str | None) -> tuple[datetime | None, datetime | None]:
    """The (start, stop) a Freqtrade timerange names; None for an open side."""
    if not timerange:
        return None, None
    if "-" not in timerange:
        raise ValueError(f"--timerange {timerange!r}: expected START-STOP, START- or -STOP")
    first, _, second = timerange.partition("-")
    return (
        parse_day_or_time(first) if first else None,
        parse_day_or_time(second) if second else None,
    )
