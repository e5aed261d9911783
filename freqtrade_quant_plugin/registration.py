"""Hooks the plugin into plain `freqtrade` commands, without touching Freqtrade's files.

Freqtrade looks for pairlists and protections only inside its own package (and for
hyperopt losses only there and in the user's folders), checks pairlist
names against a fixed list while loading the configuration (before any strategy is
imported), and has no callback at the end of a backtest. So this module is imported at
interpreter start-up through `freqtrade_quant_plugin.pth`, which pip installs into
site-packages beside the package. It imports nothing heavy: it only installs an import
hook that runs a patch right after the named Freqtrade module has been executed, so
processes that never import Freqtrade pay nothing.

If a patch no longer fits Freqtrade's internals, the import of that Freqtrade module fails
with a message saying so: running without the plugin's pieces, silently, would trade
without the protections the user configured.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from importlib.abc import Loader, MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

Patch = Callable[[ModuleType], None]

_pending: dict[str, list[Patch]] = {}


class FreqtradeHookError(RuntimeError):
    """A patch could not be applied: Freqtrade's internals differ from what it expects."""


def after_import(module_name: str, patch: Patch) -> None:
    """Run `patch(module)` once `module_name` has been imported (now, if it already is)."""
    module = sys.modules.get(module_name)
    if module is not None:
        _apply(module, [patch])
        return
    _pending.setdefault(module_name, []).append(patch)
    if not any(isinstance(finder, _PatchingFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PatchingFinder())


def lazy_patch(target: str) -> Patch:
    """A patch named "package.module:function", imported only when it has to run."""
    module_name, _, function_name = target.partition(":")

    def patch(module: ModuleType) -> None:
        getattr(importlib.import_module(module_name), function_name)(module)

    return patch


def _apply(module: ModuleType, patches: list[Patch]) -> None:
    for patch in patches:
        try:
            patch(module)
        except Exception as error:
            raise FreqtradeHookError(
                f"freqtrade-quant-plugin could not hook into {module.__name__} "
                f"({type(error).__name__}: {error}). This Freqtrade version is not supported "
                "by the installed plugin: install a supported Freqtrade version (see the "
                "plugin's README) or uninstall the plugin."
            ) from error


class _PatchingFinder(MetaPathFinder):
    """Finds a watched module with the other finders, then wraps its loader."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname not in _pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _pending.pop(fullname))
                return spec
        return None


class _PatchingLoader(Loader):
    def __init__(self, loader: Loader, patches: list[Patch]) -> None:
        self._loader = loader
        self._patches = patches

    def __getattr__(self, name: str) -> object:
        # get_source, get_filename, is_package, ...: the wrapped loader answers.
        return getattr(self._loader, name)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        _apply(module, self._patches)


def register() -> None:
    """The plugin's hooks into Freqtrade; each patch lives beside the code it serves."""
    patches = "freqtrade_quant_plugin.adapters.freqtrade_registration"
    after_import("freqtrade.constants", lazy_patch(f"{patches}:install_pairlist_names"))
    for resolver in ("pairlist_resolver", "protection_resolver", "hyperopt_resolver"):
        after_import(
            f"freqtrade.resolvers.{resolver}", lazy_patch(f"{patches}:install_resolver_paths")
        )
    after_import(
        "freqtrade.optimize.backtesting",
        lazy_patch("freqtrade_quant_plugin.adapters.backtest_export:install"),
    )
    after_import(
        "freqtrade.optimize",
        lazy_patch("freqtrade_quant_plugin.adapters.freqtrade_compat:provide_joblib_cloudpickle"),
    )


register()
