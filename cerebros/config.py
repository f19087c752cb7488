"""One frozen, validated object for the connectivity hyper-parameters.

The public entry points keep the original's long keyword signatures; they collect those
arguments once into a :class:`WiringConfig`, which is what the planning stage receives.
Pure Python: no TensorFlow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Mapping, Union

from cerebros.callables import function_reference, is_library_function
from cerebros.checks import check_choice, check_int, check_number
from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay

__all__ = ["WiringConfig", "WIRING_DEFAULTS", "ROUNDING_RULES", "callable_name"]

ROUNDING_RULES = ("ceil", "floor")

Activation = Union[str, Callable[..., Any]]


def callable_name(function: Any) -> Any:
    """A JSON-friendly stand-in for a callable: a library function's name, a user
    function's importable ``"module:qualname"`` (see :mod:`cerebros.callables`), else its
    name (strings pass unchanged)."""
    if isinstance(function, str) or function is None:
        return function
    if hasattr(function, "reference"):
        return function.reference
    if not is_library_function(function):
        reference = function_reference(function)
        if reference is not None:
            return reference
    return getattr(function, "__name__", repr(function))


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
        check_int("minimum_skip_connection_depth", self.minimum_skip_connection_depth, 1)
        check_int("maximum_skip_connection_depth", self.maximum_skip_connection_depth, 1)
        if self.minimum_skip_connection_depth > self.maximum_skip_connection_depth:
            raise ValueError(
                "minimum_skip_connection_depth must be <= maximum_skip_connection_depth; got "
                f"{self.minimum_skip_connection_depth} > {self.maximum_skip_connection_depth}.")
        prefix = "predecessor_level_connection_affinity_factor_"
        for suffix in ("first", "main", "final_to_kminus1"):
            check_number(prefix + suffix, getattr(self, prefix + suffix), 0.0)
        for suffix in ("first_rounding_rule", "main_rounding_rule"):
            check_choice(prefix + suffix, getattr(self, prefix + suffix), ROUNDING_RULES)
        for name in (prefix + "decay_main", "p_lateral_connection_decay"):
            if not callable(getattr(self, name)):
                raise ValueError(f"{name} must be a function of the distance (int) returning a "
                                 f"factor, such as zero_7_exp_decay; got {getattr(self, name)!r}.")
        check_int("max_consecutive_lateral_connections", self.max_consecutive_lateral_connections, 0)
        check_int("gate_after_n_lateral_connections", self.gate_after_n_lateral_connections, 1)
        check_int("num_lateral_connection_tries_per_unit",
                  self.num_lateral_connection_tries_per_unit, 0)
        check_number("p_lateral_connection", self.p_lateral_connection, 0.0, 1.0)
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
        """Collect the wiring arguments out of an entry point's keyword arguments (e.g. its
        ``locals()``; other keys are ignored), so long public signatures become one
        validated object.  Every field must be present: a signature that lost or renamed a
        wiring argument is an error, not a silent default."""
        missing = [f.name for f in fields(cls) if f.name not in arguments]
        if missing:
            raise TypeError(f"WiringConfig.from_arguments: missing wiring argument(s) {missing}.")
        return cls(**{f.name: arguments[f.name] for f in fields(cls)})

    def as_arguments(self) -> dict[str, Any]:
        """The fields as keyword arguments (callables as given, not by name)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def replace(self, **changes: Any) -> "WiringConfig":
        """A copy with some fields changed (validated again)."""
        values = asdict(self)
        values.update(changes)
        return WiringConfig(**values)


WIRING_DEFAULTS = WiringConfig()
"""The wiring defaults, declared once (the original's): the long public signatures of
``NeuralNetworkFuture``, ``SimpleCerebrosRandomSearch`` and the original's mix-ins take their
defaults from here."""
