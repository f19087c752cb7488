"""Decay and gate functions of the original Cerebros API, in plain Python.

These are the callables users pass as ``predecessor_level_connection_affinity_factor_decay_main``,
``p_lateral_connection_decay`` and ``gate_activation_function``.  The original computed each
with a JIT-compiled JAX kernel, which cost seconds per network for arithmetic on a scalar;
here they are one line each and work on Python numbers and numpy arrays alike.
"""

from __future__ import annotations

import numpy as np

__all__ = ["zero_7_exp_decay", "zero_95_exp_decay", "simple_sigmoid"]


def zero_7_exp_decay(x: float) -> float:
    """Return ``0.7 ** x``: the default decay of skip-connection affinity with distance."""
    return 0.7**x


def zero_95_exp_decay(x: float) -> float:
    """Return ``0.95 ** x``: the default decay of lateral-connection probability with distance."""
    return 0.95**x


def simple_sigmoid(x):
    """Logistic sigmoid ``1 / (1 + exp(-x))`` of a number or numpy array.

    As a ``gate_activation_function`` it stands for Keras' ``"sigmoid"`` activation: gated
    lateral inputs pass through ``keras.activations.sigmoid`` inside the model.
    """
    out = 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
    return float(out) if np.ndim(out) == 0 else out
