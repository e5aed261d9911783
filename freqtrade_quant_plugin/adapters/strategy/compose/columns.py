"""The plugin's columns in the analysed frame, beside the user's and never over them.

The regime detector runs on a frame of its own (the candles only), so a user column named
`atr` or `regime` can never change what the plugin computes, and the plugin's columns are
copied into the user's frame under `prefix` + name (`quant_regime`, `quant_atr`, ... for
`QuantMixin`; the bare names for `QuantStrategy`, whose strategies were written for them).
A name the frame already has is left to its owner and reported once.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.core.regime import REGIMES, RegimeDetector, RegimeDetectorConfig

logger = logging.getLogger(__name__)

# regime -> the number plotted in the `regime_code` column (UNKNOWN is -1)
REGIME_CODES: dict[str, int] = {regime: code for code, regime in enumerate(REGIMES)}
_CANDLES = ("date", "open", "high", "low", "close", "volume")
_CANDLE_COLUMNS = frozenset(_CANDLES)


def regime_frame(dataframe: pd.DataFrame, config: RegimeDetectorConfig) -> pd.DataFrame:
    """The candles of `dataframe` with the detector's columns and `regime_code`."""
    frame = dataframe.loc[:, list(_CANDLES)].copy()
    RegimeDetector(config).detect(frame)
    labels = frame["regime"].to_numpy(dtype=object)
    codes = np.full(labels.shape[0], -1, dtype=np.int8)
    for regime, code in REGIME_CODES.items():
        codes[labels == regime] = code
    frame["regime_code"] = codes
    return frame


def reused_regime_frame(
    strategy: Any, dataframe: pd.DataFrame, config: RegimeDetectorConfig, *, keep: bool
) -> pd.DataFrame:
    """`regime_frame`, reusing the one computed for this very frame (same candles) by a
    user's `super().populate_indicators()` just before; `keep`: remember it for that."""
    last = strategy.__dict__.get("_quant_last_regimes")
    columns = list(_CANDLES)
    if last is not None and last[0] is dataframe and len(last[1]) == len(dataframe):
        regimes = last[1] if dataframe[columns].equals(last[1][columns]) else None
    else:
        regimes = None
    if regimes is None:
        regimes = regime_frame(dataframe, config)
    strategy.__dict__["_quant_last_regimes"] = (dataframe, regimes) if keep else None
    return regimes


def add_plugin_columns(
    strategy: Any, dataframe: pd.DataFrame, regimes: pd.DataFrame, prefix: str
) -> pd.DataFrame:
    """`dataframe` with the plugin's columns of `regimes` added under `prefix` + name."""
    taken: list[str] = []
    for column in regimes.columns:
        if column in _CANDLE_COLUMNS:
            continue
        name = prefix + column
        if name in dataframe.columns and not _ours(strategy, name):
            taken.append(name)
            continue
        dataframe[name] = regimes[column].to_numpy()
        _owned(strategy).add(name)
    if taken:
        _warn_once(strategy, taken)
    return dataframe


def _owned(strategy: Any) -> set[str]:
    return strategy.__dict__.setdefault("_quant_columns", set())


def _ours(strategy: Any, name: str) -> bool:
    """A column the plugin wrote in an earlier analysis of the same frame is its own."""
    return name in _owned(strategy)


def _warn_once(strategy: Any, taken: list[str]) -> None:
    warned = strategy.__dict__.setdefault("_quant_columns_warned", set())
    new = [name for name in taken if name not in warned]
    if new:
        warned.update(new)
        logger.warning(
            "%s computes column(s) %s itself: the plugin leaves them as they are (its own "
            "values are kept out of the frame; set quant_column_prefix to show them)",
            type(strategy).__name__,
            ", ".join(new),
        )
