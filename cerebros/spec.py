"""Network specs: the original's hand-writable format, its validation, and random sampling.

A spec maps consecutive level numbers (as strings) to lists of units, each unit a one-key
dict ``{"<n_neurons>": UnitClass}``::

    {"0": [{"1": InputUnit}],                    # one unit per input
     "1": [{"4": DenseUnit}, {"2": DenseUnit}],  # a level of two units, 4 and 2 neurons
     "2": [{"1": FinalDenseUnit}]}               # one unit per output, key = output width

The unit kinds (:class:`InputUnit`, :class:`DenseUnit`, :class:`FinalDenseUnit`) live here,
the first stage of the flow; ``cerebros.units.units`` re-exports them under the original
import path.  This module is pure Python: it knows nothing of wiring, Keras or files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["NetworkSpec", "parse_spec", "sample_spec", "normalize_shapes",
           "Unit", "InputUnit", "DenseUnit", "FinalDenseUnit"]


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


@dataclass(frozen=True)
class NetworkSpec:
    """A validated spec: the width of every unit, level by level.

    ``widths[0]`` are the input widths, ``widths[-1]`` the output widths and the levels in
    between the hidden units' neuron counts.
    """

    widths: tuple[tuple[int, ...], ...]

    @property
    def n_levels(self) -> int:
        """Number of levels including the input level."""
        return len(self.widths)

    def kind(self, level: int) -> str:
        """``"input"``, ``"dense"`` or ``"final"`` for a level number."""
        if level == 0:
            return "input"
        return "final" if level == self.n_levels - 1 else "dense"

    def to_original(self, unit_type: type[Unit] = DenseUnit) -> dict[str, list[dict[str, type]]]:
        """Return the spec in the original dict format."""
        classes = {"input": InputUnit, "dense": unit_type, "final": FinalDenseUnit}
        return {str(k): [{str(w): classes[self.kind(k)]} for w in level]
                for k, level in enumerate(self.widths)}


def _width(shape: Any, argument: str, index: int) -> int:
    """Width of one input or output shape given as an int, ``(n,)`` or ``[n]``."""
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        dims: tuple = (int(shape),)
    elif isinstance(shape, (tuple, list)) and all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) for d in shape):
        dims = tuple(int(d) for d in shape)
    else:
        raise ValueError(f"{argument}[{index}] must be an int or a 1-D shape tuple such as (38,); "
                         f"got {shape!r}.")
    if len(dims) != 1 or dims[0] < 1:
        raise ValueError(f"{argument}[{index}] must be a 1-D shape with a positive width, such as "
                         f"(38,); got {shape!r}. Flatten multi-dimensional inputs first.")
    return dims[0]


def normalize_shapes(shapes: Sequence[Any], argument: str) -> tuple[int, ...]:
    """Turn ``input_shapes`` / ``output_shapes`` into a tuple of widths, validating them."""
    if isinstance(shapes, (int, np.integer)) or not isinstance(shapes, (list, tuple)) or not shapes:
        raise ValueError(f"{argument} must be a non-empty list with one shape per "
                         f"{'input' if 'input' in argument else 'output'}, such as [(38,)]; "
                         f"got {shapes!r}.")
    return tuple(_width(s, argument, i) for i, s in enumerate(shapes))


def _unit_width(entry: Any, level: str, position: int) -> tuple[int, Any]:
    where = f"neural_network_spec[{level!r}][{position}]"
    if not isinstance(entry, Mapping) or len(entry) != 1:
        raise ValueError(f"{where} must be a one-key dict such as {{'4': DenseUnit}}; got {entry!r}.")
    (key, unit_class), = entry.items()
    try:
        width = int(key)
        if str(width) != str(key).strip() and not isinstance(key, (int, np.integer)):
            raise ValueError
    except (TypeError, ValueError):
        raise ValueError(f"{where}: the key must be a whole number of neurons such as '4'; "
                         f"got {key!r}.") from None
    if width < 1:
        raise ValueError(f"{where}: a unit needs at least 1 neuron; got {width}.")
    if not (isinstance(unit_class, type) and issubclass(unit_class, Unit)):
        raise ValueError(f"{where}: the value must be a unit class (InputUnit, DenseUnit or "
                         f"FinalDenseUnit); got {unit_class!r}.")
    return width, unit_class


def parse_spec(neural_network_spec: Mapping[Any, Any], input_shapes: Sequence[Any],
               output_shapes: Sequence[Any]) -> NetworkSpec:
    """Validate a spec in the original format against the input and output shapes.

    Raises
    ------
    ValueError
        Naming the argument, the value received and what is allowed: a spec without "0",
        levels that are not consecutive, an empty level, a neuron count below 1, a unit
        class in the wrong place, or a spec that does not match the shapes.
    """
    if not isinstance(neural_network_spec, Mapping):
        raise ValueError("neural_network_spec must be a dict mapping level numbers ('0', '1', ...) "
                         f"to lists of units; got {type(neural_network_spec).__name__}.")
    levels: dict[int, Any] = {}
    for key, units in neural_network_spec.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"neural_network_spec: level keys must be whole numbers such as '0', "
                             f"'1'; got {key!r}.") from None
        if number in levels:
            raise ValueError(f"neural_network_spec: level {number} is given twice.")
        levels[number] = units
    if 0 not in levels:
        raise ValueError("neural_network_spec has no level '0': level '0' must list one InputUnit "
                         "per input, e.g. {'0': [{'1': InputUnit}], ...}.")
    numbers = sorted(levels)
    if numbers != list(range(len(numbers))):
        raise ValueError(f"neural_network_spec: levels must be consecutive from '0'; got "
                         f"{[str(n) for n in numbers]}.")
    if len(numbers) < 2:
        raise ValueError("neural_network_spec needs at least level '0' (inputs) and a final level "
                         "of FinalDenseUnit (outputs).")
    in_widths = normalize_shapes(input_shapes, "input_shapes")
    out_widths = normalize_shapes(output_shapes, "output_shapes")
    last = numbers[-1]
    widths: list[tuple[int, ...]] = []
    for number in numbers:
        units = levels[number]
        if not isinstance(units, (list, tuple)) or not units:
            raise ValueError(f"neural_network_spec[{str(number)!r}] must be a non-empty list of "
                             f"units; got {units!r}.")
        parsed = [_unit_width(u, str(number), i) for i, u in enumerate(units)]
        classes = [c for _, c in parsed]
        if number == 0:
            expected, allowed = InputUnit, "InputUnit"
        elif number == last:
            expected, allowed = FinalDenseUnit, "FinalDenseUnit"
        else:
            expected, allowed = DenseUnit, "DenseUnit (not FinalDenseUnit)"
        for i, c in enumerate(classes):
            wrong = not issubclass(c, expected) or (
                0 < number < last and issubclass(c, FinalDenseUnit))
            if wrong:
                raise ValueError(f"neural_network_spec[{str(number)!r}][{i}] is {c.__name__}; "
                                 f"level {number} takes {allowed}.")
        widths.append(tuple(w for w, _ in parsed))
    if len(widths[0]) != len(in_widths):
        raise ValueError(f"neural_network_spec['0'] has {len(widths[0])} InputUnit(s) but "
                         f"input_shapes has {len(in_widths)} shape(s); give one per input.")
    if len(widths[-1]) != len(out_widths):
        raise ValueError(f"neural_network_spec[{str(last)!r}] has {len(widths[-1])} "
                         f"FinalDenseUnit(s) but output_shapes has {len(out_widths)}; give one per "
                         "output.")
    for i, (spec_w, shape_w) in enumerate(zip(widths[-1], out_widths)):
        if spec_w != shape_w:
            raise ValueError(f"neural_network_spec[{str(last)!r}][{i}] has width {spec_w} but "
                             f"output_shapes[{i}] is {shape_w}; a final unit's key is its output "
                             "width.")
    widths[0] = in_widths
    return NetworkSpec(tuple(widths))


def sample_spec(rng: np.random.Generator, input_widths: Sequence[int],
                output_widths: Sequence[int], levels: tuple[int, int],
                units_per_level: tuple[int, int], neurons_per_unit: tuple[int, int]) -> NetworkSpec:
    """Draw a random spec, as the original search did.

    The number of levels counts the dense levels including the final one, drawn uniformly
    from ``levels`` (inclusive); each hidden level gets a unit count from ``units_per_level``
    and each unit a neuron count from ``neurons_per_unit``.  Runs in O(levels × units).
    """
    n_levels = int(rng.integers(levels[0], levels[1] + 1))
    hidden = []
    for _ in range(n_levels - 1):
        n_units = int(rng.integers(units_per_level[0], units_per_level[1] + 1))
        hidden.append(tuple(int(w) for w in rng.integers(
            neurons_per_unit[0], neurons_per_unit[1] + 1, size=n_units)))
    return NetworkSpec((tuple(input_widths), *hidden, tuple(output_widths)))
