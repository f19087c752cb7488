"""Compiling a materialized network: optimizer, loss, per-output metrics, dtypes.

One place for what both a search's trials and a hand-built ``NeuralNetworkFuture`` do after
materializing: AdamW with the original's settings (as :class:`~cerebros.optimizers.FlatAdamW`),
the loss, and fresh metric objects for every output.  Losses and metrics travel to worker
processes as Keras configs (:func:`serialize_objects` / :func:`deserialize_objects`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras

from cerebros.optimizers import FlatAdamW

__all__ = ["FLOAT_DTYPES", "dtype_name", "default_metrics", "clone_metrics",
           "metrics_for_outputs", "build_optimizer", "compile_model", "serialize_objects",
           "deserialize_objects"]

FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")


def dtype_name(dtype: Any, name: str = "train_data_dtype") -> str:
    """The name of a float dtype given as a string or a dtype object (``tf.float32``)."""
    value = getattr(dtype, "name", dtype)
    if not isinstance(value, str) or value not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be a float dtype such as 'float32' or tf.float32; "
                         f"got {dtype!r}.")
    return value


def default_metrics() -> list:
    """The original default: root mean squared error (a fresh object each call)."""
    return [keras.metrics.RootMeanSquaredError()]


def clone_metrics(metrics: Sequence[Any] | None) -> list:
    """Fresh copies of metric objects, so that no two models share metric state."""
    if metrics is None:
        return default_metrics()
    return [m if isinstance(m, str) or not isinstance(m, keras.metrics.Metric)
            else type(m).from_config(m.get_config()) for m in metrics]


def metrics_for_outputs(metrics: Any, output_names: Sequence[str]) -> Any:
    """Metrics as Keras expects them: a flat list applies to every output of a
    multi-output model (each output gets its own fresh copies)."""
    if isinstance(metrics, Mapping):
        return metrics
    if metrics is not None and any(isinstance(m, (list, tuple)) for m in metrics):
        return metrics  # already one list per output
    if len(output_names) < 2:
        return clone_metrics(metrics)
    return {name: clone_metrics(metrics) for name in output_names}


def build_optimizer(learning_rate: float) -> keras.optimizers.Optimizer:
    """AdamW with the original's settings (weight decay 0.004), as :class:`FlatAdamW`:
    bitwise the same updates with far fewer graph operations."""
    return FlatAdamW(learning_rate=learning_rate, weight_decay=0.004,
                     beta_1=0.9, beta_2=0.999, epsilon=1e-07)


def compile_model(model: keras.Model, learning_rate: float, loss: Any = "mse",
                  metrics: Any = None, jit_compile: Any = None,
                  steps_per_execution: int = 1) -> keras.Model:
    """Compile ``model`` with AdamW(``learning_rate``, weight_decay=0.004), ``loss`` and
    ``metrics`` (None: RMSE), and return it.

    ``jit_compile=None`` lets Keras decide.  The optimizer's variables are created eagerly
    here: created inside the first traced train step they cost seconds on large networks.

    ``steps_per_execution`` is set on the model for its training and evaluation (which
    Keras runs as a loop inside one graph) but kept out of its saved compile config:
    ``Model.predict`` instead traces that many copies of the whole network into one graph,
    so a saved README network loaded with 32 took 18.9 s for its first prediction, against
    1.3 s with 1 (``benchmarks/bench_predict.py``).
    """
    model.compile(optimizer=build_optimizer(learning_rate), loss=loss,
                  metrics=metrics_for_outputs(metrics, model.output_names),
                  jit_compile="auto" if jit_compile is None else jit_compile,
                  steps_per_execution=1)
    model.steps_per_execution = steps_per_execution
    model.optimizer.build(model.trainable_variables)
    return model


def serialize_objects(objects: Any) -> Any:
    """Keras losses/metrics as picklable configs (strings pass unchanged)."""
    if objects is None or isinstance(objects, str):
        return objects
    if isinstance(objects, (list, tuple)):
        return [serialize_objects(o) for o in objects]
    return keras.saving.serialize_keras_object(objects)


def deserialize_objects(config: Any) -> Any:
    """The inverse of :func:`serialize_objects`."""
    if config is None or isinstance(config, str):
        return config
    if isinstance(config, list):
        return [deserialize_objects(c) for c in config]
    return keras.saving.deserialize_keras_object(config)
