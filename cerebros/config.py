"""One frozen, validated object for the connectivity hyper-parameters.

The public entry points keep the original's long keyword signatures; they collect those
arguments once into a :class:`WiringConfig`, which is what the planning stage receives.
Pure Python: no TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Mapping, Union

from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay

__all__ = ["WiringConfig", "ROUNDING_RULES", "check_random_state", "callable_name"]

ROUNDING_RULES = ("ceil", "floor")

Activation = Union[str, Callable[..., Any]]


def callable_name(function: Any) -> Any:
    """A JSON-friendly stand-in for a callable: its name (strings pass unchanged)."""
    if isinstance(function, str) or function is None:
        return function
    return getattr(function, "__name__", repr(function))


def check_random_state(seed: Any):
    """Return a ``numpy.random.Generator`` for an int, a Generator or None.

    Raises ValueError for anything else (e.g. a float or a string).
    """
    import numpy as np

    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or (isinstance(seed, (int, np.integer)) and not isinstance(seed, bool)):
        if seed is not None and seed < 0:
            raise ValueError(f"seed must be a non-negative int, a numpy Generator or None; got {seed}.")
        return np.random.default_rng(seed)
    raise ValueError(f"seed must be a non-negative int, a numpy Generator or None; got {seed!r}.")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) and not (
            hasattr(value, "__index__") and not isinstance(value, float)):
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")
    if int(value) < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")


def _check_number(name: str, value: Any, low: float, high: float = math.inf) -> None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number; got {value!r}.") from None
    if isinstance(value, bool) or not math.isfinite(number) or not low <= number <= high:
        allowed = f">= {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be a finite number {allowed}; got {value!r}.")


@dataclass(frozen=True)
class WiringConfig:
    """How units are wired: skip depths, affinity factors, lateral connections and gating.

    The fields and defaults are the original ``NeuralNetworkFuture``'s keyword arguments;
    see the README for what each does.  Construction validates every field and raises
    ValueError naming the argument, the value and what is allowed.
    """

    minimum_skip_connection_depth: int = 1
    maximum_skip_connection_depth: int = 7
    predecessor_level_connection_affinity_factor_first: float = 5
    predecessor_level_connection_affinity_factor_first_rounding_rule: str = "ceil"
    predecessor_level_connection_affinity_factor_main: float = 0.7
    predecessor_level_connection_affinity_factor_main_rounding_rule: str = "ceil"
    predecessor_level_connection_affinity_factor_decay_main: Callable[[float], float] = zero_7_exp_decay
    predecessor_level_connection_affinity_factor_final_to_kminus1: float = 2
    max_consecutive_lateral_connections: int = 7
    gate_after_n_lateral_connections: int = 3
    gate_activation_function: Activation = simple_sigmoid
    p_lateral_connection: float = 0.97
    p_lateral_connection_decay: Callable[[float], float] = zero_95_exp_decay
    num_lateral_connection_tries_per_unit: int = 1

    def __post_init__(self) -> None:
        _check_int("minimum_skip_connection_depth", self.minimum_skip_connection_depth, 1)
        _check_int("maximum_skip_connection_depth", self.maximum_skip_connection_depth, 1)
        if self.minimum_skip_connection_depth > self.maximum_skip_connection_depth:
            raise ValueError(
                "minimum_skip_connection_depth must be <= maximum_skip_connection_depth; got "
                f"{self.minimum_skip_connection_depth} > {self.maximum_skip_connection_depth}.")
        prefix = "predecessor_level_connection_affinity_factor_"
        for suffix in ("first", "main", "final_to_kminus1"):
            _check_number(prefix + suffix, getattr(self, prefix + suffix), 0.0)
        for suffix in ("first_rounding_rule", "main_rounding_rule"):
            rule = getattr(self, prefix + suffix)
            if rule not in ROUNDING_RULES:
                raise ValueError(f"{prefix + suffix} must be 'ceil' or 'floor'; got {rule!r}.")
        for name in (prefix + "decay_main", "p_lateral_connection_decay"):
            if not callable(getattr(self, name)):
                raise ValueError(f"{name} must be a function of the distance (int) returning a "
                                 f"factor, such as zero_7_exp_decay; got {getattr(self, name)!r}.")
        _check_int("max_consecutive_lateral_connections", self.max_consecutive_lateral_connections, 0)
        _check_int("gate_after_n_lateral_connections", self.gate_after_n_lateral_connections, 1)
        _check_int("num_lateral_connection_tries_per_unit",
                   self.num_lateral_connection_tries_per_unit, 0)
        _check_number("p_lateral_connection", self.p_lateral_connection, 0.0, 1.0)
        gate = self.gate_activation_function
        if not (callable(gate) or (isinstance(gate, str) and gate)):
            raise ValueError("gate_activation_function must be simple_sigmoid, a Keras activation "
                             f"name such as 'sigmoid', or a callable; got {gate!r}.")

    @property
    def gate_activation(self) -> Activation:
        """The gate as Keras will apply it: ``simple_sigmoid`` stands for ``"sigmoid"``."""
        gate = self.gate_activation_function
        return "sigmoid" if gate is simple_sigmoid else gate

    def to_params(self) -> dict[str, Any]:
        """JSON-serializable parameters (callables appear by name)."""
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        for name, value in params.items():
            if callable(value):
                params[name] = callable_name(value)
        params["gate_activation_function"] = callable_name(self.gate_activation)
        return params

    @classmethod
    def from_arguments(cls, arguments: Mapping[str, Any]) -> "WiringConfig":
        """Collect the wiring arguments out of an entry point's keyword arguments (other
        keys are ignored), so long public signatures become one validated object."""
        return cls(**{f.name: arguments[f.name] for f in fields(cls) if f.name in arguments})

    def replace(self, **changes: Any) -> "WiringConfig":
        """A copy with some fields changed (validated again)."""
        values = asdict(self)
        values.update(changes)
        return WiringConfig(**values)
