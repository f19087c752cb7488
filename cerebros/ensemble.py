"""Ensembles of the models a search trained.

A search leaves many trained networks behind; averaging several of them usually predicts
better than the best one alone.  This module picks the members and builds the average:

* :func:`greedy_ensemble_selection` is the forward selection with replacement of Caruana
  et al. (2004), "Ensemble selection from libraries of models", on predictions for
  validation rows (pure NumPy);
* :func:`ensemble_weights` turns the chosen multiset of indices into weights;
* :func:`average_models` builds one Keras functional model whose outputs are the weighted
  average of the members' outputs, through the registered layer :class:`WeightedAverage`,
  so that the ensemble saves as ``.keras`` and loads with plain
  ``keras.models.load_model`` after ``import cerebros`` (or ``import cerebros.ensemble``);
* :func:`build_ensemble` does all of it from the paths of saved models.

Averaging is done on whatever the members output.  A classifier whose final activation is
``softmax`` or ``sigmoid`` outputs probabilities, so the ensemble outputs the weighted
average of the probabilities (still probabilities); a member that outputs logits
(``final_activation=None``) gives averaged logits instead.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np

from cerebros.checks import check_direction, check_int
from cerebros.inference import predict
from keras import ops

import cerebros.layers  # noqa: F401  (registers Cerebros' layers, which members may contain)

__all__ = ["WeightedAverage", "average_models", "build_ensemble", "ensemble_weights",
           "greedy_ensemble_selection", "rmse_score"]

logger = logging.getLogger(__name__)

_RELATIVE_TOLERANCE = 1e-9


# --------------------------------------------------------------------------- validation


def _check_weights(weights: Any, n_models: int) -> list[float]:
    """Weights as floats: one per model, non-negative, finite, not all zero."""
    try:
        values = [float(w) for w in weights]
    except (TypeError, ValueError):
        raise ValueError("weights must be a sequence of non-negative finite numbers; "
                         f"got {weights!r}.") from None
    if len(values) != n_models:
        raise ValueError(f"weights must hold one weight per model ({n_models}); "
                         f"got {len(values)}.")
    for i, w in enumerate(values):
        if not math.isfinite(w) or w < 0:
            raise ValueError("weights must be non-negative and finite; "
                             f"weights[{i}] is {weights[i]!r}.")
    if sum(values) <= 0:
        raise ValueError("weights must not all be zero.")
    return values


# --------------------------------------------------------------------------- selection


def rmse_score(y_true: Any, y_pred: Any) -> float:
    """Root mean squared error; for several outputs (lists) the mean of the per-output RMSEs.

    A target whose shape differs from the prediction's but has as many entries (labels
    ``(n,)`` against predictions ``(n, 1)``) is reshaped to the prediction's shape.
    """
    if isinstance(y_pred, (list, tuple)):
        if not isinstance(y_true, (list, tuple)) or len(y_true) != len(y_pred):
            raise ValueError("y_true must be a list with one array per output "
                             f"({len(y_pred)}).")
        return float(np.mean([rmse_score(t, p) for t, p in zip(y_true, y_pred)]))
    pred = np.asarray(y_pred, dtype=np.float64)
    true = _align_target(np.asarray(y_true, dtype=np.float64), pred.shape)
    return float(np.sqrt(np.mean(np.square(true - pred))))


def _align_target(true: np.ndarray, shape: tuple) -> np.ndarray:
    if true.shape == shape:
        return true
    if true.size == int(np.prod(shape)) and true.shape[:1] == shape[:1]:
        return true.reshape(shape)
    raise ValueError(f"a target of shape {true.shape} does not match predictions of shape "
                     f"{shape}.")


def _as_output_list(prediction: Any) -> list[np.ndarray]:
    if isinstance(prediction, (list, tuple)):
        return [np.asarray(p, dtype=np.float64) for p in prediction]
    return [np.asarray(prediction, dtype=np.float64)]


def greedy_ensemble_selection(predictions: Sequence[np.ndarray | list[np.ndarray]],
                              y_true: Any,
                              score_fn: Callable[[Any, Any], float] | None = None,
                              max_size: int = 20,
                              direction: str = "minimize") -> list[int]:
    """Forward ensemble selection with replacement (Caruana et al., 2004).

    Starting from the empty ensemble, each step adds the model (possibly one already in)
    whose inclusion gives the best score of the averaged prediction; the first step thus
    picks the single best model.  After ``max_size`` steps the prefix of the path with the
    best score is returned: the shortest prefix that no longer prefix beats by more than
    1e-9 times the scale of the scores (the larger of the first and the best score), since
    rounding noise would otherwise favor e.g. ``[a, a, a]`` over ``[a]``.

    Parameters
    ----------
    predictions : sequence
        One prediction per model on the same validation rows: an array, or for a
        multi-output model a list with one array per output.  All models must have the
        same structure and shapes.
    y_true : array or list of arrays
        The validation targets, in the structure of one model's prediction.
    score_fn : callable, optional
        ``score_fn(y_true, y_pred) -> float``, called with ``y_pred`` in the structure of
        one model's prediction.  Default :func:`rmse_score`: the RMSE (averaged over outputs).
        A NaN score counts as the worst possible score.
    max_size : int
        Number of selection steps, i.e. the largest size of the returned multiset.
    direction : {"minimize", "maximize"}
        Whether lower or higher scores are better.

    Returns
    -------
    list of int
        The chosen model indices in the order chosen; an index appears once per time it
        was chosen (see :func:`ensemble_weights`).  Ties go to the lowest index.

    Raises
    ------
    ValueError
        On an empty ``predictions``, predictions of different structure or shape,
        ``max_size`` < 1 or a bad ``direction``.

    Notes
    -----
    Costs O(max_size x n_models x rows) score evaluations' worth of work (each candidate
    costs one update of the running mean over all rows and outputs, plus ``score_fn``).
    """
    max_size = check_int("max_size", max_size, 1)
    direction = check_direction(direction)
    if len(predictions) == 0:
        raise ValueError("predictions must hold at least one model's predictions.")
    score_fn = rmse_score if score_fn is None else score_fn
    multi = isinstance(predictions[0], (list, tuple))
    preds = [_as_output_list(p) for p in predictions]
    shapes = [p.shape for p in preds[0]]
    for i, p in enumerate(preds):
        if [q.shape for q in p] != shapes or isinstance(predictions[i], (list, tuple)) != multi:
            raise ValueError(f"predictions[{i}] has output shapes {[q.shape for q in p]}, but "
                             f"predictions[0] has {shapes}; every model must predict the "
                             "same outputs for the same rows.")

    def badness(score: float) -> float:
        score = float(score)
        if math.isnan(score):
            return math.inf
        return score if direction == "minimize" else -score

    running = [np.zeros(s, dtype=np.float64) for s in shapes]
    chosen: list[int] = []
    best_badness, best_length = math.inf, 1
    for step in range(1, max_size + 1):
        step_best, step_index = math.inf, -1
        for index, p in enumerate(preds):
            mean = [(r + q) / step for r, q in zip(running, p)]
            b = badness(score_fn(y_true, mean if multi else mean[0]))
            if step_index < 0 or b < step_best:
                step_best, step_index = b, index
        chosen.append(step_index)
        running = [r + q for r, q in zip(running, preds[step_index])]
        # A longer prefix must beat the best by more than rounding noise (the mean of
        # [a, a] or [a, b, a, b] is the mean of [a] or [a, b] up to a few ulps), measured
        # on the scale of the scores seen, which the first (single-model) score sets.
        if step == 1:
            scale = abs(step_best) if math.isfinite(step_best) else 0.0
        if step == 1 or math.isinf(best_badness) and step_best < best_badness or (
                step_best < best_badness - _RELATIVE_TOLERANCE * max(scale, abs(best_badness))):
            best_badness, best_length = step_best, step
    return chosen[:best_length]


def ensemble_weights(indices: Sequence[int], n_models: int) -> np.ndarray:
    """How often each of ``n_models`` models appears in ``indices``, divided by the total.

    Returns a float64 array of length ``n_models`` summing to 1.
    """
    n_models = check_int("n_models", n_models, 1)
    indices = list(indices)
    if not indices:
        raise ValueError("indices must hold at least one index.")
    for i in indices:
        if isinstance(i, bool) or not isinstance(i, (int, np.integer)) or not 0 <= i < n_models:
            raise ValueError(f"indices must be ints in [0, {n_models}); got {i!r}.")
    counts = np.bincount(np.asarray(indices, dtype=np.int64), minlength=n_models)
    return counts.astype(np.float64) / counts.sum()


# --------------------------------------------------------------------------- averaging


@keras.saving.register_keras_serializable(package="cerebros")
class WeightedAverage(keras.layers.Layer):
    """``sum_i weights[i] * inputs[i] / sum(weights)`` of a list of same-shaped tensors.

    Parameters
    ----------
    weights : sequence of float
        One non-negative, finite weight per input, not all zero; they are normalized to sum
        to 1 (``averaging_weights``).  Named ``weights`` in the config too; the layer itself
        has no variables, so ``layer.weights`` stays the (empty) list of Keras variables.
    """

    def __init__(self, weights: Sequence[float], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        weights = list(weights)
        values = _check_weights(weights, len(weights))
        total = math.fsum(values)
        self.averaging_weights = tuple(v / total for v in values)

    def build(self, input_shape: Any) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError("WeightedAverage must be called on a list of tensors.")
        if len(input_shape) != len(self.averaging_weights):
            raise ValueError(f"WeightedAverage has {len(self.averaging_weights)} weights but "
                             f"was called on {len(input_shape)} tensors.")
        first = tuple(input_shape[0])[1:]
        for i, shape in enumerate(input_shape):
            if tuple(shape)[1:] != first:
                raise ValueError(f"WeightedAverage inputs must share one shape; input {i} "
                                 f"has {tuple(shape)}, input 0 has {tuple(input_shape[0])}.")
        self.built = True

    def call(self, inputs: Sequence[Any]) -> Any:
        total = None
        for weight, tensor in zip(self.averaging_weights, inputs):
            term = tensor * ops.cast(weight, tensor.dtype)
            total = term if total is None else total + term
        return total

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["weights"] = list(self.averaging_weights)
        return config


def _signature(model: Any, position: int) -> tuple[list, list]:
    """Input (name, shape) pairs and output shapes of a built model; ValueError otherwise."""
    label = f"models[{position}] ({getattr(model, 'name', type(model).__name__)!r})"
    if not isinstance(model, keras.Model):
        raise ValueError(f"{label} is a {type(model).__name__}, not a keras.Model.")  # noqa: TRY004
    try:
        inputs, outputs = list(model.inputs), list(model.outputs)
    except (AttributeError, ValueError):
        inputs = outputs = None
    if not inputs or not outputs:
        raise ValueError(f"{label} has no symbolic inputs and outputs; members must be "
                         "built functional (or Sequential) models.")
    return ([(t.name, tuple(t.shape)[1:]) for t in inputs],
            [tuple(t.shape)[1:] for t in outputs])


def _bare(items: list) -> Any:
    return items[0] if len(items) == 1 else items


def average_models(models: Sequence[keras.Model], weights: Sequence[float] | None = None,
                   name: str = "cerebros_ensemble") -> keras.Model:
    """One functional model whose outputs are the weighted average of ``models``' outputs.

    The ensemble has the inputs of ``models[0]`` (same names, shapes and dtypes) and one
    output per output of the members: output ``j`` is ``sum_i w_i * models[i](x)[j]`` with
    the weights normalized to sum to 1, computed by a :class:`WeightedAverage` layer named
    like the first member's output ``j`` (e.g. ``out_0``).  With one input and one output
    the ensemble takes and returns a bare tensor, like Cerebros' models.  Members that
    output probabilities (softmax/sigmoid) give averaged probabilities; members that output
    logits give averaged logits.

    The members are nested as layers (their variables are shared, not copied).  A member
    whose name is already taken in the ensemble (two members named alike, or a member
    named like an input or output) is wrapped in a functional model named
    ``<name>_member_<i>``, since Keras requires unique layer names in a model; the layers
    inside each member live in their own scope, so members with the same inner layer names
    (``u1_0``, ``out_0``, ...) save and load without clashing.  The same model object given
    twice is included once, with the sum of its weights.

    Parameters
    ----------
    models : sequence of keras.Model
        Built models with identical input names and shapes and identical output count and
        shapes.
    weights : sequence of float, optional
        One non-negative, finite weight per model, not all zero (default: equal weights).
        Members of weight zero are left out.
    name : str
        The ensemble's name.

    Raises
    ------
    ValueError
        If ``models`` is empty, a model's inputs or outputs disagree with ``models[0]`` (the
        message names the model), or the weights are invalid.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one model.")
    weights = [1.0] * len(models) if weights is None else _check_weights(weights, len(models))
    input_sig, output_sig = _signature(models[0], 0)
    for i, model in enumerate(models[1:], start=1):
        other_inputs, other_outputs = _signature(model, i)
        if other_inputs != input_sig:
            raise ValueError(
                f"models[{i}] ({model.name!r}) has inputs {other_inputs} (name, shape), but "
                f"models[0] ({models[0].name!r}) has {input_sig}; all members must take the "
                "same inputs.")
        if other_outputs != output_sig:
            raise ValueError(
                f"models[{i}] ({model.name!r}) has {len(other_outputs)} output(s) of shapes "
                f"{other_outputs}, but models[0] ({models[0].name!r}) has "
                f"{len(output_sig)} of shapes {output_sig}; all members must have the same "
                "outputs.")

    # Merge repeats of one model object; leave out zero weights.
    members: list[keras.Model] = []
    member_weights: list[float] = []
    position: dict[int, int] = {}
    for model, weight in zip(models, weights):
        if weight == 0:
            continue
        if id(model) in position:
            member_weights[position[id(model)]] += weight
        else:
            position[id(model)] = len(members)
            members.append(model)
            member_weights.append(weight)

    first = models[0]
    inputs = [keras.Input(shape=t.shape[1:], name=t.name, dtype=t.dtype)
              for t in first.inputs]
    used = {t.name for t in inputs}
    output_names = []
    for j, tensor in enumerate(first.outputs):
        candidate = getattr(tensor, "_keras_history", None)
        candidate = candidate[0].name if candidate else f"out_{j}"
        if candidate in used or candidate in output_names:
            candidate = f"ensemble_out_{j}"
        output_names.append(candidate)
    used.update(output_names)

    per_output: list[list[Any]] = [[] for _ in output_sig]
    for i, member in enumerate(members):
        if member.name in used:
            wrapped_name = f"{member.name}_member_{i}"
            while wrapped_name in used:
                wrapped_name += "_"
            inner = [keras.Input(shape=t.shape[1:], name=t.name, dtype=t.dtype)
                     for t in member.inputs]
            member = keras.Model(_bare(inner), member(_bare(inner)), name=wrapped_name)
        used.add(member.name)
        result = member(_bare(inputs))
        result = list(result) if isinstance(result, (list, tuple)) else [result]
        for j, tensor in enumerate(result):
            per_output[j].append(tensor)

    outputs = []
    for j, tensors in enumerate(per_output):
        outputs.append(WeightedAverage(member_weights, name=output_names[j],
                                       dtype=first.outputs[j].dtype)(tensors))
    return keras.Model(inputs=_bare(inputs), outputs=_bare(outputs), name=name)


