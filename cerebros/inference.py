"""Predictions of a trained Cerebros model without tracing a ``tf.function``.

``keras.Model.predict`` traces a graph of the whole network the first time it is called on
a model; for a large Cerebros network (hundreds of units, thousands of connections) that
takes seconds, paid again by every freshly loaded model.  :func:`predict` calls the model
directly in inference mode, in chunks of rows, and returns NumPy arrays.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from cerebros.checks import check_int

__all__ = ["predict"]


def predict(model: keras.Model, x: Any, batch_rows: int = 8192) -> Any:
    """Inference-mode predictions of ``model`` for ``x`` as NumPy.

    Parameters
    ----------
    model : keras.Model
        A built model, e.g. from ``search.get_best_model()`` or ``get_best_ensemble()``.
    x : array-like or list of array-like
        The rows, one array per model input (a list for several inputs).
    batch_rows : int
        Rows per direct call of the model, >= 1; bounds the memory of one call.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        One array per model output (a list for several outputs), ``len(x)`` rows each.
        Calling the model traces no ``tf.function``, so scoring many models neither
        retraces nor keeps their graphs.  Runs in O(rows × model size).
    """
    batch_rows = check_int("batch_rows", batch_rows, 1)
    several = isinstance(x, (list, tuple))
    arrays = [np.asarray(a) for a in (x if several else [x])]
    if len(arrays) != len(model.inputs):
        raise ValueError(f"x must hold one array per model input ({len(model.inputs)}); got "
                         f"{len(arrays)}.")
    rows = arrays[0].shape[0] if arrays[0].ndim else 0
    if any((a.shape[0] if a.ndim else 0) != rows for a in arrays):
        raise ValueError("every array in x must have the same number of rows; got "
                         f"{[a.shape[0] if a.ndim else 0 for a in arrays]}.")
    chunks: list[list[np.ndarray]] = []
    for start in range(0, max(rows, 1), batch_rows):
        part = [a[start:start + batch_rows] for a in arrays]
        result = model(part if several else part[0], training=False)
        result = list(result) if isinstance(result, (list, tuple)) else [result]
        chunks.append([keras.ops.convert_to_numpy(r) for r in result])
    outputs = [np.concatenate([c[j] for c in chunks], axis=0) for j in range(len(chunks[0]))]
    return outputs if len(model.outputs) > 1 else outputs[0]
