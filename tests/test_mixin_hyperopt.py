"""`freqtrade hyperopt -j 2` of every plain strategy in tests/strategies_any composed with
QuantMixin (`class XQuant(QuantMixin, X): pass`, the mixin's default exit mode `none`).

Freqtrade's default spaces (buy, sell, roi, stoploss) with `--ignore-missing-spaces`:
buy and sell apply only to HyperoptParams, the one strategy with parameters of its own
(Freqtrade refuses a space without parameters unless told to leave it out, and says so in a
warning, checked here); roi and stoploss apply to every strategy, whatever its exits (a
custom_stoploss or custom_exit strategy still has a static stoploss and a ROI table).
ShortFutures runs on synthetic futures candles (mixin_support.futures_market).

Each run: exit 0, no Traceback or pickle error, the requested epochs in the .fthypt file,
the spaces' parameters in every epoch, and the epochs evaluated in worker processes: a probe
subclass of the composed class notes the process that set the strategy up (bot_start) and
each process that computed signals (populate_entry_trend, which hyperopt runs per epoch).
Small on purpose (one pair, three weeks, two epochs): issue 17's suite budget; the twelve
runs are split in two classes that a parallel run can give to two workers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from freqtrade_support import output_of, run_freqtrade, start_offline_server, write_freqtrade_config
from mixin_support import FUTURES, FUTURES_PAIR, STRATEGIES, futures_datadir, write_strategies

pytestmark = pytest.mark.freqtrade

EPOCHS = 2
TIMERANGE = "20240301-20240322"
SPOT_PAIR = "BTC/USDT"
MISSING_SPACE = "The '{space}' space is included into the hyperoptimization"

PROBE = """

import os as _os
from pathlib import Path as _Path

_PIDS = _Path({pid_dir!r})


class {name}QuantProbe({name}Quant):
    \"\"\"The composed class as is, noting which process set it up and which computed signals.\"\"\"

    def bot_start(self, **kwargs) -> None:
        super().bot_start(**kwargs)
        (_PIDS / f"setup-{{_os.getpid()}}").touch()

    def populate_entry_trend(self, dataframe, metadata):
        (_PIDS / f"signals-{{_os.getpid()}}").touch()
        return super().populate_entry_trend(dataframe, metadata)
"""


@pytest.fixture(scope="module")
def futures_market(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """ShortFutures' data dir and an offline server on it."""
    datadir = futures_datadir(tmp_path_factory)
    server = start_offline_server(datadir)
    yield datadir, server
    server.stop()


def _pids(folder: Path, kind: str) -> set[str]:
    return {path.name.split("-")[1] for path in folder.glob(f"{kind}-*")}


def _hyperopt_with_two_workers(stem: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    name = STRATEGIES[stem]
    pid_dir = tmp_path / "pids"
    pid_dir.mkdir()
    userdir = tmp_path / "user_data"
    probe = PROBE.format(name=name, pid_dir=str(pid_dir))
    folder = write_strategies(userdir / "strategies", (stem,), append={stem: probe})
    if stem == "short_futures":
        datadir, server = request.getfixturevalue("futures_market")
        overrides, pair = FUTURES, FUTURES_PAIR
    else:
        datadir = request.getfixturevalue("market_datadir")
        server = request.getfixturevalue("offline_server")
        overrides, pair = {}, SPOT_PAIR
    config = write_freqtrade_config(
        tmp_path / "config.json",
        server.port,
        {**overrides, "exchange": {"pair_whitelist": [pair]}, "stake_amount": 100,
         "dry_run_wallet": 10000},
    )  # fmt: skip
    completed = run_freqtrade(
        ["hyperopt", "--config", config, "--userdir", userdir, "--datadir", datadir,
         "--strategy-path", folder, "--strategy", f"{name}QuantProbe", "--timerange", TIMERANGE,
         "--hyperopt-loss", "SharpeHyperOptLoss", "--ignore-missing-spaces",
         "-e", str(EPOCHS), "-j", "2", "--random-state", "3", "--disable-param-export"],
        cwd=tmp_path,
        timeout=600,
    )  # fmt: skip
    output = output_of(completed)
    assert completed.returncode == 0, output[-4000:]
    assert "Traceback" not in output and "pickle" not in output.lower(), output[-4000:]
    assert "Effective number of parallel workers used: 2" in output, output[-4000:]
    assert "quant.exits.mode 'none'" in output, output[-4000:]

    own_spaces = stem == "hyperopt_params"
    for space in ("buy", "sell"):  # only HyperoptParams has parameters for them
        assert (MISSING_SPACE.format(space=space) in output) is not own_spaces, output[-4000:]
    (results,) = (userdir / "hyperopt_results").glob("*.fthypt")
    epochs = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    assert len(epochs) == EPOCHS
    for epoch in epochs:
        params = epoch["params_dict"]
        assert "stoploss" in params and "roi_t1" in params, params
        assert ("buy_rsi" in params) is own_spaces, params

    setup, signals = _pids(pid_dir, "setup"), _pids(pid_dir, "signals")
    assert setup and signals, (setup, signals)
    assert not setup & signals, (setup, signals)  # signals came from the workers only


# Two classes: a parallel run (`--dist loadscope`) hands each to a worker of its own.
FIRST_HALF = list(STRATEGIES)[:6]
SECOND_HALF = list(STRATEGIES)[6:]


class TestFirstHalf:
    @pytest.mark.parametrize("stem", FIRST_HALF)
    def test_composed_strategy_hyperopts_with_two_workers(
        self, stem: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        _hyperopt_with_two_workers(stem, tmp_path, request)


class TestSecondHalf:
    @pytest.mark.parametrize("stem", SECOND_HALF)
    def test_composed_strategy_hyperopts_with_two_workers(
        self, stem: str, tmp_path: Path, request: pytest.FixtureRequest
    ) -> None:
        _hyperopt_with_two_workers(stem, tmp_path, request)
