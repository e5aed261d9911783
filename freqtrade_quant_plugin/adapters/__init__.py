"""Freqtrade adapters: the only layer of the plugin that imports `freqtrade`."""
