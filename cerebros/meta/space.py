"""The meta-search's space: which of the search's own settings are tuned, over which values.

A space maps *dimension* names to what each may take.  Most dimensions are one argument of
:class:`~cerebros.SimpleCerebrosRandomSearch` (``learning_rate``, ``activation``, ...); the
four *pair* dimensions (``levels``, ``units_per_level``, ``neurons_per_unit``,
``skip_connection_depth``) each set a ``minimum_*`` and a ``maximum_*`` argument.

What a dimension may hold (in Python; :meth:`SearchSpace.to_dict` gives the JSON form):

``Range(low, high, log=None)`` or a tuple ``(low, high)``
    Numbers in ``[low, high]`` (whole numbers for whole-number dimensions), on a log scale if
    ``log`` (None: the dimension's default scale).  For a pair dimension both the minimum and
    the maximum lie in ``[low, high]``: Optuna draws the minimum and a *width*, and the maximum
    is ``min(minimum + width, high)``, so no drawn pair has its minimum above its maximum.
``Choice(a, b, ...)`` or a list ``[a, b, ...]``
    One of the options (not for pair dimensions).
``Fixed(value)`` or any other value
    Not tuned: every meta-trial uses ``value`` (a pair dimension takes ``(minimum, maximum)``
    or one number for both).

:data:`DIMENSIONS` lists every dimension, its search arguments, its allowed values and its
default; a dimension left out of the user's space keeps its default (:data:`DEFAULT_SPACE`);
an optional dimension without a default is not tuned unless named.  A skip depth deeper than
a network is clipped by the wiring (see the README), so no combination drawn from a valid
space is invalid.  Pure Python: no Optuna, no TensorFlow.
"""

from __future__ import annotations

import difflib
import math
import numbers
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol

__all__ = ["Range", "Choice", "Fixed", "Dimension", "DIMENSIONS", "DEFAULT_SPACE",
           "README_SETTINGS", "SearchSpace"]

_AFFINITY = "predecessor_level_connection_affinity_factor_"


@dataclass(frozen=True)
class Range:
    """Numbers in ``[low, high]``; ``log``: on a log scale (None: the dimension's default)."""

    low: float
    high: float
    log: bool | None = None


class Choice:
    """One of ``options``."""

    __slots__ = ("options",)

    def __init__(self, *options: Any) -> None:
        object.__setattr__(self, "options", tuple(options))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Choice is immutable")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Choice) and other.options == self.options

    def __hash__(self) -> int:
        return hash(self.options)

    def __repr__(self) -> str:
        return f"Choice{self.options!r}"


@dataclass(frozen=True)
class Fixed:
    """One value, not tuned."""

    value: Any


@dataclass(frozen=True)
class Dimension:
    """One name a space may hold.

    kind : {"int", "float", "pair", "choice"}
        Whole numbers, real numbers, a (minimum, maximum) pair of whole numbers, or options.
    arguments : tuple of str
        The :class:`~cerebros.SimpleCerebrosRandomSearch` arguments it sets.
    minimum, maximum : float or None
        The allowed values (numbers) ; ``low_open``: the minimum itself is not allowed.
    options : tuple or None
        The allowed options of a choice (None: any non-empty string).
    log : bool
        The default scale of a range.
    default : Range, Choice or None
        What the meta-search tunes when the user's space does not name it (None: not tuned).
    """

    name: str
    kind: str
    arguments: tuple[str, ...]
    default: Any
    minimum: float | None = None
    maximum: float | None = None
    low_open: bool = False
    options: tuple[Any, ...] | None = None
    log: bool = False
    help: str = ""


def _pair(name: str, smallest: int, default: Range, help: str) -> Dimension:
    return Dimension(name, "pair", (f"minimum_{name}", f"maximum_{name}"), default,
                     minimum=smallest, help=help)


