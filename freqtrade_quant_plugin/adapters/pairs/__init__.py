"""Per-pair state from the trade DB: symbol performance, pair locks, paper trades."""
