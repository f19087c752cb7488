"""Cerebros: neural architecture search with neuron-like, densely and laterally wired Keras networks.

The public API in one place.  Importing ``cerebros`` registers its Keras layers, so models
saved by a search load with plain ``keras.models.load_model``.

With the environment variable ``CEREBROS_LAZY_IMPORT=1`` (the ``cerebros`` command and
``python -m cerebros`` set it for themselves), ``import cerebros`` loads nothing heavy: each
public name is imported when it is first used, so ``cerebros --help`` and ``cerebros show``
never start TensorFlow.  A process that loads saved models then imports ``cerebros.layers``
(and ``cerebros.ensemble`` for ensembles) itself.
"""

import importlib
import logging
import os
import sys
from typing import Any

__version__ = "0.2.0"

_EXPORTS = {
    "cerebros.config": ("WiringConfig",),
    "cerebros.data": ("hash_based_split",),
    "cerebros.decay": ("simple_sigmoid", "zero_7_exp_decay", "zero_95_exp_decay"),
    "cerebros.denseautomlstructuralcomponent.dense_automl_structural_component": (
        "DenseAutoMlStructuralComponent", "DenseLateralConnectivity"),
    "cerebros.ensemble": ("WeightedAverage", "average_models", "build_ensemble"),
    "cerebros.inference": ("predict",),
    "cerebros.layers": ("FusedDenseUnit",),
    "cerebros.levels.levels": ("DenseLevel", "FinalDenseLevel", "InputLevel"),
    "cerebros.meta": ("MetaSearch",),
    "cerebros.neuralnetworkfuture.neural_network_future": ("NeuralNetworkFuture",),
    "cerebros.project": ("ProjectLockedError", "ProjectMismatchError"),
    "cerebros.results": ("load_results",),
    "cerebros.search": ("SearchFailedError", "SimpleCerebrosRandomSearch"),
    "cerebros.spec": ("DenseUnit", "FinalDenseUnit", "InputUnit", "Unit"),
    "cerebros.wiring": ("WiringPlan", "plan_wiring"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [*_MODULE_OF, "__version__"]

logging.getLogger(__name__).addHandler(logging.NullHandler())


def __getattr__(name: str) -> Any:
    """Import a public name on first use (only reached in lazy mode)."""
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'cerebros' has no attribute {name!r}")
    value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def _located_by_python_m() -> bool:
    """Whether this import is Python locating ``python -m cerebros`` (``sys.argv[0]`` is
    ``"-m"`` while it does), whose ``__main__`` then sets ``CEREBROS_LAZY_IMPORT``."""
    argv = getattr(sys, "orig_argv", [])
    return sys.argv[:1] == ["-m"] and any(
        flag == "-m" and module == __name__ for flag, module in zip(argv, argv[1:]))


if os.environ.get("CEREBROS_LAZY_IMPORT") != "1" and not _located_by_python_m():
    for _name in _MODULE_OF:
        __getattr__(_name)
