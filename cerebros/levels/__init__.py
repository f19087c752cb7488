"""Level types (original import path ``cerebros.levels.levels``)."""
