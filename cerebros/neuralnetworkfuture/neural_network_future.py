"""NeuralNetworkFuture: one Cerebros network, from a hand-written spec to a compiled model.

The future is the face users know; behind it the stages run in one direction::

    spec ──parse_spec──► WiringPlan ──materialize──► keras.Model ──compile_neural_network──►

``plan()`` draws the wiring (pure Python), ``to_dict()`` / ``from_dict()`` store and restore
it without re-sampling, ``materialize()`` builds the Keras model and ``get_graph()`` draws it.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Mapping, Sequence

import keras
import numpy as np

from cerebros.config import WiringConfig, callable_name, check_random_state
from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay
from cerebros.levels.levels import levels_from_plan
from cerebros.materialize import ModelOptions, materialize
from cerebros.optimizers import FlatAdamW
from cerebros.spec import NetworkSpec, parse_spec
from cerebros.wiring import WiringPlan, plan_wiring

__all__ = ["NeuralNetworkFuture", "default_metrics", "build_optimizer"]

logger = logging.getLogger(__name__)

MERGING_STRATEGIES = ("concatenate",)


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


def _dtype_name(dtype: Any) -> str:
    name = getattr(dtype, "name", dtype)
    if not isinstance(name, str) or name not in ("float16", "bfloat16", "float32", "float64"):
        raise ValueError("train_data_dtype must be a float dtype such as 'float32' or "
                         f"tf.float32; got {dtype!r}.")
    return name


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
    fused_units : bool
        Build batch-normalized units as one :class:`cerebros.layers.FusedDenseUnit` (same
        function, parameters and gradients; faster).
    steps_per_execution : int
        Passed to ``Model.compile``.
    """

    def __init__(self, input_shapes: list, output_shapes: list, neural_network_spec: dict,
                 project_name: str = "cerebros", trial_number: int = 0, subtrial_number: int = 0,
                 base_models=("",), level_number="nan", activation="elu", final_activation=None,
                 merging_strategy="concatenate", minimum_skip_connection_depth=1,
                 maximum_skip_connection_depth=7,
                 predecessor_level_connection_affinity_factor_first=5,
                 predecessor_level_connection_affinity_factor_first_rounding_rule="ceil",
                 predecessor_level_connection_affinity_factor_main=0.7,
                 predecessor_level_connection_affinity_factor_main_rounding_rule="ceil",
                 predecessor_level_connection_affinity_factor_decay_main=zero_7_exp_decay,
                 predecessor_level_connection_affinity_factor_final_to_kminus1=2,
                 seed=8675309, max_consecutive_lateral_connections=7,
                 gate_after_n_lateral_connections=3, gate_activation_function=simple_sigmoid,
                 p_lateral_connection=0.97, p_lateral_connection_decay=zero_95_exp_decay,
                 num_lateral_connection_tries_per_unit=1, learning_rate=0.005, loss="mse",
                 metrics=None, model_graph_file="test_model_graph.html",
                 train_data_dtype="float32", jit_compile=None, bnorm_or_dropout="bnorm",
                 dropout_rate=0.2, fused_units=True, steps_per_execution=1,
                 **kwargs: Any) -> None:
        if kwargs:
            logger.warning("NeuralNetworkFuture ignores unknown keyword arguments: %s",
                           ", ".join(sorted(kwargs)))
        if merging_strategy not in MERGING_STRATEGIES:
            raise ValueError(f"merging_strategy must be 'concatenate'; got {merging_strategy!r}.")
        if jit_compile not in (None, True, False, "auto"):
            raise ValueError(f"jit_compile must be True, False, 'auto' or None; got {jit_compile!r}.")
        if not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number; got {learning_rate!r}.")
        self.spec: NetworkSpec = parse_spec(neural_network_spec, input_shapes, output_shapes)
        self.input_shapes = list(input_shapes)
        self.output_shapes = list(output_shapes)
        self.neural_network_spec = neural_network_spec
        self.base_models = base_models
        self.trial_number = trial_number
        self.subtrial_number = subtrial_number
        self.name = f"{project_name}_trial_{int(trial_number):016d}_subtrial_{int(subtrial_number):016d}"
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
            dtype=_dtype_name(train_data_dtype), seed=weight_seed)
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
        """The plan and everything needed to rebuild this network, as JSON-safe data."""
        data = self.plan().to_dict()
        options = self.model_options
        data.update({
            "name": self.name,
            "input_shapes": [int(w) for w in self.spec.widths[0]],
            "output_shapes": [int(w) for w in self.spec.widths[-1]],
            "activation": callable_name(options.activation),
            "final_activation": callable_name(options.final_activation),
            "bnorm_or_dropout": options.bnorm_or_dropout,
            "dropout_rate": options.dropout_rate,
            "fused_units": options.fused_units,
            "train_data_dtype": options.dtype,
            "weight_seed": options.seed,
            "learning_rate": self.learning_rate,
        })
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> "NeuralNetworkFuture":
        """Rebuild a future from :meth:`to_dict` output without re-sampling its wiring.

        ``overrides`` replace stored arguments (e.g. ``fused_units=False``, ``loss=...``,
        or a ``gate_activation_function`` callable that was stored only by name).
        """
        plan = WiringPlan.from_dict(data)
        params = dict(plan.params)
        name = str(data.get("name", "cerebros_trial_0000000000000000_subtrial_0000000000000000"))
        arguments: dict[str, Any] = {
            "input_shapes": [(w,) for w in plan.widths[0]],
            "output_shapes": [(w,) for w in plan.widths[-1]],
            "neural_network_spec": NetworkSpec(plan.widths).to_original(),
            "project_name": name.split("_trial_")[0],
            "trial_number": _number_after(name, "_trial_"),
            "subtrial_number": _number_after(name, "_subtrial_"),
            "activation": data.get("activation", "elu"),
            "final_activation": data.get("final_activation"),
            "bnorm_or_dropout": data.get("bnorm_or_dropout", "bnorm"),
            "dropout_rate": data.get("dropout_rate", 0.2),
            "fused_units": data.get("fused_units", True),
            "train_data_dtype": data.get("train_data_dtype", "float32"),
            "seed": data.get("weight_seed"),
            "learning_rate": data.get("learning_rate", 0.005),
        }
        gate = params.get("gate_activation_function", "sigmoid")
        arguments["gate_activation_function"] = gate
        arguments.update(overrides)
        future = cls(**arguments)
        future._set_plan(WiringPlan(plan.widths, plan.connections, params))
        return future

    def materialize(self) -> keras.Model:
        """Build the Keras model (planning first if needed); also kept in
        ``materialized_neural_network``."""
        keras_name = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name.rsplit("/", 1)[-1])
        self.materialized_neural_network = materialize(self.plan(), self.model_options,
                                                       name=keras_name)
        return self.materialized_neural_network

    def compile_neural_network(self) -> keras.Model:
        """Compile with AdamW(learning_rate, weight_decay=0.004), the loss and the metrics.

        The optimizer's variables are created eagerly here: created inside the first traced
        train step they cost seconds on large networks.
        """
        model = self.materialized_neural_network or self.materialize()
        model.compile(optimizer=build_optimizer(self.learning_rate), loss=self.loss,
                      metrics=metrics_for_outputs(self.metrics, model.output_names),
                      jit_compile="auto" if self.jit_compile is None else self.jit_compile,
                      steps_per_execution=self.steps_per_execution)
        model.optimizer.build(model.trainable_variables)
        return model

    def get_graph(self, path: str | None = None):
        """Write the network's pyvis HTML graph to ``path`` (default ``model_graph_file``)."""
        from cerebros.viz import plan_graph

        return plan_graph(self.to_dict(), path or self.model_graph_file, title=self.name)


def _number_after(name: str, marker: str) -> int:
    tail = name.rsplit(marker, 1)[-1] if marker in name else "0"
    digits = tail.split("_")[0]
    return int(digits) if digits.isdigit() else 0
