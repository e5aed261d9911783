"""`compare` on a strategy written without the plugin: wrap it, and add the `plain` row.

`freqtrade-quant compare --strategy MyStrategy` where MyStrategy does not inherit
`QuantMixin` writes, in the run's scratch folder, the one line a user would add:

    class MyStrategyQuant(QuantMixin, MyStrategy): pass

(importing MyStrategy's own file, unmodified) and runs every variant on it; the variant
`plain` runs MyStrategy itself, as a plain `freqtrade backtesting` would: the answer to
"what would the plugin do to my strategy?". With one difference, so that the rows differ by
the plugin alone: `plain` gets the wrapper's `startup_candle_count` (raised to what the
regime detector needs). Without it a run with no start date, or one starting where the data
does, would begin after MyStrategy's few startup candles instead of the wrapper's hundreds,
and the `plain` row would cover weeks the variants never traded.
"""

from __future__ import annotations

import argparse
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

WRAPPER = '''"""Written by freqtrade-quant compare: {strategy} with the plugin added in one line."""

import importlib.util
import sys

from freqtrade_quant_plugin import QuantMixin

_spec = importlib.util.spec_from_file_location({module!r}, {path!r})
_module = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = _module
_spec.loader.exec_module(_module)


class {name}(QuantMixin, _module.{strategy}):
    pass
'''


@dataclass(frozen=True)
class Wrapped:
    """The plugin-wrapped strategy the variants run, and the plain one."""

    name: str
    folder: Path
    plain: str
    startup_candles: int


def strategy_class(args: argparse.Namespace, config: dict[str, Any], strategy: str) -> Any:
    """The strategy class and its file, found where Freqtrade would look; None if absent."""
    from freqtrade.resolvers import StrategyResolver

    userdir = Path(args.userdir or config.get("user_data_dir") or "user_data").resolve()
    search = {**config, "user_data_dir": userdir}
    if args.strategy_path:
        search["strategy_path"] = args.strategy_path
    folders = StrategyResolver.build_search_paths(search, user_subdir=StrategyResolver.user_subdir)
    for found in StrategyResolver.search_all_objects(search, enum_failed=False):
        if found["name"] != strategy:
            continue
        # `location` is relative to the search folder it was found in.
        for folder in folders:
            path = Path(folder) / found["location"]
            if path.is_file() and f"class {strategy}(" in path.read_text(encoding="utf-8"):
                return found["class"], path.resolve()
    return None


def wrap_if_plain(
    args: argparse.Namespace, config: dict[str, Any], strategy: str, scratch: Path
) -> Wrapped | None:
    """A QuantMixin wrapper of `strategy` in `scratch` when it is not a plugin strategy."""
    from freqtrade_quant_plugin import QuantMixin

    found = strategy_class(args, config, strategy)
    if found is None:
        return None  # Freqtrade says why in each run
    cls, path = found
    if issubclass(cls, QuantMixin):
        return None
    name = f"{strategy}Quant"
    folder = scratch / "quant_wrapper"
    folder.mkdir(parents=True, exist_ok=True)
    module = f"freqtrade_quant_compare_{path.stem}"
    source = WRAPPER.format(strategy=strategy, name=name, module=module, path=str(path))
    (folder / f"{path.stem}_quant.py").write_text(source, encoding="utf-8")
    logger.info(
        "%s does not use the plugin: the variants run `class %s(QuantMixin, %s): pass`, "
        "the row 'plain' runs %s as it is",
        strategy,
        name,
        strategy,
        strategy,
    )
    return Wrapped(name=name, folder=folder, plain=strategy, startup_candles=_startup(cls, config))


def _startup(cls: Any, config: dict[str, Any]) -> int:
    """The startup candles of the wrapper: the strategy's, raised to the detector's need."""
    import os

    from freqtrade_quant_plugin.core.settings import QuantSettings

    needed = QuantSettings.load(config.get("quant"), os.environ).regime.startup_candles
    own = int(config.get("startup_candle_count") or cls.startup_candle_count or 0)
    return max(own, needed)


def with_fragment(command: list[str], args: argparse.Namespace, fragment: Any) -> list[str]:
    """The offline exchange's config after the user's configs, before the variant's overlay."""
    if fragment is not None:
        command[len(args.config) * 2 : len(args.config) * 2] = ["--config", str(fragment)]
    return command


def setup_runs(args: argparse.Namespace, plan: Any, scratch: Path, fragment: Any) -> tuple:
    """(strategy the variants run, jobs, their Freqtrade options, the plain run or None).

    A plugin strategy runs as it is; any other one through its wrapper, with a `plain` job
    beside each fold's all_on job.
    """
    from freqtrade_quant_plugin.commands import compare_runs
    from freqtrade_quant_plugin.commands.compare import freqtrade_args

    base_args = with_fragment(freqtrade_args(args, plan.strategy, plan.datadir), args, fragment)
    wrapped = wrap_if_plain(args, plan.config, plan.strategy, scratch)
    if wrapped is None:
        return plan.strategy, plan.jobs, base_args, None
    wrapper_args = argparse.Namespace(**{**vars(args), "strategy_path": wrapped.folder})
    variant_args = freqtrade_args(wrapper_args, wrapped.name, plan.datadir)
    variant = compare_runs.plain_variant()
    plain_jobs = [
        compare_runs.Job(variant, job.fold, job.timerange)
        for job in plan.jobs
        if job.variant.name == compare_runs.ALL_ON
    ]
    jobs = [*plain_jobs, *plan.jobs]
    startup = scratch / "plain_startup.json"
    startup.write_text(json.dumps({"startup_candle_count": wrapped.startup_candles}))
    return (
        wrapped.name,
        jobs,
        with_fragment(variant_args, args, fragment),
        ([*base_args, "--config", str(startup)], plan.strategy),
    )
