"""What the plugin writes down: entry state, trade records, entry summary; export and read-back."""
