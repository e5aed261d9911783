"""The exits layer: stop stages, take-profit and time exits by mode, passed stops, lost state."""
