"""The architecture search: sample specs, plan wirings, run trials, record, rank.

:class:`SimpleCerebrosRandomSearch` keeps the original's constructor so existing notebooks
run unchanged.  Behind it the work is split Keras-Tuner style: this module decides *what* to
try (all randomness derived from ``seed``, so a resumed or parallel search tries exactly
the same networks), :mod:`cerebros.executors` decides *where* it runs,
:mod:`cerebros.trial` *how*, and :mod:`cerebros.oracle` records *what happened*.
"""

from __future__ import annotations

import logging
from typing import Any, Iterator, Sequence

import numpy as np

from cerebros.config import WiringConfig, callable_name
from cerebros.data import PreparedData, prepare_data
from cerebros.decay import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay
from cerebros.executors import BACKENDS, make_executor
from cerebros.materialize import ModelOptions
from cerebros.neuralnetworkfuture.neural_network_future import NeuralNetworkFuture, _dtype_name
from cerebros.oracle import FAILED, Oracle, normalize_direction
from cerebros.project import ProjectDir
from cerebros.spec import NetworkSpec, normalize_shapes, sample_spec
from cerebros.trial import (TrainingConfig, TrialOutcome, TrialTask, available_metric_names,
                            serialize_objects)
from cerebros.units.units import DenseUnit

__all__ = ["SimpleCerebrosRandomSearch", "SearchFailedError"]

logger = logging.getLogger(__name__)

_IGNORED_ARGUMENTS = {
    "number_of_generations": "the random search has a single generation",
    "model_graphs": "graphs are always written to <project_name>/model_graphs when "
                    "chart_network_graph=True",
}


class SearchFailedError(RuntimeError):
    """Raised when too many trials in a row failed, or when no trial completed."""


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}.")
    return int(value)


def _check_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}.")
    return bool(value)


def _check_range(name: str, low: Any, high: Any, minimum: int = 1) -> tuple[int, int]:
    low = _check_int(f"minimum_{name}", low, minimum)
    high = _check_int(f"maximum_{name}", high, minimum)
    if low > high:
        raise ValueError(f"minimum_{name} must be <= maximum_{name}; got {low} > {high}.")
    return low, high


def _derived_seed(seed: int, *path: int) -> int:
    return int(np.random.default_rng([seed, *path]).integers(2**31 - 1))


