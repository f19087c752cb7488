"""The meta-search: an Optuna study over the search's own settings.

Every meta-trial is one :class:`~cerebros.SimpleCerebrosRandomSearch` whose settings are
drawn from a :class:`~cerebros.meta.space.SearchSpace`; it runs in its own directory
``<project>/meta_trial_<number>`` with ``meta_trial_number`` set, and its value is the inner
search's best ``metric_to_rank_by``.  After each inner trial the meta-trial reports its best
so far to Optuna, whose pruner may stop it.  The study lives in a database (a SQLite file
in the project by default, or any SQLAlchemy URL), shared by every process that runs the
same meta-search; see :mod:`cerebros.meta.study` for how they divide the work and resume.
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import numbers
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from cerebros.checks import check_int, check_number
from cerebros.meta import study as studies
from cerebros.meta.space import README_SETTINGS, SearchSpace
from cerebros.project import ProjectLockedError, write_json_atomic

__all__ = ["MetaConfig", "MetaSearch", "META_MANIFEST_NAME", "BEST_SETTINGS_NAME",
           "META_RESULTS_NAME", "STUDY_DB_NAME", "inner_project_name", "default_storage"]

logger = logging.getLogger(__name__)

META_MANIFEST_NAME = "meta_search.json"
BEST_SETTINGS_NAME = "best_settings.json"
META_RESULTS_NAME = "meta_results.csv"
STUDY_DB_NAME = "meta_study.db"

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "halving", "none")

_RESERVED = {
    "project_name": "each meta-trial searches in <project>/meta_trial_<number>",
    "meta_trial_number": "the meta-search numbers its meta-trials",
    "overwrite": "a meta-trial resumes its directory; use a new project to start afresh",
}
_RUNTIME = {"training_data", "labels", "validation_data", "callbacks", "verbose", "backend",
            "n_workers", "ray_address"}
"""Search arguments that say how to run, not what to search: not in the best settings JSON."""
_SPACE_MANIFEST_KEYS = ("levels", "units_per_level", "neurons_per_unit", "activation",
                        "learning_rate", "batch_size", "meta_trial_number", "target_spread")
"""Inner manifest keys the study does not compare: set by the space, or (``target_spread``,
resolved from the learning rate and batch size) derived from it; each inner project's own
manifest still holds them."""


def inner_project_name(number: int) -> str:
    """The directory of meta-trial ``number`` inside the meta-search's project."""
    return f"meta_trial_{check_int('number', number, 0):04d}"


def default_storage(project: str | Path) -> str:
    """The SQLAlchemy URL of the default study database, a SQLite file in ``project``
    (characters such as ``?``, ``#``, ``%`` and ``{`` in its path escaped)."""
    from sqlalchemy.engine import URL

    database = str((Path(project) / STUDY_DB_NAME).resolve())
    return URL.create("sqlite", database=database).render_as_string(hide_password=False)


