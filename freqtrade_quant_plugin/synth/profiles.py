"""What each synthetic pair looks like: start price, tick size, volume and volatility.

The defaults mirror Binance spot at the start of 2024 so that sizes, costs and exchange
limits computed on synthetic data are of the same order as on the real market.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

import numpy as np

PAIR_PATTERN = re.compile(r"^[A-Z0-9]+/[A-Z0-9]+$")


@dataclass(frozen=True)
class PairProfile:
    start_price: float
    price_decimals: int
    volume_per_5m: float  # mean base-currency volume of a 5m candle in a NORMAL phase
    volume_decimals: int
    volatility_scale: float  # multiplies the per-phase sigma (altcoins move more than BTC)


KNOWN_PROFILES: dict[str, PairProfile] = {
    "BTC/USDT": PairProfile(42000.0, 2, 110.0, 5, 1.0),
    "ETH/USDT": PairProfile(2300.0, 2, 1200.0, 4, 1.15),
    "SOL/USDT": PairProfile(100.0, 2, 15000.0, 3, 1.6),
    "XRP/USDT": PairProfile(0.6, 4, 1_300_000.0, 1, 1.3),
    "DOGE/USDT": PairProfile(0.09, 5, 5_000_000.0, 0, 1.7),
}
DEFAULT_PAIRS: tuple[str, ...] = tuple(KNOWN_PROFILES)


def pair_seed_sequence(seed: int, pair: str) -> np.random.SeedSequence:
    """Seed per (seed, pair) with a stable hash, so adding a pair leaves the others unchanged.

    Python's hash() is salted per process, hence sha256.
    """
    digest = hashlib.sha256(pair.encode()).digest()
    return np.random.SeedSequence([seed, int.from_bytes(digest[:8], "little")])


def profile_for(pair: str) -> PairProfile:
    """Known pairs get their real-world profile; any other pair a plausible, stable one."""
    if pair in KNOWN_PROFILES:
        return KNOWN_PROFILES[pair]
    digest = hashlib.sha256(pair.encode()).digest()
    unit = int.from_bytes(digest[:8], "little") / 2**64
    price = round(10 ** (-2 + 4 * unit), 6)  # 0.01 .. 100
    decimals = max(2, 5 - math.floor(math.log10(price)))
    volume = 2_000_000 / 12 / price  # about 2M quote per hour
    return PairProfile(price, decimals, volume, 2, 1.2 + unit)
