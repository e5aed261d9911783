"""Per-pair performance: risk scaling and disabling of pairs that keep losing.

A pair that stopped behaving the way the strategy expects should get less money, and
after a long losing streak none at all until it proves itself again on paper trades.
This module is the pure state machine; the Freqtrade adapters feed it closed trades from
the trade database (the source of truth) and decide what a disabled pair means there.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Final

from freqtrade_quant_plugin.core.validation import (
    QuantConfigError,
    check_range,
    parse_int,
    parse_number,
    require_finite,
)

logger = logging.getLogger(__name__)

SNAPSHOT_VERSION = 1


@dataclass(frozen=True)
class SymbolPerformanceConfig:
    """Thresholds of the risk modifier and of the disable / re-enable state machine."""

    min_trades_for_adjustment: int = 5
    poor_winrate_threshold: float = 0.30
    good_winrate_threshold: float = 0.55
    poor_r_threshold: float = 0.0
    good_r_threshold: float = 1.5
    poor_performance_multiplier: float = 0.5
    consecutive_loss_disable_threshold: int = 10
    consecutive_win_reenable_threshold: int = 3
    persistence_file: str | None = None

    def __post_init__(self) -> None:
        for name in (
            "min_trades_for_adjustment",
            "consecutive_loss_disable_threshold",
            "consecutive_win_reenable_threshold",
        ):
            self._set(name, check_range(name, parse_int(name, getattr(self, name)), 1))
        for name in ("poor_winrate_threshold", "good_winrate_threshold"):
            self._set(name, check_range(name, parse_number(name, getattr(self, name)), 0.0, 1.0))
        for name in ("poor_r_threshold", "good_r_threshold"):
            self._set(name, parse_number(name, getattr(self, name)))
        name = "poor_performance_multiplier"
        self._set(
            name,
            check_range(
                name, parse_number(name, self.poor_performance_multiplier), 0.0, 1.0, low_open=True
            ),
        )
        if self.poor_winrate_threshold >= self.good_winrate_threshold:
            raise QuantConfigError(
                "good_winrate_threshold",
                self.good_winrate_threshold,
                f"> poor_winrate_threshold ({self.poor_winrate_threshold:g})",
            )
        if self.poor_r_threshold >= self.good_r_threshold:
            raise QuantConfigError(
                "good_r_threshold",
                self.good_r_threshold,
                f"> poor_r_threshold ({self.poor_r_threshold:g})",
            )
        path = self.persistence_file
        if path is not None and not (isinstance(path, str) and path.strip()):
            raise QuantConfigError("persistence_file", path, "a file path or null")

    def _set(self, name: str, value: object) -> None:
        object.__setattr__(self, name, value)


@dataclass
class SymbolStats:
    """Running record of one pair; consecutive counters describe the tail of its history."""

    symbol: str
    total_trades: int = 0
    wins: int = 0
    losses: int = 0
    total_pnl: float = 0.0
    total_R: float = 0.0
    consecutive_wins: int = 0
    consecutive_losses: int = 0
    is_enabled: bool = True
    paper_consecutive_wins: int = 0
    paper_trades: int = 0

    @property
    def win_rate(self) -> float:
        return self.wins / self.total_trades if self.total_trades else 0.0

    @property
    def avg_R(self) -> float:
        return self.total_R / self.total_trades if self.total_trades else 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SymbolStats:
        """Rebuild from to_dict output; a missing or mistyped field raises ValueError."""
        if not isinstance(data, dict):
            raise ValueError(f"symbol stats must be an object, got {data!r}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown symbol stats fields {sorted(unknown)}")
        kinds = {
            "symbol": (str,),
            "is_enabled": (bool,),
            "total_pnl": (int, float),
            "total_R": (int, float),
        }
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                if f.name == "symbol":
                    raise ValueError("symbol stats without a symbol")
                continue
            value = data[f.name]
            allowed = kinds.get(f.name, (int,))
            wrong_bool = isinstance(value, bool) and bool not in allowed
            if wrong_bool or not isinstance(value, allowed):
                raise ValueError(f"symbol stats field {f.name}={value!r} has the wrong type")
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"symbol stats field {f.name}={value!r} is not finite")
            values[f.name] = float(value) if f.name in ("total_pnl", "total_R") else value
        return cls(**values)


class _UseConfig:
    """Marker type: take the persistence file from the config."""


_USE_CONFIG: Final = _UseConfig()


class SymbolPerformanceManager:
    """O(1) updates and lookups per pair, with an optional atomic JSON snapshot."""

    def __init__(
        self,
        config: SymbolPerformanceConfig | None = None,
        persistence_file: str | os.PathLike[str] | _UseConfig | None = _USE_CONFIG,
    ) -> None:
        self.config = config or SymbolPerformanceConfig()
        path = self.config.persistence_file if persistence_file is _USE_CONFIG else persistence_file
        self.persistence_file: Path | None = None if path is None else Path(path)  # type: ignore[arg-type]
        self._stats: dict[str, SymbolStats] = {}
        if self.persistence_file is not None and self.persistence_file.exists():
            self._stats = load_snapshot(self.persistence_file)

    def update_stats(
        self, symbol: str, pnl: float, R_multiple: float, was_winner: bool
    ) -> SymbolStats:
        """Record one closed real trade; a long enough losing streak disables the pair."""
        pnl = require_finite("pnl", pnl)
        r_multiple = require_finite("R_multiple", R_multiple)
        stats = self._stats.setdefault(symbol, SymbolStats(symbol))
        stats.total_trades += 1
        stats.total_pnl += pnl
        stats.total_R += r_multiple
        if was_winner:
            stats.wins += 1
            stats.consecutive_wins += 1
            stats.consecutive_losses = 0
        else:
            stats.losses += 1
            stats.consecutive_losses += 1
            stats.consecutive_wins = 0
        threshold = self.config.consecutive_loss_disable_threshold
        if stats.is_enabled and stats.consecutive_losses >= threshold:
            stats.is_enabled = False
            stats.paper_consecutive_wins = 0
            logger.warning(
                "Disabling %s after %d consecutive losses (win rate %.1f%%, avg R %.2f); "
                "%d consecutive paper wins re-enable it",
                symbol,
                stats.consecutive_losses,
                stats.win_rate * 100,
                stats.avg_R,
                self.config.consecutive_win_reenable_threshold,
            )
        self._save()
        return stats

    def record_paper_trade(self, symbol: str, was_winner: bool) -> SymbolStats:
        """Count a paper result of a disabled pair; enough wins in a row re-enable it."""
        stats = self._stats.get(symbol)
        if stats is None or stats.is_enabled:
            return self.get_stats(symbol)
        stats.paper_trades += 1
        stats.paper_consecutive_wins = stats.paper_consecutive_wins + 1 if was_winner else 0
        if stats.paper_consecutive_wins >= self.config.consecutive_win_reenable_threshold:
            logger.warning(
                "Re-enabling %s after %d consecutive paper wins",
                symbol,
                stats.paper_consecutive_wins,
            )
            stats.is_enabled = True
            stats.consecutive_losses = 0
            stats.paper_consecutive_wins = 0
        self._save()
        return stats

    def override_disable(self, symbol: str) -> SymbolStats:
        """A person re-enabled a disabled pair: it trades again with a fresh losing streak,
        so only a new run of `consecutive_loss_disable_threshold` losses disables it."""
        stats = self._stats.get(symbol)
        if stats is None or stats.is_enabled:
            return self.get_stats(symbol)
        logger.warning(
            "Re-enabling %s by hand (its symbol-performance lock was removed); %d more "
            "consecutive losses disable it again",
            symbol,
            self.config.consecutive_loss_disable_threshold,
        )
        stats.is_enabled = True
        stats.consecutive_losses = 0
        stats.paper_consecutive_wins = 0
        self._save()
        return stats

    def get_stats(self, symbol: str) -> SymbolStats:
        """Stats of a pair; an unknown pair gets fresh zero stats that are not stored."""
        return self._stats.get(symbol) or SymbolStats(symbol)

    def should_trade_symbol(self, symbol: str) -> bool:
        return self.get_stats(symbol).is_enabled

    def all_stats(self) -> dict[str, SymbolStats]:
        return dict(self._stats)

    def get_risk_modifier(self, symbol: str) -> float:
        """Fraction of normal risk for this pair, in [poor_performance_multiplier, 1].

        Full risk until there are enough trades to judge; the floor when either win rate
        or average R is poor; in between, the weaker of the two scores decides linearly.
        """
        cfg = self.config
        stats = self.get_stats(symbol)
        if stats.total_trades < cfg.min_trades_for_adjustment:
            return 1.0
        win_rate, avg_r = stats.win_rate, stats.avg_R
        poor = cfg.poor_performance_multiplier
        if win_rate < cfg.poor_winrate_threshold or avg_r < cfg.poor_r_threshold:
            return poor
        wr_score = _position(win_rate, cfg.poor_winrate_threshold, cfg.good_winrate_threshold)
        r_score = _position(avg_r, cfg.poor_r_threshold, cfg.good_r_threshold)
        return min(1.0, poor + (1.0 - poor) * min(wr_score, r_score))

    def _save(self) -> None:
        if self.persistence_file is not None:
            save_snapshot(self.persistence_file, self._stats)


def save_snapshot(path: Path, stats: dict[str, SymbolStats], mode: int = 0o600) -> None:
    """Write atomically: a reader (or a crash) never sees a half-written file.

    `mode`: the file's permission bits (default: the owner only); the caller decides who
    may read the bot's results.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "version": SNAPSHOT_VERSION,
        "symbols": {symbol: item.to_dict() for symbol, item in stats.items()},
    }
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            json.dump(document, stream, indent=2, sort_keys=True)
            os.fchmod(stream.fileno(), mode)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def load_snapshot(path: Path) -> dict[str, SymbolStats]:
    """Read a snapshot written by save_snapshot; anything else raises ValueError naming it."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"expected an object with version {SNAPSHOT_VERSION}")
        symbols = document.get("symbols")
        if not isinstance(symbols, dict):
            raise ValueError("expected a 'symbols' object")
        loaded = {symbol: SymbolStats.from_dict(data) for symbol, data in symbols.items()}
        for symbol, item in loaded.items():
            if item.symbol != symbol:
                raise ValueError(f"entry {symbol!r} holds stats of {item.symbol!r}")
    except (OSError, ValueError) as error:
        raise ValueError(
            f"Symbol performance snapshot {path} is unreadable or corrupt: {error}. "
            "Fix or delete it (the trade database remains the source of truth)."
        ) from error
    return loaded


def _position(value: float, low: float, high: float) -> float:
    """Where value sits between low (0) and high (1), clipped."""
    return min(1.0, max(0.0, (value - low) / (high - low)))
