"""AdamW that updates all variables of one dtype with a handful of flat operations.

Keras' AdamW on the TensorFlow backend updates the model variables one at a time: weight
decay, the two moment updates and the step cost about 44 graph operations per variable.
Cerebros networks have many small variables (a 101-unit network has 404), so most of the
operations of a traced train step are the optimizer's, and tracing and graph optimization
time grow with them.

:class:`FlatAdamW` computes the same update on all variables at once.  Per dtype, the
gradients are flattened and concatenated into one vector, the first and second moments are
kept in one flat variable each, the Adam direction and the weight decay are computed once
on the concatenated weights, and each variable receives its slice with one assignment.
Every element goes through the same floating-point operations, in the same order and with
the same constants, as in ``keras.optimizers.AdamW``, so the results are bitwise identical.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Sequence

import keras
import numpy as np
from keras import ops

__all__ = ["FlatAdamW"]

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class _FlatGroup:
    """Built variables of one dtype, laid end to end in the flat moment vectors.

    Attributes
    ----------
    dtype : str
        The variables' dtype, also the dtype of the group's moment vectors.
    indices : tuple of int
        Positions of the variables in the list the optimizer was built with, in layout
        order.
    shapes : tuple of tuple of int
        The variables' shapes, in the same order.
    """

    dtype: str
    indices: tuple[int, ...]
    shapes: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of elements of each variable."""
        return tuple(int(np.prod(shape, dtype=np.int64)) for shape in self.shapes)


