"""Where the supported Freqtrade releases (2025.11 to 2026.9) differ, and how each is met.

The plugin supports every release of that range with the same code. Each difference
between them that touches the plugin is handled once, here or at the one place named here,
and tested in tests/test_freqtrade_compat.py:

1. joblib's vendored cloudpickle (hyperopt, releases 2025.11 to 2026.8). Their
   `freqtrade.optimize.hyperopt.hyperopt_optimizer` runs `from joblib.externals import
   cloudpickle`; joblib 1.6 dropped that vendored copy and depends on the standalone
   `cloudpickle` package instead, so a fresh install of one of those releases (which
   resolves to joblib 1.6) cannot start `freqtrade hyperopt` at all. 2026.9 imports the
   standalone package itself. `provide_joblib_cloudpickle` runs when `freqtrade.optimize`
   is imported and, once `joblib.externals` lacks `cloudpickle`, makes that name the
   standalone package joblib 1.6 pickles with: the very module 2026.9 registers
   strategy modules with. With joblib < 1.6 (or on 2026.9) it changes nothing.
2. `IProtection.global_stop` / `stop_per_pair` gained a `starting_balance` argument in
   2026.2; older releases call them without it. Handled in
   `freqtrade_plugins/symbol_performance_protection.py` by `starting_balance` defaulting to
   `STARTING_BALANCE_UNKNOWN` (the protection does not read it).
3. `IPairList.needstickers` is abstract up to 2026.2 (a filter without it cannot be
   instantiated there) and defaults to False from 2026.3. Handled in
   `freqtrade_plugins/symbol_performance_filter.py`, which says False itself.

Checked and equal over the range (so no shim): the parameter classes' `space` attribute and
custom hyperopt spaces (both new in 2025.11: 2025.10 has `category` and only the buy, sell
and protection spaces, so the sample strategy's `risk` and `exit_rules` spaces would be
silently left out; that is why the range starts at 2025.11), `AVAILABLE_PAIRLISTS`,
`build_search_paths`, `store_backtest_results` / `show_backtest_results` in
`freqtrade.optimize.backtesting`, `IHyperOptLoss`, `IPairList.__init__`, the strategy
callbacks' signatures and the Trade, Order, custom-data and PairLocks names the plugin
reads. Behaviour differences that need no shim: from 2026.4 `PairLocks.lock_pair` returns
an existing lock with the same reason and end instead of adding a second (the plugin
releases every lock carrying its reason, so duplicates on older releases go together), and
2026.3 rounds backtest stop prices to the exchange's price precision (2025.11 does not: the
same trades, profits a few cents apart).
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
from types import ModuleType

from freqtrade_quant_plugin.registration import after_import

logger = logging.getLogger(__name__)

# What SymbolPerformanceProtection receives for `starting_balance` from releases before
# 2026.2, which do not pass it (difference 2).
STARTING_BALANCE_UNKNOWN = 0.0

_VENDORED = "joblib.externals.cloudpickle"


def provide_joblib_cloudpickle(_optimize: ModuleType) -> None:
    """Difference 1: once joblib.externals is imported, fill in the cloudpickle it lacks.

    Deferred to joblib's own import so that Freqtrade commands that never use joblib do
    not pay for importing it.
    """
    after_import("joblib.externals", alias_vendored_cloudpickle)


def alias_vendored_cloudpickle(externals: ModuleType) -> None:
    """Make `joblib.externals.cloudpickle` the standalone package when joblib has none."""
    if _VENDORED in sys.modules or importlib.util.find_spec(_VENDORED) is not None:
        return  # joblib < 1.6: its own copy is the one its workers pickle with
    try:
        standalone = importlib.import_module("cloudpickle")
    except ImportError:
        return  # neither copy: Freqtrade's own ImportError says what is missing
    externals.cloudpickle = standalone  # type: ignore[attr-defined]
    sys.modules[_VENDORED] = standalone
    logger.debug("%s is the standalone cloudpickle (joblib >= 1.6)", _VENDORED)
