"""Unit types: the values of a Cerebros network spec, and the planned units of a future.

In a spec, each unit is written ``{"<n_neurons>": UnitClass}``: ``InputUnit`` on level "0",
``DenseUnit`` on hidden levels and ``FinalDenseUnit`` on the last level.  After
``NeuralNetworkFuture.plan()`` the future's levels hold instances of these classes that
describe what was planned (name, neurons, and which units feed each one), as the original's
units did; they hold no Keras objects.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Unit", "InputUnit", "DenseUnit", "FinalDenseUnit"]


class Unit:
    """A unit of a Cerebros network: one input, or one Dense block side by side with others.

    Parameters
    ----------
    n_neurons : int
        Width of the unit's output (for an input unit, the width of the input).
    level_number : int
        The level the unit sits on (0 for inputs).
    unit_id : int
        Position of the unit on its level, from 0.
    name : str, optional
        Display name; defaults to ``"<kind>_<level>_<unit>"``.
    """

    kind = "unit"

    def __init__(self, n_neurons: int, level_number: int, unit_id: int,
                 name: str | None = None, **kwargs: Any) -> None:
        self.n_neurons = int(n_neurons)
        self.level_number = int(level_number)
        self.unit_id = int(unit_id)
        self.name = name or f"{self.kind}_{self.level_number}_{self.unit_id}"
        self.predecessor_connectivity_future: list[Unit] = []
        self.lateral_connectivity_future: list[Unit] = []
        self.gated_lateral_connectivity_future: list[bool] = []

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(n_neurons={self.n_neurons}, "
                f"level_number={self.level_number}, unit_id={self.unit_id})")


class InputUnit(Unit):
    """An input of the network; its width comes from ``input_shapes``."""

    kind = "input"


class DenseUnit(Unit):
    """A hidden unit: Concatenate → BatchNormalization (or Dropout) → Dense."""

    kind = "dense"


class FinalDenseUnit(DenseUnit):
    """An output unit: the same block, ending in Dense(output width, final_activation)."""

    kind = "final"
