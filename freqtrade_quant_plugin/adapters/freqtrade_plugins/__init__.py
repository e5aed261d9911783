"""Freqtrade plugin classes, loaded by Freqtrade's own resolvers from this folder.

Freqtrade imports these files by path (as top-level modules named after the file), so
they keep no state of their own: everything they read lives in adapters.pairs.pair_tracker.
"""
