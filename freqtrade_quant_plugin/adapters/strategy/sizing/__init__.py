"""The sizing layer: risk and regime sizing, cost gate, leverage, exchange fees and minimums."""
