"""Compiling a materialized network: optimizer, loss, per-output metrics, dtypes.

One place for what both a search's trials and a hand-built ``NeuralNetworkFuture`` do after
materializing: AdamW with the original's settings (as :class:`~cerebros.optimizers.FlatAdamW`),
the loss, and fresh metric objects for every output.  Losses and metrics travel to worker
processes as Keras configs, plain user functions as themselves (:func:`serialize_objects` /
:func:`deserialize_objects`).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import keras

from cerebros.optimizers import FlatAdamW

__all__ = ["FLOAT_DTYPES", "dtype_name", "default_metrics", "clone_metrics",
           "metrics_for_outputs", "build_optimizer", "compile_model", "serialize_objects",
           "deserialize_objects", "registered_objects"]

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


def _keras_object(value: Any) -> bool:
    return isinstance(value, (keras.losses.Loss, keras.metrics.Metric))


def serialize_objects(objects: Any, name: str = "loss/metrics") -> Any:
    """Losses/metrics in the form they travel to trials in: strings pass unchanged, Keras
    objects (and Keras' or registered functions) become their Keras configs, so each trial
    builds fresh ones, and any other function (a plain ``def my_mse(y_true, y_pred)``, which
    ``Model.compile`` accepts) stays itself: it travels by reference, or by value with
    cloudpickle to "process" and "ray" workers.

    Raises
    ------
    ValueError
        Naming ``name`` (e.g. ``loss`` or ``metrics[0]``), for an object whose Keras config
        cannot be turned back into it (a Loss or Metric subclass that is not registered),
        so that it is refused before any trial runs instead of failing in every one.
    """
    if objects is None or isinstance(objects, str):
        return objects
    if isinstance(objects, (list, tuple)):
        return [serialize_objects(o, f"{name}[{i}]") for i, o in enumerate(objects)]
    try:
        config = keras.saving.serialize_keras_object(objects)
        rebuilt = keras.saving.deserialize_keras_object(config)
    except Exception as error:  # Keras raises TypeError, ValueError, ... for unknown names
        if callable(objects) and not _keras_object(objects) and not isinstance(objects, type):
            return objects
        raise ValueError(
            f"{name} ({type(objects).__name__}) cannot be rebuilt from its Keras config, as "
            f"each trial must: {str(error).split('. ')[0]}. Register its class (and every "
            "function it wraps) with "
            "@keras.saving.register_keras_serializable() and have its get_config() return "
            "the arguments its __init__ takes, or pass a plain function f(y_true, y_pred) "
            "instead.") from None
    if callable(objects) and not _keras_object(objects) and rebuilt is not objects:
        return objects  # e.g. a lambda: Keras would rebuild another function
    return config


def registered_objects(config: Any) -> dict[str, Any]:
    """The classes and functions registered with
    ``@keras.saving.register_keras_serializable()`` that the Keras configs in ``config`` (as
    :func:`serialize_objects` gives them) refer to, by registered name.  A worker process
    that never ran the registration (a spawned one, for a class defined in a notebook)
    registers them when they are passed to :func:`deserialize_objects`."""
    found: dict[str, Any] = {}
    todo = [config]
    while todo:
        value = todo.pop()
        if isinstance(value, (list, tuple)):
            todo.extend(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
            names = (value.get("registered_name"),
                     value.get("config") if value.get("class_name") == "function" else None)
            for name in names:
                if isinstance(name, str) and ">" in name:
                    obj = keras.saving.get_registered_object(name)
                    if obj is not None:
                        found[name] = obj
    return found


def deserialize_objects(config: Any, registered: Mapping[str, Any] | None = None) -> Any:
    """The inverse of :func:`serialize_objects` (fresh Keras objects each call).

    ``registered`` (see :func:`registered_objects`) are registered with Keras first where
    this process has not registered their names yet (a worker process), so that they are
    found, and a model saved here names them as the driver's process does."""
    for name, obj in (registered or {}).items():
        if keras.saving.get_registered_object(name) is None:
            package, _, short = name.rpartition(">")
            keras.saving.register_keras_serializable(package, short)(obj)
    if config is None or isinstance(config, str):
        return config
    if isinstance(config, list):
        return [deserialize_objects(c) for c in config]
    if callable(config):
        return config
    return keras.saving.deserialize_keras_object(config)