@dataclass(frozen=True)
class MetaConfig:
    """How the meta-search runs (validated on construction; see :class:`MetaSearch`)."""

    n_meta_trials: int = 20
    storage: str | None = None
    study_name: str | None = None
    sampler: Any = "tpe"
    pruner: Any = "median"
    meta_seed: int = 0
    max_inner_trials: int | None = None
    timeout_s: float | None = None
    heartbeat_s: float = 30.0
    grace_s: float = 300.0
    max_consecutive_failed_meta_trials: int = 3

    def __post_init__(self) -> None:
        check_int("n_meta_trials", self.n_meta_trials, 1)
        if self.storage is not None and (not isinstance(self.storage, str) or "://" not in
                                         self.storage):
            raise ValueError("storage must be None (a SQLite file in the project) or a "
                             "SQLAlchemy URL such as 'sqlite:///study.db' or "
                             f"'postgresql+psycopg://user@host/db'; got {self.storage!r}.")
        if self.study_name is not None and (not isinstance(self.study_name, str)
                                            or not self.study_name.strip()):
            raise ValueError(f"study_name must be a non-empty string or None; got "
                             f"{self.study_name!r}.")
        for name, names, method in (("sampler", SAMPLERS, "sample_independent"),
                                    ("pruner", PRUNERS, "prune")):
            value = getattr(self, name)
            known = value in names if isinstance(value, str) else callable(
                getattr(value, method, None))
            if not known:
                raise ValueError(f"{name} must be one of {', '.join(map(repr, names))} or an "
                                 f"Optuna {name} object; got {value!r}.")
        check_int("meta_seed", self.meta_seed, 0)
        if self.max_inner_trials is not None:
            check_int("max_inner_trials", self.max_inner_trials, 1)
        if self.timeout_s is not None:
            check_number("timeout_s", self.timeout_s, 0.0, low_open=True)
        check_number("heartbeat_s", self.heartbeat_s, 0.0, low_open=True)
        if check_number("grace_s", self.grace_s, 0.0, low_open=True) <= self.heartbeat_s:
            raise ValueError(f"grace_s must be > heartbeat_s ({self.heartbeat_s}); got "
                             f"{self.grace_s!r}.")
        check_int("max_consecutive_failed_meta_trials", self.max_consecutive_failed_meta_trials, 1)


class _OutOfTime(Exception):
    """The wall-time budget ran out during a meta-trial."""


def _json_value(value: Any) -> Any:
    """``value`` as JSON data, or raise TypeError."""
    if hasattr(value, "item") and not isinstance(value, (list, tuple, dict)):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise TypeError("not finite")
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: _json_value(v) for k, v in value.items()}
    raise TypeError(type(value).__name__)


