"""The pairlist filter and protection, found by plain Freqtrade through the start-up hook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from freqtrade.exceptions import ConfigurationError, OperationalException
from freqtrade.persistence import PairLocks
from freqtrade.resolvers import PairListResolver, ProtectionResolver
from freqtrade_support import create_user_data, output_of, run_freqtrade
from pair_db_support import add_trade, open_database

from freqtrade_quant_plugin.adapters import freqtrade_registration as registration
from freqtrade_quant_plugin.adapters.pairs.pair_locks import lock_reason, release_pair_lock

QUANT = {"symbol_performance": {"consecutive_loss_disable_threshold": 2}}
CONFIG = {"timeframe": "1h", "quant": QUANT, "stake_currency": "USDT"}


def test_pairlist_names_are_added_once_and_checked():
    module = ModuleType("freqtrade.constants")
    module.AVAILABLE_PAIRLISTS = ["StaticPairList"]
    registration.install_pairlist_names(module)
    registration.install_pairlist_names(module)
    assert module.AVAILABLE_PAIRLISTS == ["StaticPairList", "SymbolPerformanceFilter"]
    with pytest.raises(TypeError, match="AVAILABLE_PAIRLISTS"):
        registration.install_pairlist_names(ModuleType("freqtrade.constants"))


def test_resolver_patch_refuses_changed_internals():
    class Resolver:
        @classmethod
        def build_search_paths(cls, config, extra_dirs=None):
            return []

    module = ModuleType("freqtrade.resolvers.pairlist_resolver")
    module.PairListResolver = Resolver
    with pytest.raises(TypeError, match="changed"):
        registration.install_resolver_paths(module)
    with pytest.raises(ValueError, match="no resolver"):
        registration.install_resolver_paths(ModuleType("freqtrade.resolvers.other"))


def test_freqtrade_imported_here_is_patched():
    import freqtrade.constants

    assert "SymbolPerformanceFilter" in freqtrade.constants.AVAILABLE_PAIRLISTS
    for resolver in (PairListResolver, ProtectionResolver):
        paths = resolver.build_search_paths({"user_data_dir": Path()}, user_subdir=None)
        assert paths[0] == resolver.initial_search_path  # Freqtrade's own classes first
        assert paths[-1] == registration.PLUGIN_FOLDER


def test_filter_drops_disabled_pairs_and_protection_locks_them(tmp_path, caplog):
    open_database(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    config = {
        **CONFIG,
        "quant": {
            "symbol_performance": {
                "consecutive_loss_disable_threshold": 2,
                "min_trades_for_adjustment": 3,
            }
        },
    }
    for minute in (0, 60):
        add_trade("ETH/USDT", minute, profit=-1.0, stop=95.0)  # -1 over 5: -0.2 R
    add_trade("BTC/USDT", 30, profit=1.0)
    pairlist = PairListResolver.load_pairlist(
        "SymbolPerformanceFilter",
        exchange=None,
        pairlistmanager=None,
        config=config,
        pairlistconfig={"method": "SymbolPerformanceFilter"},
        pairlist_pos=1,
    )
    with caplog.at_level("INFO"):
        kept = pairlist.filter_pairlist(["BTC/USDT", "ETH/USDT", "SOL/USDT"], {})
    assert kept == ["BTC/USDT", "SOL/USDT"]
    assert "Removed ETH/USDT from whitelist" in caplog.text
    assert "2 consecutive losses (win rate 0%, average R -0.20" in caplog.text

    protection = ProtectionResolver.load_protection(
        "SymbolPerformanceProtection", config, {"method": "SymbolPerformanceProtection"}
    )
    now = datetime(2024, 1, 2, tzinfo=UTC)
    assert protection.stop_per_pair("BTC/USDT", now, "long", 1000.0) is None
    assert protection.global_stop(now, "long", 1000.0) is None
    lock = protection.stop_per_pair("ETH/USDT", now, "long", 1000.0)
    assert lock.lock and lock.until > now + timedelta(days=3000)
    assert lock.reason.startswith("Symbol performance: 2 consecutive losses")
    with pytest.raises(OperationalException, match="stop_duration") as raised:
        ProtectionResolver.load_protection(
            "SymbolPerformanceProtection",
            config,
            {"method": "SymbolPerformanceProtection", "stop_duration": 60},
        )
    assert not isinstance(raised.value, ConfigurationError)  # Freqtrade exits 0 on that one


def test_release_lifts_only_symbol_performance_locks(tmp_path):
    open_database(f"sqlite:///{tmp_path / 'trades.sqlite'}")
    PairLocks.use_db, PairLocks.timeframe = True, "1h"
    now = datetime(2024, 1, 2, tzinfo=UTC)
    PairLocks.lock_pair("ETH/USDT", now + timedelta(days=10), lock_reason("3 losses"), now=now)
    PairLocks.lock_pair("ETH/USDT", now + timedelta(days=1), "user lock", now=now)
    assert release_pair_lock("ETH/USDT", now) == 1
    assert [lock.reason for lock in PairLocks.get_pair_locks("ETH/USDT", now)] == ["user lock"]


@pytest.mark.freqtrade
def test_plain_freqtrade_test_pairlist_loads_the_filter(tmp_path, freqtrade_config):
    userdir = create_user_data(tmp_path)
    config = freqtrade_config(
        {"pairlists": [{"method": "StaticPairList"}, {"method": "SymbolPerformanceFilter"}]}
    )
    completed = run_freqtrade(
        ["test-pairlist", "-c", config, "--userdir", userdir], cwd=tmp_path, timeout=180
    )
    output = output_of(completed)
    assert completed.returncode == 0, output[-3000:]
    assert "Using resolved pairlist SymbolPerformanceFilter" in output
    assert "['BTC/USDT', 'ETH/USDT', 'SOL/USDT']" in completed.stdout