DIMENSIONS: dict[str, Dimension] = {d.name: d for d in (
    _pair("levels", 2, Range(2, 7), "dense levels per network, the output level included"),
    _pair("units_per_level", 1, Range(1, 4), "units per hidden level"),
    _pair("neurons_per_unit", 1, Range(1, 4), "neurons per hidden unit"),
    _pair("skip_connection_depth", 1, Range(1, 7), "levels a connection may skip"),
    Dimension(_AFFINITY + "first", "float", (_AFFINITY + "first",), Range(0.1, 30.0),
              minimum=0.0, log=True, help="connections of the first level"),
    Dimension(_AFFINITY + "first_rounding_rule", "choice", (_AFFINITY + "first_rounding_rule",),
              Choice("ceil", "floor"), options=("ceil", "floor"), help="rounding of the above"),
    Dimension(_AFFINITY + "main", "float", (_AFFINITY + "main",), Range(0.1, 30.0),
              minimum=0.0, log=True, help="connections of the other levels"),
    Dimension(_AFFINITY + "main_rounding_rule", "choice", (_AFFINITY + "main_rounding_rule",),
              Choice("ceil", "floor"), options=("ceil", "floor"), help="rounding of the above"),
    Dimension(_AFFINITY + "final_to_kminus1", "float", (_AFFINITY + "final_to_kminus1",), None,
              minimum=0.0, help="connections of the final level from the level before it"),
    Dimension("max_consecutive_lateral_connections", "int",
              ("max_consecutive_lateral_connections",), Range(1, 30), minimum=0,
              help="longest chain of lateral connections"),
    Dimension("gate_after_n_lateral_connections", "int", ("gate_after_n_lateral_connections",),
              Range(1, 10), minimum=1, help="lateral connections before a gate"),
    Dimension("gate_activation_function", "choice", ("gate_activation_function",), None,
              help="the gates' activation (a Keras activation name)"),
    Dimension("p_lateral_connection", "float", ("p_lateral_connection",), Range(0.0, 1.0),
              minimum=0.0, maximum=1.0, help="probability of a lateral connection"),
    Dimension("num_lateral_connection_tries_per_unit", "int",
              ("num_lateral_connection_tries_per_unit",), Range(0, 30), minimum=0,
              help="lateral connections tried per unit"),
    Dimension("activation", "choice", ("activation",), Choice("elu", "relu", "gelu"),
              help="the hidden units' activation (a Keras activation name)"),
    Dimension("learning_rate", "float", ("learning_rate",), Range(1e-4, 0.1), minimum=0.0,
              low_open=True, log=True, help="AdamW's learning rate"),
    Dimension("batch_size", "int", ("batch_size",), Range(16, 256), minimum=1, log=True,
              help="training batch size"),
    Dimension("batch_norm_momentum", "float", ("batch_norm_momentum",), None, minimum=0.0,
              maximum=1.0, help="batch normalization's momentum"),
    Dimension("scaled_target_std", "float", ("scaled_target_std",), None, minimum=0.0,
              low_open=True, log=True, help="spread of the scaled regression targets"),
)}
"""Every dimension a space may name (see the module docstring)."""

DEFAULT_SPACE: dict[str, Any] = {name: d.default for name, d in DIMENSIONS.items()
                                 if d.default is not None}
"""The dimensions tuned when the user's space does not name them, and their values."""

README_SETTINGS: dict[str, Any] = {
    "minimum_levels": 2, "maximum_levels": 7,
    "minimum_units_per_level": 1, "maximum_units_per_level": 4,
    "minimum_neurons_per_unit": 1, "maximum_neurons_per_unit": 4,
    "minimum_skip_connection_depth": 1, "maximum_skip_connection_depth": 7,
    _AFFINITY + "first": 15.0313, _AFFINITY + "first_rounding_rule": "ceil",
    _AFFINITY + "main": 10.046, _AFFINITY + "main_rounding_rule": "ceil",
    "max_consecutive_lateral_connections": 23, "gate_after_n_lateral_connections": 3,
    "p_lateral_connection": 0.19668, "num_lateral_connection_tries_per_unit": 20,
    "activation": "elu", "learning_rate": 0.0664, "batch_size": 93,
}
"""The original README's values of the default space's search arguments ("approximately
the optima discovered in a Bayesian tuning study" on Ames): the meta-search's default
starting point (``MetaSearch(start_from="readme")``)."""

