"""The stop in force at every candle of a real backtest, per strategy and trade.

`probe_source(path)` is Python appended to a composed strategy file (mixin_support's
`append`): on import it wraps `IStrategy.ft_stoploss_reached` once per process. Freqtrade's
backtest calls it from `should_exit` for each open trade on each candle, after the entry or
add fills of that candle; it first runs `ft_stoploss_adjust` (the static stop, the trailing
stop and `custom_stoploss`, where the plugin's guard acts), then compares the candle with
`trade.stop_loss`. The wrapper returns Freqtrade's own answer and only reads the trade, so
every strategy of the run decides as without it; after its call it notes the stop that
decision used. At exit the notes go to `path` as JSON lines.

`compare_stops` checks a composed variant against the plain strategy candle by candle.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

_PROBE = '''

def _install_stop_probe(path):
    """Test probe (tests/stop_probe.py): notes the stop each candle's stop check used."""
    import atexit
    import json

    from freqtrade.strategy import IStrategy

    if getattr(IStrategy, "_stop_probe_notes", None) is not None:
        return
    notes = IStrategy._stop_probe_notes = []
    original = IStrategy.ft_stoploss_reached

    def ft_stoploss_reached(self, current_rate, trade, current_time, *args, **kwargs):
        answer = original(self, current_rate, trade, current_time, *args, **kwargs)
        notes.append((type(self).__name__, trade.pair, trade.open_date_utc.isoformat(),
                      current_time.isoformat(), trade.stop_loss, trade.is_short,
                      trade.nr_of_successful_entries, trade.nr_of_successful_exits,
                      trade.open_rate))
        return answer

    def write():
        with open(path, "w") as out:
            out.writelines(json.dumps(note) + "\\n" for note in notes)

    IStrategy.ft_stoploss_reached = ft_stoploss_reached
    atexit.register(write)


_install_stop_probe({path!r})
'''

# (pair, open date) -> candle time -> (stop, is_short, position), the position being
# (entry fills, exit fills, average entry price): what a stop is relative to
Trades = dict[tuple[str, str], dict[str, tuple[float, bool, tuple[int, int, float]]]]


def probe_source(path: Path) -> str:
    return _PROBE.format(path=str(path))


def read_stops(path: Path) -> dict[str, Trades]:
    """strategy -> its trades' stops per candle (the last note of a candle wins)."""
    stops: dict[str, Trades] = defaultdict(lambda: defaultdict(dict))
    for line in path.read_text().splitlines():
        strategy, pair, opened, candle, stop, is_short, *position = json.loads(line)
        stops[strategy][(pair, opened)][candle] = (stop, is_short, tuple(position))
    return stops


@dataclass
class Comparison:
    candles: int = 0  # candles where both held the same position and the stops were compared
    trades: int = 0  # trades of both compared on at least one candle
    short_candles: int = 0  # of `candles`, those of short trades
    tighter: int = 0  # of `candles`, those where the variant's stop was the tighter one
    tighter_short: int = 0  # of `tighter`, those of short trades
    adjusted: int = 0  # of `candles`, those after an add or a partial exit
    diverged: int = 0  # trades whose positions parted (an add of another size): rest skipped
    looser: list[str] = field(default_factory=list)  # what failed, readable


def compare_stops(plain: Trades, composed: Trades, mode: str) -> Comparison:
    """none: the same stop as the plain strategy; guard: at least as tight (long: higher,
    short: lower) on every candle both hold the same trade with the same position."""
    result = Comparison()
    for key, candles in composed.items():
        original = plain.get(key)
        if original is None:
            continue
        compared = 0
        for candle in sorted(candles.keys() & original.keys()):
            stop, is_short, (entries, exits, rate) = candles[candle]
            own_stop, own_short, (own_entries, own_exits, own_rate) = original[candle]
            # The stake may differ (sizing): a stop is a price, relative to the average entry.
            same = (entries, exits, is_short) == (own_entries, own_exits, own_short)
            if not (same and math.isclose(rate, own_rate, rel_tol=1e-9)):
                result.diverged += 1
                break
            compared += 1
            result.short_candles += is_short
            result.adjusted += entries > 1 or exits > 0
            tolerance = 1e-9 * abs(own_stop)
            gap = (own_stop - stop) if is_short else (stop - own_stop)
            ok = abs(gap) <= tolerance if mode == "none" else gap >= -tolerance
            result.tighter += gap > tolerance
            result.tighter_short += gap > tolerance and is_short
            if not ok:
                result.looser.append(f"{key} {candle}: {stop!r} vs the strategy's {own_stop!r}")
        result.candles += compared
        result.trades += compared > 0
    return result


def assert_every_candle_noted(trades: list[dict], stops: Trades, hours: float = 1.0) -> None:
    """The probe saw each of Freqtrade's result `trades` on every candle from its entry
    candle to its exit candle (`hours`: the timeframe), so a comparison misses none."""
    step = timedelta(hours=hours)
    for trade in trades:
        opened = datetime.fromisoformat(trade["open_date"])
        closed = datetime.fromisoformat(trade["close_date"])
        noted = sorted(map(datetime.fromisoformat, stops[(trade["pair"], opened.isoformat())]))
        expected = [opened + step * n for n in range(int((closed - opened) / step) + 1)]
        assert noted == expected, (trade["pair"], trade["open_date"], noted[:2], noted[-2:])
