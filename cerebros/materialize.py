"""Turn a wiring plan into a Keras functional model.

Each non-input unit becomes Concatenate → BatchNormalization (or Dropout) → Dense.  Inputs
may first be clipped to their training range (:class:`~cerebros.layers.ClipFeatures`) and
standardized (:class:`~cerebros.layers.StandardizeFeatures`), and regression outputs rescaled
from standardized units (:class:`~cerebros.layers.ScaleTargets`), all with constants
computed from the training rows and saved inside the model.  By
default a batch-normalized unit is built as one :class:`~cerebros.layers.FusedDenseUnit`,
which computes exactly that block while normalizing each distinct input only once (the
wiring draws inputs with replacement, so a unit often concatenates the same tensor many
times).  Gated lateral inputs pass through a Keras ``Activation`` layer first.

The only randomness here is the weight initialization, seeded from ``seed``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from cerebros.callables import function_reference, is_library_function
from cerebros.checks import check_number
from cerebros.config import callable_name
from cerebros.layers import (ClipFeatures, FusedDenseUnit, ImportedFunction, ScaleTargets,
                             SeededGlorotUniform, StandardizeFeatures, distinct_sources)
from cerebros.wiring import WiringPlan

__all__ = ["ModelOptions", "materialize", "validate_activation", "network_record",
           "network_from_record", "network_name", "unit_weights", "set_unit_weights"]


def network_name(project_name: str, trial_number: int, subtrial_number: int) -> str:
    """``<project>_trial_<16 digits>_subtrial_<16 digits>``, the original's network name."""
    return f"{project_name}_trial_{int(trial_number):016d}_subtrial_{int(subtrial_number):016d}"


