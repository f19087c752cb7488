"""Run one trial: materialize a planned network, compile, fit, and report what happened.

A trial is plain core data (:class:`TrialTask`: the wiring plan, the model options, the
training config and its numbers) and runs as plan → materialize → compile → fit.  The
trial runner knows the model and the data; it does not know the oracle's file format:
it returns a :class:`~cerebros.oracle.TrialRecord` and the saved model's bytes, and the
search loop (which owns the project directory) records them.  Tasks and outcomes are plain
picklable data, so the same function runs inline, in a worker process or as a Ray task.
"""

from __future__ import annotations

import gc
import logging
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import pendulum

from cerebros.checks import check_direction
from cerebros.compilation import (compile_model, deserialize_objects, metrics_for_outputs,
                                  serialize_objects)
from cerebros.data import PreparedData
from cerebros.materialize import (ModelOptions, materialize, network_record, set_unit_weights,
                                  unit_weights)
from cerebros.oracle import COMPLETED, FAILED, TIMEOUT_ERROR, TrialRecord, now_iso
from cerebros.tf_state import clear_session, trial_state
from cerebros.wiring import WiringPlan

__all__ = ["TrainingConfig", "TrialTask", "TrialOutcome", "run_trial",
           "available_metric_names", "failed_outcome"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """How every trial of a search is trained (all picklable).

    ``loss`` and ``metrics`` are as :func:`~cerebros.compilation.serialize_objects` gives
    them; ``custom_objects`` holds the registered Keras classes and functions they name
    (:func:`~cerebros.compilation.registered_objects`), sent along so that a worker process
    that never ran their registration rebuilds them."""

    epochs: int = 7
    batch_size: int = 200
    patience: int | None = 7
    reduce_lr_patience: int | None = None
    learning_rate: float = 0.005
    loss: Any = "mse"
    metrics: Any = None
    metric_to_rank_by: str = "val_root_mean_squared_error"
    direction: str = "minimize"
    jit_compile: Any = None
    steps_per_execution: int = 1
    graph_optimization: bool = False
    verbose: int = 0
    deterministic: bool = False
    callbacks: Sequence[Any] = field(default=())
    keep_unit_weights: bool = False
    custom_objects: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialTask:
    """One trial to run: its numbers, its planned network (wiring plan, model options and
    Keras name), the path its model is recorded under, and the seed of its training
    randomness (shuffling, dropout).  ``initial_weights`` (a bred child's inheritance, see
    :func:`~cerebros.materialize.set_unit_weights`) replaces the fresh weights of the units
    it names before training."""

    trial_number: int
    subtrial_number: int
    plan: WiringPlan
    options: ModelOptions
    name: str
    model_name: str
    seed: int
    training: TrainingConfig
    generation: int = 0
    parent: tuple[int, int] | None = None
    mutation: str = ""
    attempt: int = 1
    initial_weights: dict[tuple[int, int], list[Any]] | None = field(
        default=None, compare=False, repr=False)

    def network_record(self) -> dict[str, Any]:
        """The network as JSON data (what the project's ``model_architectures/`` holds)."""
        lineage = ({"parent": list(self.parent), "mutation": self.mutation}
                   if self.parent is not None else {})
        return network_record(self.plan, self.options, self.name,
                              trial_number=self.trial_number,
                              subtrial_number=self.subtrial_number,
                              learning_rate=self.training.learning_rate,
                              generation=self.generation, **lineage)

    def record(self, **fields: Any) -> TrialRecord:
        """The oracle record of this trial, with its numbers and lineage and ``fields``."""
        parent = self.parent or (None, None)
        return TrialRecord(trial_number=self.trial_number, subtrial_number=self.subtrial_number,
                           model_name=self.model_name, generation=self.generation,
                           parent_trial=parent[0], parent_subtrial=parent[1],
                           attempt=self.attempt, **fields)


@dataclass
class TrialOutcome:
    """What a trial produced: its oracle record, its saved ``.keras`` model and (with
    ``TrainingConfig.keep_unit_weights``) its units' trained weights (see
    :func:`~cerebros.materialize.unit_weights`), if it completed."""

    record: TrialRecord
    model_bytes: bytes | None = None
    unit_weights: dict[tuple[int, int], list[Any]] | None = None


_SCHEDULE_LOGS = ("learning_rate",)
"""Keys the learning-rate schedule adds to the logs; kept out of the oracle's history so that
its columns stay the original's."""


def _schedule_callbacks(training: TrainingConfig, has_validation: bool) -> list:
    """Early stopping (``patience``) and halving the learning rate on a plateau
    (``reduce_lr_patience``), both watching ``metric_to_rank_by``; with or without early
    stopping, training ends with the best epoch's weights, so the saved model scores what
    the oracle ranks it by."""
    import keras

    monitor = training.metric_to_rank_by
    if monitor.startswith("val_") and not has_validation:
        monitor = monitor[len("val_"):]
    mode = "min" if check_direction(training.direction) == "minimize" else "max"
    callbacks = []
    if training.reduce_lr_patience:
        callbacks.append(keras.callbacks.ReduceLROnPlateau(
            monitor=monitor, mode=mode, factor=0.5, patience=int(training.reduce_lr_patience),
            min_lr=min(1e-4, training.learning_rate)))
    # Without early stopping (patience None or 0) a patience of ``epochs`` never stops
    # training, and the best weights are still restored at its end.
    callbacks.append(keras.callbacks.EarlyStopping(
        monitor=monitor, mode=mode, patience=int(training.patience or training.epochs),
        restore_best_weights=True))
    return callbacks


def _deadline(seconds: float) -> Any:
    """A Keras callback that stops training at the first epoch boundary after ``seconds``
    (its ``expired`` attribute says whether it did)."""
    import keras

    class Deadline(keras.callbacks.Callback):
        expired = False

        def on_train_begin(self, logs=None):
            self.start = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            if time.monotonic() - self.start >= seconds:
                self.expired = True
                self.model.stop_training = True

    return Deadline()


def _non_finite_epoch(history: dict[str, list[float]]) -> int | None:
    for epoch, value in enumerate(history.get("loss", [])):
        if not math.isfinite(float(value)):
            return epoch
    return None


def _bare(arrays: list) -> Any:
    """A one-element list as its element: single-input models take a bare array."""
    return arrays[0] if len(arrays) == 1 else arrays


def _steps_per_epoch(data: PreparedData, training: TrainingConfig) -> int:
    """The batches of one pass over the training rows.  Told this, Keras starts each epoch
    with the pass it prepared at the end of the one before, instead of preparing a second
    one and dropping the first (about 17 ms each for arrays)."""
    return -(-data.n_train // training.batch_size)


def _validation_batches(x_val: list, y_val: list, batch_size: int) -> Any:
    """The validation rows as a ``tf.data`` pipeline of the batches Keras would evaluate
    (in order, ``batch_size`` rows each), so the scores are the same.  Keras' own pipeline
    for arrays, built to shuffle, takes about 17 ms to start each epoch's pass; this one
    under 1 ms."""
    import tensorflow as tf

    def structure(arrays: list) -> Any:
        return arrays[0] if len(arrays) == 1 else tuple(arrays)

    return tf.data.Dataset.from_tensor_slices(
        (structure(x_val), structure(y_val))).batch(batch_size)


def run_trial(task: TrialTask, data: PreparedData,
              timeout_s: float | None = None) -> TrialOutcome:
    """Train ``task``'s network on ``data`` and return its record and model.

    Any exception, and a loss that becomes NaN or infinite, gives a record with status
    ``"failed"`` and the error; the exception does not propagate.  With ``timeout_s``,
    training stops at the first epoch boundary after that many seconds and the trial is
    recorded as failed (error kind ``TrialTimeout``) with the history of the epochs it ran;
    its model is not kept.  Keras state is cleared before and after, so memory does not
    grow from trial to trial.
    """
    import keras

    training = task.training
    started, clock = now_iso(), time.perf_counter()
    history: dict[str, list[float]] = {}
    n_params, error, model_bytes, weights = 0, "", None, None
    deadline = [] if timeout_s is None else [_deadline(timeout_s)]
    clear_session()
    with trial_state(task.seed, training.deterministic, training.graph_optimization):
        try:
            model = materialize(task.plan, task.options, name=task.name)
            if task.initial_weights:
                inherited = set_unit_weights(model, task.plan, task.options, task.initial_weights)
                logger.debug("trial %s/%s starts %d of its units from its parent's weights",
                             task.trial_number, task.subtrial_number, inherited)
            model = compile_model(
                model, training.learning_rate,
                loss=deserialize_objects(training.loss, training.custom_objects),
                metrics=deserialize_objects(training.metrics, training.custom_objects),
                jit_compile=training.jit_compile,
                steps_per_execution=training.steps_per_execution)
            n_params = int(model.count_params())
            validation = (_validation_batches(data.x_val, data.y_val, training.batch_size)
                          if data.x_val is not None else None)
            fit = model.fit(x=_bare(data.x_train), y=_bare(data.y_train),
                            validation_data=validation, epochs=training.epochs,
                            batch_size=training.batch_size, verbose=training.verbose,
                            shuffle=True, steps_per_epoch=_steps_per_epoch(data, training),
                            callbacks=[*_schedule_callbacks(training, validation is not None),
                                       keras.callbacks.TerminateOnNaN(), *training.callbacks,
                                       *deadline])
            history = {k: [float(v) for v in values] for k, values in fit.history.items()
                       if k not in _SCHEDULE_LOGS}
            bad_epoch = _non_finite_epoch(history)
            if deadline and deadline[0].expired:
                error = (f"{TIMEOUT_ERROR}: the trial ran longer than trial_timeout_s="
                         f"{timeout_s:g} s; stopped after epoch {len(history.get('loss', []))}")
            elif bad_epoch is not None:
                error = f"loss became {history['loss'][bad_epoch]} at epoch {bad_epoch}"
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    path = os.path.join(tmp, "model.keras")
                    model.save(path)
                    with open(path, "rb") as handle:
                        model_bytes = handle.read()
                if training.keep_unit_weights:
                    weights = unit_weights(model, task.plan, task.options)
        except Exception as exc:  # a failed trial is data, not a crash of the search
            logger.debug("trial %s/%s failed", task.trial_number, task.subtrial_number,
                         exc_info=True)
            error = f"{type(exc).__name__}: {exc}"
        finally:
            clear_session()
            gc.collect()
    record = task.record(
        status=FAILED if error else COMPLETED,
        started_at=started, ended_at=now_iso(), wall_time_s=time.perf_counter() - clock,
        n_params=n_params, error=error, history=history)
    return TrialOutcome(record, None if error else model_bytes, None if error else weights)


def failed_outcome(task: TrialTask, error: str, started_at: str | None = None,
                   elapsed_s: float = 0.0) -> TrialOutcome:
    """The outcome of a trial that could not report itself (e.g. its worker died):
    ``elapsed_s`` seconds after it started (``started_at`` defaults to that moment)."""
    ended = pendulum.now("UTC")
    start = started_at or ended.subtract(microseconds=round(elapsed_s * 1e6)).isoformat()
    return TrialOutcome(task.record(
        status=FAILED, started_at=start, ended_at=ended.isoformat(),
        wall_time_s=float(elapsed_s), n_params=0, error=error, history={}))


def available_metric_names(input_widths: Sequence[int], output_widths: Sequence[int], loss: Any,
                           metrics: Any, has_validation: bool,
                           label_widths: Sequence[int] | None = None) -> list[str]:
    """The history keys a search's compiled models will produce, found by compiling a tiny
    stand-in model with the same inputs, outputs, loss and metrics (``label_widths``: the
    labels' widths, e.g. 1 for sparse class ids of a wider softmax output)."""
    import keras
    import numpy as np

    inputs = [keras.Input(shape=(int(w),), name=f"in_{i}") for i, w in enumerate(input_widths)]
    joined = inputs[0] if len(inputs) == 1 else keras.layers.Concatenate()(inputs)
    outputs = [keras.layers.Dense(int(w), name=f"out_{i}")(joined)
               for i, w in enumerate(output_widths)]
    model = keras.Model(inputs if len(inputs) > 1 else inputs[0],
                        outputs if len(outputs) > 1 else outputs[0])
    model.compile(optimizer="sgd", loss=deserialize_objects(serialize_objects(loss)),
                  metrics=metrics_for_outputs(deserialize_objects(serialize_objects(metrics)),
                                              model.output_names))
    x = [np.zeros((2, int(w)), "float32") for w in input_widths]
    y = [np.zeros((2, int(w)), "float32") for w in (label_widths or output_widths)]
    logs = model.test_on_batch(x if len(x) > 1 else x[0], y if len(y) > 1 else y[0],
                               return_dict=True)
    names = list(logs)
    clear_session()
    return names + [f"val_{n}" for n in names] if has_validation else names
