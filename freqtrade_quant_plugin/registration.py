"""Hooks the plugin into plain `freqtrade` commands, without touching Freqtrade's files.

Freqtrade looks for pairlists and protections only inside its own package (and for
hyperopt losses only there and in the user's folders), checks pairlist names against a
fixed list while loading the configuration (before any strategy is imported), and has no
callback at the end of a backtest. So this module is imported at interpreter start-up
through `freqtrade_quant_plugin.pth`, which pip installs into site-packages beside the
package. Every Python start of the environment pays for that import, so it imports only
`sys` (already loaded): it puts a small finder on `sys.meta_path` that runs a patch right
after the named Freqtrade module has been executed. The patches, and everything they
import, load only then.

If a patch does not fit the installed Freqtrade, Freqtrade keeps running without that
piece: one WARNING names the hook and what is unavailable, and `missing_hooks()` tells the
plugin's backtest summary. A configuration that names the missing filter, protection or
loss then fails in Freqtrade's own schema or resolver, loudly; nothing else of Freqtrade
(other commands, the webserver, other bots, notebooks) is affected.
"""

import sys

TYPE_CHECKING = False  # typing is not imported at start-up: it costs milliseconds
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType

    Patch = Callable[[ModuleType], None]

_ADAPTERS = "freqtrade_quant_plugin.adapters"
_FILTER = "pairlist filter SymbolPerformanceFilter"
# (watched module, patch "module:function", what is unavailable if the patch does not fit)
HOOKS = (
    ("freqtrade.constants", f"{_ADAPTERS}.freqtrade_registration:install_pairlist_names",
     f"{_FILTER} (its name in the configuration schema)"),
    ("freqtrade.resolvers.pairlist_resolver",
     f"{_ADAPTERS}.freqtrade_registration:install_resolver_paths", _FILTER),
    ("freqtrade.resolvers.protection_resolver",
     f"{_ADAPTERS}.freqtrade_registration:install_resolver_paths",
     "protection SymbolPerformanceProtection"),
    ("freqtrade.resolvers.hyperopt_resolver",
     f"{_ADAPTERS}.freqtrade_registration:install_resolver_paths",
     "hyperopt loss NetRHyperOptLoss"),
    ("freqtrade.optimize.backtesting", f"{_ADAPTERS}.records.backtest_export:install_export",
     "backtest export (the .quant.json beside the backtest result)"),
    ("freqtrade.optimize.backtesting", f"{_ADAPTERS}.records.backtest_export:install_summary",
     "backtest summary table (QUANT PLUGIN SUMMARY)"),
    ("freqtrade.optimize", f"{_ADAPTERS}.freqtrade_compat:provide_joblib_cloudpickle",
     "hyperopt on Freqtrade 2025.11-2026.8 with joblib >= 1.6 (install joblib<1.6)"),
)  # fmt: skip

_pending: "dict[str, list[tuple[Patch, str]]]" = {}
_missing: "list[tuple[str, str]]" = []


def after_import(module_name: str, patch: "Patch", unavailable: str = "") -> None:
    """Run `patch(module)` once `module_name` has been imported (now, if it already is).

    `unavailable` says what the user goes without if the patch does not fit.
    """
    entry = (patch, unavailable or f"the plugin's patch of {module_name}")
    module = sys.modules.get(module_name)
    if module is not None:
        _apply(module, [entry])
        return
    _pending.setdefault(module_name, []).append(entry)
    if not any(isinstance(finder, _PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchingFinder())


def lazy_patch(target: str) -> "Patch":
    """A patch named "package.module:function", imported only when it has to run."""
    module_name, _, function_name = target.partition(":")

    def patch(module: "ModuleType") -> None:
        import importlib

        getattr(importlib.import_module(module_name), function_name)(module)

    return patch


def missing_hooks() -> "list[tuple[str, str]]":
    """(hooked module, what is unavailable) for each patch that did not fit in this process."""
    return list(_missing)


def _apply(module: "ModuleType", patches: "list[tuple[Patch, str]]") -> None:
    for patch, unavailable in patches:
        try:
            patch(module)
        except Exception as error:
            _degrade(module.__name__, unavailable, error)


def _degrade(module_name: str, unavailable: str, error: Exception) -> None:
    """One warning per hook that did not fit; Freqtrade runs on without the piece."""
    import logging

    _missing.append((module_name, unavailable))
    logging.getLogger(__name__).warning(
        "freqtrade-quant-plugin: its hook into %s does not fit this Freqtrade (%s: %s). "
        "Unavailable: %s. Freqtrade runs without it; see the plugin's docs/hooks.md for "
        "the supported Freqtrade versions.",
        module_name,
        type(error).__name__,
        error,
        unavailable,
    )


class _PatchingFinder:
    """A meta path finder: finds a watched module with the other finders, wraps its loader.

    It skips every finder of this kind, also one left by an earlier copy of this module
    (`importlib.reload`, a re-import): two that asked each other would recurse forever.
    """

    _quant_plugin_finder = True

    def find_spec(
        self,
        fullname: str,
        path: "Sequence[str] | None",
        target: "ModuleType | None" = None,
    ) -> "ModuleSpec | None":
        if fullname not in _pending:
            return None
        for finder in sys.meta_path:
            if getattr(finder, "_quant_plugin_finder", False) or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _pending.pop(fullname))
                return spec
        return None


class _PatchingLoader:
    """The watched module's own loader, with the patches run after it executed the module."""

    def __init__(self, loader: object, patches: "list[tuple[Patch, str]]") -> None:
        self._loader = loader
        self._patches = patches

    def __getattr__(self, name: str) -> object:
        # get_source, get_filename, is_package, ...: the wrapped loader answers.
        return getattr(self._loader, name)

    def create_module(self, spec: "ModuleSpec") -> "ModuleType | None":
        return self._loader.create_module(spec)

    def exec_module(self, module: "ModuleType") -> None:
        self._loader.exec_module(module)
        _apply(module, self._patches)


def register() -> None:
    """The plugin's hooks into Freqtrade; each patch lives beside the code it serves."""
    for module_name, target, unavailable in HOOKS:
        after_import(module_name, lazy_patch(target), unavailable)


register()