ARGUMENT_DIMENSION = {argument: d.name for d in DIMENSIONS.values() for argument in d.arguments}
"""The dimension that sets each search argument."""


class Suggester(Protocol):
    """What sampling needs of an ``optuna.Trial``."""

    def suggest_int(self, name: str, low: int, high: int, *, log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, log: bool = False) -> float: ...

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...


def _error(name: str, message: str) -> ValueError:
    return ValueError(f"space[{name!r}]: {message}")


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _as_spec(name: str, value: Any) -> Any:
    """A user's value as a Range, Choice or Fixed (the shorthands and the JSON form too)."""
    if isinstance(value, (Range, Choice, Fixed)):
        return value
    if isinstance(value, Mapping):
        keys = set(value)
        if keys <= {"low", "high", "log"} and {"low", "high"} <= keys:
            return Range(value["low"], value["high"], value.get("log"))
        if keys == {"choices"} and isinstance(value["choices"], (list, tuple)):
            return Choice(*value["choices"])
        if keys == {"value"}:
            return Fixed(value["value"])
        raise _error(name, "a dict must be {'low': ..., 'high': ...[, 'log': ...]}, "
                           f"{{'choices': [...]}} or {{'value': ...}}; got {dict(value)!r}.")
    if isinstance(value, tuple):
        if len(value) != 2:
            raise _error(name, f"a tuple is a range and must be (low, high); got {value!r}.")
        return Range(*value)
    if isinstance(value, list):
        return Choice(*value)
    return Fixed(value)


