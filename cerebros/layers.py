"""Registered custom Keras layers of Cerebros.

:class:`FusedDenseUnit` computes a Cerebros dense unit,
``Concatenate(copies) -> BatchNormalization -> Dense(units, activation)``, without building
the concatenation of copies.

Why the fusion is exact
-----------------------
A unit draws its inputs with replacement, so the concatenation often holds the same tensor
10-20 times.  Write ``x_D`` for the concatenation of the *distinct* inputs (width ``D``) and
``row_map`` for the map that sends each of the ``W`` columns of the unfused concatenation to
the column of ``x_D`` it copies, so the unfused input is ``x_W = x_D[:, row_map]``.

* Training.  Batch statistics are computed column by column, so every copy of a column has
  the statistics of that column: ``mean_W = mean_D[row_map]`` and
  ``var_W = var_D[row_map]``, hence the normalized input is ``n_W = n_D[:, row_map]``.  Then
  ``(gamma * n_W + beta) @ K + b = n_D @ Fold(gamma[:, None] * K) + (b + beta @ K)`` where
  ``Fold`` adds the rows of a ``(W, units)`` matrix that share a ``row_map`` entry.
* Inference.  With ``scale_W = gamma / sqrt(moving_variance + eps)`` and
  ``shift_W = beta - scale_W * moving_mean`` the unit is
  ``x_W @ (scale_W[:, None] * K) + shift_W @ K + b
  = x_D @ Fold(scale_W[:, None] * K) + shift_W @ K + b``.  This holds for any per-copy
  moving statistics, including copies whose statistics differ.

Both are algebraic identities: the only difference from the unfused graph is the order of
floating point additions.  Every parameter (``gamma``, ``beta``, ``moving_mean``,
``moving_variance``, ``kernel``, ``bias``) keeps its unfused ``W``-row layout, so weights
move between the two forms with ``get_weights``/``set_weights`` and gradients come back in
the unfused layout.  The matrix product shrinks from ``W`` to ``D`` rows, and the
normalization is applied to ``D`` instead of ``W`` columns.
"""

from __future__ import annotations

import logging
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

from cerebros.callables import resolve_reference
from cerebros.checks import check_int, check_number

__all__ = ["FusedDenseUnit", "SeededGlorotUniform", "ClipFeatures", "StandardizeFeatures",
           "ScaleTargets", "ImportedFunction", "distinct_sources"]

logger = logging.getLogger(__name__)


