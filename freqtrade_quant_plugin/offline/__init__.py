"""Offline Binance-compatible market server: lets Freqtrade run with no internet."""
