"""Argument checks shared by every stage, with one message format.

Each check raises ``ValueError("<name> must be <what is allowed>; got <value>.")`` and
returns the value in a canonical type (a numpy integer becomes an ``int``, and so on), so
callers validate and normalize in one step.  Pure Python: no numpy types are required, no
TensorFlow is imported.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Sequence

__all__ = ["check_int", "check_number", "check_bool", "check_choice", "check_range",
           "check_widths", "check_direction", "check_random_state", "DIRECTIONS"]

DIRECTIONS = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}


def _fail(name: str, allowed: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {allowed}; got {value!r}.")


def check_int(name: str, value: Any, minimum: int | None = None,
              maximum: int | None = None) -> int:
    """``value`` as an ``int`` (Python and numpy integers; not bools, not floats) within
    ``[minimum, maximum]`` (either bound may be None)."""
    if minimum is not None and maximum is not None:
        allowed = f"an int in [{minimum}, {maximum}]"
    elif minimum is not None:
        allowed = f"an int >= {minimum}"
    elif maximum is not None:
        allowed = f"an int <= {maximum}"
    else:
        allowed = "an int"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise _fail(name, allowed, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise _fail(name, allowed, value)
    return int(value)


def check_number(name: str, value: Any, low: float = -math.inf, high: float = math.inf,
                 low_open: bool = False) -> float:
    """``value`` as a finite ``float`` in ``[low, high]`` (``(low, high]`` when
    ``low_open``); strings and bools are refused."""
    if low_open:
        allowed = f"a finite number > {low}" + ("" if high == math.inf else f" and <= {high}")
    elif high == math.inf:
        allowed = "a finite number" + ("" if low == -math.inf else f" >= {low}")
    else:
        allowed = f"a finite number in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, allowed, value)
    number = float(value)
    if not math.isfinite(number) or number > high or number < low or (low_open and number == low):
        raise _fail(name, allowed, value)
    return number


def check_bool(name: str, value: Any) -> bool:
    """``value`` as a ``bool`` (Python or numpy bools only)."""
    if isinstance(value, bool):
        return value
    import numpy as np  # only here: the module stays importable without numpy

    if not isinstance(value, np.bool_):
        raise _fail(name, "True or False", value)
    return bool(value)


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` itself, if it is one of ``choices``."""
    options = tuple(choices)
    try:
        ok = value in options
    except TypeError:  # unhashable or incomparable values are not among the choices
        ok = False
    if not ok:
        raise _fail(name, "one of " + ", ".join(repr(c) for c in options), value)
    return value


def check_range(name: str, low: Any, high: Any, minimum: int = 1) -> tuple[int, int]:
    """``(minimum_<name>, maximum_<name>)`` as ints, each >= ``minimum``, low <= high."""
    low = check_int(f"minimum_{name}", low, minimum)
    high = check_int(f"maximum_{name}", high, minimum)
    if low > high:
        raise ValueError(f"minimum_{name} must be <= maximum_{name}; got {low} > {high}.")
    return low, high


def check_widths(name: str, widths: Any) -> tuple[int, ...]:
    """A non-empty sequence of ints >= 1, as a tuple."""
    if isinstance(widths, (str, bytes)) or not isinstance(widths, Sequence) or not widths:
        raise _fail(name, "a non-empty list of ints >= 1", widths)
    return tuple(check_int(f"{name}[{i}]", w, 1) for i, w in enumerate(widths))


def check_direction(direction: Any, name: str = "direction") -> str:
    """``"minimize"`` or ``"maximize"`` for any of ``minimize``/``min``/``maximize``/``max``
    (any case)."""
    key = direction.lower() if isinstance(direction, str) else None
    if key not in DIRECTIONS:
        raise _fail(name, "one of 'minimize', 'min', 'maximize', 'max'", direction)
    return DIRECTIONS[key]


def check_random_state(seed: Any, name: str = "seed"):
    """A ``numpy.random.Generator`` for a non-negative int, a Generator or None."""
    import numpy as np

    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)
                             or seed < 0):
        raise _fail(name, "a non-negative int, a numpy Generator or None", seed)
    return np.random.default_rng(seed)
