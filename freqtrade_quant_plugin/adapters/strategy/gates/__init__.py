"""The gates layer: entries refused inside the strategy (disabled pair, stale candles, failure)."""