def keras_name(name: str) -> str:
    """``name`` made acceptable to Keras and TensorFlow (last path part, other characters as
    ``_``, and an ``m`` in front unless it starts with a letter, digit or ``.``, as a root
    name scope must: a project named ``_scratch`` or ``élèves`` trains too)."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", str(name).rsplit("/", 1)[-1])
    return cleaned if re.match(r"[A-Za-z0-9.]", cleaned) else f"m{cleaned}"


def _by_reference(value: Any) -> Any:
    """A user's activation as an :class:`~cerebros.layers.ImportedFunction` (a stored
    ``"module:qualname"`` string too), so that saved plans and models keep it; names,
    library functions and functions without an importable name pass unchanged."""
    if isinstance(value, str) and ":" in value:
        return ImportedFunction(value)
    if not callable(value) or isinstance(value, (str, ImportedFunction)):
        return value
    if is_library_function(value):
        return value
    reference = function_reference(value)
    return value if reference is None else ImportedFunction(reference, value)


def validate_activation(name: str, value: Any, allow_none: bool = True) -> None:
    """Raise ValueError unless ``value`` is a Keras activation (name or callable)."""
    if value is None and allow_none:
        return
    try:
        keras.activations.get(value)
    except (ValueError, TypeError):
        raise ValueError(f"{name} must be a Keras activation name such as 'elu', 'relu' or "
                         f"'sigmoid' (or a callable){', or None' if allow_none else ''}; "
                         f"got {value!r}.") from None


KERAS_BATCH_NORM_MOMENTUM = 0.99
"""Keras' (and the original's) batch-normalization momentum: what networks recorded and
projects started before ``batch_norm_momentum`` existed were trained with."""


@dataclass(frozen=True)
class ModelOptions:
    """How a plan's units are materialized (everything except the wiring itself).

    ``batch_norm_momentum`` is the momentum of batch normalization's moving statistics (the
    ones used at inference).  ``input_bounds`` holds one ``(low, high)`` pair of column
    vectors per input (None: no clipping); ``input_scaling`` one ``(mean, scale)`` pair per
    input, applied after the clipping (None: inputs enter unscaled); ``target_scaling`` one
    ``(mean, scale)`` pair per output, or None for an output that is not rescaled (None
    overall: no output is); ``target_bounds`` one ``(low, high)`` pair per rescaled output
    that its predictions are clipped to outside training (None: unbounded).
    """

    activation: Any = "elu"
    final_activation: Any = None
    gate_activation: Any = "sigmoid"
    bnorm_or_dropout: str = "bnorm"
    dropout_rate: float = 0.2
    batch_norm_momentum: float = 0.9
    fused_units: bool = True
    dtype: str = "float32"
    seed: int | None = None
    input_bounds: tuple | None = None
    input_scaling: tuple | None = None
    target_scaling: tuple | None = None
    target_bounds: tuple | None = None

    def __post_init__(self) -> None:
        for name in ("activation", "final_activation", "gate_activation"):
            object.__setattr__(self, name, _by_reference(getattr(self, name)))
        validate_activation("activation", self.activation)
        validate_activation("final_activation", self.final_activation)
        validate_activation("gate_activation_function", self.gate_activation, allow_none=False)
        if self.bnorm_or_dropout not in ("bnorm", "dropout"):
            raise ValueError("bnorm_or_dropout must be 'bnorm' or 'dropout'; got "
                             f"{self.bnorm_or_dropout!r}.")
        if not 0.0 <= float(self.dropout_rate) < 1.0:
            raise ValueError(f"dropout_rate must be in [0, 1); got {self.dropout_rate!r}.")
        object.__setattr__(self, "batch_norm_momentum", check_number(
            "batch_norm_momentum", self.batch_norm_momentum, 0.0, 1.0))
        object.__setattr__(self, "input_bounds", _pairs(self.input_bounds))
        object.__setattr__(self, "input_scaling", _pairs(self.input_scaling))
        object.__setattr__(self, "target_scaling", _pairs(self.target_scaling))
        object.__setattr__(self, "target_bounds", _pairs(self.target_bounds))

    def to_dict(self) -> dict[str, Any]:
        """The options as JSON data (callables by name; the gate is kept in the plan)."""
        return {"activation": callable_name(self.activation),
                "final_activation": callable_name(self.final_activation),
                "bnorm_or_dropout": self.bnorm_or_dropout, "dropout_rate": self.dropout_rate,
                "batch_norm_momentum": self.batch_norm_momentum,
                "fused_units": self.fused_units, "train_data_dtype": self.dtype,
                "weight_seed": self.seed, "input_bounds": self.input_bounds,
                "input_scaling": self.input_scaling, "target_scaling": self.target_scaling,
                "target_bounds": self.target_bounds}


def _pairs(value: Any) -> tuple | None:
    """Per-input (or per-output) pairs of column vectors as nested tuples of floats (None
    entries kept), so options stay hashable and JSON-friendly."""
    if value is None:
        return None
    return tuple(None if pair is None else tuple(tuple(float(v) for v in part) for part in pair)
                 for pair in value)


def network_record(plan: WiringPlan, options: ModelOptions, name: str,
                   **extra: Any) -> dict[str, Any]:
    """Everything needed to rebuild a network, as JSON data: the plan's
    :meth:`~cerebros.wiring.WiringPlan.to_dict`, the model options, the network's ``name``,
    its input and output shapes, and ``extra`` entries (e.g. the learning rate)."""
    return {**plan.to_dict(), "name": name,
            "input_shapes": [int(w) for w in plan.widths[0]],
            "output_shapes": [int(w) for w in plan.widths[-1]],
            **options.to_dict(), **extra}


def network_from_record(data: Mapping[str, Any], **overrides: Any
                        ) -> tuple[WiringPlan, ModelOptions]:
    """The plan and model options of a :func:`network_record` (validated); ``overrides``
    replace stored options (e.g. ``activation=my_function`` stored only by name)."""
    plan = WiringPlan.from_dict(data)
    values = {"activation": data.get("activation", "elu"),
              "final_activation": data.get("final_activation"),
              "gate_activation": plan.params.get("gate_activation_function", "sigmoid"),
              "bnorm_or_dropout": data.get("bnorm_or_dropout", "bnorm"),
              "dropout_rate": data.get("dropout_rate", 0.2),
              "batch_norm_momentum": data.get("batch_norm_momentum",
                                              KERAS_BATCH_NORM_MOMENTUM),
              "fused_units": data.get("fused_units", True),
              "dtype": data.get("train_data_dtype", "float32"),
              "seed": data.get("weight_seed"),
              "input_bounds": data.get("input_bounds"),
              "input_scaling": data.get("input_scaling"),
              "target_scaling": data.get("target_scaling"),
              "target_bounds": data.get("target_bounds")}
    values.update(overrides)
    return plan, ModelOptions(**values)


def _initializer(seed: int | None, index: int) -> keras.initializers.Initializer:
    """Kernel initializer of the ``index``-th unit: Keras' Glorot uniform (which follows
    ``keras.utils.set_random_seed``) without a seed, NumPy-drawn Glorot uniform with one."""
    if seed is None:
        return keras.initializers.GlorotUniform()
    return SeededGlorotUniform((int(seed) * 1_000_003 + index) % (2**31 - 1))


def _plain_dense(x: Any, width: int, activation: Any, init: keras.initializers.Initializer,
                 dtype: str, name: str) -> Any:
    """A Keras Dense layer whose saved config names only Keras' own initializer (so an
    unfused model loads without Cerebros); a seeded kernel is assigned after building."""
    seeded = isinstance(init, SeededGlorotUniform)
    dense = keras.layers.Dense(width, activation=activation, dtype=dtype, name=name,
                               kernel_initializer="glorot_uniform" if seeded else init)
    tensor = dense(x)
    if seeded:
        dense.kernel.assign(init(tuple(dense.kernel.shape), dtype=dense.kernel.dtype))
    return tensor


def _unit_tag(plan: WiringPlan, options: ModelOptions, level: int, unit: int) -> str:
    """The name of unit ``(level, unit)``: ``u<level>_<unit>``, ``out_<unit>`` for an output
    (``out_<unit>_z`` when a :class:`~cerebros.layers.ScaleTargets` layer takes that name)."""
    if level < plan.n_levels - 1:
        return f"u{level}_{unit}"
    return f"out_{unit}" + ("_z" if options.target_scaling and options.target_scaling[unit]
                            else "")


def _unit_layer_names(plan: WiringPlan, options: ModelOptions, level: int, unit: int
                      ) -> list[str]:
    """The layers that hold unit ``(level, unit)``'s weights, in the unfused order
    (batch normalization's, then the Dense layer's)."""
    tag = _unit_tag(plan, options, level, unit)
    if options.fused_units and options.bnorm_or_dropout == "bnorm":
        return [tag]
    dense = tag if level == plan.n_levels - 1 else f"{tag}_dense"
    return [f"{tag}_bn", dense] if options.bnorm_or_dropout == "bnorm" else [dense]


def unit_weights(model: keras.Model, plan: WiringPlan, options: ModelOptions
                 ) -> dict[tuple[int, int], list[np.ndarray]]:
    """Every non-input unit's weights (moving statistics included), keyed by ``(level,
    unit)``, in the same order whether the unit is fused or not."""
    weights = {}
    for level in range(1, plan.n_levels):
        for unit in range(len(plan.widths[level])):
            weights[(level, unit)] = [
                np.asarray(array) for name in _unit_layer_names(plan, options, level, unit)
                for array in model.get_layer(name).get_weights()]
    return weights


def set_unit_weights(model: keras.Model, plan: WiringPlan, options: ModelOptions,
                     weights: Mapping[tuple[int, int], Sequence[np.ndarray]]) -> int:
    """Give each unit of ``model`` named in ``weights`` those weights (as
    :func:`unit_weights` returns them) when every array has the shape the unit's own has;
    units not named, or whose shapes differ, keep theirs.  Returns the number of units set."""
    copied = 0
    for (level, unit), arrays in weights.items():
        if not (1 <= level < plan.n_levels and 0 <= unit < len(plan.widths[level])):
            continue
        layers = [model.get_layer(n) for n in _unit_layer_names(plan, options, level, unit)]
        shapes = [tuple(w.shape) for layer in layers for w in layer.weights]
        if shapes != [tuple(np.shape(a)) for a in arrays]:
            continue
        start = 0
        for layer in layers:
            count = len(layer.weights)
            layer.set_weights([np.asarray(a) for a in arrays[start:start + count]])
            start += count
        copied += 1
    return copied


def materialize(plan: WiringPlan, options: ModelOptions = ModelOptions(),
                name: str = "cerebros") -> keras.Model:
    """Build the Keras model of ``plan``.

    Layer names: inputs ``in_<i>``, units ``u<level>_<unit>`` (unfused blocks add ``_cat``,
    ``_bn``/``_drop`` and ``_dense``), gates ``gate<level>_<unit>`` and outputs ``out_<i>``.
    Runs in O(connections + units).
    """
    final = plan.n_levels - 1
    outputs: dict[tuple[int, int], Any] = {}
    gates: dict[tuple[int, int], Any] = {}
    inputs = []
    for unit, width in enumerate(plan.widths[0]):
        tensor = keras.Input(shape=(int(width),), name=f"in_{unit}", dtype=options.dtype)
        inputs.append(tensor)
        if options.input_bounds is not None:
            tensor = ClipFeatures(*options.input_bounds[unit], name=f"clip_{unit}",
                                  dtype=options.dtype)(tensor)
        if options.input_scaling is not None:
            tensor = StandardizeFeatures(*options.input_scaling[unit], name=f"scale_{unit}",
                                         dtype=options.dtype)(tensor)
        outputs[(0, unit)] = tensor

    def source_tensor(connection):
        if not connection.gated:
            return outputs[connection.source]
        if connection.source not in gates:
            level, unit = connection.source
            gates[connection.source] = keras.layers.Activation(
                options.gate_activation, name=f"gate{level}_{unit}",
                dtype=options.dtype)(outputs[connection.source])
        return gates[connection.source]

    inputs_by_unit = plan.inputs_by_unit()
    index = 0
    for level in range(1, plan.n_levels):
        for unit, width in enumerate(plan.widths[level]):
            is_final = level == final
            scaling = options.target_scaling[unit] if is_final and options.target_scaling else None
            tag = _unit_tag(plan, options, level, unit)
            activation = options.final_activation if is_final else options.activation
            copies = [source_tensor(c) for c in inputs_by_unit[(level, unit)]]
            init = _initializer(options.seed, index)
            index += 1
            if options.fused_units and options.bnorm_or_dropout == "bnorm":
                distinct, copy_sources = distinct_sources(copies)
                tensor = FusedDenseUnit(int(width), copy_sources, activation=activation,
                                        momentum=options.batch_norm_momentum,
                                        kernel_initializer=init, name=tag,
                                        dtype=options.dtype)(distinct)
            else:
                x = copies[0] if len(copies) == 1 else keras.layers.Concatenate(
                    name=f"{tag}_cat", dtype=options.dtype)(copies)
                if options.bnorm_or_dropout == "bnorm":
                    x = keras.layers.BatchNormalization(
                        momentum=options.batch_norm_momentum, name=f"{tag}_bn",
                        dtype=options.dtype)(x)
                else:
                    x = keras.layers.Dropout(options.dropout_rate, name=f"{tag}_drop",
                                             dtype=options.dtype)(x)
                tensor = _plain_dense(x, int(width), activation, init, options.dtype,
                                      _unit_layer_names(plan, options, level, unit)[-1])
            if scaling:
                bounds = options.target_bounds[unit] if options.target_bounds else None
                tensor = ScaleTargets(*scaling, *(bounds or ()), name=f"out_{unit}",
                                      dtype=options.dtype)(tensor)
            outputs[(level, unit)] = tensor
    model_outputs = [outputs[(final, unit)] for unit in range(len(plan.widths[final]))]
    # One input or output is passed bare, as the original did, so that ``predict`` returns an
    # array rather than a one-element list.
    return keras.Model(inputs=inputs if len(inputs) > 1 else inputs[0],
                       outputs=model_outputs if len(model_outputs) > 1 else model_outputs[0],
                       name=keras_name(name))
