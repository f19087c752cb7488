"""Unit types of a Cerebros spec (original import path ``cerebros.units.units``)."""
