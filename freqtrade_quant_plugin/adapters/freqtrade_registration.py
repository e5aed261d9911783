"""How plain `freqtrade` finds the plugin's pairlist filter, protection and hyperopt loss.

Freqtrade has no plugin entry points for pairlists or protections. Two things stand in
the way, and `freqtrade_quant_plugin.registration` (imported at interpreter start-up
through `freqtrade_quant_plugin.pth`) runs one patch right after each Freqtrade module
involved has been imported, before any configuration is read:

1. `freqtrade.constants`: the configuration schema only accepts `pairlists[].method`
   values listed in `AVAILABLE_PAIRLISTS`, and holds a reference to that very list.
   `install_pairlist_names` appends `SymbolPerformanceFilter` to it, so the schema accepts
   the name. Protections are not checked against a list.
2. `freqtrade.resolvers.pairlist_resolver`, `freqtrade.resolvers.protection_resolver` and
   `freqtrade.resolvers.hyperopt_resolver`: the resolvers look for a class only in the
   folders `build_search_paths` returns: Freqtrade's own `plugins/...` folders, and for
   hyperopt losses its own losses, `user_data/hyperopts/` and `--hyperopt-path`.
   `install_resolver_paths` wraps that class method on each resolver so the plugin's folder
   `adapters/freqtrade_plugins/` comes last in the list: Freqtrade's and the user's classes
   keep precedence, and Freqtrade loads ours with its usual mechanism (scan the folder's
   files for `class <Name>(`, import that file, check the class derives from IPairList /
   IProtection / IHyperOptLoss).

Each patch first checks the internals it relies on and raises, before changing anything,
if they changed; the hook turns that into one warning naming the module and the missing
piece, and Freqtrade runs on without it (a configuration naming the piece then fails in
Freqtrade's own schema or resolver).
"""

from __future__ import annotations

import inspect
from pathlib import Path
from types import ModuleType

PAIRLIST_NAMES = ("SymbolPerformanceFilter",)
PLUGIN_FOLDER = Path(__file__).resolve().parent / "freqtrade_plugins"
_RESOLVERS = {
    "freqtrade.resolvers.pairlist_resolver": "PairListResolver",
    "freqtrade.resolvers.protection_resolver": "ProtectionResolver",
    "freqtrade.resolvers.hyperopt_resolver": "HyperOptLossResolver",
}
_MARKER = "__quant_plugin_paths__"


def install_pairlist_names(constants: ModuleType) -> None:
    """Let the config schema accept the plugin's pairlist names."""
    names = getattr(constants, "AVAILABLE_PAIRLISTS", None)
    if not isinstance(names, list) or "StaticPairList" not in names:
        raise TypeError(f"AVAILABLE_PAIRLISTS is a {type(names).__name__}, not the list of names")
    for name in PAIRLIST_NAMES:
        if name not in names:
            names.append(name)


def install_resolver_paths(resolver_module: ModuleType) -> None:
    """Append the plugin folder to the search paths of the module's resolver class."""
    class_name = _RESOLVERS.get(resolver_module.__name__)
    if class_name is None:
        raise ValueError(f"no resolver known in {resolver_module.__name__}")
    resolver = getattr(resolver_module, class_name)
    original = resolver.build_search_paths  # bound to the resolver class
    if getattr(original, _MARKER, False):
        return
    parameters = list(inspect.signature(original).parameters)
    if parameters[:3] != ["config", "user_subdir", "extra_dirs"]:
        raise TypeError(f"{class_name}.build_search_paths{inspect.signature(original)} changed")
    if not PLUGIN_FOLDER.is_dir():
        raise FileNotFoundError(f"plugin folder {PLUGIN_FOLDER} is missing")

    def build_search_paths(cls, config, user_subdir=None, extra_dirs=None):
        paths = original(config, user_subdir=user_subdir, extra_dirs=extra_dirs)
        if not isinstance(paths, list):
            raise TypeError(f"{class_name}.build_search_paths returned {type(paths).__name__}")
        return [*paths, PLUGIN_FOLDER]

    setattr(build_search_paths, _MARKER, True)
    resolver.build_search_paths = classmethod(build_search_paths)