def distinct_sources(tensors_per_copy: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Split a list of per-copy tensors into distinct tensors and copy indices.

    Identity (``id()``), not equality, decides whether two entries are the same tensor.

    Parameters
    ----------
    tensors_per_copy : sequence
        One tensor per copy, in the order of the unfused concatenation; the same object may
        appear several times.

    Returns
    -------
    distinct : list
        The distinct tensors, in the order each is first seen.
    copy_sources : list of int
        For each copy, the index in ``distinct`` of the tensor it is; suitable as the
        ``copy_sources`` argument of :class:`FusedDenseUnit`.

    Raises
    ------
    ValueError
        If ``tensors_per_copy`` is empty.
    """
    if len(tensors_per_copy) == 0:
        raise ValueError(
            "tensors_per_copy must hold at least one tensor; received an empty sequence."
        )
    position: dict[int, int] = {}
    distinct: list[Any] = []
    copy_sources: list[int] = []
    for tensor in tensors_per_copy:
        key = id(tensor)
        if key not in position:
            position[key] = len(distinct)
            distinct.append(tensor)
        copy_sources.append(position[key])
    return distinct, copy_sources


@keras.saving.register_keras_serializable(package="cerebros")
class SeededGlorotUniform(keras.initializers.Initializer):
    """Glorot-uniform values drawn on the host by ``numpy.random.default_rng(seed)``.

    Draws from ``U(-limit, limit)`` with ``limit = sqrt(6 / (fan_in + fan_out))``, like
    ``keras.initializers.GlorotUniform``, but with NumPy: no TensorFlow ops run, which
    matters when a network has thousands of units (materializing a 50 x 50 network
    creates 2,500 kernels).  The same seed always gives the same values, on every backend.

    Parameters
    ----------
    seed : int
        A non-negative integer.
    """

    def __init__(self, seed: int) -> None:
        self.seed = check_int("seed", seed, 0)

    def __call__(self, shape: Sequence[int], dtype: Any = None) -> np.ndarray:
        shape = tuple(int(d) for d in shape)
        fan_in = shape[-2] if len(shape) > 1 else shape[-1] if shape else 1
        fan_out = shape[-1] if shape else 1
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        limit = np.sqrt(6.0 / max(1, (fan_in + fan_out) * receptive))
        values = np.random.default_rng(self.seed).uniform(-limit, limit, shape)
        return values.astype(keras.backend.standardize_dtype(dtype or "float32"))

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


def _initial_value(initializer: Any, shape: tuple, dtype: str) -> Any:
    """The initial value of a weight (NumPy, without TensorFlow ops, for ones and zeros)."""
    initializer = keras.initializers.get(initializer)
    if type(initializer) in (keras.initializers.Ones, keras.initializers.Zeros):
        fill = np.ones if isinstance(initializer, keras.initializers.Ones) else np.zeros
        return fill(shape, dtype)
    return initializer(shape, dtype=dtype)


def _check_copy_sources(copy_sources: Any) -> tuple[int, ...]:
    allowed = "a non-empty list of ints >= 0"
    if isinstance(copy_sources, (str, bytes)) or not hasattr(copy_sources, "__iter__"):
        raise ValueError(f"copy_sources must be {allowed}; got {copy_sources!r}.")
    sources = tuple(check_int(f"copy_sources[{i}]", s, 0) for i, s in enumerate(copy_sources))
    if not sources:
        raise ValueError(f"copy_sources must be {allowed}; got {copy_sources!r}.")
    unused = sorted(set(range(max(sources) + 1)) - set(sources))
    if unused:
        raise ValueError(
            "copy_sources must use every distinct input index from 0 to its maximum at "
            f"least once; got {list(sources)!r}, which never uses {unused}.")
    return sources


def _as_shape_list(input_shape: Any) -> list[tuple]:
    """Return the input shape(s) as a list of tuples, one per distinct input."""
    if isinstance(input_shape, (list, tuple)) and all(
        isinstance(s, (list, tuple)) for s in input_shape
    ) and len(input_shape) > 0:
        return [tuple(s) for s in input_shape]
    return [tuple(input_shape)]


def _row_map(widths: Sequence[int], copy_sources: Sequence[int]) -> np.ndarray:
    """Map each unfused concatenation column to the distinct-concatenation column it copies."""
    widths = np.asarray(widths, dtype=np.int64)
    sources = np.asarray(copy_sources, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(widths)[:-1]])
    copy_widths = widths[sources]
    copy_starts = np.cumsum(copy_widths) - copy_widths
    within = np.arange(int(copy_widths.sum())) - np.repeat(copy_starts, copy_widths)
    return (np.repeat(offsets[sources], copy_widths) + within).astype("int32")


def _gather(vector: Any, indices: Any) -> Any:
    """``vector[indices]`` for non-negative ``indices`` (on TensorFlow a bare gather,
    without the negative-index handling of ``keras.ops.take``, which adds ops to every
    traced step)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.gather(vector, indices)
    return ops.take(vector, indices, axis=0)


def _split_columns(x: Any, widths: Sequence[int]) -> list:
    """Split ``x`` into column blocks of the given widths (one op on TensorFlow)."""
    if len(widths) == 1:
        return [x]
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.split(x, list(widths), axis=1)
    return ops.split(x, np.cumsum(widths)[:-1].tolist(), axis=1)


def _matmul(a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Any:
    """``a @ b`` with either operand transposed (one op on TensorFlow)."""
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.linalg.matmul(a, b, transpose_a=transpose_a, transpose_b=transpose_b)
    return ops.matmul(ops.transpose(a) if transpose_a else a,
                      ops.transpose(b) if transpose_b else b)


@keras.saving.register_keras_serializable(package="cerebros")
class FusedDenseUnit(keras.layers.Layer):
    """Concatenate -> BatchNormalization -> Dense over copies of a few distinct inputs.

    Computes exactly ``Dense(BatchNormalization(Concatenate([inputs[s] for s in
    copy_sources])))`` while normalizing each distinct input once and folding the per-copy
    weights together (see the module docstring for the identity).  Parameters are stored
    in the unfused layout; ``get_weights`` returns ``[gamma, beta, moving_mean,
    moving_variance, kernel, bias]``, the order of a Keras ``BatchNormalization`` followed
    by a ``Dense``.

    Parameters
    ----------
    units : int
        Number of output neurons, >= 1.
    copy_sources : list of int
        One entry per copy, in unfused concatenation order: the index of the distinct input
        that copy is.  Every index from 0 to the number of distinct inputs minus one must
        appear at least once.
    activation : str or callable, optional
        Activation applied to the output; ``None`` means linear.
    epsilon : float, default 1e-3
        Added to the variance before the square root, > 0.
    momentum : float, default 0.99
        Momentum of the moving statistics, in [0, 1].
    kernel_initializer, bias_initializer : str or keras.initializers.Initializer
        Initializers of the ``(W, units)`` kernel and the ``(units,)`` bias.
    **kwargs
        Passed to :class:`keras.layers.Layer` (``name``, ``dtype``, ...).

    Notes
    -----
    Call it on the list of distinct 2-D tensors (a single tensor is accepted).  Computation
    runs in ``float32`` or wider, like Keras batch normalization, and the output is cast to
    the layer's compute dtype.
    """

    def __init__(
        self,
        units: int,
        copy_sources: Sequence[int],
        activation: Any = None,
        epsilon: float = 1e-3,
        momentum: float = 0.99,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.units = check_int("units", units, 1)
        # Index data is kept in NumPy arrays: Keras tracks list and tuple attributes element
        # by element, which costs seconds on networks with thousands of units.
        self._copy_sources = np.asarray(_check_copy_sources(copy_sources), dtype=np.int64)
        self.activation = keras.activations.get(activation)
        self.epsilon = check_number("epsilon", epsilon, 0.0, low_open=True)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.gamma = None
        self.beta = None
        self.moving_mean = None
        self.moving_variance = None
        self.kernel = None
        self.bias = None
        self._row_map: np.ndarray | None = None
        self._widths = np.zeros(0, dtype=np.int64)
        self._distinct_width = 0

    @property
    def copy_sources(self) -> tuple[int, ...]:
        """For each copy, in unfused concatenation order, the index of its distinct input."""
        return tuple(self._copy_sources.tolist())

    def build(self, input_shape: Any) -> None:
        shapes = _as_shape_list(input_shape)
        n_inputs = len(shapes)
        if int(self._copy_sources.max()) != n_inputs - 1:
            raise ValueError(
                f"copy_sources must index exactly the {n_inputs} distinct inputs "
                f"(0..{n_inputs - 1}), each at least once; received "
                f"copy_sources={list(self.copy_sources)!r}."
            )
        widths = []
        for index, shape in enumerate(shapes):
            if len(shape) != 2 or shape[-1] is None:
                raise ValueError(
                    "Every input must be 2-D with a known last dimension; received "
                    f"shape {shape} for input {index}."
                )
            widths.append(int(shape[-1]))
        self._widths = np.asarray(widths, dtype=np.int64)
        self._row_map = _row_map(widths, self._copy_sources)
        self._distinct_width = int(sum(widths))
        width = int(self._row_map.shape[0])
        self.gamma = self._add_row_weight("gamma", (width,), "ones", trainable=True)
        self.beta = self._add_row_weight("beta", (width,), "zeros", trainable=True)
        self.moving_mean = self._add_row_weight("moving_mean", (width,), "zeros", False)
        self.moving_variance = self._add_row_weight(
            "moving_variance", (width,), "ones", False
        )
        self.kernel = self._add_row_weight(
            "kernel", (width, self.units), self.kernel_initializer, trainable=True
        )
        self.bias = self._add_row_weight(
            "bias", (self.units,), self.bias_initializer, trainable=True
        )
        logger.debug(
            "Built %s: %d copies of %d distinct inputs, unfused width %d, distinct width %d.",
            self.name, len(self._copy_sources), n_inputs, width, self._distinct_width,
        )

    def _add_row_weight(self, name: str, shape: tuple, initializer: Any, trainable: bool):
        """Create one weight of the layer (tracked when assigned to an attribute).

        On TensorFlow the ``tf.Variable`` is made here, under a fixed absolute name scope,
        and Keras wraps it as it is (its path is still ``<layer>/<name>``).  TensorFlow's
        eager runtime caches the kernels of variable-creating ops by their attributes,
        names included, so a name unique to the layer makes every creation a cache miss:
        about 0.6 ms instead of 0.16 ms, and a 50 x 50 network has 15,000 weights.
        """
        if keras.backend.backend() != "tensorflow":
            return self.add_weight(shape=shape, name=name, initializer=initializer,
                                   trainable=trainable, autocast=False)
        import tensorflow as tf

        dtype = keras.backend.standardize_dtype(self.variable_dtype)
        with tf.name_scope("cerebros_fused_unit/"):
            value = tf.Variable(_initial_value(initializer, shape, dtype), dtype=dtype,
                                trainable=trainable, name=name)
        with keras.name_scope(self.name, caller=self):
            return keras.Variable(value, dtype=dtype, trainable=trainable, autocast=False,
                                  name=name)

    @property
    def weights(self) -> list:
        """Weights in unfused order: gamma, beta, moving_mean, moving_variance, kernel, bias."""
        if self.gamma is None:
            return super().weights
        return [self.gamma, self.beta, self.moving_mean, self.moving_variance,
                self.kernel, self.bias]

    def _update_moving_statistics(self, mean: Any, variance: Any, row_map: Any) -> None:
        """Momentum update of the per-copy moving statistics from the distinct batch ones."""
        for variable, batch_value in ((self.moving_mean, _gather(mean, row_map)),
                                      (self.moving_variance, _gather(variance, row_map))):
            current = ops.cast(variable, batch_value.dtype)
            updated = current * self.momentum + batch_value * (1.0 - self.momentum)
            variable.assign(ops.cast(updated, variable.dtype))

    def _train_unit(self, row_map: Any) -> Any:
        """The training-mode unit as one function with a hand-written gradient.

        Returns ``f(gamma, beta, kernel, bias, *inputs) -> (z, mean, variance)`` where ``z``
        is the pre-activation output and ``mean``/``variance`` are the batch statistics of
        the concatenated distinct inputs.  Automatic differentiation of the same
        computation emits many more TensorFlow ops (a gradient per broadcast, per gather
        and per segment sum); tracing and graph optimization scale with that number, so the
        unit's backward pass is written out here.  It is the exact gradient of the forward
        pass: the standard batch-normalization backward, and a gather for the fold.
        """
        epsilon, distinct_width, widths = (self.epsilon, self._distinct_width,
                                           self._widths.tolist())

        @ops.custom_gradient
        def unit(gamma, beta, kernel, bias, *tensors):
            x = tensors[0] if len(tensors) == 1 else ops.concatenate(tensors, axis=-1)
            mean = ops.mean(x, axis=0)
            centered = x - mean
            variance = ops.mean(ops.square(centered), axis=0)
            inv_std = ops.rsqrt(variance + epsilon)
            normalized = centered * inv_std
            column_gamma = ops.expand_dims(gamma, -1)
            folded = ops.segment_sum(column_gamma * kernel, row_map,
                                     num_segments=distinct_width)
            offset = _matmul(ops.expand_dims(beta, 0), kernel) + bias
            z = _matmul(normalized, folded) + offset

            def grad(*upstream, **_):
                dz = upstream[0]
                while isinstance(dz, (list, tuple)):  # JAX passes one tuple of cotangents
                    dz = dz[0]
                d_offset = ops.sum(dz, axis=0, keepdims=True)
                d_copies = _gather(_matmul(normalized, dz, transpose_a=True), row_map)
                d_gamma = ops.sum(d_copies * kernel, axis=1)
                d_kernel = d_copies * column_gamma + _matmul(ops.expand_dims(beta, -1),
                                                             d_offset)
                d_beta = ops.reshape(_matmul(kernel, d_offset, transpose_b=True), (-1,))
                d_normalized = _matmul(dz, folded, transpose_b=True)
                d_x = inv_std * (d_normalized - ops.mean(d_normalized, axis=0)
                                 - normalized * ops.mean(d_normalized * normalized, axis=0))
                return (d_gamma, d_beta, d_kernel, ops.reshape(d_offset, (-1,)),
                        *_split_columns(d_x, widths))

            return (z, mean, variance), grad

        return unit

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        tensors = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        dtype = keras.backend.result_type(tensors[0].dtype, "float32")
        tensors = [ops.cast(t, dtype) for t in tensors]
        gamma, beta, kernel, bias = (
            ops.cast(v, dtype) for v in (self.gamma, self.beta, self.kernel, self.bias)
        )
        row_map = ops.convert_to_tensor(self._row_map)
        if training and self.trainable:
            z, mean, variance = self._train_unit(row_map)(gamma, beta, kernel, bias, *tensors)
            self._update_moving_statistics(mean, variance, row_map)
        else:
            x = tensors[0] if len(tensors) == 1 else ops.concatenate(tensors, axis=-1)
            moving_variance = ops.cast(self.moving_variance, dtype)
            scale = gamma * ops.rsqrt(moving_variance + self.epsilon)
            shift = beta - scale * ops.cast(self.moving_mean, dtype)
            folded = ops.segment_sum(ops.expand_dims(scale, -1) * kernel, row_map,
                                     num_segments=self._distinct_width)
            z = _matmul(x, folded) + (_matmul(ops.expand_dims(shift, 0), kernel) + bias)
        return ops.cast(self.activation(z), self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return (_as_shape_list(input_shape)[0][0], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "copy_sources": list(self.copy_sources),
                "activation": keras.activations.serialize(self.activation),
                "epsilon": self.epsilon,
                "momentum": self.momentum,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config


def _column_pair(names: tuple[str, str], first: Sequence[float],
                 second: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Two per-column vectors as tuples of finite floats, checked non-empty and equally long
    (errors name them by ``names``)."""
    a, b = (tuple(float(check_number(f"{name}[{i}]", v)) for i, v in enumerate(values))
            for name, values in zip(names, (first, second)))
    if len(a) != len(b) or not a:
        raise ValueError(f"{names[0]} and {names[1]} must be non-empty and of the same length; "
                         f"got {len(a)} and {len(b)}.")
    return a, b


def _check_ordered(low: Sequence[float], high: Sequence[float]) -> None:
    if any(lo > hi for lo, hi in zip(low, high)):
        raise ValueError(f"low must be <= high in every column; got low={list(low)}, "
                         f"high={list(high)}.")


class _ColumnConstants(keras.layers.Layer):
    """A layer holding two per-column constant vectors (not weights), saved in its config."""

    names = ("first", "second")

    def __init__(self, first: Sequence[float], second: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._constants = _column_pair(self.names, first, second)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape)

    def _as_tensors(self) -> tuple[Any, Any]:
        return tuple(ops.convert_to_tensor(np.asarray(c), dtype=self.compute_dtype)
                     for c in self._constants)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(dict(zip(self.names, (list(c) for c in self._constants))))
        return config


@keras.saving.register_keras_serializable(package="cerebros")
class ClipFeatures(_ColumnConstants):
    """Clip each input column to ``[low, high]`` (bounds found on the training rows).

    Batch normalization passes a feature value far outside the training range on unbounded,
    so a single extreme test row can make a network predict nonsense; clipping at the input
    bounds every feature to what training saw.  The gradient outside the bounds is zero.
    """

    names = ("low", "high")

    def __init__(self, low: Sequence[float], high: Sequence[float], **kwargs: Any) -> None:
        super().__init__(low, high, **kwargs)
        _check_ordered(*self._constants)

    def call(self, inputs: Any) -> Any:
        low, high = self._as_tensors()
        return ops.minimum(ops.maximum(inputs, low), high)


@keras.saving.register_keras_serializable(package="cerebros")
class StandardizeFeatures(_ColumnConstants):
    """``z = (x - mean) / scale`` per input column (``mean``/``scale`` from the training
    rows).

    Batch normalization is unchanged by such a shift and scale while it trains on batch
    statistics, but at inference it uses moving averages that start at mean 0, variance 1
    and move slowly (Keras' momentum 0.99): for a raw column (a year, an area) they trail
    the truth for hundreds of batches, and a model's validation scores of its first tens of
    epochs are off by orders of magnitude.  Standardized inputs start those averages where
    they belong.
    """

    names = ("mean", "scale")

    def __init__(self, mean: Sequence[float], scale: Sequence[float], **kwargs: Any) -> None:
        super().__init__(mean, scale, **kwargs)
        if any(not v > 0 for v in self._constants[1]):
            raise ValueError(f"scale must be > 0 in every column; got {list(self._constants[1])}.")

    def call(self, inputs: Any) -> Any:
        mean, scale = self._as_tensors()
        return (inputs - mean) / scale


@keras.saving.register_keras_serializable(package="cerebros")
class ScaleTargets(_ColumnConstants):
    """``y = z * scale + mean``: the network learns scaled regression targets and the model
    predicts in the user's units (``mean``/``scale`` from the training labels).

    With ``low``/``high`` (per column), predictions are clipped to ``[low, high]`` when the
    layer is not training (validation, ``evaluate``, ``predict``); while training they are
    not, so a prediction outside the bounds still gets a gradient back towards them.
    """

    names = ("mean", "scale")

    def __init__(self, mean: Sequence[float], scale: Sequence[float],
                 low: Sequence[float] | None = None, high: Sequence[float] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(mean, scale, **kwargs)
        self._bounds = None
        if (low is None) != (high is None):
            raise ValueError("low and high must be given together; got low="
                             f"{low!r}, high={high!r}.")
        if low is not None:
            bounds = _column_pair(("low", "high"), low, high)
            _check_ordered(*bounds)
            if len(bounds[0]) != len(self._constants[0]):
                raise ValueError(f"low and high must have one value per output column "
                                 f"({len(self._constants[0])}); got {len(bounds[0])}.")
            self._bounds = bounds

    def call(self, inputs: Any, training: Any = None) -> Any:
        mean, scale = self._as_tensors()
        outputs = inputs * scale + mean
        if self._bounds is None or training:
            return outputs
        low, high = (ops.convert_to_tensor(np.asarray(b), dtype=self.compute_dtype)
                     for b in self._bounds)
        return ops.clip(outputs, low, high)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self._bounds is not None:
            config.update(low=list(self._bounds[0]), high=list(self._bounds[1]))
        return config


@keras.saving.register_keras_serializable(package="cerebros")
class ImportedFunction:
    """A user's function (e.g. an activation) as Keras saves it: by its importable
    ``"module:qualname"`` reference, so a saved model calls the user's function again when
    loaded (after ``import cerebros``), never a Keras built-in of the same name.

    ``function`` is the function itself when known (it then travels to worker processes
    with the object, so one defined in ``__main__`` or a notebook works there too);
    otherwise it is imported from ``reference``.
    """

    def __init__(self, reference: str, function: Any = None) -> None:
        self.reference = str(reference)
        self.function = function if function is not None else resolve_reference(reference)
        self.__name__ = self.reference.rsplit(".", 1)[-1].rsplit(":", 1)[-1]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ImportedFunction) and other.reference == self.reference

    def __hash__(self) -> int:
        return hash(self.reference)

    def __repr__(self) -> str:
        return f"ImportedFunction({self.reference!r})"

    def get_config(self) -> dict[str, Any]:
        return {"reference": self.reference}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ImportedFunction":
        return cls(config["reference"])
