"""Composing the plugin with a user's strategy: callbacks chained, settings, columns, start-up."""
