"""The pure core: numbers and DataFrames in, decisions out. Nothing here imports Freqtrade."""
