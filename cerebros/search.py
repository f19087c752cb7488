"""The architecture search: sample specs, plan wirings, run trials, record, rank.

:class:`SimpleCerebrosRandomSearch` keeps the original's constructor so existing notebooks
run unchanged.  Behind it the work is split Keras-Tuner style: this module decides *what* to
try (all randomness derived from ``seed``, so a resumed or parallel search tries exactly
the same networks), :mod:`cerebros.executors` decides *where* it runs,
:mod:`cerebros.trial` *how*, and :mod:`cerebros.oracle` records *what happened*.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from cerebros.callables import check_referable, is_library_function
from cerebros.checks import (check_bool, check_choice, check_direction, check_int,
                             check_number, check_range)
from cerebros.compilation import dtype_name, registered_objects, serialize_objects
from cerebros.config import WIRING_DEFAULTS as _W
from cerebros.config import WiringConfig, callable_name
from cerebros.data import (AUTO_SPREAD_PER_STEP, SCALED_TARGET_STD, PreparedData,
                           check_target_std, feature_bounds, feature_scaling, prediction_bounds,
                           prepare_data, resolve_target_std, target_scaling)
from cerebros.evolution import SearchBounds, applicable_mutations, breed, shared_units
from cerebros.executors import BACKENDS, make_executor
from cerebros.materialize import KERAS_BATCH_NORM_MOMENTUM, ModelOptions, network_name
from cerebros.oracle import FAILED, TRIAL_COLUMNS, Oracle
from cerebros.project import (ENSEMBLE_INFO_NAME, ENSEMBLE_NAME, ProjectDir, read_unit_weights,
                              write_unit_weights)
from cerebros.ranking import direction_mismatch, rank_trials
from cerebros.spec import DenseUnit, NetworkSpec, normalize_shapes, sample_spec
from cerebros.tf_state import caller_random_state
from cerebros.trial import TrainingConfig, TrialOutcome, TrialTask, available_metric_names
from cerebros.wiring import WiringPlan, plan_wiring

__all__ = ["SimpleCerebrosRandomSearch", "SearchFailedError", "UnbreedableError",
           "TrialProgress"]

logger = logging.getLogger(__name__)

IMPLIED_MANIFEST_VALUES = {"inherit_weights": False, "standardize_features": False,
                           "batch_norm_momentum": KERAS_BATCH_NORM_MOMENTUM,
                           "scaled_target_std": 1.0, "clip_predictions": None}
"""Manifest keys added after projects already existed, with the behaviour such a project
had: it resumes when the search asks for that behaviour (e.g. ``standardize_features=False``).
A meta-search's study fills its stored inner manifest from the same values."""

CLIP_PREDICTIONS = 0.0
"""The default ``clip_predictions``: bound scaled outputs to the training labels' range."""

FORMER_AUTO_SPREAD_PER_LEARNING_RATE = 15_000.0
"""What ``scaled_target_std="auto"`` meant before ``target_spread`` was recorded: a spread of
15,000 x the learning rate."""


def implied_manifest_values(stored: dict[str, Any]) -> dict[str, Any]:
    """:data:`IMPLIED_MANIFEST_VALUES` for a stored manifest, plus the spread of a project
    made with ``scaled_target_std="auto"`` before ``target_spread`` was recorded (then
    15,000 x the learning rate), so that it is not resumed under today's rule."""
    if stored.get("scaled_target_std") == "auto" and "target_spread" not in stored:
        return {**IMPLIED_MANIFEST_VALUES, "target_spread":
                FORMER_AUTO_SPREAD_PER_LEARNING_RATE * stored.get("learning_rate", 0.0)}
    return IMPLIED_MANIFEST_VALUES


_IGNORED_ARGUMENTS = {
    "model_graphs": "graphs are always written to <project_name>/model_graphs when "
                    "chart_network_graph=True",
}


class UnbreedableError(ValueError):
    """``number_of_generations`` > 1 where no mutation can change a network (every size
    fixed, every unit's inputs drawn one way): no later generation could breed a child."""


class SearchFailedError(RuntimeError):
    """Raised when too many trials in a row failed, or when no trial completed."""


@dataclasses.dataclass(frozen=True)
class TrialProgress:
    """Where a running search stands after one more trial (see ``on_trial_end`` of
    :meth:`SimpleCerebrosRandomSearch.run_random_search`).

    record : TrialRecord
        The trial that just finished (completed or failed).
    finished : int
        Trials recorded in the project's oracle, this one and those of earlier runs included.
    total : int
        The search's budget of trials.
    best_value : float
        The best ``metric_to_rank_by`` of the trials recorded so far, ranked as
        :func:`~cerebros.ranking.rank_trials` ranks them (NaN while none completed with a value).
    """

    record: Any
    finished: int
    total: int
    best_value: float


def _derived_seed(seed: int, *path: int) -> int:
    return int(np.random.default_rng([seed, *path]).integers(2**31 - 1))