def settings_json(arguments: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The search arguments that can be written as JSON for
    ``SimpleCerebrosRandomSearch(**settings, training_data=..., labels=...)``, and the names
    of those that cannot (a non-default callable, say).  Run-time arguments (data, callbacks,
    backend, verbosity) are left out; losses and metrics become Keras configs, which the
    search accepts; arguments equal to the search's defaults that are not JSON are left out."""
    from cerebros.compilation import dtype_name, serialize_objects
    from cerebros.search import SimpleCerebrosRandomSearch

    defaults = {name: p.default for name, p in
                inspect.signature(SimpleCerebrosRandomSearch).parameters.items()}
    settings, omitted = {}, []
    for name, value in arguments.items():
        if name in _RUNTIME or name in _RESERVED:
            continue
        if name in ("loss", "metrics"):
            value = serialize_objects(value)
        elif name == "train_data_dtype":
            value = dtype_name(value)
        try:
            settings[name] = _json_value(value)
        except (TypeError, ValueError):
            if name not in defaults or defaults[name] is not value:
                omitted.append(name)
    return settings, omitted


class MetaSearch:
    """Tune :class:`~cerebros.SimpleCerebrosRandomSearch`'s own settings with Optuna.

    Parameters
    ----------
    project_name : str or path
        The meta-search's directory: ``meta_trial_<n>/`` (one inner search each),
        ``meta_study.db`` (the default storage), ``meta_search.json`` (what this is),
        ``best_settings.json`` and ``meta_results.csv``.
    space : mapping, optional
        The settings to tune and their ranges (:class:`~cerebros.meta.space.SearchSpace`;
        dimensions left out keep their documented defaults, give a value to fix one).
    n_meta_trials : int
        The study's budget of meta-trials, counted over every process and run: a rerun with a
        larger number continues the study.
    storage : str, optional
        A SQLAlchemy URL of the study's database (default: SQLite in the project).  Processes
        on several machines share a study through e.g. PostgreSQL, each with its own project
        directory for the inner searches.
    study_name : str, optional
        Default: the project directory's name.
    sampler : {"tpe", "random"} or optuna sampler
        "tpe": multivariate TPE, after a random start-up of a quarter of the meta-trials the
        budgets allow (2 to 10; ``max_inner_trials`` // the inner budget, if smaller than
        ``n_meta_trials``); each meta-trial's sampler is seeded with (``meta_seed``, its
        number), so processes sharing a study draw different settings.
    pruner : {"median", "halving", "none"} or optuna pruner
        "median": ``MedianPruner`` once 2 meta-trials completed, after a third of the inner
        trials; "halving": ``SuccessiveHalvingPruner``.
    meta_seed : int
        Seed of the sampler (the inner searches' ``seed`` is one of ``search_arguments``).
    max_inner_trials : int, optional
        A second budget, in inner trials over the study: the inner trials of the earlier
        meta-trials (their budget while they run) plus a new one's must fit in this number;
        where less than a full meta-trial's budget is left, the last meta-trial gets what is
        left (a multiple of ``number_of_tries_per_architecture_moity``, as many generations as
        fit), so pruned meta-trials' savings are spent, not lost.
    timeout_s : float, optional
        Wall-time budget of this call to :meth:`run`: no meta-trial starts after it, and the
        running one stops at its next inner trial, to be resumed by the next run.
    start_from : None, "readme", mapping or list of mappings
        Settings that the first meta-trials of a new study try before the sampler draws
        (Optuna's enqueued trials).  None (default): every meta-trial sampled.
        ``"readme"``: the original README's tuned settings
        (:data:`~cerebros.meta.space.README_SETTINGS`), each number moved into the space's
        range and each dimension whose value the space does not offer left to the sampler.
        A mapping of search arguments (e.g. an earlier study's ``best_settings.json``;
        arguments the space does not set are ignored), or a list of them: each checked
        against the space before any work.  A study that already holds meta-trials is not
        given them again; add settings to it with :meth:`enqueue`.
    heartbeat_s, grace_s : float
        A running meta-trial records a heartbeat every ``heartbeat_s`` seconds; one silent
        for ``grace_s`` is taken as dead and resumed by another process.
    **search_arguments
        Every meta-trial's other :class:`~cerebros.SimpleCerebrosRandomSearch` arguments:
        the data, shapes, loss and metric, the inner budget
        (``number_of_architecture_moities_to_try`` ...), epochs, ``seed``, backend ...

    Raises
    ------
    ValueError
        Before any training: an invalid space or setting, a search argument that the space
        sets or the meta-search owns, inner arguments the search refuses, a storage that
        cannot be opened, an existing study with another space, direction or inner settings.
    """

    def __init__(self, project_name: str | Path, space: Mapping[str, Any] | None = None, *,
                 n_meta_trials: int = 20, storage: str | None = None,
                 study_name: str | None = None, sampler: Any = "tpe", pruner: Any = "median",
                 meta_seed: int = 0, max_inner_trials: int | None = None,
                 timeout_s: float | None = None, start_from: Any = None,
                 heartbeat_s: float = 30.0, grace_s: float = 300.0,
                 **search_arguments: Any) -> None:
        if not isinstance(project_name, (str, Path)) or not str(project_name).strip():
            raise ValueError(f"project_name must be a non-empty path; got {project_name!r}.")
        self.root = Path(project_name)
        self.space = space if isinstance(space, SearchSpace) else SearchSpace(space)
        self.config = MetaConfig(n_meta_trials, storage, study_name, sampler, pruner, meta_seed,
                                 max_inner_trials, timeout_s, heartbeat_s, grace_s)
        self.search_arguments = self._checked_arguments(search_arguments)
        self.settings, self.omitted = settings_json(self.search_arguments)
        self.start_points = self._start_points(start_from)
        self._check_optuna()
        probe = self._inner_search(self._probe_arguments(), 0)
        self.metric, self.direction = probe.metric_to_rank_by, probe.direction
        self.inner_budget = (probe.number_of_architecture_moities_to_try
                             * probe.number_of_tries_per_architecture_moity)
        self._tries, self._generations = (probe.number_of_tries_per_architecture_moity,
                                          probe.number_of_generations)
        if self.config.max_inner_trials is not None and self.config.max_inner_trials < self._tries:
            raise ValueError(
                f"max_inner_trials ({self.config.max_inner_trials}) is less than one "
                f"architecture's tries (number_of_tries_per_architecture_moity={self._tries}), "
                "so no meta-trial could run: raise max_inner_trials or lower the tries.")
        self.manifest = self._manifest(probe)
        self.study_name = self.config.study_name or self.root.resolve().name
        self._check_project_holds_no_other_study()
        self.storage_url = (default_storage(self.root) if self.config.storage is None
                            else studies.absolute_url(self.config.storage))
        if self.config.storage is None:
            self.root.mkdir(parents=True, exist_ok=True)
        self.storage = studies.open_storage(self.storage_url)
        from cerebros.search import IMPLIED_MANIFEST_VALUES

        self.study = studies.open_study(self.storage, self.study_name, self.direction,
                                        self.manifest, self._sampler(0), self._pruner(),
                                        implied=IMPLIED_MANIFEST_VALUES)
        studies.enqueue_start_points(self.study, self.storage_url, self.start_points)
        self.root.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.root / META_MANIFEST_NAME, {
            "format_version": 1, "study_name": self.study_name,
            "storage": None if self.config.storage is None else studies.mask_url(
                self.storage_url),
            "metric_to_rank_by": self.metric, "direction": self.direction,
            "space": self.space.to_dict(), "inner_trials_per_meta_trial": self.inner_budget,
            "settings_not_in_json": self.omitted})

    # ------------------------------------------------------------------ set-up
    def _check_project_holds_no_other_study(self) -> None:
        """Refuse a second study in one project: their ``meta_trial_<n>`` folders would mix."""
        from cerebros.meta.results import is_meta_project, read_meta_manifest

        if not is_meta_project(self.root):
            return
        held = read_meta_manifest(self.root).get("study_name")
        if held is not None and held != self.study_name:
            raise ValueError(
                f"study_name: the project {str(self.root)!r} holds the meta-trials of study "
                f"{held!r}; run study {self.study_name!r} in a project of its own (their "
                "meta_trial_<n> folders would mix), or give study_name={held!r} to continue it.")

    def _checked_arguments(self, arguments: dict[str, Any]) -> dict[str, Any]:
        for name, why in _RESERVED.items():
            if name in arguments:
                raise ValueError(f"{name} cannot be given to a meta-search: {why}.")
        clashes = sorted(set(arguments) & set(self.space.arguments()))
        if clashes:
            raise ValueError(
                f"{', '.join(clashes)} {'is' if len(clashes) == 1 else 'are'} set by the space "
                f"(tuned or fixed there); to fix a setting, give it in the space, e.g. "
                f"space={{'learning_rate': 0.01}} or space={{'levels': (2, 5)}}.")
        arguments = dict(arguments)
        arguments.setdefault("verbose", 0)
        return arguments

    def _start_points(self, start_from: Any) -> list[dict[str, Any]]:
        """Optuna parameters of each start point (see ``start_from``), checked."""
        if start_from is None:
            return []
        if isinstance(start_from, str):
            if start_from != "readme":
                raise ValueError(f"start_from must be 'readme', None, a dict of settings or a "
                                 f"list of them; got {start_from!r}.")
            params, left = self.space.params_near(README_SETTINGS)
            if left:
                logger.info("start_from='readme': the space does not offer the README's %s; "
                            "the sampler draws them", ", ".join(left))
            return [params] if params else []
        points = [start_from] if isinstance(start_from, Mapping) else start_from
        if not isinstance(points, (list, tuple)) or not all(isinstance(point, Mapping)
                                                            for point in points):
            raise ValueError("start_from must be 'readme', None, a dict of settings or a list "
                             f"of them; got {type(start_from).__name__}.")
        from cerebros.search import SimpleCerebrosRandomSearch

        known = set(inspect.signature(SimpleCerebrosRandomSearch).parameters)
        result = []
        for index, point in enumerate(points):
            unknown = sorted(str(name) for name in point if name not in known)
            if unknown:
                raise ValueError(f"start_from[{index}]: {unknown} are not arguments of "
                                 "SimpleCerebrosRandomSearch.")
            tuned = {name: value for name, value in point.items()
                     if name in self.space.arguments()}
            try:
                params = self.space.params_of(tuned)
            except ValueError as error:
                raise ValueError(f"start_from[{index}]: {error}") from None
            if params:
                result.append(params)
        return result

    @staticmethod
    def _check_optuna() -> None:
        try:
            import optuna  # noqa: F401
            import sqlalchemy  # noqa: F401
        except ImportError as error:
            raise ImportError("the meta-search needs Optuna: pip install 'cerebros[tune]'") \
                from error

    def _probe_arguments(self) -> dict[str, Any]:
        """A point of the space (every range's low end, every choice's first option), to
        validate the inner arguments once before any meta-trial."""
        params = {name: (p[1][0] if p[0] == "categorical" else p[2] if name.endswith("_width")
                         else p[1]) for name, p in self.space.parameters().items()}
        return self.space.arguments_of(params)  # pairs at their widest: later generations
        # can breed from them wherever any drawn network could

    def _inner_search(self, arguments: dict[str, Any], number: int, project: Path | None = None,
                      budget: int | None = None):
        """The inner search of meta-trial ``number``; with ``budget`` below the full one, a
        search of ``budget`` trials (as many generations as fit, at most the usual).  Drawn
        sizes that leave no mutation to breed with (e.g. one level of one unit of one neuron)
        get one generation: the combination is valid, only not evolvable."""
        from cerebros.search import SimpleCerebrosRandomSearch, UnbreedableError

        everything = {**self.search_arguments, **arguments}
        if budget is not None and budget < self.inner_budget:
            moieties = budget // self._tries
            everything.update(number_of_architecture_moities_to_try=moieties,
                              number_of_generations=min(self._generations, moieties))
        name = str(project if project is not None else self.root / inner_project_name(number))
        try:
            return SimpleCerebrosRandomSearch(**everything, meta_trial_number=number,
                                              project_name=name)
        except UnbreedableError:
            if project is None:  # the probe, at the space's widest: the space itself is fixed
                raise
            logger.info("meta-trial %d: no mutation can change its drawn networks; it runs "
                        "one generation", number)
            return SimpleCerebrosRandomSearch(**{**everything, "number_of_generations": 1},
                                              meta_trial_number=number, project_name=name)

    def _manifest(self, probe: Any) -> dict[str, Any]:
        inner = {k: v for k, v in probe.manifest().items() if k not in _SPACE_MANIFEST_KEYS}
        inner["wiring"] = {k: v for k, v in inner["wiring"].items()
                           if k not in self.space.arguments()}
        manifest = {"format_version": 1, "space": self.space.to_dict(),
                    "direction": self.direction, "metric_to_rank_by": self.metric,
                    "inner": inner}
        return json.loads(json.dumps(manifest))

    def _sampler(self, number: int):
        import numpy as np
        import optuna

        sampler = self.config.sampler
        if not isinstance(sampler, str):
            return sampler
        seed = int(np.random.default_rng([self.config.meta_seed, number]).integers(2**31 - 1))
        if sampler == "random":
            return optuna.samplers.RandomSampler(seed=seed)
        expected = self.config.n_meta_trials  # meta-trials the budgets allow
        if self.config.max_inner_trials is not None:
            expected = min(expected, max(1, self.config.max_inner_trials // self.inner_budget))
        startup = min(10, max(2, expected // 4))
        with studies._quiet_optuna(), _no_optuna_warnings():
            return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup,
                                              multivariate=True,
                                              warn_independent_sampling=False)

    def _pruner(self):
        import optuna

        pruner = self.config.pruner
        if not isinstance(pruner, str):
            return pruner
        if pruner == "median":
            return optuna.pruners.MedianPruner(n_startup_trials=2,
                                               n_warmup_steps=max(1, self.inner_budget // 3))
        if pruner == "halving":
            return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2)
        return optuna.pruners.NopPruner()

    # ------------------------------------------------------------------ running
    def enqueue(self, settings: Mapping[str, Any]) -> None:
        """Have a coming meta-trial use ``settings`` (search arguments of the space's
        dimensions, e.g. the README's), unless the study already holds them."""
        params = self.space.params_of(settings)
        with studies._quiet_optuna():
            self.study.enqueue_trial(params, skip_if_exists=True)

    def run(self, on_meta_trial_end: Callable[[dict[str, Any]], Any] | None = None
            ) -> float | None:
        """Run meta-trials until the budget is spent, then write the results.

        Stale meta-trials of dead processes are resumed first.  Returns the study's best value
        of ``metric_to_rank_by`` over completed meta-trials (None if none completed).
        ``on_meta_trial_end`` gets a dict (meta_trial, state, value, inner_trials) after each.

        Raises
        ------
        RuntimeError
            After ``max_consecutive_failed_meta_trials`` failed meta-trials in a row.
        KeyboardInterrupt
            After releasing the running meta-trial, so that a rerun resumes it.
        """
        started = time.monotonic()
        deadline = None if self.config.timeout_s is None else started + self.config.timeout_s
        failures = 0
        try:
            while deadline is None or time.monotonic() < deadline:
                studies.release_stale(self.study, self.config.grace_s)
                trial = studies.claim(self.study, self.config.n_meta_trials, self.inner_budget,
                                      self.config.max_inner_trials, self._tries)
                if trial is None:
                    break
                row = self._run_meta_trial(trial, deadline)
                if on_meta_trial_end is not None and row["state"] != "stopped":
                    on_meta_trial_end(row)
                if row["state"] == "stopped":
                    break
                failures = failures + 1 if row["state"] == "failed" else 0
                if failures >= self.config.max_consecutive_failed_meta_trials:
                    raise RuntimeError(f"{failures} meta-trials failed in a row; the last one "
                                       f"(meta-trial {row['meta_trial']}): {row['error']}")
        finally:
            self.write_results()
        return self.best_value()

    def _run_meta_trial(self, trial: Any, deadline: float | None) -> dict[str, Any]:
        import optuna
        from optuna.trial import TrialState

        number = studies.meta_number(trial)
        budget = int(trial.user_attrs.get(studies.INNER_BUDGET, self.inner_budget))
        self.study.sampler = self._sampler(number)
        arguments = self.space.sample(trial)
        project = self.root / inner_project_name(number)
        trial.set_user_attr(studies.INNER_PROJECT, project.name)
        row = {"meta_trial": number, "value": None, "inner_trials": 0, "error": None}

        def report(progress: Any) -> None:
            row["inner_trials"] = progress.finished
            trial.set_user_attr(studies.INNER_TRIALS, progress.finished)
            if math.isfinite(progress.best_value):
                row["value"] = progress.best_value
                with _no_optuna_warnings():
                    trial.report(progress.best_value, progress.finished)
                if progress.finished < progress.total and trial.should_prune():
                    raise optuna.TrialPruned(f"pruned after {progress.finished} inner trials")
            if (deadline is not None and time.monotonic() >= deadline
                    and progress.finished < progress.total):
                raise _OutOfTime  # a finished search completes its meta-trial

        state, values = TrialState.COMPLETE, None
        logger.info("meta-trial %d (attempt %d) in %s: %s", number, trial.number, project,
                    arguments)
        try:
            with studies.heartbeat(self.study, trial, self.config.heartbeat_s):
                try:
                    search = self._inner_search(arguments, number, project, budget)
                    values = search.run_random_search(on_trial_end=report)
                    row["value"] = values
                    row["inner_trials"] = budget
                    trial.set_user_attr(studies.INNER_TRIALS, budget)
                except optuna.TrialPruned:
                    state = TrialState.PRUNED
                except _OutOfTime:
                    studies.release(self.study, trial, "wall-time budget spent")
                    return {**row, "state": "stopped"}
                except optuna.exceptions.UpdateFinishedTrialError:
                    return self._released_meanwhile(row, trial)
                except ProjectLockedError as error:
                    # A retry of an attempt released while its process lived (suspended past
                    # grace_s): that process still holds the inner search; leave it to it.
                    studies.release(self.study, trial, "inner search held by a live process")
                    logger.warning("meta-trial %d: its inner search is held by a live process "
                                   "(%s); left to that process, which resumes the meta-trial "
                                   "when it continues; this process stops", number,
                                   str(error).rstrip("."))
                    return {**row, "state": "stopped"}
                except Exception as error:  # noqa: BLE001 - a failed meta-trial is a result
                    state = TrialState.FAIL
                    row["error"] = f"{type(error).__name__}: {' '.join(str(error).split())}"
                    trial.set_user_attr(studies.ERROR, row["error"][:2000])
                    logger.warning("meta-trial %d failed: %s", number, row["error"])
        except BaseException:  # KeyboardInterrupt, SystemExit: leave it to resume
            studies.release(self.study, trial, "interrupted")
            raise
        try:
            with _no_optuna_warnings():
                self.study.tell(trial, values, state=state)
        except optuna.exceptions.UpdateFinishedTrialError:
            return self._released_meanwhile(row, trial)
        return {**row, "state": state.name.lower()}

    def _released_meanwhile(self, row: dict[str, Any], trial: Any) -> dict[str, Any]:
        """The row of an attempt that another process released while this one did not answer
        (suspended past ``grace_s``): its retry, waiting in the study, resumes the inner
        search; this process goes on to claim the next attempt."""
        logger.warning("meta-trial %d (attempt %d) was released by another process while this "
                       "one did not answer; its retry resumes it", row["meta_trial"],
                       trial.number)
        return {**row, "state": "released"}

    # ------------------------------------------------------------------ results
    def results_summary(self, top: int | None = None):
        """The leaderboard of meta-trials (see :func:`cerebros.meta.results.meta_leaderboard`)."""
        from cerebros.meta.results import meta_leaderboard

        return meta_leaderboard(self.study, self.space, self.metric, top=top)

    def best_value(self) -> float | None:
        """The best value over completed meta-trials (None if none completed)."""
        best = self._best_trial()
        return None if best is None else float(best.value)

    def _best_trial(self):
        from optuna.trial import TrialState

        complete = [t for t in self.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
                    if t.value is not None]
        if not complete:
            return None
        key = (lambda t: t.value) if self.direction == "minimize" else (lambda t: -t.value)
        return min(complete, key=lambda t: (key(t), studies.meta_number(t)))

    def best_settings(self) -> dict[str, Any]:
        """The best completed meta-trial's settings: keyword arguments that
        ``SimpleCerebrosRandomSearch(**settings, training_data=..., labels=...)`` accepts as
        they are (after a JSON round trip too).

        Raises
        ------
        ValueError
            If no meta-trial has completed.
        """
        best = self._best_trial()
        if best is None:
            raise ValueError("no meta-trial has completed yet; run() first.")
        return {**self.settings, **self.space.arguments_of(best.params)}

    def write_results(self) -> list[Path]:
        """Write ``meta_results.csv`` and, once a meta-trial completed, ``best_settings.json``
        into the project; return the paths written."""
        from cerebros.project import write_bytes_atomic

        written = []
        board = self.results_summary()
        path = self.root / META_RESULTS_NAME
        write_bytes_atomic(path, board.to_csv(index=False).encode("utf-8"))
        written.append(path)
        if self._best_trial() is not None:
            path = self.root / BEST_SETTINGS_NAME
            write_json_atomic(path, self.best_settings())
            written.append(path)
        if self.omitted:
            logger.warning("best settings: %s cannot be written as JSON; pass them yourself",
                           ", ".join(self.omitted))
        return written


class _no_optuna_warnings:
    """Optuna's warnings about reporting a step twice (a resumed meta-trial) and about
    experimental features are expected here."""

    def __enter__(self) -> None:
        import warnings

        self._context = warnings.catch_warnings()
        self._context.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc: Any) -> None:
        self._context.__exit__(*exc)

