"""Levels of a planned Cerebros network: rows of units side by side.

After ``NeuralNetworkFuture.plan()``, ``future.levels_unmaterialized`` lists one level per
spec level (an :class:`InputLevel`, :class:`DenseLevel` s and a :class:`FinalDenseLevel`),
each holding its planned units in ``parallel_units``, as in the original design.  Levels
are descriptions; the Keras layers are built by :mod:`cerebros.materialize`.
"""

from __future__ import annotations

from typing import Any, Sequence

from cerebros.spec import DenseUnit, FinalDenseUnit, InputUnit, Unit

__all__ = ["Level", "InputLevel", "DenseLevel", "FinalDenseLevel", "levels_from_plan"]


class Level:
    """A level of units side by side.

    Parameters
    ----------
    level_number : int
        Position of the level (0 for inputs).
    parallel_units : sequence of Unit, optional
        The level's units in unit-id order.
    """

    unit_class: type[Unit] = Unit

    def __init__(self, level_number: int, parallel_units: Sequence[Unit] = (),
                 **kwargs: Any) -> None:
        self.level_number = int(level_number)
        self.parallel_units = list(parallel_units)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level_number={self.level_number}, units={len(self.parallel_units)})"


class InputLevel(Level):
    """Level 0: one :class:`~cerebros.units.units.InputUnit` per network input."""

    unit_class = InputUnit


class DenseLevel(Level):
    """A hidden level of :class:`~cerebros.units.units.DenseUnit` s."""

    unit_class = DenseUnit


class FinalDenseLevel(Level):
    """The last level: one :class:`~cerebros.units.units.FinalDenseUnit` per output."""

    unit_class = FinalDenseUnit


def levels_from_plan(plan, name_prefix: str = "") -> list[Level]:
    """Describe a :class:`~cerebros.wiring.WiringPlan` as levels of linked units."""
    final = plan.n_levels - 1
    classes = [InputLevel] + [DenseLevel] * (final - 1) + [FinalDenseLevel]
    levels = []
    for number, widths in enumerate(plan.widths):
        level_class = classes[number]
        units = [level_class.unit_class(w, number, i, name=f"{name_prefix}{level_class.unit_class.kind}_{number}_{i}")
                 for i, w in enumerate(widths)]
        levels.append(level_class(number, units))
    for c in plan.connections:
        target = levels[c.target[0]].parallel_units[c.target[1]]
        source = levels[c.source[0]].parallel_units[c.source[1]]
        if c.kind == "lateral":
            target.lateral_connectivity_future.append(source)
            target.gated_lateral_connectivity_future.append(c.gated)
        else:
            target.predecessor_connectivity_future.append(source)
    return levels