class SimpleCerebrosRandomSearch:
    """Random search over Cerebros architectures (the original API, made trustworthy).

    For each of ``number_of_architecture_moities_to_try`` moieties a spec is sampled
    (levels, units per level and neurons per unit drawn from the given ranges; the number
    of levels counts the dense levels including the final one); each of
    ``number_of_tries_per_architecture_moity`` tries plans a fresh wiring of it and trains
    it with early stopping (``patience``) on ``metric_to_rank_by``.  Every epoch of every
    trial is logged to ``<project_name>/oracle.csv``; models, plans and (optionally) graphs
    are written beside it.

    The parameters are the original's (see the README for each); new ones are keyword-only
    at the end:

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
                 minimum_skip_connection_depth=1, maximum_skip_connection_depth=7,
                 predecessor_level_connection_affinity_factor_first=5,
                 predecessor_level_connection_affinity_factor_first_rounding_rule="ceil",
                 predecessor_level_connection_affinity_factor_main=0.7,
                 predecessor_level_connection_affinity_factor_main_rounding_rule="ceil",
                 predecessor_level_connection_affinity_factor_decay_main=zero_7_exp_decay,
                 seed: int = 8675309, max_consecutive_lateral_connections=7,
                 gate_after_n_lateral_connections=3, gate_activation_function=simple_sigmoid,
                 p_lateral_connection=0.97, p_lateral_connection_decay=zero_95_exp_decay,
                 num_lateral_connection_tries_per_unit=1, learning_rate=0.005, loss="mse",
                 metrics=None, epochs: int = 7, patience: int | None = 7,
                 project_name: str = "cerebros-auto-ml-test", batch_size: int = 200,
                 meta_trial_number: int = 0, *args: Any, validation_data=None,
                 train_data_dtype="float32", chart_network_graph: bool = False,
                 predecessor_level_connection_affinity_factor_final_to_kminus1=2,
                 backend: str = "inline", n_workers: int | None = None,
                 ray_address: str | None = None, overwrite: bool = False,
                 deterministic: bool = False, max_consecutive_failed_trials: int = 3,
                 callbacks: Sequence[Any] | None = None, verbose: int = 1, jit_compile=None,
                 steps_per_execution: int = 32, graph_optimization: bool = False,
                 fused_units: bool = True,
                 bnorm_or_dropout: str = "bnorm", dropout_rate: float = 0.2,
                 allow_label_leakage: bool = False, **kwargs: Any) -> None:
        for name, why in _IGNORED_ARGUMENTS.items():
            if name in kwargs:
                logger.warning("%s=%r has no effect: %s.", name, kwargs.pop(name), why)
        if args or kwargs:
            raise TypeError("SimpleCerebrosRandomSearch got unexpected arguments: "
                            f"{', '.join(sorted(kwargs)) or f'{len(args)} extra positional'}.")
        if not (isinstance(unit_type, type) and issubclass(unit_type, DenseUnit)):
            raise ValueError(f"unit_type must be DenseUnit (or a subclass); got {unit_type!r}.")
        if input_shapes is None or output_shapes is None or training_data is None or labels is None:
            raise ValueError("input_shapes, output_shapes, training_data and labels are required.")
        self.unit_type = unit_type
        self.input_widths = normalize_shapes(input_shapes, "input_shapes")
        self.output_widths = normalize_shapes(output_shapes, "output_shapes")
        self.input_shapes, self.output_shapes = input_shapes, output_shapes
        self.direction = normalize_direction(direction)
        self.levels = _check_range("levels", minimum_levels, maximum_levels)
        self.units_per_level = _check_range("units_per_level", minimum_units_per_level,
                                            maximum_units_per_level)
        self.neurons_per_unit = _check_range("neurons_per_unit", minimum_neurons_per_unit,
                                             maximum_neurons_per_unit)
        self.number_of_architecture_moities_to_try = _check_int(
            "number_of_architecture_moities_to_try", number_of_architecture_moities_to_try, 1)
        self.number_of_tries_per_architecture_moity = _check_int(
            "number_of_tries_per_architecture_moity", number_of_tries_per_architecture_moity, 1)
        self.epochs = _check_int("epochs", epochs, 1)
        self.batch_size = _check_int("batch_size", batch_size, 1)
        if patience is not None:
            _check_int("patience", patience, 0)
        self.seed = _check_int("seed", seed, 0)
        self.max_consecutive_failed_trials = _check_int(
            "max_consecutive_failed_trials", max_consecutive_failed_trials, 1)
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")
        if n_workers is not None:
            _check_int("n_workers", n_workers, 1)
        if not isinstance(project_name, str) or not project_name.strip():
            raise ValueError(f"project_name must be a non-empty string; got {project_name!r}.")
        self.wiring_config = WiringConfig.from_arguments(locals())
        self.train_data_dtype = _dtype_name(train_data_dtype)
        self.model_options = ModelOptions(
            activation=activation, final_activation=final_activation,
            gate_activation=self.wiring_config.gate_activation, bnorm_or_dropout=bnorm_or_dropout,
            dropout_rate=dropout_rate, fused_units=fused_units, dtype=self.train_data_dtype)
        self.data: PreparedData = prepare_data(
            training_data, labels, self.input_widths, self.output_widths,
            validation_split=validation_split, validation_data=validation_data,
            dtype=self.train_data_dtype, allow_label_leakage=allow_label_leakage)
        available = available_metric_names(self.input_widths, self.output_widths, loss, metrics,
                                           has_validation=self.data.x_val is not None,
                                           label_widths=[y.shape[1] for y in self.data.y_train])
        if metric_to_rank_by not in available:
            raise ValueError(f"metric_to_rank_by={metric_to_rank_by!r} is not produced by this "
                             f"search's loss and metrics; it can rank by one of {available}.")
        self.metric_to_rank_by = metric_to_rank_by
        self.activation, self.final_activation = activation, final_activation
        self.learning_rate, self.loss, self.metrics = learning_rate, loss, metrics
        self.patience = patience
        self.project_name = project_name
        self.meta_trial_number = meta_trial_number
        self.validation_split = validation_split
        self.chart_network_graph = bool(chart_network_graph)
        self.backend, self.n_workers, self.ray_address = backend, n_workers, ray_address
        self.overwrite = bool(overwrite)
        self.training = TrainingConfig(
            epochs=self.epochs, batch_size=self.batch_size, patience=patience,
            learning_rate=learning_rate, loss=serialize_objects(loss),
            metrics=serialize_objects(metrics), metric_to_rank_by=metric_to_rank_by,
            direction=self.direction, jit_compile=jit_compile,
            steps_per_execution=_check_int("steps_per_execution", steps_per_execution, 1),
            graph_optimization=_check_bool("graph_optimization", graph_optimization),
            verbose=1 if verbose >= 2 else 0, deterministic=bool(deterministic),
            callbacks=tuple(callbacks or ()))
        self.verbose = int(verbose)
        self.best_model_path = ""
        self.project = ProjectDir(project_name)

    # ----------------------------------------------------------------- what to try
    def sample_spec(self, moiety: int) -> NetworkSpec:
        """The spec of moiety ``moiety`` (a pure function of ``seed`` and the number)."""
        rng = np.random.default_rng([self.seed, 0, moiety])
        return sample_spec(rng, self.input_widths, self.output_widths, self.levels,
                           self.units_per_level, self.neurons_per_unit)

    def neural_network_future(self, moiety: int, attempt: int) -> NeuralNetworkFuture:
        """The planned network of trial ``moiety``, try ``attempt``."""
        spec = self.sample_spec(moiety)
        options = self.model_options
        future = NeuralNetworkFuture(
            input_shapes=list(self.input_widths), output_shapes=list(self.output_widths),
            neural_network_spec=spec.to_original(self.unit_type), project_name=self.project.root.name,
            trial_number=moiety, subtrial_number=attempt, activation=options.activation,
            final_activation=options.final_activation, seed=_derived_seed(self.seed, 1, moiety, attempt),
            learning_rate=self.learning_rate, train_data_dtype=options.dtype,
            bnorm_or_dropout=options.bnorm_or_dropout, dropout_rate=options.dropout_rate,
            fused_units=options.fused_units, **vars_of(self.wiring_config))
        future.plan()
        return future

    def tasks(self) -> Iterator[TrialTask]:
        """Every trial of the search, in order."""
        for moiety in range(self.number_of_architecture_moities_to_try):
            for attempt in range(self.number_of_tries_per_architecture_moity):
                future = self.neural_network_future(moiety, attempt)
                yield TrialTask(moiety, attempt, future.to_dict(),
                                str(self.project.model_path(moiety, attempt)),
                                _derived_seed(self.seed, 2, moiety, attempt), self.training)

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
            "wiring": self.wiring_config.to_params(), "seed": self.seed,
            "activation": callable_name(self.activation),
            "final_activation": callable_name(self.final_activation),
            "learning_rate": self.learning_rate, "loss": repr(self.training.loss),
            "metrics": repr(self.training.metrics), "epochs": self.epochs,
            "patience": self.patience, "batch_size": self.batch_size,
            "train_data_dtype": self.train_data_dtype,
            "bnorm_or_dropout": self.model_options.bnorm_or_dropout,
            "dropout_rate": self.model_options.dropout_rate,
            "fused_units": self.model_options.fused_units,
            "deterministic": self.training.deterministic,
            "data_fingerprint": self.data.fingerprint(),
            "meta_trial_number": self.meta_trial_number,
        }

    # ----------------------------------------------------------------- running
    def run_random_search(self) -> float:
        """Run (or resume) the search and return the best value of ``metric_to_rank_by``.

        Completed and failed trials already in the project's oracle are not run again; a
        trial that was interrupted is rerun from its start.  ``best_model_path`` names the
        best model's file afterwards.
        """
        resumed = self.project.check_or_write_manifest(self.manifest(), overwrite=self.overwrite)
        self.project.create()
        oracle = Oracle(self.project.root)
        finished = oracle.finished()
        todo = [t for t in self.tasks() if (t.trial_number, t.subtrial_number) not in finished]
        total = self.number_of_architecture_moities_to_try * self.number_of_tries_per_architecture_moity
        logger.info("%s search in %s: %d trials to run of %d", "resuming" if resumed else "starting",
                    self.project.root, len(todo), total)
        for task in todo:
            self._write_trial_files(task)
        progress = self._progress_bar(total, total - len(todo))
        executor = make_executor(self.backend, self.n_workers, self.ray_address)
        failures_in_row = 0
        try:
            for outcome in executor.run(todo, self.data):
                self._record(oracle, outcome)
                failures_in_row = failures_in_row + 1 if outcome.record.status == FAILED else 0
                if progress is not None:
                    progress.add(1)
                if failures_in_row >= self.max_consecutive_failed_trials:
                    raise SearchFailedError(
                        f"{failures_in_row} trials failed in a row; stopping the search. The last "
                        f"error (trial {outcome.record.trial_number}, subtrial "
                        f"{outcome.record.subtrial_number}): {outcome.record.error}")
        finally:
            executor.close()
        best = oracle.best(self.metric_to_rank_by, self.direction)
        if best is None:
            raise SearchFailedError("no trial completed; see the error column of "
                                    f"{oracle.path}.")
        value, row = best
        self.best_model_path = str(self.project.model_path(int(row["trial_number"]),
                                                           int(row["subtrial_number"])))
        logger.info("best %s = %s (%s)", self.metric_to_rank_by, value, self.best_model_path)
        return float(value)

    def _progress_bar(self, total: int, done: int):
        if self.verbose < 1:
            return None
        import keras

        bar = keras.utils.Progbar(total, unit_name="trial")
        bar.update(done)
        return bar

    def _write_trial_files(self, task: TrialTask) -> None:
        stem = (task.trial_number, task.subtrial_number)
        self.project.write_json_atomic(self.project.architecture_path(*stem), task.plan)
        if self.chart_network_graph:
            from cerebros.viz import plan_graph

            plan_graph(task.plan, self.project.graph_path(*stem), title=task.plan.get("name"))

    def _record(self, oracle: Oracle, outcome: TrialOutcome) -> None:
        record = outcome.record
        if outcome.model_bytes is not None:
            path = self.project.model_path(record.trial_number, record.subtrial_number)
            self.project.write_bytes_atomic(path, outcome.model_bytes)
        oracle.record(record)
        if record.error:
            logger.warning("trial %d/%d failed: %s", record.trial_number, record.subtrial_number,
                           record.error)

    # ----------------------------------------------------------------- results
    def get_best_model(self):
        """Load the best trial's model (plain ``keras.models.load_model`` semantics)."""
        import keras

        if not self.best_model_path:
            raise RuntimeError("no best model yet: call run_random_search() first.")
        return keras.models.load_model(self.best_model_path)

    def results_summary(self, top: int | None = 10):
        """The leaderboard: one row per trial, best first (see :func:`cerebros.load_results`)."""
        from cerebros.results import load_results

        return load_results(self.project.root, self.metric_to_rank_by, self.direction, top=top)


def vars_of(config: WiringConfig) -> dict[str, Any]:
    """A WiringConfig's fields as keyword arguments."""
    return {name: getattr(config, name) for name in config.__dataclass_fields__}
