"""Cerebros: neural architecture search with neuron-like, densely and laterally wired Keras networks.

The public API in one place.  Importing ``cerebros`` registers its Keras layers, so models
saved by a search load with plain ``keras.models.load_model``.
"""

import logging

from cerebros.config import WiringConfig
from cerebros.data import hash_based_split
from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay
from cerebros.denseautomlstructuralcomponent.dense_automl_structural_component import (
    DenseAutoMlStructuralComponent, DenseLateralConnectivity)
from cerebros.ensemble import WeightedAverage, average_models, build_ensemble
from cerebros.layers import FusedDenseUnit
from cerebros.levels.levels import DenseLevel, FinalDenseLevel, InputLevel
from cerebros.neuralnetworkfuture.neural_network_future import NeuralNetworkFuture
from cerebros.project import ProjectLockedError
from cerebros.results import load_results
from cerebros.search import SearchFailedError, SimpleCerebrosRandomSearch
from cerebros.spec import DenseUnit, FinalDenseUnit, InputUnit, Unit
from cerebros.wiring import WiringPlan, plan_wiring

__version__ = "0.2.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "NeuralNetworkFuture", "SimpleCerebrosRandomSearch", "SearchFailedError",
    "ProjectLockedError",
    "InputLevel", "DenseLevel", "FinalDenseLevel",
    "Unit", "InputUnit", "DenseUnit", "FinalDenseUnit",
    "DenseAutoMlStructuralComponent", "DenseLateralConnectivity",
    "zero_7_exp_decay", "zero_95_exp_decay", "simple_sigmoid",
    "WiringConfig", "WiringPlan", "plan_wiring", "FusedDenseUnit",
    "hash_based_split", "load_results", "average_models", "build_ensemble", "WeightedAverage",
    "__version__",
]