class SimpleCerebrosRandomSearch:
    """Random search over Cerebros architectures (the original API, made trustworthy).

    The trial budget, ``number_of_architecture_moities_to_try`` ×
    ``number_of_tries_per_architecture_moity``, is split into ``number_of_generations``
    consecutive generations (see :meth:`tasks`); with one generation (the default) this is
    the original random search.  More generations are refused where no mutation can change
    a network (every size fixed and every unit's inputs drawn one way).  For each moiety of
    generation 0 a spec is sampled
    (levels, units per level and neurons per unit drawn from the given ranges; the number
    of levels counts the dense levels including the final one); each of
    ``number_of_tries_per_architecture_moity`` tries plans a fresh wiring of it and trains
    it with early stopping (``patience``; None or 0: every epoch) on ``metric_to_rank_by``,
    keeping the weights of its best epoch.  Every epoch of every trial is logged to
    ``<project_name>/oracle.csv``; models (of their best epoch), plans and (optionally)
    graphs are written beside it.

    The parameters are the original's (see the README for each); new ones are keyword-only
    at the end.  ``loss`` and ``metrics`` take what ``Model.compile`` takes: names, Keras
    objects (a custom Loss or Metric class must be registered with
    ``@keras.saving.register_keras_serializable()``: each trial rebuilds it from its config)
    or plain functions ``f(y_true, y_pred)``, which reach the trials as themselves (by value,
    with cloudpickle, for "process" and "ray" workers); a saved model names such a function,
    so loading it compiled elsewhere needs ``custom_objects``.

    validation_data : (x_list, y_list), optional
        Replaces ``validation_split``.
    train_data_dtype : str or dtype
        Float dtype of the data and the models (default float32).
    chart_network_graph : bool
        Write each trial's pyvis graph to ``model_graphs/``.
    backend : {"inline", "process", "ray"}
        Where trials run; ``n_workers`` sets how many at once, ``ray_address`` which Ray
        cluster to join (None starts a local one).
    overwrite : bool
        Start afresh instead of resuming an existing project directory.
    deterministic : bool
        Enable TensorFlow's deterministic ops, so that a re-run gives identical metrics.
    max_consecutive_failed_trials : int
        Stop with :class:`SearchFailedError` after this many failures in a row.
    callbacks : list of keras callbacks
        Passed to every trial's ``fit``.
    verbose : int
        0 silent, 1 a progress bar over trials, 2 also Keras' per-epoch output.
    jit_compile, fused_units, bnorm_or_dropout, dropout_rate
        As for :class:`~cerebros.neuralnetworkfuture.neural_network_future.NeuralNetworkFuture`.
    batch_norm_momentum : float
        Momentum of batch normalization's moving mean and variance, in [0, 1] (default 0.9).
        The model uses these statistics at inference, so on the validation rows, and they
        trail a unit's inputs, which change while the units before it learn, by about
        ``1 / (1 - momentum)`` batches.  0.99 (Keras' default, the original's) left
        validation scores off for the first ~10 epochs, and early stopping and the plateau
        rule acted on them (``benchmarks/bench_quality.py``).
    steps_per_execution : int
        Training steps per call into TensorFlow (default 32).  The batches, their order and
        the results are the same as with 1; only per-call overhead is saved.
    graph_optimization : bool
        Let TensorFlow's Grappler optimize each trial's training graphs (default False).
        On Cerebros networks it costs a quarter to a third of a trial's first epoch and does not
        speed up later epochs; it may change results in the last bits of float32, like
        ``jit_compile``.  The process-wide setting is restored after each trial.
    allow_label_leakage : bool
        Do not refuse features that equal a label column.
    scale_targets : {"auto", True, False}
        Let regression outputs learn scaled targets (centred, of the spread
        ``scaled_target_std``): a ``ScaleTargets`` layer inside the model maps them back
        with the training labels' mean and standard deviation, so the model predicts, and
        the oracle reports, the user's units.  "auto" (default) scales linear outputs
        trained with a regression loss; False is the original's behaviour (raw targets,
        which at the README's learning rate stops most networks before they learn the price
        level; see ``benchmarks/bench_quality.py``).
    scaled_target_std : float, "auto" or None
        The standard deviation of the targets that a scaled output learns: ``ScaleTargets``
        multiplies the network's output by ``std / scaled_target_std`` of the training
        labels and adds their mean.  "auto" (default): ``max(1, 7.5 x learning_rate x
        steps)``, ``steps`` being the optimizer steps of the whole training budget (epochs x
        batches per epoch): 1,004 for the README search, 6 at the command line's settings on
        Ames, 1 where training has few steps; 1.0: standardized targets (the default until
        this rule was adopted); None: centred only, in the labels' own units.  Adam(W)'s
        steps have the size of the learning rate whatever the targets' scale, so the spread
        acts as the output layer's learning rate divided by it.  Against 1.0, over 10 seeds,
        "auto" measured better on held-out Ames rows (0.92-0.94 x), even on Windsor housing,
        slightly worse on the diabetes data (1.02-1.04 x), and better on the README search's
        validation score on every seed (``benchmarks/bench_quality.py``,
        ``benchmarks/bench_seeds.py``).  None trains on the labels' unit (dollars or
        thousands) and does not learn at a learning rate of 0.005.
    clip_features, clip_margin : float or None, float
        Clip every input column, by a ``ClipFeatures`` layer inside the model, to the
        ``[q, 1 - q]`` quantiles of the training rows (``q = clip_features``, default 0.001;
        0: their min and max), optionally widened on each side by ``clip_margin`` (default
        0) times their distance (see :func:`cerebros.data.feature_bounds`).  Batch normalization
        otherwise passes a value far outside the training range on unbounded, and one such
        row, say a pool in a column that is zero in every training row, can make a network
        predict millions.  ``clip_features=None``: no clipping (the original).
    clip_predictions : float or None
        Bound the predictions of every output that learns scaled targets, by its
        ``ScaleTargets`` layer, to the training labels' range moved outwards on each side by
        ``clip_predictions`` times its width (0: the range itself, as a tree ensemble's
        predictions are), when validating and predicting, not while training.  Inputs are
        clipped already, but a network can still extrapolate wildly inside their ranges
        (``benchmarks/bench_tails.py``).  0 (default) measured better on held-out Ames rows
        (0.90-0.91 x) and the same elsewhere.  None: unbounded (the original, and the
        default until this option existed).
    standardize_features : bool
        Standardize every input column, by a ``StandardizeFeatures`` layer inside the model
        (after the clipping), with the mean and standard deviation of the (clipped) training
        rows.  Batch normalization trains the same either way, but at inference it uses
        moving averages that start at mean 0, variance 1 and trail a raw column (a year, an
        area) for hundreds of batches: without this, validation scores of the first tens of
        epochs are off by orders of magnitude, and early stopping and the plateau rule act
        on them.  False: raw inputs (the original).
    reduce_lr_patience : int or None
        Halve the learning rate (down to 1e-4) after this many epochs without improvement of
        ``metric_to_rank_by`` (default 3, so it acts before early stopping's ``patience``
        of 7); None or 0: a constant learning rate (the original).
    trial_timeout_s : float or None
        Stop a trial that runs longer than this many seconds (None, the default: no limit)
        and record it as failed with a ``TrialTimeout`` error.  Inline, training stops at
        the first epoch boundary after the limit and the record keeps the epochs run; with
        "process" and "ray" the trial's worker is killed and replaced.  A trial that failed
        this way, or because its worker died, is retried once when the search is resumed
        (its record then has ``attempt`` 2).
    inherit_weights : bool
        With generations, start each bred child's units that are unchanged from its parent
        (same place, width and inputs: :func:`cerebros.evolution.shared_units`) from the
        parent's trained weights, batch-normalization statistics included, read from the
        ``models/*.npz`` every completed trial then leaves.  False (the default): every child
        starts from fresh weights.  Measured in ``benchmarks/bench_quality.py``: better on
        one data set of three, worse on two, hence off by default.
    """

    def __init__(self, unit_type: type = DenseUnit, input_shapes: list | None = None,
                 output_shapes: list | None = None, training_data: Any = None, labels: Any = None,
                 validation_split: float = 0.0, direction: str = "minimize",
                 metric_to_rank_by: str = "val_root_mean_squared_error", minimum_levels: int = 2,
                 maximum_levels: int = 7, minimum_units_per_level: int = 1,
                 maximum_units_per_level: int = 4, minimum_neurons_per_unit: int = 1,
                 maximum_neurons_per_unit: int = 4, activation="elu", final_activation=None,
                 number_of_architecture_moities_to_try: int = 1,
                 number_of_tries_per_architecture_moity: int = 1,
                 number_of_generations: int = 1,
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
                 seed: int = 8675309,
                 max_consecutive_lateral_connections=_W.max_consecutive_lateral_connections,
                 gate_after_n_lateral_connections=_W.gate_after_n_lateral_connections,
                 gate_activation_function=_W.gate_activation_function,
                 p_lateral_connection=_W.p_lateral_connection,
                 p_lateral_connection_decay=_W.p_lateral_connection_decay,
                 num_lateral_connection_tries_per_unit=_W.num_lateral_connection_tries_per_unit,
                 learning_rate=0.005, loss="mse",
                 metrics=None, epochs: int = 7, patience: int | None = 7,
                 project_name: str = "cerebros-auto-ml-test", batch_size: int = 200,
                 meta_trial_number: int = 0, *args: Any, validation_data=None,
                 train_data_dtype="float32", chart_network_graph: bool = False,
                 predecessor_level_connection_affinity_factor_final_to_kminus1=(
                     _W.predecessor_level_connection_affinity_factor_final_to_kminus1),
                 backend: str = "inline", n_workers: int | None = None,
                 ray_address: str | None = None, overwrite: bool = False,
                 deterministic: bool = False, max_consecutive_failed_trials: int = 3,
                 callbacks: Sequence[Any] | None = None, verbose: int = 1, jit_compile=None,
                 steps_per_execution: int = 32, graph_optimization: bool = False,
                 fused_units: bool = True,
                 bnorm_or_dropout: str = "bnorm", dropout_rate: float = 0.2,
                 batch_norm_momentum: float = ModelOptions.batch_norm_momentum,
                 allow_label_leakage: bool = False, scale_targets: bool | str = "auto",
                 scaled_target_std: float | str | None = SCALED_TARGET_STD,
                 clip_features: float | None = 0.001, clip_margin: float = 0.0,
                 standardize_features: bool = True,
                 reduce_lr_patience: int | None = 3, trial_timeout_s: float | None = None,
                 inherit_weights: bool = False,
                 clip_predictions: float | None = CLIP_PREDICTIONS,
                 **kwargs: Any) -> None:
        for name, why in _IGNORED_ARGUMENTS.items():
            if name in kwargs:
                logger.warning("%s=%r has no effect: %s.", name, kwargs.pop(name), why)
        if args or kwargs:
            raise TypeError("SimpleCerebrosRandomSearch got unexpected arguments: "
                            f"{', '.join(sorted(kwargs)) or f'{len(args)} extra positional'}.")
        arguments = dict(locals())
        self._validate(arguments)
        self._build_configs(arguments)
        self._check_generations()
        self.data: PreparedData = prepare_data(
            training_data, labels, self.input_widths, self.output_widths,
            validation_split=validation_split, validation_data=validation_data,
            dtype=self.train_data_dtype, allow_label_leakage=allow_label_leakage)
        self._check_metric(metric_to_rank_by)
        self._fit_data_options()
        self._check_picklable()
        self.project = ProjectDir(project_name)

    def _validate(self, a: dict[str, Any]) -> None:
        """Check and store the search's own arguments (the wiring and model options are
        checked by their config objects)."""
        if not (isinstance(a["unit_type"], type) and issubclass(a["unit_type"], DenseUnit)):
            raise ValueError(f"unit_type must be DenseUnit (or a subclass); got {a['unit_type']!r}.")
        required = ("input_shapes", "output_shapes", "training_data", "labels")
        if any(a[name] is None for name in required):
            raise ValueError("input_shapes, output_shapes, training_data and labels are required.")
        self.unit_type = a["unit_type"]
        self.input_widths = normalize_shapes(a["input_shapes"], "input_shapes")
        self.output_widths = normalize_shapes(a["output_shapes"], "output_shapes")
        self.input_shapes, self.output_shapes = a["input_shapes"], a["output_shapes"]
        self.direction = check_direction(a["direction"])
        self.levels = check_range("levels", a["minimum_levels"], a["maximum_levels"])
        self.units_per_level = check_range("units_per_level", a["minimum_units_per_level"],
                                           a["maximum_units_per_level"])
        self.neurons_per_unit = check_range("neurons_per_unit", a["minimum_neurons_per_unit"],
                                            a["maximum_neurons_per_unit"])
        for name in ("number_of_architecture_moities_to_try",
                     "number_of_tries_per_architecture_moity", "epochs", "batch_size",
                     "max_consecutive_failed_trials"):
            setattr(self, name, check_int(name, a[name], 1))
        self.number_of_generations = check_int(
            "number_of_generations", a["number_of_generations"], 1,
            self.number_of_architecture_moities_to_try)
        self.patience = None if a["patience"] is None else check_int("patience", a["patience"], 0)
        self.reduce_lr_patience = (None if a["reduce_lr_patience"] is None
                                   else check_int("reduce_lr_patience", a["reduce_lr_patience"], 0))
        self.seed = check_int("seed", a["seed"], 0)
        self.backend = check_choice("backend", a["backend"], BACKENDS)
        self.n_workers = None if a["n_workers"] is None else check_int("n_workers",
                                                                       a["n_workers"], 1)
        if not isinstance(a["project_name"], str) or not a["project_name"].strip():
            raise ValueError(f"project_name must be a non-empty string; got {a['project_name']!r}.")
        self.train_data_dtype = dtype_name(a["train_data_dtype"])
        for name in ("activation", "final_activation", "gate_activation_function"):
            check_referable(name, a[name])  # every trial's model is saved with it
        self.activation, self.final_activation = a["activation"], a["final_activation"]
        self.learning_rate = check_number("learning_rate", a["learning_rate"], 0.0, low_open=True)
        check_choice("jit_compile", a["jit_compile"], (None, True, False, "auto"))
        self.loss, self.metrics = a["loss"], a["metrics"]
        self.project_name = a["project_name"]
        self.meta_trial_number = a["meta_trial_number"]
        self.validation_split = a["validation_split"]
        self.chart_network_graph = check_bool("chart_network_graph", a["chart_network_graph"])
        self.ray_address = a["ray_address"]
        self.overwrite = check_bool("overwrite", a["overwrite"])
        self.verbose = check_int("verbose", a["verbose"], 0)
        self.bounds = SearchBounds(self.levels, self.units_per_level, self.neurons_per_unit)
        self.scale_targets = check_choice("scale_targets", a["scale_targets"], (True, False, "auto"))
        self.scaled_target_std = check_target_std(a["scaled_target_std"])
        if self.scale_targets is False and self.scaled_target_std != SCALED_TARGET_STD:
            raise ValueError(f"scaled_target_std={self.scaled_target_std} has no effect with "
                             "scale_targets=False (raw targets); pass scale_targets='auto' or "
                             "True to rescale the targets, or leave scaled_target_std out.")
        self.clip_features = (None if a["clip_features"] is None
                              else check_number("clip_features", a["clip_features"], 0.0, 0.25))
        self.clip_margin = check_number("clip_margin", a["clip_margin"], 0.0)
        self.clip_predictions = (None if a["clip_predictions"] is None else check_number(
            "clip_predictions", a["clip_predictions"], 0.0))
        self.standardize_features = check_bool("standardize_features", a["standardize_features"])
        self.trial_timeout_s = (None if a["trial_timeout_s"] is None else check_number(
            "trial_timeout_s", a["trial_timeout_s"], 0.0, low_open=True))
        self.inherit_weights = check_bool("inherit_weights", a["inherit_weights"])
        self.best_model_path = ""

    def _build_configs(self, a: dict[str, Any]) -> None:
        """The frozen config objects the inner stages receive."""
        self.wiring_config = WiringConfig.from_arguments(a)
        self.model_options = ModelOptions(
            activation=a["activation"], final_activation=a["final_activation"],
            gate_activation=self.wiring_config.gate_activation,
            bnorm_or_dropout=a["bnorm_or_dropout"], dropout_rate=a["dropout_rate"],
            batch_norm_momentum=a["batch_norm_momentum"],
            fused_units=a["fused_units"], dtype=self.train_data_dtype)
        loss, metrics = serialize_objects(a["loss"], "loss"), serialize_objects(a["metrics"],
                                                                                "metrics")
        self.training = TrainingConfig(
            epochs=self.epochs, batch_size=self.batch_size, patience=self.patience,
            reduce_lr_patience=self.reduce_lr_patience,
            learning_rate=self.learning_rate, loss=loss, metrics=metrics,
            custom_objects=registered_objects([loss, metrics]),
            metric_to_rank_by=a["metric_to_rank_by"],
            direction=self.direction, jit_compile=a["jit_compile"],
            steps_per_execution=check_int("steps_per_execution", a["steps_per_execution"], 1),
            graph_optimization=check_bool("graph_optimization", a["graph_optimization"]),
            verbose=1 if self.verbose >= 2 else 0,
            deterministic=check_bool("deterministic", a["deterministic"]),
            callbacks=tuple(a["callbacks"] or ()), keep_unit_weights=self._breeds_heirs())

    def _check_generations(self) -> None:
        """Refuse generations that could not be bred: where no mutation applies to a plan
        (:func:`cerebros.evolution.applicable_mutations`), :func:`~cerebros.evolution.breed`
        fails once generation 0 has trained.  One plan decides for all: if any range lets
        a size change, every plan has a size mutation; otherwise every plan has the same
        sizes, and its draws of inputs and laterals are random for all plans or fixed for
        all (with the same rule-2 repairs needed in each)."""
        if self.number_of_generations == 1 or applicable_mutations(
                self.plan(0, 0), self.wiring_config, self.bounds):
            return
        raise UnbreedableError(
            f"number_of_generations={self.number_of_generations} needs a mutation that "
            "changes a network, but none applies to this search's networks: their sizes "
            f"cannot change within levels {self.levels[0]}..{self.levels[1]}, units per "
            f"level {self.units_per_level[0]}..{self.units_per_level[1]} and neurons per "
            f"unit {self.neurons_per_unit[0]}..{self.neurons_per_unit[1]}, and every unit's "
            "inputs can only be drawn one way, so no later generation could breed a child. "
            "Pass number_of_generations=1, or widen a range (maximum_levels, "
            "maximum_units_per_level or maximum_neurons_per_unit).")

    def _check_picklable(self) -> None:
        """Refuse, before any work, what a worker could not receive: every callback, the
        loss, the metrics and the activations must pickle with the backend's pickler
        (cloudpickle for "process", Ray's copy of it for "ray"; both send what is defined
        in ``__main__`` or a notebook by value)."""
        if self.backend == "inline":
            return
        if self.backend == "ray":
            try:
                from ray import cloudpickle as pickler
            except ImportError:
                return  # the Ray executor reports the missing package itself
        else:
            import cloudpickle as pickler
        parts = {f"callbacks[{i}]": c for i, c in enumerate(self.training.callbacks)}
        parts.update({"loss": self.training.loss, "metrics": self.training.metrics,
                      **{f"the registered {name!r}": value
                         for name, value in self.training.custom_objects.items()},
                      "activation": self.model_options.activation,
                      "final_activation": self.model_options.final_activation,
                      "gate_activation_function": self.model_options.gate_activation})
        for name, value in parts.items():
            try:
                pickler.dumps(value)
            except Exception as error:  # pickling errors come in many types
                raise ValueError(
                    f"{name} ({type(value).__name__}) cannot be sent to backend="
                    f"{self.backend!r} workers: {type(error).__name__}: {error}. Keep no "
                    "locks, open files, threads or other process-bound state in it (create "
                    "them in on_train_begin), or use backend='inline'.") from None

    def _fit_data_options(self) -> None:
        """Model constants from the training rows: input clipping bounds, input
        standardization and the scaling of regression targets (see ``clip_features``,
        ``standardize_features`` and ``scale_targets``)."""
        scaled = [self._scales_output(i) for i in range(len(self.output_widths))]
        self._learns_scaled_targets = any(scaled)
        if self.scaled_target_std != SCALED_TARGET_STD and not any(scaled):
            logger.warning("scaled_target_std=%s has no effect: no output learns scaled "
                           "targets (scale_targets='auto' scales only linear outputs trained "
                           "with a regression loss).", self.scaled_target_std)
        if self.clip_predictions not in (None, CLIP_PREDICTIONS) and not any(scaled):
            logger.warning("clip_predictions=%s has no effect: no output learns scaled "
                           "targets, and only those are bounded.", self.clip_predictions)
        bounds = (None if self.clip_features is None
                  else feature_bounds(self.data.x_train, self.clip_features, self.clip_margin))
        self.model_options = dataclasses.replace(
            self.model_options, input_bounds=bounds,
            input_scaling=(feature_scaling(self.data.x_train, bounds)
                           if self.standardize_features else None),
            target_scaling=target_scaling(self.data.y_train, scaled, self._target_std()),
            target_bounds=(None if self.clip_predictions is None
                           else prediction_bounds(self.data.y_train, scaled,
                                                  self.clip_predictions)))

    def _training_steps(self) -> int:
        """Optimizer steps of the whole training budget: epochs x batches per epoch."""
        return math.ceil(len(self.data.y_train[0]) / self.batch_size) * self.epochs

    def _target_std(self) -> float | None:
        """The spread the scaled targets get (``scaled_target_std``, "auto" resolved)."""
        return resolve_target_std(self.scaled_target_std, self.learning_rate,
                                  self._training_steps())

    def _target_spread_text(self) -> str:
        if self.scaled_target_std is None:
            return "centred only"
        if self.scaled_target_std == "auto":
            return (f"to standard deviation {self._target_std():g} = max(1, "
                    f"{AUTO_SPREAD_PER_STEP:g} x learning rate x {self._training_steps()} "
                    "optimizer steps)")
        return f"to standard deviation {self.scaled_target_std}"

    def _target_manifest(self) -> dict[str, Any]:
        """The targets' spread as the manifest records it.  "auto" also records the spread it
        resolved to (``target_spread``), so that a project made when "auto" followed another
        rule is not resumed under this one (see :func:`implied_manifest_values`).  Where no
        output learns scaled targets the spread has no effect, and the default is recorded
        as the earlier default 1.0, so that such projects made before resume."""
        if not self._learns_scaled_targets:
            return {"scaled_target_std": (1.0 if self.scaled_target_std == SCALED_TARGET_STD
                                          else self.scaled_target_std)}
        if self.scaled_target_std == "auto":
            return {"scaled_target_std": "auto", "target_spread": self._target_std()}
        return {"scaled_target_std": self.scaled_target_std}

    def _scales_output(self, index: int) -> bool:
        """Whether output ``index`` learns scaled targets: always/never for
        ``scale_targets=True/False``; for "auto", a linear output trained with a regression
        loss on labels as wide as the output."""
        if self.scale_targets != "auto":
            return self.scale_targets
        loss = self.loss
        if isinstance(loss, (list, tuple)) and len(loss) == len(self.output_widths):
            loss = loss[index]  # one loss per output: this output's decides
        loss = str(callable_name(loss) if callable(loss) else loss).lower()
        classification = any(word in loss for word in ("crossentropy", "hinge", "poisson", "kl"))
        linear = self.final_activation in (None, "linear")
        return (linear and not classification
                and self.data.y_train[index].shape[1] == self.output_widths[index])

    def _check_metric(self, metric_to_rank_by: str) -> None:
        """Refuse a ``metric_to_rank_by`` that this search's models will not report (found
        by compiling a tiny stand-in model with the same loss and metrics)."""
        with caller_random_state():
            available = available_metric_names(
                self.input_widths, self.output_widths, self.loss, self.metrics,
                has_validation=self.data.x_val is not None,
                label_widths=[y.shape[1] for y in self.data.y_train])
        clashes = sorted(set(available) & set(TRIAL_COLUMNS))
        if clashes:
            raise ValueError(f"metrics must not report names the oracle uses for its own "
                             f"columns; got {clashes}: give those metrics another name.")
        if metric_to_rank_by not in available:
            raise ValueError(f"metric_to_rank_by={metric_to_rank_by!r} is not produced by this "
                             f"search's loss and metrics; it can rank by one of {available}.")
        mismatch = direction_mismatch(metric_to_rank_by, self.direction)
        if mismatch is not None:
            logger.warning("%s", mismatch)
        self.metric_to_rank_by = metric_to_rank_by

    # ----------------------------------------------------------------- what to try
    def sample_spec(self, moiety: int) -> NetworkSpec:
        """The spec of moiety ``moiety`` (a pure function of ``seed`` and the number)."""
        rng = np.random.default_rng([self.seed, 0, moiety])
        return sample_spec(rng, self.input_widths, self.output_widths, self.levels,
                           self.units_per_level, self.neurons_per_unit)

    def plan(self, moiety: int, attempt: int) -> WiringPlan:
        """The randomly drawn wiring plan of trial ``moiety``, try ``attempt`` (a pure
        function of ``seed`` and the numbers; generation 0 trains these)."""
        rng = np.random.default_rng(_derived_seed(self.seed, 1, moiety, attempt))
        return plan_wiring(self.sample_spec(moiety), self.wiring_config, rng)

    def task(self, moiety: int, attempt: int, plan: WiringPlan | None = None,
             **lineage: Any) -> TrialTask:
        """Trial ``moiety``, try ``attempt``: its plan (by default :meth:`plan`), model
        options, names and seeds; ``lineage`` sets ``generation``, ``parent``, ``mutation``."""
        options = ModelOptions(**{**vars_of(self.model_options),
                                  "seed": _derived_seed(self.seed, 1, moiety, attempt)})
        return TrialTask(moiety, attempt, plan or self.plan(moiety, attempt), options,
                         network_name(self.project.root.name, moiety, attempt),
                         str(self.project.model_path(moiety, attempt)),
                         _derived_seed(self.seed, 2, moiety, attempt), self.training, **lineage)

    def generations(self) -> list[range]:
        """The moieties of each generation: consecutive blocks of nearly equal size (the
        earlier blocks one larger when the moieties do not divide evenly)."""
        blocks = np.array_split(np.arange(self.number_of_architecture_moities_to_try),
                                self.number_of_generations)
        return [range(int(b[0]), int(b[-1]) + 1) for b in blocks]

    def tasks(self, generation: int = 0, oracle_rows: pd.DataFrame | None = None,
              plans: dict[tuple[int, int], WiringPlan] | None = None) -> list[TrialTask]:
        """The trials of ``generation``, in order.

        Generation 0 samples specs and wirings at random.  A later generation breeds each of
        its trials from the completed trials of all earlier generations (``plans``, ranked
        by their results in ``oracle_rows``): a tournament picks a parent, one mutation of
        its plan (:func:`cerebros.evolution.breed`) gives the child.  Each child is a pure
        function of (seed, generation, trial, try) and those results, so a resumed, process
        or Ray search breeds exactly the same children.  With ``inherit_weights`` a child's
        units shared with its parent start from the parent's trained weights, read from the
        project's ``models/*.npz``.  A generation with no completed parent falls back to
        random sampling.
        """
        moieties = self.generations()[generation]
        attempts = range(self.number_of_tries_per_architecture_moity)
        if generation == 0:
            return [self.task(m, a, generation=0) for m in moieties for a in attempts]
        keys = list(plans or {})
        scores = self._scores(keys, oracle_rows)
        if not np.isfinite(scores).any():
            logger.warning("generation %d has no completed parent; sampling at random", generation)
            return [self.task(m, a, generation=generation) for m in moieties for a in attempts]
        parents = [plans[key] for key in keys]
        tasks = []
        for m in moieties:
            for a in attempts:
                rng = np.random.default_rng([self.seed, 3, generation, m, a])
                index, child, mutation = breed(parents, scores, 1, self.wiring_config,
                                               self.bounds, rng, self.direction)[0]
                tasks.append(self.task(
                    m, a, child, generation=generation, parent=keys[index], mutation=mutation,
                    initial_weights=self._inherited(keys[index], parents[index], child)))
        return tasks

    def _breeds_heirs(self) -> bool:
        """Whether children will start from their parents' weights (so trials keep them)."""
        return self.inherit_weights and self.number_of_generations > 1

    def _inherited(self, parent: tuple[int, int], parent_plan: WiringPlan, child: WiringPlan
                   ) -> dict[tuple[int, int], list[Any]] | None:
        """The parent's trained weights of the units ``child`` shares with it (None without
        ``inherit_weights`` or when the parent's weights file is missing)."""
        if not self._breeds_heirs():
            return None
        path = self.project.weights_path(*parent)
        if not path.is_file():
            logger.warning("no weights file %s for parent trial %d/%d; its children start "
                           "afresh", path, *parent)
            return None
        stored = read_unit_weights(path)
        return {unit: stored[unit] for unit in shared_units(parent_plan, child)
                if unit in stored}

    def _scores(self, keys: list[tuple[int, int]], oracle_rows: pd.DataFrame | None) -> np.ndarray:
        """Each trial's best value of ``metric_to_rank_by`` (NaN unless completed)."""
        if not keys or oracle_rows is None or oracle_rows.empty:
            return np.full(len(keys), np.nan)
        board = rank_trials(oracle_rows, self.metric_to_rank_by, self.direction)
        board = board[board["status"] != FAILED]
        best = dict(zip(zip(board["trial_number"], board["subtrial_number"]), board["best_value"]))
        return np.array([best.get(key, np.nan) for key in keys], dtype="float64")

    def manifest(self) -> dict[str, Any]:
        """The search's arguments as JSON-safe data: a project directory made with other
        arguments is refused instead of mixing results."""
        return {
            "format_version": 1, "unit_type": self.unit_type.__name__,
            "input_widths": list(self.input_widths), "output_widths": list(self.output_widths),
            "direction": self.direction, "metric_to_rank_by": self.metric_to_rank_by,
            "levels": list(self.levels), "units_per_level": list(self.units_per_level),
            "neurons_per_unit": list(self.neurons_per_unit),
            "number_of_architecture_moities_to_try": self.number_of_architecture_moities_to_try,
            "number_of_tries_per_architecture_moity": self.number_of_tries_per_architecture_moity,
            "number_of_generations": self.number_of_generations,
            "wiring": self.wiring_config.to_params(), "seed": self.seed,
            "activation": callable_name(self.activation),
            "final_activation": callable_name(self.final_activation),
            "learning_rate": self.learning_rate, "loss": _objects_text(self.training.loss),
            "metrics": _objects_text(self.training.metrics), "epochs": self.epochs,
            "patience": self.patience, "reduce_lr_patience": self.reduce_lr_patience,
            "batch_size": self.batch_size,
            "train_data_dtype": self.train_data_dtype,
            "bnorm_or_dropout": self.model_options.bnorm_or_dropout,
            "dropout_rate": self.model_options.dropout_rate,
            "batch_norm_momentum": self.model_options.batch_norm_momentum,
            "fused_units": self.model_options.fused_units,
            "deterministic": self.training.deterministic,
            "data_fingerprint": self.data.fingerprint(),
            "scale_targets": self.scale_targets, **self._target_manifest(),
            "clip_features": self.clip_features,
            "clip_margin": self.clip_margin, "standardize_features": self.standardize_features,
            "clip_predictions": self.clip_predictions,
            "trial_timeout_s": self.trial_timeout_s,
            "inherit_weights": self.inherit_weights,
            **({"decay_values": values} if (values := self._user_decay_values()) else {}),
            "meta_trial_number": self.meta_trial_number,
        }

    def _user_decay_values(self) -> dict[str, list[float]]:
        """Each decay function that is not the library's, as its values at the distances
        this search can use: two lambdas are both named ``"<lambda>"``, and a project must
        not be resumed with a different function of the same name."""
        distances = range(max(self.levels[1], self.units_per_level[1]) + 1)
        values = {}
        for name in ("predecessor_level_connection_affinity_factor_decay_main",
                     "p_lateral_connection_decay"):
            function = getattr(self.wiring_config, name)
            if not is_library_function(function):
                values[name] = [float(function(k)) for k in distances]
        return values

    # ----------------------------------------------------------------- running
    def run_random_search(self, on_trial_end: Callable[[TrialProgress], Any] | None = None
                          ) -> float:
        """Run (or resume) the search and return the best value of ``metric_to_rank_by``.

        Completed and failed trials already in the project's oracle are not run again; a
        trial that was interrupted is rerun from its start.  ``best_model_path`` names the
        best model's file afterwards.  The project directory is locked for the whole run
        (before ``overwrite`` deletes anything): a second search on it fails at once with
        :class:`~cerebros.project.ProjectLockedError` naming the holder.

        ``on_trial_end``, if given, is called in this process after each trial is recorded,
        with a :class:`TrialProgress`; an exception it raises stops the search (the trials
        still running are stopped, those recorded stay) and propagates.  The meta-search
        (:mod:`cerebros.meta`) reports to Optuna and prunes through it.
        """
        with self.project.lock(), caller_random_state():
            return self._run(on_trial_end)

    def _run(self, on_trial_end: Callable[[TrialProgress], Any] | None = None) -> float:
        resumed = self.project.check_or_write_manifest(self.manifest(), overwrite=self.overwrite,
                                                       implied=implied_manifest_values)
        self.project.create()
        oracle = Oracle(self.project.root)
        retry = oracle.retriable()
        finished = oracle.finished() - retry
        total = self.number_of_architecture_moities_to_try * self.number_of_tries_per_architecture_moity
        logger.info("%s search in %s: %d of %d trials to run, %d generation(s)",
                    "resuming" if resumed else "starting", self.project.root,
                    total - len(finished), total, self.number_of_generations)
        progress = self._progress_bar(total, len(finished))
        executor = make_executor(self.backend, self.n_workers, self.ray_address,
                                 self.trial_timeout_s)
        plans: dict[tuple[int, int], WiringPlan] = {}
        failures_in_row = 0
        try:
            for generation in range(self.number_of_generations):
                tasks = self.tasks(generation, oracle.read(), plans)
                plans.update({(t.trial_number, t.subtrial_number): t.plan for t in tasks})
                if generation > 0:
                    plans.update(self._trained_plans(tasks, finished))
                todo = [dataclasses.replace(t, attempt=2) if (t.trial_number, t.subtrial_number)
                        in retry else t for t in tasks
                        if (t.trial_number, t.subtrial_number) not in finished]
                for task in todo:
                    self._write_trial_files(task)
                for outcome in executor.run(todo, self.data):
                    self._record(oracle, outcome)
                    failures_in_row = failures_in_row + 1 if outcome.record.status == FAILED else 0
                    if progress is not None:
                        progress.add(1)
                    if failures_in_row >= self.max_consecutive_failed_trials:
                        raise SearchFailedError(
                            f"{failures_in_row} trials failed in a row; stopping the search. The "
                            f"last error (trial {outcome.record.trial_number}, subtrial "
                            f"{outcome.record.subtrial_number}): {outcome.record.error}")
                    if on_trial_end is not None:
                        on_trial_end(self._progress(oracle, outcome, total))
        finally:
            executor.close()
        board = rank_trials(oracle.read(), self.metric_to_rank_by, self.direction)
        best = board[(board["status"] != FAILED) & board["best_value"].notna()].head(1)
        if best.empty:
            raise SearchFailedError("no trial completed; see the error column of "
                                    f"{oracle.path}.")
        row = best.iloc[0]
        self.best_model_path = str(self.project.model_path(int(row["trial_number"]),
                                                           int(row["subtrial_number"])))
        logger.info("best %s = %s (%s)", self.metric_to_rank_by, row["best_value"],
                    self.best_model_path)
        return float(row["best_value"])

    def _progress(self, oracle: Oracle, outcome: TrialOutcome, total: int) -> TrialProgress:
        board = rank_trials(oracle.read(), self.metric_to_rank_by, self.direction)
        scored = board[(board["status"] != FAILED) & board["best_value"].notna()]
        best = float(scored["best_value"].iloc[0]) if len(scored) else float("nan")
        return TrialProgress(outcome.record, len(board), total, best)

    def _progress_bar(self, total: int, done: int):
        if self.verbose < 1:
            return None
        import keras

        bar = keras.utils.Progbar(total, unit_name="trial")
        bar.update(done)
        return bar

    def _trained_plans(self, tasks: list[TrialTask], finished: set[tuple[int, int]]
                       ) -> dict[tuple[int, int], WiringPlan]:
        """The plans that the recorded trials among bred ``tasks`` trained, as stored in the
        project: a child is bred from the results at hand, and a resumed search that retried
        an earlier trial (a transient failure) has other results at hand than the run that
        trained it, so breeding it again could give another network than the one recorded."""
        trained = {}
        for task in tasks:
            key = (task.trial_number, task.subtrial_number)
            if key not in finished:
                continue
            path = self.project.architecture_path(*key)
            try:
                trained[key] = WiringPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError) as error:
                logger.warning("trial %d/%d: cannot read the network it trained from %s (%s); "
                               "its children are bred from the network as bred again", *key,
                               path, error)
        return trained

    def _write_trial_files(self, task: TrialTask) -> None:
        stem = (task.trial_number, task.subtrial_number)
        record = task.network_record()
        self.project.write_json_atomic(self.project.architecture_path(*stem), record)
        if self.chart_network_graph:
            from cerebros.viz import plan_graph

            plan_graph(record, self.project.graph_path(*stem), title=task.name)

    def _record(self, oracle: Oracle, outcome: TrialOutcome) -> None:
        record = outcome.record
        if outcome.model_bytes is not None:
            path = self.project.model_path(record.trial_number, record.subtrial_number)
            self.project.write_bytes_atomic(path, outcome.model_bytes)
        if outcome.unit_weights is not None:
            write_unit_weights(self.project.weights_path(record.trial_number,
                                                         record.subtrial_number),
                               outcome.unit_weights)
        oracle.record(record)
        if record.error:
            logger.warning("trial %d/%d failed: %s", record.trial_number, record.subtrial_number,
                           record.error)

    # ----------------------------------------------------------------- results
    def get_best_model(self):
        """Load the best trial's model (plain ``keras.models.load_model`` semantics; a plain
        function given as loss or metrics is passed as ``custom_objects``, as another process
        loading the model must pass it too, or load with ``compile=False``)."""
        import keras

        if not self.best_model_path:
            raise RuntimeError("no best model yet: call run_random_search() first.")
        return keras.models.load_model(self.best_model_path,
                                       custom_objects=self._custom_objects())

    def _custom_objects(self) -> dict[str, Any]:
        """The plain functions given as loss or metrics, by name: a saved model's compile
        config names them, and Keras finds them only through ``custom_objects``."""
        found, todo = {}, [self.training.loss, self.training.metrics]
        while todo:
            value = todo.pop()
            if isinstance(value, list):
                todo.extend(value)
            elif callable(value):
                found[getattr(value, "__name__", repr(value))] = value
        return found

    def _completed_model_paths(self) -> list[str]:
        """Model files of the completed trials, best first (see :func:`rank_trials`)."""
        board = rank_trials(Oracle(self.project.root).read(), self.metric_to_rank_by,
                            self.direction)
        board = board[(board["status"] != FAILED) & board["best_value"].notna()]
        paths = [str(self.project.model_path(int(t), int(s)))
                 for t, s in zip(board["trial_number"], board["subtrial_number"])]
        return [p for p in paths if Path(p).is_file()]

    def get_best_models(self, num_models: int = 1) -> list:
        """The ``num_models`` best trials' models, best first (Keras Tuner's habit)."""
        import keras

        num_models = check_int("num_models", num_models, 1)
        return [keras.models.load_model(p, custom_objects=self._custom_objects())
                for p in self._completed_model_paths()[:num_models]]

    def get_best_ensemble(self, top: int = 5, greedy: bool = True, max_size: int = 20):
        """A Keras model averaging the outputs of the best completed trials.

        The ``top`` best trials are the candidates; with ``greedy`` (default) Caruana et
        al.'s forward selection with replacement picks members and weights that minimize
        the RMSE of the averaged outputs on the validation rows (the Brier score for
        probabilities), else all candidates get equal weight.  Classification models average
        their probabilities.  The model is saved as ``<project>/ensemble.keras`` (it loads
        after ``import cerebros``) with its members, weights and validation scores in
        ``ensemble.json``; it is also returned.  The training rows stand in for validation
        rows when the search has none.

        Raises
        ------
        ValueError
            If ``top`` or ``max_size`` is not an int >= 1, or no trial has completed yet.
        """
        from cerebros.ensemble import build_ensemble

        top = check_int("top", top, 1)
        check_int("max_size", max_size, 1)
        paths = self._completed_model_paths()[:top]
        if not paths:
            raise ValueError("get_best_ensemble needs a completed trial with a saved model; "
                             "run_random_search() first.")
        data = self.data
        x, y = (data.x_val, data.y_val) if data.x_val is not None else (data.x_train, data.y_train)
        # Sparse class ids are scored against the averaged probabilities as one-hot rows.
        y = [np.eye(width, dtype="float32")[labels[:, 0].astype("int64")]
             if labels.shape[1] == 1 and width > 1 else labels
             for labels, width in zip(y, self.output_widths)]
        model, info = build_ensemble(paths, x, y, greedy=check_bool("greedy", greedy),
                                     max_size=max_size)
        self.project.write_bytes_atomic(self.project.root / ENSEMBLE_NAME, _model_bytes(model))
        self.project.write_json_atomic(self.project.root / ENSEMBLE_INFO_NAME, {
            **info, "score": "rmse", "rows": "validation" if data.x_val is not None else "training",
            "top": top, "greedy": greedy})
        logger.info("ensemble of %d members: val RMSE %s (best single model %s)",
                    len(info["members"]), info["val_score"],
                    min((v for v in info["member_val_scores"] if v == v), default=math.nan))
        return model

    def search_space_summary(self, print_fn: Any = print) -> str:
        """Show what is searched (Keras Tuner's habit): the ranges specs are drawn from, the
        budget and generations, the wiring settings and the training settings.  The text is
        passed to ``print_fn`` (like ``keras.Model.summary``) and returned."""
        lines = [
            "Search space summary",
            f"levels (dense, incl. final): {self.levels[0]}..{self.levels[1]}",
            f"units per hidden level: {self.units_per_level[0]}..{self.units_per_level[1]}",
            f"neurons per hidden unit: {self.neurons_per_unit[0]}..{self.neurons_per_unit[1]}",
            f"trials: {self.number_of_architecture_moities_to_try} moieties x "
            f"{self.number_of_tries_per_architecture_moity} tries, in "
            f"{self.number_of_generations} generation(s)",
            "wiring:",
            *(f"  {name}: {value}" for name, value in self.wiring_config.to_params().items()),
            f"training: epochs {self.epochs}, patience {self.patience}, batch size "
            f"{self.batch_size}, learning rate {self.learning_rate}, ranked by "
            f"{self.metric_to_rank_by} ({self.direction})",
            f"model: activation {callable_name(self.activation)}, final activation "
            f"{callable_name(self.final_activation)}, targets scaled: "
            f"{self.model_options.target_scaling is not None} ("
            f"{self._target_spread_text()}), features clipped at quantile "
            f"{self.clip_features} with margin {self.clip_margin}, standardized: "
            f"{self.standardize_features}, batch-normalization momentum "
            f"{self.model_options.batch_norm_momentum}, predictions bounded: "
            f"{'no' if self.clip_predictions is None else self.clip_predictions}",
        ]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text

    def results_summary(self, top: int | None = 10):
        """The leaderboard: one row per trial, best first (see :func:`cerebros.load_results`)."""
        from cerebros.results import load_results

        return load_results(self.project.root, self.metric_to_rank_by, self.direction, top=top)


def _model_bytes(model) -> bytes:
    """A Keras model saved as ``.keras``, as bytes (for an atomic write)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        return path.read_bytes()


def _objects_text(objects: Any) -> str:
    """A loss or metrics as the manifest records them: the repr of their Keras configs, with
    a plain function (see :func:`~cerebros.compilation.serialize_objects`) as its importable
    ``"module:qualname"`` (a repr would change with its address from run to run)."""
    def stable(value: Any) -> Any:
        if isinstance(value, list):
            return [stable(v) for v in value]
        return callable_name(value) if callable(value) else value

    return repr(stable(objects))


def vars_of(config: Any) -> dict[str, Any]:
    """A dataclass's fields as keyword arguments."""
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
