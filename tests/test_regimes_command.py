"""`freqtrade-quant regimes`: regime shares and latest labels of a pair's stored candles."""

from pathlib import Path

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
