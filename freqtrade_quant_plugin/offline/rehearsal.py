"""Live rehearsal: the offline server with a simulated Binance account behind signed keys.

`freqtrade-quant serve --replay --live` runs a real `freqtrade trade` (dry_run false) on
the replayed market: its orders reach this account, fill against the replayed candles
and survive a restart of the server, so the live-only paths of Freqtrade and the plugin
(exchange stops, cancels, partial fills, exchange errors, restarts with open orders) can
be rehearsed before real keys are used.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from freqtrade_quant_plugin.offline.account import ACCOUNT_FILE_NAME
from freqtrade_quant_plugin.offline.api import OfflineBinanceApi
from freqtrade_quant_plugin.offline.exchange_sim import SimulatedExchange
from freqtrade_quant_plugin.offline.faults import Faults
from freqtrade_quant_plugin.offline.signed_api import RehearsalApi
from freqtrade_quant_plugin.offline.signing import Credentials

DEFAULT_WALLET = 10_000.0


@dataclass(frozen=True)
class LiveRehearsal:
    """Options of the simulated account (`account_state` default: DATADIR/offline-account.json)."""

    wallet: float = DEFAULT_WALLET
    currency: str = "USDT"
    account_state: Path | None = None
    credentials: Credentials = field(default_factory=Credentials)
    faults: Faults = field(default_factory=Faults)


def rehearsal_api(
    public: OfflineBinanceApi, live: LiveRehearsal, datadir: Path, now_ms: Callable[[], int]
) -> RehearsalApi:
    path = live.account_state or datadir / ACCOUNT_FILE_NAME
    exchange = SimulatedExchange(public, path, live.wallet, live.currency, live.faults, now_ms)
    return RehearsalApi(public, exchange, live.credentials, now_ms)
