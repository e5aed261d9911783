"""Argument parsing and entry points of the `freqtrade-quant` subcommands."""
