"""The differences between the supported Freqtrade releases, one test per shim
(see freqtrade_quant_plugin/adapters/freqtrade_compat.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from types import ModuleType

from freqtrade.resolvers import PairListResolver, ProtectionResolver
from pair_db_support import add_trade, open_database

from freqtrade_quant_plugin.adapters import freqtrade_compat
from freqtrade_quant_plugin.adapters.freqtrade_plugins.symbol_performance_filter import (
    SymbolPerformanceFilter,
)

# IPairList's abstract members up to Freqtrade 2026.2 (needstickers got a default in 2026.3).
OLD_IPAIRLIST_ABSTRACT = ("needstickers", "short_desc", "description")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter of this venv: the start-up hook as a user's process has it."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=180
    )


def test_hyperopt_of_older_releases_finds_joblibs_cloudpickle():
    """Releases up to 2026.8 run `from joblib.externals import cloudpickle` in hyperopt."""
    result = run_python(
        """
        import importlib.util, sys
        vendored = importlib.util.find_spec("joblib.externals.cloudpickle") is not None
        import freqtrade.optimize
        from joblib.externals import cloudpickle
        if vendored:  # joblib < 1.6: its own copy, which its workers pickle with
            assert cloudpickle.__name__ == "joblib.externals.cloudpickle", cloudpickle
        else:  # joblib >= 1.6: the standalone package joblib itself uses
            import cloudpickle as standalone
            assert cloudpickle is standalone, cloudpickle
            assert sys.modules["joblib.externals.cloudpickle"] is standalone
        assert hasattr(cloudpickle, "register_pickle_by_value")
        print("vendored" if vendored else "standalone")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() in ("vendored", "standalone")


def test_joblib_is_left_alone_outside_freqtrades_optimize():
    result = run_python(
        """
        import sys, joblib.externals
        assert "joblib.externals.cloudpickle" not in sys.modules
        import freqtrade.constants
        assert "joblib.externals.cloudpickle" not in sys.modules
        """
    )
    assert result.returncode == 0, result.stderr


def test_alias_fills_only_a_missing_cloudpickle(monkeypatch):
    import cloudpickle

    monkeypatch.delitem(sys.modules, "joblib.externals.cloudpickle", raising=False)
    monkeypatch.setattr(freqtrade_compat.importlib.util, "find_spec", lambda name: None)
    externals = ModuleType("joblib.externals")
    freqtrade_compat.alias_vendored_cloudpickle(externals)
    assert externals.cloudpickle is cloudpickle
    assert sys.modules["joblib.externals.cloudpickle"] is cloudpickle

    vendored = ModuleType("joblib.externals.cloudpickle")
    monkeypatch.setitem(sys.modules, "joblib.externals.cloudpickle", vendored)
    untouched = ModuleType("joblib.externals")
    freqtrade_compat.alias_vendored_cloudpickle(untouched)
    assert not hasattr(untouched, "cloudpickle")
    assert sys.modules["joblib.externals.cloudpickle"] is vendored


def test_protection_answers_releases_with_and_without_starting_balance(tmp_path):
    """Before 2026.2 Freqtrade calls the protection without `starting_balance`."""
    open_database(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0, stop=95.0)
    config = {
        "timeframe": "1h",
        "stake_currency": "USDT",
        "quant": {"symbol_performance": {"consecutive_loss_disable_threshold": 2}},
    }
    protection = ProtectionResolver.load_protection(
        "SymbolPerformanceProtection", config, {"method": "SymbolPerformanceProtection"}
    )
    now = datetime(2024, 1, 2, tzinfo=UTC)
    old_style = protection.stop_per_pair(pair="ETH/USDT", date_now=now, side="long")
    new_style = protection.stop_per_pair(
        pair="ETH/USDT", date_now=now, side="long", starting_balance=1000.0
    )
    assert old_style.lock and old_style == new_style
    assert protection.global_stop(date_now=now, side="long") is None


def test_filter_implements_what_older_releases_require(tmp_path):
    """Up to 2026.2 a pairlist without its own `needstickers` cannot be instantiated."""
    assert all(name in vars(SymbolPerformanceFilter) for name in OLD_IPAIRLIST_ABSTRACT)
    open_database(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    pairlist = PairListResolver.load_pairlist(
        "SymbolPerformanceFilter",
        exchange=None,
        pairlistmanager=None,
        config={"timeframe": "1h", "stake_currency": "USDT", "quant": {}},
        pairlistconfig={"method": "SymbolPerformanceFilter"},
        pairlist_pos=1,
    )
    assert pairlist.needstickers is False
