"""`use_custom_stoploss` switched on in the config (Freqtrade lets the config override the
strategy's attribute): the strategy's own custom_stoploss runs as it does without the plugin.

Freqtrade applies the config after the strategy's `__init__`; the plugin must judge
whether the user's custom_stoploss is in force from the config too, not from the class
attribute alone, or it silently drops the user's stop.
"""

from __future__ import annotations

from collections import Counter

import pytest
from mixin_support import run_backtest

pytestmark = pytest.mark.freqtrade

CONFIG_STOP = """

class ConfigStop(OwnCustomStoploss):
    use_custom_stoploss = False  # the config switches it on


class ConfigStopQuant(QuantMixin, ConfigStop):
    pass
"""


def test_the_configs_use_custom_stoploss_keeps_the_users_stop(
    tmp_path, offline_server, market_datadir
):
    names = ["ConfigStop", "ConfigStopQuant"]
    run = run_backtest(
        tmp_path, market_datadir, offline_server.port, names,
        pairs=["BTC/USDT", "ETH/USDT"], timerange="20240301-20240501",
        stems=("own_custom_stoploss",), append={"own_custom_stoploss": CONFIG_STOP},
        overrides={"use_custom_stoploss": True},
    )  # fmt: skip
    plain, quant = (run.trades[name] for name in names)
    reasons = Counter(t["exit_reason"] for t in plain)
    assert reasons["trailing_stop_loss"] > 0, reasons  # the user's stop moved and acted
    keys = ("pair", "open_date", "close_date", "exit_reason")
    assert [tuple(t[k] for k in keys) for t in quant] == [tuple(t[k] for k in keys) for t in plain]