# --------------------------------------------------------------------------- from files


def _structure_inputs(x: Any, n_inputs: int) -> Any:
    if isinstance(x, (list, tuple)):
        if len(x) != n_inputs:
            raise ValueError(f"x_val must hold one array per model input ({n_inputs}); "
                             f"got {len(x)}.")
        return x[0] if n_inputs == 1 else list(x)
    if n_inputs != 1:
        raise ValueError(f"x_val must be a list of {n_inputs} arrays, one per model input.")
    return x


def _structure_targets(y: Any, n_outputs: int) -> Any:
    if isinstance(y, (list, tuple)):
        if len(y) != n_outputs:
            raise ValueError(f"y_val must hold one array per model output ({n_outputs}); "
                             f"got {len(y)}.")
        return np.asarray(y[0]) if n_outputs == 1 else [np.asarray(v) for v in y]
    if n_outputs != 1:
        raise ValueError(f"y_val must be a list of {n_outputs} arrays, one per output.")
    return np.asarray(y)


def _load(path: str) -> keras.Model:
    return keras.models.load_model(path, compile=False)


def build_ensemble(model_paths: Sequence[str], x_val: Any, y_val: Any,
                   top: int | None = None, greedy: bool = True, max_size: int = 20,
                   direction: str = "minimize",
                   score_fn: Callable[[Any, Any], float] | None = None,
                   ) -> tuple[keras.Model, dict[str, Any]]:
    """Build the averaged model of saved models, chosen on validation rows.

    Each model is loaded (``compile=False``), predicts ``x_val`` once and is released; the
    chosen members are loaded again to build the ensemble, so only they stay in memory.

    Parameters
    ----------
    model_paths : sequence of str or path-like
        Saved ``.keras`` models with the same inputs and outputs.  A path given twice counts
        as one candidate.
    x_val, y_val
        Validation inputs and targets: an array, or a list with one array per input /
        output.
    top : int, optional
        Only the ``top`` models with the best individual validation scores are candidates
        (default: all).
    greedy : bool
        Choose members with :func:`greedy_ensemble_selection` (True) or average all
        candidates with equal weights (False).
    max_size, direction, score_fn
        As in :func:`greedy_ensemble_selection` (default score: RMSE).

    Returns
    -------
    model : keras.Model
        The ensemble from :func:`average_models`.
    info : dict
        ``members`` (paths of the chosen models, in the order of ``model_paths``),
        ``weights`` (their weights, summing to 1), ``val_score`` (the ensemble's score on
        the validation rows) and ``member_val_scores`` (each model's own score, in the
        order of the unique ``model_paths``).

    Raises
    ------
    ValueError
        On an empty ``model_paths``, ``top`` that is not an int >= 1, ``max_size`` < 1, a
        bad ``direction``, or models that disagree on inputs and outputs.
    """
    paths = list(dict.fromkeys(os.fspath(p) for p in model_paths))
    if not paths:
        raise ValueError("model_paths must name at least one saved model.")
    if top is not None:
        top = check_int("top", top, 1)
    max_size = check_int("max_size", max_size, 1)
    direction = check_direction(direction)
    scorer = rmse_score if score_fn is None else score_fn

    predictions, x, y = [], None, None
    signature = None
    for i, path in enumerate(paths):
        model = _load(path)
        current = _signature(model, i)
        if signature is None:
            signature = current
            x = _structure_inputs(x_val, len(model.inputs))
            y = _structure_targets(y_val, len(model.outputs))
        elif current != signature:
            raise ValueError(f"the model at {path!r} ({model.name!r}) has inputs/outputs "
                             f"{current}, but the model at {paths[0]!r} has {signature}; "
                             "all models must take the same inputs and give the same "
                             "outputs.")
        predictions.append(predict(model, x))
        del model
    member_scores = [float(scorer(y, p)) for p in predictions]

    def order_key(i: int) -> tuple:
        s = member_scores[i]
        bad = math.inf if math.isnan(s) else (s if direction == "minimize" else -s)
        return (bad, i)

    candidates = sorted(range(len(paths)), key=order_key)
    if top is not None:
        candidates = candidates[:top]
    candidates.sort()
    if greedy:
        chosen = greedy_ensemble_selection([predictions[i] for i in candidates], y,
                                           score_fn=scorer, max_size=max_size,
                                           direction=direction)
        weights = ensemble_weights(chosen, len(candidates))
    else:
        weights = np.full(len(candidates), 1.0 / len(candidates))
    kept = [(candidates[k], float(w)) for k, w in enumerate(weights) if w > 0]

    multi = isinstance(predictions[0], list)
    n_outputs = len(_as_output_list(predictions[0]))
    averaged = [sum(w * _as_output_list(predictions[i])[j] for i, w in kept)
                for j in range(n_outputs)]
    val_score = float(scorer(y, averaged if multi else averaged[0]))

    members = [_load(paths[i]) for i, _ in kept]
    model = average_models(members, [w for _, w in kept])
    info = {"members": [paths[i] for i, _ in kept], "weights": [w for _, w in kept],
            "val_score": val_score, "member_val_scores": member_scores}
    logger.info("Ensemble of %d models (of %d); validation score %.6g.", len(kept),
                len(paths), val_score)
    return model, info
