"""Freqtrade config files, read the way `freqtrade` reads them, without importing Freqtrade.

`freqtrade.configuration` pulls in the exchange layer and ccxt (about a second); the
report needs only the merged JSON: its `db_url`, `dry_run` and `quant` section. Same rules
as Freqtrade's loader: comments and trailing commas allowed, later files win key by key
(nested objects merge), and `add_config_files` are read relative to the file naming them,
the naming file winning over them. A test holds this equal to Freqtrade's own loader.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import rapidjson

PARSE_MODE = rapidjson.PM_COMMENTS | rapidjson.PM_TRAILING_COMMAS
MAX_DEPTH = 5


def load_config_files(files: list[str], base: Path | None = None, depth: int = 0) -> dict:
    if depth > MAX_DEPTH:
        raise ValueError("add_config_files nest too deep (a loop?)")
    merged: dict[str, Any] = {}
    loaded: list[str] = []
    for name in files:
        path = base / name if base is not None else Path(name)
        try:
            config = rapidjson.loads(path.read_text(encoding="utf-8"), parse_mode=PARSE_MODE)
        except FileNotFoundError:
            raise ValueError(f'Config file "{path}" not found') from None
        except (OSError, ValueError) as error:
            raise ValueError(f"Config file {path} is not valid JSON: {error}") from error
        if not isinstance(config, dict):
            raise ValueError(f"Config file {path} must hold a JSON object")
        if "add_config_files" in config:
            extra = load_config_files(config["add_config_files"], path.resolve().parent, depth + 1)
            loaded.extend(extra.get("config_files", []))
            config = merge(config, extra)
        loaded.insert(0, str(path))
        merged = merge(config, merged)
    merged["config_files"] = loaded
    return merged


def merge(source: dict, destination: dict) -> dict:
    """`source` wins; nested objects merge. `destination` is updated and returned."""
    for key, value in source.items():
        if isinstance(value, dict):
            node = destination.setdefault(key, {})
            if isinstance(node, dict):
                merge(value, node)
            else:
                destination[key] = merge(value, {})
        else:
            destination[key] = value
    return destination
