"""Every process-wide TensorFlow change Cerebros makes, in one place.

TensorFlow keeps some settings per process: op determinism, the Grappler graph optimizer,
the gradient registry, thread pools and the global random seeds.  A trial needs some of
them changed; a user's notebook must find them as it left them.  Each change here is a
context manager that restores what it found when the block ends, exceptions included
(except :func:`limit_threads`, which a fresh worker process calls once before TensorFlow
starts, and which cannot be undone in a running TensorFlow).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import random
from typing import Iterator

import keras
import numpy as np

__all__ = ["graph_optimizer", "op_determinism", "custom_gradient_scope", "seeded",
           "limit_threads", "trial_state", "clear_session", "caller_random_state",
           "freeze_heap"]

logger = logging.getLogger(__name__)


def _tensorflow():
    """The ``tensorflow`` module when Keras runs on it, else None."""
    if keras.backend.backend() != "tensorflow":
        return None
    import tensorflow as tf

    return tf


@contextlib.contextmanager
def graph_optimizer(enabled: bool) -> Iterator[None]:
    """TensorFlow's Grappler graph optimizer on (unchanged) or off while the block runs.

    Grappler rewrites every ``tf.function`` graph when it is first run.  On Cerebros
    networks, many small ops, this is a quarter to a third of the first epoch and does not
    make later epochs faster (``benchmarks/bench_trial_phases.py``).
    """
    tf = _tensorflow()
    if enabled or tf is None:
        yield
        return
    before = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": before})


@contextlib.contextmanager
def op_determinism(enabled: bool) -> Iterator[None]:
    """TensorFlow's deterministic ops on while the block runs (unchanged if not
    ``enabled``), then back to what they were."""
    tf = _tensorflow()
    if not enabled or tf is None:
        yield
        return
    from tensorflow.python.framework import config as tf_config

    before = tf_config.is_op_determinism_enabled()
    tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not before:
            tf_config.disable_op_determinism()


@contextlib.contextmanager
def custom_gradient_scope() -> Iterator[None]:
    """Forget, when the block ends, the gradient functions registered inside it.

    Inside a ``tf.function``, every call of a ``tf.custom_gradient`` function registers
    its gradient function in TensorFlow's process-wide gradient registry, which never drops
    it; the function holds the traced graph, so every traced model stays in memory
    (tensorflow/tensorflow#97697).  The fused unit's training step is such a function, and
    so is a piece of TensorFlow's own distribution code that every Keras ``fit`` traces.
    A search runs each trial in this scope; wrap your own loops of ``fit`` calls in it
    likewise.  Graphs traced inside the block cannot be differentiated with
    ``tf.gradients`` afterwards; ``tf.GradientTape``, which Keras uses, does not need the
    registry.  Other backends than TensorFlow are unaffected.
    """
    registry = None
    if _tensorflow() is not None:
        from tensorflow.python.framework import ops as tf_ops

        registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        added = [name for name in list(registry)
                 if name not in before and name.startswith("CustomGradient-")]
        for name in added:
            registry.pop(name, None)
        logger.debug("Forgot %d custom gradient functions.", len(added))


@contextlib.contextmanager
def caller_random_state() -> Iterator[None]:
    """Restore Python's and NumPy's global generators when the block ends, so the caller's
    random streams go on as if the block had not run (Keras draws unseeded layer seeds from
    Python's generator)."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """``keras.utils.set_random_seed(seed)`` for the block, the caller's Python and NumPy
    generators restored afterwards."""
    with caller_random_state():
        keras.utils.set_random_seed(int(seed))
        yield


@contextlib.contextmanager
def trial_state(seed: int, deterministic: bool, graph_optimization: bool) -> Iterator[None]:
    """Everything one trial changes, undone when it ends: seeds, op determinism, Grappler,
    and the gradient functions its traces registered."""
    with graph_optimizer(graph_optimization), custom_gradient_scope(), \
            op_determinism(deterministic), seeded(seed):
        yield


def clear_session() -> None:
    """``keras.backend.clear_session(free_memory=True)``, keeping the caller's global dtype
    policy (which Keras resets with the session)."""
    policy = keras.config.dtype_policy()
    keras.backend.clear_session(free_memory=True)
    keras.config.set_dtype_policy(policy)


def freeze_heap() -> None:
    """Collect garbage once, then keep every object alive now (TensorFlow's, Keras', the
    data's: several hundred thousand) out of later garbage collections, which would
    otherwise walk all of them each time a trial clears its session (``gc.unfreeze()``
    undoes it; a worker process never needs to)."""
    gc.collect()
    gc.freeze()


def limit_threads(threads: int) -> None:
    """Cap TensorFlow's thread pools in this process (call before TensorFlow runs an op),
    so that several workers on one machine do not oversubscribe its cores."""
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    tf = _tensorflow()
    if tf is None:
        return
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started in this process: keep its pools
        logger.debug("TensorFlow already initialized; thread limits not changed")
