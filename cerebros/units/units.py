"""Unit kinds under the original import path ``cerebros.units.units``.

The classes live in :mod:`cerebros.spec`; this face keeps existing notebooks'
``from cerebros.units.units import DenseUnit`` working.
"""

from cerebros.spec import DenseUnit, FinalDenseUnit, InputUnit, Unit

__all__ = ["Unit", "InputUnit", "DenseUnit", "FinalDenseUnit"]
