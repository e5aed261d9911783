"""Composing the plugin with a user's strategy: `QuantMixin` and the callbacks it chains."""