@keras.saving.register_keras_serializable(package="cerebros")
class FlatAdamW(keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with the update computed on flat, concatenated vectors.

    Takes exactly the arguments of ``keras.optimizers.AdamW`` and gives bitwise the same
    results, with far fewer graph operations on models with many small variables: two
    per vector variable (a read and one assignment of its slice) and five per matrix (the
    same plus reshapes of its gradient, its value and its new value) instead of about 44.

    Each dtype of the trainable variables forms one group with one flat ``momentum``
    variable and one flat ``velocity`` variable (and one flat ``velocity_hat`` with
    ``amsgrad``), listed in :attr:`variables` so that optimizer state is saved and
    restored.  Keras applies weight decay to every variable first and then subtracts the
    Adam step; here both happen on the concatenated weights, ``(w - w * wd * lr) - step``,
    and each variable is assigned its slice of the result.

    Gradient clipping, loss scaling, gradient accumulation, EMA, learning-rate schedules
    and the iteration counter are the base optimizer's, unchanged.  Variables without a
    gradient in a step, variables excluded from weight decay and sparse
    (``tf.IndexedSlices``) gradients are handled inside the flat path with the semantics
    of Keras' per-variable update.  On other backends than TensorFlow, or under a
    ``tf.distribute`` strategy, the optimizer builds Keras' per-variable slots and uses
    Keras' update.

    Parameters
    ----------
    learning_rate, weight_decay, beta_1, beta_2, epsilon, amsgrad, clipnorm, clipvalue, \
global_clipnorm, use_ema, ema_momentum, ema_overwrite_frequency, loss_scale_factor, \
gradient_accumulation_steps, name, **kwargs
        As for ``keras.optimizers.AdamW``.

    Examples
    --------
    >>> import keras
    >>> from cerebros.optimizers import FlatAdamW
    >>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    >>> model.compile(optimizer=FlatAdamW(learning_rate=0.01, weight_decay=0.004), loss="mse")
    >>> model.optimizer.build(model.trainable_variables)
    >>> [tuple(v.shape) for v in model.optimizer.variables[2:]]
    [(8,), (8,)]
    """

    _flat_groups: tuple[_FlatGroup, ...] | None = None

    def build(self, var_list: list[keras.Variable]) -> None:
        """Create the flat moment variables, one pair per dtype of ``var_list``.

        Parameters
        ----------
        var_list : list of keras.Variable
            The trainable variables the optimizer will update.
        """
        if self.built:
            return
        if not self._flat_path_available():
            logger.debug("FlatAdamW %s: per-variable update (backend %s or a distribution "
                         "strategy)", self.name, keras.backend.backend())
            super().build(var_list)
            return
        # The base optimizer's build (indices, EMA, accumulators), without Adam's slots.
        super(keras.optimizers.Adam, self).build(var_list)
        by_dtype: dict[str, list[int]] = {}
        for index, variable in enumerate(var_list):
            if not self._overwrite_variable_with_gradient(variable):
                dtype = keras.backend.standardize_dtype(variable.dtype)
                by_dtype.setdefault(dtype, []).append(index)
        groups = tuple(
            _FlatGroup(dtype, tuple(indices), tuple(tuple(var_list[i].shape) for i in indices))
            for dtype, indices in by_dtype.items())
        slot_names = ("momentum", "velocity", "velocity_hat")[:3 if self.amsgrad else 2]
        self._flat_slots = [
            [self.add_variable(shape=(sum(group.sizes),), dtype=group.dtype,
                               name=f"flat_{slot}_{group.dtype}") for slot in slot_names]
            for group in groups]
        self._flat_groups = groups
        logger.debug("FlatAdamW %s: %d variables in %d flat group(s) of %s elements",
                     self.name, len(var_list), len(groups),
                     [sum(group.sizes) for group in groups])

    def _flat_path_available(self) -> bool:
        """Whether the TensorFlow backend runs without a distribution strategy."""
        if keras.backend.backend() != "tensorflow":
            return False
        import tensorflow as tf

        return (not tf.distribute.has_strategy()
                and self._distribution_strategy is tf.distribute.get_strategy())

    def _apply_weight_decay(self, variables: Sequence[keras.Variable]) -> None:
        """Keras' weight decay, except in the flat path, where
        :meth:`_backend_update_step` applies it together with the Adam step."""
        if self._flat_groups is None:
            super()._apply_weight_decay(variables)

    def _backend_update_step(self, grads: Sequence[Any], trainable_variables: Sequence[Any],
                             learning_rate: Any) -> None:
        """Decay and update ``trainable_variables``, one flat computation per dtype group.

        Parameters
        ----------
        grads : sequence of tensors or tf.IndexedSlices
            Gradients, already unscaled and clipped by the base optimizer.
        trainable_variables : sequence of keras.Variable
            The variables the gradients belong to (a subset of the built ones when some
            have no gradient).
        learning_rate : scalar tensor or keras.Variable
            The current learning rate.
        """
        if self._flat_groups is None:
            super()._backend_update_step(grads, trainable_variables, learning_rate)
            return
        received = {self._get_variable_index(variable): (gradient, variable)
                    for gradient, variable in zip(grads, trainable_variables)}
        for group, slots in zip(self._flat_groups, self._flat_slots):
            pairs = [received.get(index) for index in group.indices]
            if any(pair is not None for pair in pairs):
                self._update_group(group, slots, pairs, learning_rate)

    def _update_group(self, group: _FlatGroup, slots: Sequence[keras.Variable],
                      pairs: Sequence[tuple[Any, Any] | None], learning_rate: Any) -> None:
        """The AdamW update of one dtype group; ``pairs[k]`` is ``(gradient, variable)``
        of the group's k-th variable, or None when it has no gradient in this step."""
        import tensorflow as tf

        dtype = group.dtype
        # Scalars exactly as in keras.optimizers.Adam.update_step.
        lr = ops.cast(learning_rate, dtype)
        local_step = ops.cast(self.iterations + 1, dtype)
        beta_1_power = ops.power(ops.cast(self.beta_1, dtype), local_step)
        beta_2_power = ops.power(ops.cast(self.beta_2, dtype), local_step)
        alpha = lr * ops.sqrt(1 - beta_2_power) / (1 - beta_1_power)

        gradient, square, weights = _concatenate(group, pairs)
        present = [pair is not None for pair in pairs]
        mask = None if all(present) else tf.constant(np.repeat(present, group.sizes))

        momentum, velocity = slots[0], slots[1]
        self._masked_assign_add(
            momentum, ops.multiply(ops.subtract(gradient, momentum), 1 - self.beta_1), mask)
        self._masked_assign_add(
            velocity, ops.multiply(ops.subtract(square, velocity), 1 - self.beta_2), mask)
        if self.amsgrad:
            velocity_hat = slots[2]
            maximum = ops.maximum(velocity_hat, velocity)
            self.assign(velocity_hat, maximum if mask is None
                        else ops.where(mask, maximum, velocity_hat))
            velocity = velocity_hat
        step = ops.divide(ops.multiply(momentum, alpha),
                          ops.add(ops.sqrt(velocity), self.epsilon))

        if self.weight_decay is not None:
            # As TensorFlow's optimizer: variable.assign_sub(variable * wd * lr).
            wd = tf.cast(self.weight_decay, dtype)
            decayed = weights - weights * wd * lr
            decays = [pair is None or self._use_weight_decay(pair[1]) for pair in pairs]
            if not all(decays):
                decayed = tf.where(tf.constant(np.repeat(decays, group.sizes)),
                                   decayed, weights)
            weights = decayed
        shape_constants: dict[tuple[int, ...], Any] = {}
        for piece, shape, pair in zip(tf.split(weights - step, group.sizes), group.shapes,
                                      pairs):
            if pair is None:
                continue
            if len(shape) != 1:
                if shape not in shape_constants:
                    shape_constants[shape] = tf.constant(shape, tf.int32)
                piece = tf.reshape(piece, shape_constants[shape])
            self.assign(pair[1], piece)

    def _masked_assign_add(self, slot: keras.Variable, delta: Any, mask: Any) -> None:
        """``slot += delta``, only where ``mask`` is true (everywhere when it is None)."""
        if mask is None:
            self.assign_add(slot, delta)
        else:
            self.assign(slot, ops.where(mask, ops.add(slot, delta), slot))


def _concatenate(group: _FlatGroup,
                 pairs: Sequence[tuple[Any, Any] | None]) -> tuple[Any, Any, Any]:
    """The group's gradients, squared gradients and weights, each as one flat vector.

    Parameters
    ----------
    group : _FlatGroup
        The layout.
    pairs : sequence of (gradient, variable) or None
        Per variable of the group, in layout order; None (zeros in the vectors) when the
        variable has no gradient in this step.

    Returns
    -------
    gradient, square, weights : tf.Tensor
        Vectors of ``sum(group.sizes)`` elements.
    """
    import tensorflow as tf

    dtype = group.dtype
    flatten = tf.constant([-1])

    def as_vector(tensor: Any) -> Any:
        # Vectors (gammas, betas, biases) are concatenated as they are.
        if tf.TensorShape(tensor.shape).rank == 1:
            return tensor
        return tf.reshape(tensor, flatten)

    gradients, squares, values = [], [], []
    for size, pair in zip(group.sizes, pairs):
        if pair is None:
            zeros = tf.zeros([size], dtype)
            gradients.append(zeros)
            squares.append(zeros)
            values.append(zeros)
            continue
        gradient, variable = pair
        gradient = ops.cast(gradient, dtype)
        if isinstance(gradient, tf.IndexedSlices):
            # Keras squares a sparse gradient's values and densifies the result where
            # it meets the dense velocity; the plain gradient is densified likewise.
            squares.append(as_vector(tf.convert_to_tensor(ops.square(gradient))))
            gradient = tf.convert_to_tensor(gradient)
        else:
            squares.append(None)
        gradients.append(as_vector(gradient))
        values.append(as_vector(variable))
    gradient = tf.concat(gradients, 0)
    if all(square is None for square in squares):
        square = ops.square(gradient)
    else:
        square = tf.concat([ops.square(g) if s is None else s
                            for g, s in zip(gradients, squares)], 0)
    return gradient, square, tf.concat(values, 0)
