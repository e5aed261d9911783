"""What a Freqtrade data directory holds, learned from file names alone.

The server scans names once at start so that it can answer exchangeInfo for hundreds of
pairs without reading a single candle file; candles are read later, only when asked for.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_TIMEFRAME = r"(?P<tf>\d+[mhdw])"
_SPOT_NAME = re.compile(rf"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)-{_TIMEFRAME}\.feather$")
_FUTURES_NAME = re.compile(
    rf"^(?P<base>[A-Z0-9]+)_(?P<quote>[A-Z0-9]+)_(?P<settle>[A-Z0-9]+)-{_TIMEFRAME}"
    r"-(?P<kind>futures|mark|funding_rate)\.feather$"
)


def timeframe_ms(timeframe: str) -> int:
    """Milliseconds of a Binance/Freqtrade timeframe string such as '5m' or '1d'."""
    match = re.fullmatch(r"(\d+)([mhdw])", timeframe)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"not a timeframe: {timeframe!r}")
    return int(match.group(1)) * _UNIT_MS[match.group(2)]


@dataclass
class Instrument:
    """One tradable symbol and the candle files stored for it, by kind then timeframe."""

    base: str
    quote: str
    settle: str | None = None
    files: dict[str, dict[str, Path]] = field(default_factory=dict)

    @property
    def symbol(self) -> str:
        """Binance's id: BTCUSDT for spot and for the USD-M perpetual alike."""
        return self.base + self.quote

    def timeframes(self, kind: str) -> dict[str, Path]:
        return self.files.get(kind, {})


@dataclass
class DataInventory:
    """Spot and USD-M futures instruments found under a Freqtrade datadir, keyed by symbol."""

    spot: dict[str, Instrument]
    futures: dict[str, Instrument]

    def all_files(self) -> list[tuple[str, Path]]:
        """(timeframe, path) of every candle file, for the replay clock's anchor."""
        found = []
        for instruments in (self.spot, self.futures):
            for instrument in instruments.values():
                for by_tf in instrument.files.values():
                    found.extend(by_tf.items())
        return found


def scan_datadir(datadir: Path) -> DataInventory:
    """Map a datadir's feather files to instruments (Freqtrade's default data format)."""
    if not datadir.is_dir():
        raise FileNotFoundError(f"data directory not found: {datadir}")
    spot: dict[str, Instrument] = {}
    for path in sorted(datadir.glob("*.feather")):
        match = _SPOT_NAME.match(path.name)
        if not match:
            logger.debug("Ignoring %s: not a spot candle file name", path.name)
            continue
        instrument = spot.setdefault(
            match["base"] + match["quote"], Instrument(match["base"], match["quote"])
        )
        instrument.files.setdefault("spot", {})[match["tf"]] = path
    futures: dict[str, Instrument] = {}
    for path in sorted((datadir / "futures").glob("*.feather")):
        match = _FUTURES_NAME.match(path.name)
        if not match:
            logger.debug("Ignoring %s: not a futures candle file name", path.name)
            continue
        instrument = futures.setdefault(
            match["base"] + match["quote"],
            Instrument(match["base"], match["quote"], match["settle"]),
        )
        instrument.files.setdefault(match["kind"], {})[match["tf"]] = path
    # A perpetual is tradable only with its own candles; mark or funding files alone are not.
    futures = {sym: inst for sym, inst in futures.items() if inst.timeframes("futures")}
    return DataInventory(spot=spot, futures=futures)
