"""Test support: makes chosen plugin hooks not fit, as a later Freqtrade release might.

A folder the tests put first on PYTHONPATH for a `freqtrade` subprocess; Python imports
this module at start-up, after the plugin's `.pth`. QUANT_TEST_BREAK_HOOKS names what to
change (comma-separated keys of BREAKERS). Each change is made right after Freqtrade
executed the module and before the plugin's patch runs: this finder sits just behind the
plugin's on sys.meta_path, so the plugin's loader wraps this one. Freqtrade itself keeps
working with every change; only what the plugin's patch checks differs.
"""

import os
import sys
from importlib.machinery import PathFinder


def _tuple_of_pairlists(module):
    module.AVAILABLE_PAIRLISTS = tuple(module.AVAILABLE_PAIRLISTS)


def _renamed_search_path_parameter(class_name):
    def breaker(module):
        resolver = getattr(module, class_name)
        original = resolver.build_search_paths

        def build_search_paths(cls, cfg, user_subdir=None, extra_dirs=None):
            return original(cfg, user_subdir=user_subdir, extra_dirs=extra_dirs)

        resolver.build_search_paths = classmethod(build_search_paths)

    return breaker


def _renamed_results_parameter(function_name):
    def breaker(module):
        original = getattr(module, function_name)

        def renamed(config, results, *args, **kwargs):
            return original(config, results, *args, **kwargs)

        renamed.__name__ = function_name
        setattr(module, function_name, renamed)

    return breaker


# key -> (Freqtrade module, change)
BREAKERS = {
    "constants": ("freqtrade.constants", _tuple_of_pairlists),
    "pairlist_resolver": (
        "freqtrade.resolvers.pairlist_resolver",
        _renamed_search_path_parameter("PairListResolver"),
    ),
    "protection_resolver": (
        "freqtrade.resolvers.protection_resolver",
        _renamed_search_path_parameter("ProtectionResolver"),
    ),
    "hyperopt_resolver": (
        "freqtrade.resolvers.hyperopt_resolver",
        _renamed_search_path_parameter("HyperOptLossResolver"),
    ),
    "store": (
        "freqtrade.optimize.backtesting",
        _renamed_results_parameter("store_backtest_results"),
    ),
    "show": ("freqtrade.optimize.backtesting", _renamed_results_parameter("show_backtest_results")),
}


class _BreakingLoader:
    def __init__(self, loader, changes):
        self._loader = loader
        self._changes = changes

    def __getattr__(self, name):
        return getattr(self._loader, name)

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        for change in self._changes:
            change(module)


class _BreakingFinder:
    def __init__(self, changes):
        self._changes = changes

    def find_spec(self, fullname, path, target=None):
        if fullname not in self._changes:
            return None
        spec = PathFinder.find_spec(fullname, path, target)
        if spec is not None:
            spec.loader = _BreakingLoader(spec.loader, self._changes.pop(fullname))
        return spec


def _install():
    keys = [key for key in os.environ.get("QUANT_TEST_BREAK_HOOKS", "").split(",") if key]
    changes = {}
    for key in keys:
        module_name, change = BREAKERS[key]
        changes.setdefault(module_name, []).append(change)
    if not changes:
        return
    plugin = [type(finder).__name__ for finder in sys.meta_path].index("_PatchingFinder")
    sys.meta_path.insert(plugin + 1, _BreakingFinder(changes))


_install()