def _check_number(dimension: Dimension, name: str, what: str, value: Any) -> float | int:
    """A number allowed in ``dimension`` (an int for whole-number dimensions)."""
    whole = dimension.kind in ("int", "pair")
    if whole and not (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
        raise _error(name, f"{what} must be a whole number; got {value!r}.")
    if not _is_number(value) or not math.isfinite(float(value)):
        raise _error(name, f"{what} must be a finite number; got {value!r}.")
    low, high = dimension.minimum, dimension.maximum
    if low is not None and (value < low or (dimension.low_open and value == low)):
        bound = f"> {low}" if dimension.low_open else f">= {low}"
        raise _error(name, f"{what} must be {bound}; got {value!r}.")
    if high is not None and value > high:
        raise _error(name, f"{what} must be <= {high}; got {value!r}.")
    return int(value) if whole else float(value)


def _check_option(dimension: Dimension, name: str, value: Any) -> Any:
    if dimension.options is not None:
        if value not in dimension.options:
            raise _error(name, f"must be one of {', '.join(map(repr, dimension.options))}; "
                               f"got {value!r}.")
    elif not isinstance(value, str) or not value:
        raise _error(name, f"options must be Keras activation names (non-empty strings, so "
                           f"that the best settings can be written as JSON); got {value!r}.")
    return value


def _checked(dimension: Dimension, value: Any) -> Any:
    """The user's value for ``dimension`` as a validated Range, Choice or Fixed."""
    name, kind = dimension.name, dimension.kind
    spec = _as_spec(name, value)
    if isinstance(spec, Range):
        if kind == "choice":
            raise _error(name, f"takes options, not a range; got {spec!r}: use a list of options "
                               "or Choice(...).")
        low = _check_number(dimension, name, "low", spec.low)
        high = _check_number(dimension, name, "high", spec.high)
        if low > high:
            raise _error(name, f"the range is empty: low {low!r} > high {high!r}.")
        log = dimension.log if spec.log is None else spec.log
        if not isinstance(log, bool):
            raise _error(name, f"log must be True, False or None; got {spec.log!r}.")
        if log and low <= 0:
            raise _error(name, f"a log-scale range needs low > 0; got low {low!r} (pass "
                               "log=False).")
        return Range(low, high, log)
    if isinstance(spec, Choice):
        if kind == "pair":
            raise _error(name, "a pair dimension takes a range (low, high) or a fixed "
                               f"(minimum, maximum), not options; got {spec!r}.")
        if not spec.options:
            raise _error(name, "the choice is empty: give at least one option.")
        if kind == "choice":
            options = [_check_option(dimension, name, option) for option in spec.options]
        else:
            options = [_check_number(dimension, name, "each option", o) for o in spec.options]
        if len(set(map(repr, options))) != len(options):
            raise _error(name, f"options must differ; got {list(spec.options)!r}.")
        return Choice(*options)
    value = spec.value
    if kind == "choice":
        return Fixed(_check_option(dimension, name, value))
    if kind != "pair":
        return Fixed(_check_number(dimension, name, "the value", value))
    pair = (value, value) if _is_number(value) else value
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise _error(name, f"a fixed pair must be (minimum, maximum) or one number; got {value!r}.")
    low = _check_number(dimension, name, "the minimum", pair[0])
    high = _check_number(dimension, name, "the maximum", pair[1])
    if low > high:
        raise _error(name, f"the minimum {low} must be <= the maximum {high}.")
    return Fixed((low, high))


def _json(spec: Any) -> Any:
    if isinstance(spec, Range):
        return {"low": spec.low, "high": spec.high, "log": spec.log}
    if isinstance(spec, Choice):
        return {"choices": list(spec.options)}
    value = spec.value
    return {"value": list(value) if isinstance(value, tuple) else value}


class SearchSpace:
    """A validated meta-search space: the defaults with the user's entries over them.

    Parameters
    ----------
    space : mapping, optional
        Dimension name -> Range, Choice, Fixed or a shorthand (see the module docstring);
        the JSON form of :meth:`to_dict` is accepted too.  Names left out keep their default.

    Raises
    ------
    ValueError
        Naming the entry: an unknown name (with the closest known names), an empty range or
        choice, a bound or option outside what the search accepts, a log range through 0.
    """

    def __init__(self, space: Mapping[str, Any] | None = None) -> None:
        if space is None:
            space = {}
        if not isinstance(space, Mapping):
            raise ValueError(f"space must be a dict of dimension name to range, options or "
                             f"value; got {type(space).__name__}.")
        unknown = [name for name in space if name not in DIMENSIONS]
        if unknown:
            name = unknown[0]
            known = list(DIMENSIONS) + list(ARGUMENT_DIMENSION)
            close = difflib.get_close_matches(str(name), known, n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            raise ValueError(f"space: unknown parameter {name!r}{hint}; a space can hold "
                             f"{', '.join(DIMENSIONS)}. A minimum_*/maximum_* pair is one "
                             "dimension: levels, units_per_level, neurons_per_unit or "
                             "skip_connection_depth.")
        merged = {**DEFAULT_SPACE, **space}
        self._specs: dict[str, Any] = {name: _checked(DIMENSIONS[name], merged[name])
                                       for name in DIMENSIONS if name in merged}

    @classmethod
    def around(cls, settings: Mapping[str, Any], factor: float = 2.0,
               space: Mapping[str, Any] | None = None) -> "SearchSpace":
        """A space that refines known settings (e.g. :data:`README_SETTINGS`) locally.

        Every numeric dimension that the default space tunes spans ``[value / factor,
        value * factor]`` around the value in ``settings`` (clipped to what the search accepts;
        whole numbers rounded outwards); each pair dimension spans the settings' own
        ``(minimum, maximum)``; options (activation, rounding rules) stay as in the default
        space, as does any dimension ``settings`` does not give.  ``space`` entries override.

        Raises
        ------
        ValueError
            If ``factor`` is not a number > 1, or a value in ``settings`` is outside what its
            dimension accepts (naming it).
        """
        if not _is_number(factor) or not factor > 1:
            raise ValueError(f"factor must be a number > 1 (the range is value / factor to "
                             f"value * factor); got {factor!r}.")
        around: dict[str, Any] = {}
        for name, default in DEFAULT_SPACE.items():
            dimension = DIMENSIONS[name]
            given = [settings.get(argument) for argument in dimension.arguments]
            if not isinstance(default, Range) or any(value is None for value in given):
                continue
            values = [_check_number(dimension, name, "the setting", v) for v in given]
            if dimension.kind == "pair":
                around[name] = Range(values[0], values[1])
                continue
            low, high = values[0] / factor, values[0] * factor
            if not math.isfinite(high):
                raise ValueError(f"factor {factor!r} is too large: {name} would span up to "
                                 f"{values[0]} * {factor}, beyond any number.")
            if dimension.kind == "int":
                low, high = math.floor(low), math.ceil(high)
            if dimension.minimum is not None:
                low = max(low, dimension.minimum)
            if dimension.maximum is not None:
                high = min(high, dimension.maximum)
            around[name] = Range(low, high, False if low <= 0 else None)  # 0: no log scale
        return cls({**around, **(space or {})})

    # ------------------------------------------------------------------ views
    def __repr__(self) -> str:
        return f"SearchSpace({self.to_dict()!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and other.to_dict() == self.to_dict()

    def items(self) -> Iterator[tuple[str, Any]]:
        """(dimension name, Range/Choice/Fixed) pairs, in :data:`DIMENSIONS` order."""
        return iter(self._specs.items())

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``{"low", "high", "log"}``, ``{"choices"}`` or ``{"value"}`` per name."""
        return {name: _json(spec) for name, spec in self._specs.items()}

    def arguments(self) -> tuple[str, ...]:
        """The search arguments the space sets (tuned or fixed)."""
        return tuple(a for name in self._specs for a in DIMENSIONS[name].arguments)

    def tuned(self) -> tuple[str, ...]:
        """The dimensions that vary between meta-trials."""
        return tuple(name for name, spec in self._specs.items() if not isinstance(spec, Fixed))

    def parameters(self) -> dict[str, tuple]:
        """Optuna's parameters: name -> ("int" | "float", low, high, log) or
        ("categorical", options).  A pair dimension ``d`` gives ``minimum_d`` and ``d_width``."""
        parameters: dict[str, tuple] = {}
        for name, spec in self._specs.items():
            kind = DIMENSIONS[name].kind
            if isinstance(spec, Choice):
                parameters[name] = ("categorical", spec.options)
            elif isinstance(spec, Range) and kind == "pair":
                parameters[f"minimum_{name}"] = ("int", spec.low, spec.high, False)
                parameters[f"{name}_width"] = ("int", 0, spec.high - spec.low, False)
            elif isinstance(spec, Range):
                parameters[name] = (kind, spec.low, spec.high, spec.log)
        return parameters

    # ------------------------------------------------------------------ sampling
    def sample(self, trial: Suggester) -> dict[str, Any]:
        """Draw the tuned parameters with ``trial`` (an ``optuna.Trial``) and return the
        search arguments of the whole space (see :meth:`arguments_of`)."""
        params = {}
        for name, parameter in self.parameters().items():
            if parameter[0] == "categorical":
                params[name] = trial.suggest_categorical(name, list(parameter[1]))
            elif parameter[0] == "int":
                params[name] = trial.suggest_int(name, parameter[1], parameter[2],
                                                  log=parameter[3])
            else:
                params[name] = trial.suggest_float(name, parameter[1], parameter[2],
                                                    log=parameter[3])
        return self.arguments_of(params)

    def arguments_of(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The search arguments for Optuna parameters ``params`` (the fixed dimensions'
        values included): e.g. ``minimum_levels`` and ``levels_width`` give
        ``minimum_levels`` and ``maximum_levels = min(minimum + width, high)``.

        Raises
        ------
        ValueError
            If a tuned parameter is missing from ``params``.
        """
        missing = [name for name in self.parameters() if name not in params]
        if missing:
            raise ValueError(f"params lack the space's parameter(s) {missing}.")
        arguments: dict[str, Any] = {}
        for name, spec in self._specs.items():
            dimension = DIMENSIONS[name]
            if isinstance(spec, Fixed):
                values = spec.value if dimension.kind == "pair" else (spec.value,)
            elif dimension.kind == "pair":
                low = int(params[f"minimum_{name}"])
                values = (low, min(low + int(params[f"{name}_width"]), spec.high))
            else:
                values = (params[name],)
            arguments.update(zip(dimension.arguments, values))
        return arguments

    def params_of(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The Optuna parameters that give the search ``arguments`` (the inverse of
        :meth:`arguments_of`, e.g. to enqueue known settings); arguments of fixed
        dimensions must equal their values, those the space does not set are refused, and
        dimensions not given are left out (for the sampler to draw).

        Raises
        ------
        ValueError
            If an argument is not set by the space, only one of a pair is given, or a value
            lies outside its dimension's range or options.
        """
        extra = sorted(set(arguments) - set(self.arguments()))
        if extra:
            raise ValueError(f"settings: {extra} are not set by the space; its arguments are "
                             f"{list(self.arguments())}.")
        params: dict[str, Any] = {}
        for name, spec in self._specs.items():
            dimension = DIMENSIONS[name]
            given = [arguments.get(a) for a in dimension.arguments]
            if all(value is None for value in given):
                continue  # left to the sampler
            if any(value is None for value in given):
                raise ValueError(f"settings: {name} needs both "
                                 f"{' and '.join(dimension.arguments)}; got {given!r}.")
            if isinstance(spec, Fixed):
                fixed = spec.value if dimension.kind == "pair" else (spec.value,)
                if tuple(given) != tuple(fixed):
                    raise ValueError(f"settings: {name} is fixed at {spec.value!r} in the space; "
                                     f"got {given if len(given) > 1 else given[0]!r}.")
                continue
            if dimension.kind == "pair":
                low, high = (_check_number(dimension, name, "the setting", v) for v in given)
                if not spec.low <= low <= high <= spec.high:
                    raise ValueError(f"settings: {name} ({low}, {high}) is outside the space's "
                                     f"range [{spec.low}, {spec.high}] (or minimum > maximum).")
                params[f"minimum_{name}"] = low
                params[f"{name}_width"] = high - low
            elif isinstance(spec, Choice):
                if given[0] not in spec.options:
                    raise ValueError(f"settings: {name} {given[0]!r} is not one of the space's "
                                     f"options {list(spec.options)}.")
                params[name] = given[0]
            else:
                value = _check_number(dimension, name, "the setting", given[0])
                if not spec.low <= value <= spec.high:
                    raise ValueError(f"settings: {name} {value!r} is outside the space's range "
                                     f"[{spec.low}, {spec.high}].")
                params[name] = value
        return params

    def params_near(self, arguments: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """The Optuna parameters closest to the search ``arguments`` (a lenient
        :meth:`params_of`, for a default starting point): a number outside a tuned range is
        moved to the range's nearest end; a tuned dimension whose value the space does not
        offer (an option it lacks, a pair or value not given) is left to the sampler, as are
        fixed dimensions and arguments the space does not set.

        Returns the parameters and the names of the tuned dimensions left to the sampler.
        """
        params: dict[str, Any] = {}
        left: list[str] = []
        for name, spec in self._specs.items():
            if isinstance(spec, Fixed):
                continue
            dimension = DIMENSIONS[name]
            given = [arguments.get(a) for a in dimension.arguments]
            if isinstance(spec, Choice):
                if given[0] in spec.options:
                    params[name] = given[0]
                else:
                    left.append(name)
                continue
            if not all(_is_number(value) for value in given):
                left.append(name)
                continue
            low, high = (min(max(value, spec.low), spec.high) for value in (given[0], given[-1]))
            if dimension.kind == "pair":
                params[f"minimum_{name}"] = int(low)
                params[f"{name}_width"] = int(max(high, low) - low)
            else:
                params[name] = int(low) if dimension.kind == "int" else float(low)
        return params, left
