"""The fills layer: entry state and trade record at each fill, position adds and partial exits."""
