"""NeuralNetworkFuture: one Cerebros network, from a hand-written spec to a compiled model.

The future is the face users know; behind it the stages run in one direction::

    spec ──parse_spec──► WiringPlan ──materialize──► keras.Model ──compile_neural_network──►

``plan()`` draws the wiring (pure Python), ``to_dict()`` / ``from_dict()`` store and restore
it without re-sampling, ``materialize()`` builds the Keras model and ``get_graph()`` draws it.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Mapping

import keras
import numpy as np

from cerebros.callables import check_referable
from cerebros.checks import check_choice, check_number, check_random_state
from cerebros.compilation import compile_model, dtype_name
from cerebros.config import WIRING_DEFAULTS as _W
from cerebros.config import WiringConfig
from cerebros.levels.levels import levels_from_plan
from cerebros.materialize import (ModelOptions, materialize, network_from_record, network_name,
                                  network_record)
from cerebros.spec import NetworkSpec, parse_spec
from cerebros.wiring import WiringPlan, plan_wiring

__all__ = ["NeuralNetworkFuture"]

logger = logging.getLogger(__name__)

MERGING_STRATEGIES = ("concatenate",)
_OPTION_ARGUMENTS = {"activation": "activation", "final_activation": "final_activation",
                     "bnorm_or_dropout": "bnorm_or_dropout", "dropout_rate": "dropout_rate",
                     "fused_units": "fused_units", "train_data_dtype": "dtype",
                     "batch_norm_momentum": "batch_norm_momentum",
                     "gate_activation_function": "gate_activation"}


class NeuralNetworkFuture:
    """A Cerebros network planned from ``neural_network_spec`` and materialized with Keras.

    Parameters
    ----------
    input_shapes, output_shapes : list
        One 1-D shape per input / output, e.g. ``[(38,)]`` and ``[1]``.
    neural_network_spec : dict
        ``{"0": [{"1": InputUnit}, ...], "1": [{"4": DenseUnit}, ...], ...,
        "K": [{"1": FinalDenseUnit}, ...]}``; see :func:`cerebros.spec.parse_spec`.
    project_name, trial_number, subtrial_number
        Name the network ``<project>_trial_<16 digits>_subtrial_<16 digits>``.
    activation, final_activation
        Keras activations of hidden and final units.
    merging_strategy : str
        Only ``"concatenate"``.
    minimum_skip_connection_depth ... num_lateral_connection_tries_per_unit
        Wiring arguments with the original's defaults; see :class:`cerebros.config.WiringConfig`.
    seed : int, numpy Generator or None
        Seeds the wiring and the initial weights: the same seed gives the same plan and
        the same weights.
    learning_rate, loss, metrics
        For :meth:`compile_neural_network` (AdamW, weight decay 0.004).
    model_graph_file : str
        Where :meth:`get_graph` writes its HTML.
    train_data_dtype
        Float dtype of the model's inputs and variables (default float32).
    jit_compile : bool, "auto" or None
        XLA compilation; None lets Keras decide (the original forced it on, costing minutes
        of compilation on CPU).
    bnorm_or_dropout : {"bnorm", "dropout"}
        Normalize each unit's concatenated inputs, or apply Dropout(``dropout_rate``).
    batch_norm_momentum : float
        Momentum of batch normalization's moving mean and variance, which the model uses at
        inference (see :class:`~cerebros.search.SimpleCerebrosRandomSearch`).
    fused_units : bool
        Build batch-normalized units as one :class:`cerebros.layers.FusedDenseUnit` (same
        function, parameters and gradients; faster).
    steps_per_execution : int
        Passed to ``Model.compile``.
    """

    def __init__(self, input_shapes: list, output_shapes: list, neural_network_spec: dict,
                 project_name: str = "cerebros", trial_number: int = 0, subtrial_number: int = 0,
                 base_models=("",), level_number="nan", activation="elu", final_activation=None,
                 merging_strategy="concatenate",
                 minimum_skip_connection_depth=_W.minimum_skip_connection_depth,
                 maximum_skip_connection_depth=_W.maximum_skip_connection_depth,
                 predecessor_level_connection_affinity_factor_first=(
                     _W.predecessor_level_connection_affinity_factor_first),
                 predecessor_level_connection_affinity_factor_first_rounding_rule=(
                     _W.predecessor_level_connection_affinity_factor_first_rounding_rule),
                 predecessor_level_connection_affinity_factor_main=(
                     _W.predecessor_level_connection_affinity_factor_main),
                 predecessor_level_connection_affinity_factor_main_rounding_rule=(
                     _W.predecessor_level_connection_affinity_factor_main_rounding_rule),
                 predecessor_level_connection_affinity_factor_decay_main=(
                     _W.predecessor_level_connection_affinity_factor_decay_main),
                 predecessor_level_connection_affinity_factor_final_to_kminus1=(
                     _W.predecessor_level_connection_affinity_factor_final_to_kminus1),
                 seed=8675309,
                 max_consecutive_lateral_connections=_W.max_consecutive_lateral_connections,
                 gate_after_n_lateral_connections=_W.gate_after_n_lateral_connections,
                 gate_activation_function=_W.gate_activation_function,
                 p_lateral_connection=_W.p_lateral_connection,
                 p_lateral_connection_decay=_W.p_lateral_connection_decay,
                 num_lateral_connection_tries_per_unit=_W.num_lateral_connection_tries_per_unit,
                 learning_rate=0.005, loss="mse",
                 metrics=None, model_graph_file="test_model_graph.html",
                 train_data_dtype="float32", jit_compile=None, bnorm_or_dropout="bnorm",
                 dropout_rate=0.2, fused_units=True, steps_per_execution=1,
                 batch_norm_momentum: float = ModelOptions.batch_norm_momentum,
                 **kwargs: Any) -> None:
        if kwargs:
            logger.warning("NeuralNetworkFuture ignores unknown keyword arguments: %s",
                           ", ".join(sorted(kwargs)))
        check_choice("merging_strategy", merging_strategy, MERGING_STRATEGIES)
        check_choice("jit_compile", jit_compile, (None, True, False, "auto"))
        check_number("learning_rate", learning_rate, 0.0, low_open=True)
        _warn_unsaveable(activation=activation, final_activation=final_activation,
                         gate_activation_function=gate_activation_function)
        self.spec: NetworkSpec = parse_spec(neural_network_spec, input_shapes, output_shapes)
        self.input_shapes = list(input_shapes)
        self.output_shapes = list(output_shapes)
        self.neural_network_spec = neural_network_spec
        self.base_models = base_models
        self.trial_number = trial_number
        self.subtrial_number = subtrial_number
        self.name = network_name(project_name, trial_number, subtrial_number)
        self.wiring_config = WiringConfig.from_arguments(locals())
        self.seed = seed
        self._rng = check_random_state(seed)
        if seed is None or isinstance(seed, np.random.Generator):
            weight_seed = int(self._rng.integers(2**31 - 1)) if seed is not None else None
        else:
            weight_seed = int(seed)
        self.model_options = ModelOptions(
            activation=activation, final_activation=final_activation,
            gate_activation=self.wiring_config.gate_activation, bnorm_or_dropout=bnorm_or_dropout,
            dropout_rate=dropout_rate, fused_units=fused_units,
            batch_norm_momentum=batch_norm_momentum,
            dtype=dtype_name(train_data_dtype), seed=weight_seed)
        self.activation = activation
        self.final_activation = final_activation
        self.merging_strategy = merging_strategy
        self.learning_rate = learning_rate
        self.loss = loss
        self.metrics = metrics
        self.model_graph_file = model_graph_file
        self.train_data_dtype = self.model_options.dtype
        self.jit_compile = jit_compile
        self.steps_per_execution = int(steps_per_execution)
        self.wiring_plan: WiringPlan | None = None
        self.levels_unmaterialized: list = []
        self.materialized_neural_network: keras.Model | None = None

    def __getattr__(self, name: str) -> Any:
        # The original exposed every wiring argument as an attribute of the future.
        config = self.__dict__.get("wiring_config")
        if config is not None and name in config.__dataclass_fields__:
            return getattr(config, name)
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def plan(self) -> WiringPlan:
        """Draw the wiring (pure Python, no Keras layers) and return it."""
        if self.wiring_plan is None:
            self._set_plan(plan_wiring(self.spec, self.wiring_config, self._rng))
        return self.wiring_plan

    def _set_plan(self, plan: WiringPlan) -> None:
        self.wiring_plan = plan
        self.levels_unmaterialized = levels_from_plan(plan)

    def to_dict(self) -> dict[str, Any]:
        """The plan and everything needed to rebuild this network, as JSON-safe data
        (:func:`cerebros.materialize.network_record`)."""
        return network_record(self.plan(), self.model_options, self.name,
                              trial_number=int(self.trial_number),
                              subtrial_number=int(self.subtrial_number),
                              learning_rate=self.learning_rate)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> "NeuralNetworkFuture":
        """Rebuild a future from :meth:`to_dict` output without re-sampling its wiring.

        ``overrides`` replace stored arguments (e.g. ``fused_units=False``, ``loss=...``,
        or a ``gate_activation_function`` callable that was stored only by name).
        """
        plan, options = network_from_record(data, **{
            _OPTION_ARGUMENTS[k]: v for k, v in overrides.items() if k in _OPTION_ARGUMENTS})
        name = str(data.get("name", "cerebros"))
        suffix = network_name("", data.get("trial_number", 0), data.get("subtrial_number", 0))
        arguments: dict[str, Any] = {
            "input_shapes": [(w,) for w in plan.widths[0]],
            "output_shapes": [(w,) for w in plan.widths[-1]],
            "neural_network_spec": NetworkSpec(plan.widths).to_original(),
            "project_name": name.removesuffix(suffix),
            "trial_number": data.get("trial_number", 0),
            "subtrial_number": data.get("subtrial_number", 0),
            "activation": options.activation, "final_activation": options.final_activation,
            "bnorm_or_dropout": options.bnorm_or_dropout, "dropout_rate": options.dropout_rate,
            "batch_norm_momentum": options.batch_norm_momentum,
            "fused_units": options.fused_units, "train_data_dtype": options.dtype,
            "seed": options.seed, "learning_rate": data.get("learning_rate", 0.005),
            "gate_activation_function": plan.params.get("gate_activation_function", "sigmoid"),
        }
        arguments.update(overrides)
        future = cls(**arguments)
        future.model_options = dataclasses.replace(  # constants a search fitted on its data
            future.model_options, input_bounds=options.input_bounds,
            input_scaling=options.input_scaling, target_scaling=options.target_scaling,
            target_bounds=options.target_bounds)
        future._set_plan(plan)
        return future

    def materialize(self) -> keras.Model:
        """Build the Keras model (planning first if needed); also kept in
        ``materialized_neural_network``."""
        self.materialized_neural_network = materialize(self.plan(), self.model_options,
                                                       name=self.name)
        return self.materialized_neural_network

    def compile_neural_network(self) -> keras.Model:
        """Compile with AdamW(learning_rate, weight_decay=0.004), the loss and the metrics
        (:func:`cerebros.compilation.compile_model`)."""
        return compile_model(self.materialized_neural_network or self.materialize(),
                             self.learning_rate, loss=self.loss, metrics=self.metrics,
                             jit_compile=self.jit_compile,
                             steps_per_execution=self.steps_per_execution)

    def get_graph(self, path: str | None = None):
        """Write the network's pyvis HTML graph to ``path`` (default ``model_graph_file``)."""
        from cerebros.viz import plan_graph

        return plan_graph(self.to_dict(), path or self.model_graph_file, title=self.name)


def _warn_unsaveable(**functions: Any) -> None:
    """Warn about each function that a saved model cannot refer to (a lambda, a function
    defined inside another function): the network builds and trains, but Keras cannot load
    a ``.keras`` file of it back.  (A search refuses them: it saves every trial's model.)"""
    for name, function in functions.items():
        try:
            check_referable(name, function)
        except ValueError as error:
            logger.warning("%s The network trains, but a model saved from it cannot be loaded "
                           "back.", error)
