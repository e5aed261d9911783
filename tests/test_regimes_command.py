"""`freqtrade-quant regimes`: regime shares and latest labels of a pair's stored candles."""

import re
from pathlib import Path

import numpy as np
import pandas as pd

from freqtrade_quant_plugin.cli import main
from freqtrade_quant_plugin.core.regime import REGIMES, UNKNOWN
from freqtrade_quant_plugin.synth import write_synthetic_data


def test_prints_regime_shares_and_latest_labels(tmp_path: Path, capsys) -> None:
    write_synthetic_data(tmp_path, ["BTC/USDT"], ["1h"], seed=7, start="2024-01-01", days=60)
    code = main(["regimes", "--datadir", str(tmp_path), "--pair", "BTC/USDT", "--tail", "3"])
    out = capsys.readouterr().out
    assert code == 0
    assert "BTC/USDT 1h: 1440 candles" in out
    assert UNKNOWN in out  # the warm-up rows
    assert sum(label in out for label in REGIMES) >= 3
    assert len(out.strip().splitlines()[-3:]) == 3


def test_missing_file_is_explained(tmp_path: Path, capsys) -> None:
    assert main(["regimes", "--datadir", str(tmp_path), "--pair", "ETH/USDT"]) == 2
    assert "No candles for ETH/USDT 1h" in capsys.readouterr().out


def _dirty_copy(datadir: Path) -> tuple[int, str]:
    """Append 200 duplicated candles and blank 5 rows, as a careless merge of downloads does.

    Returns the true number of candles and the date of the true last candle.
    """
    path = datadir / "BTC_USDT-1h.feather"
    clean = pd.read_feather(path)
    dirty = pd.concat([clean, clean.iloc[600:800]], ignore_index=True)
    dirty.loc[900:904, ["open", "high", "low", "close", "volume"]] = np.nan
    dirty.to_feather(path)
    return len(clean), str(clean["date"].iloc[-1])


def test_reads_candles_the_way_freqtrade_does(tmp_path: Path, capsys) -> None:
    """Issue 8, defect 11: duplicates, appended old candles and NaN rows are cleaned."""
    write_synthetic_data(tmp_path, ["BTC/USDT"], ["1h"], seed=7, start="2024-01-01", days=60)
    main(["regimes", "--datadir", str(tmp_path), "--pair", "BTC/USDT", "--tail", "1"])
    clean_out = capsys.readouterr().out
    candles, last_date = _dirty_copy(tmp_path)

    code = main(["regimes", "--datadir", str(tmp_path), "--pair", "BTC/USDT", "--tail", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"BTC/USDT 1h: {candles} candles" in out  # the duplicates are not counted
    assert out.strip().splitlines()[-1].startswith(last_date)  # the true latest candle
    # NaN rows become flat candles, as in a backtest: only the warm-up stays UNKNOWN.
    unknown_share = re.search(r"UNKNOWN\s+([\d.]+)", out)
    assert unknown_share is not None
    assert unknown_share.group(1) == re.search(r"UNKNOWN\s+([\d.]+)", clean_out).group(1)


def test_uses_the_settings_of_a_config_file_and_the_environment(
    tmp_path: Path, capsys, monkeypatch
) -> None:
    write_synthetic_data(tmp_path, ["BTC/USDT"], ["1h"], seed=7, start="2024-01-01", days=60)
    config = tmp_path / "config.json"
    config.write_text('{"quant": {"regime": {"percentile_window": 100}}}')
    args = ["regimes", "--datadir", str(tmp_path), "--tail", "1"]
    main(args)
    default_unknown = re.search(r"UNKNOWN\s+([\d.]+)", capsys.readouterr().out).group(1)
    assert main([*args, "--config", str(config)]) == 0
    short_unknown = re.search(r"UNKNOWN\s+([\d.]+)", capsys.readouterr().out).group(1)
    assert float(short_unknown) < float(default_unknown)  # a shorter warm-up

    monkeypatch.setenv("REGIME_PERCENTILE_WINDOW", "1")
    assert main([*args, "--config", str(config)]) == 2
    assert "REGIME_PERCENTILE_WINDOW" in capsys.readouterr().out
    monkeypatch.delenv("REGIME_PERCENTILE_WINDOW")
    assert main([*args, "--config", str(tmp_path / "missing.json")]) == 2
    assert "not found" in capsys.readouterr().out
