"""The meta-search's Optuna study: its storage, its manifest, and the bookkeeping that lets
several processes (on one machine or many) share it and resume it after any stop.

Every meta-trial has a *number*: the Optuna trial number of its first attempt.  An attempt
that stops before it finishes (interrupt, wall-time budget, SIGKILL, lost machine) is
*released*: marked FAIL with the attribute ``cerebros:released`` and re-enqueued as a WAITING
trial with the same parameters, intermediate values and meta-trial number, so the next
process to ask for work takes it first and resumes its inner search in the same directory.

* A process that stops on its own releases its attempt itself.
* A killed process cannot: its attempt stays RUNNING.  Each running attempt records its owner
  (host, process id, process start time) and a heartbeat every ``heartbeat_s`` seconds; before
  each new meta-trial, a process releases the RUNNING attempts whose owner is a dead process
  of its own machine, and those whose heartbeat is older than ``grace_s`` (any machine: their
  clocks must agree to well within ``grace_s``).  Marking FAIL is atomic in the database, so
  of several processes finding the same stale attempt exactly one re-enqueues it.
* The budget counts meta-trials, not attempts: a released attempt does not count, its
  retry does.  A new attempt may run only if fewer than ``n_meta_trials`` counted meta-trials
  have a lower number, so processes that ask at the same time agree on who runs and the
  study ends with exactly ``n_meta_trials``; an attempt beyond the budget is released
  without a retry.
* Start points (settings the meta-search asks to try first, e.g. the README's) are enqueued
  with ``cerebros:start_point`` = their index when a process finds the study empty (for a
  SQLite file, under its file lock).  Processes on several machines opening a new study at
  once may both enqueue them; a fresh attempt of start point ``k`` is kept only if no trial
  with a lower number is start point ``k`` too, and released without a retry otherwise, so
  each start point runs once.

Optuna is imported only inside the functions that need it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from cerebros.project import manifest_differences

__all__ = ["absolute_url", "open_storage", "open_study", "mask_url", "StudyManifestError",
           "META_TRIAL", "RELEASED", "INNER_TRIALS", "INNER_BUDGET", "OWNER", "HEARTBEAT",
           "ERROR", "INNER_PROJECT", "MANIFEST_KEY", "START_POINT", "counted", "released",
           "meta_number", "claim", "release", "release_stale", "heartbeat",
           "enqueue_start_points"]

logger = logging.getLogger(__name__)

META_TRIAL = "cerebros:meta_trial"
RELEASED = "cerebros:released"
INNER_TRIALS = "cerebros:inner_trials"
INNER_BUDGET = "cerebros:inner_budget"
"""Trial user attribute: the inner trials of a meta-trial shortened to fit ``max_inner_trials``
(absent: the full budget); its retries keep it."""
INNER_PROJECT = "cerebros:inner_project"
OWNER = "cerebros:owner"
HEARTBEAT = "cerebros:heartbeat"
ERROR = "cerebros:error"
MANIFEST_KEY = "cerebros:meta_search"
START_POINT = "cerebros:start_point"
"""Study user attribute holding the meta-search's manifest (space, direction, inner settings)."""

_SQLITE_TIMEOUT_S = 120
_OPEN_ATTEMPTS = 5


class StudyManifestError(ValueError):
    """An existing study was created by a meta-search with other settings (``changed`` and
    ``changes``: the differing settings' dotted names and descriptions, empty when the
    direction differs)."""

    def __init__(self, message: str, differences: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.changed = [key for key, _ in differences or []]
        self.changes = [text for _, text in differences or []]


# ------------------------------------------------------------------ storage
def mask_url(url: str) -> str:
    """``url`` with its password (if any) replaced by ``***``."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def _serialize_sqlite(engine: Any) -> None:
    """Make every SQLite transaction take the write lock at BEGIN (SQLAlchemy's recipe for
    pysqlite), so two processes never both read a trial and then both write it: the second
    waits for the first instead of failing with "database is locked"."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, record: Any) -> None:  # noqa: ARG001
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections made before the listeners existed are not reused


def absolute_url(url: str) -> str:
    """``url`` with a relative SQLite file path made absolute (so that the study opens from
    any folder later, e.g. by ``cerebros show``); other URLs unchanged.

    Raises
    ------
    ValueError
        For an in-memory SQLite database, which no other process or later run can open.
    """
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - open_storage names a malformed URL
        return url
    if parsed.get_backend_name() != "sqlite":
        return url
    database = parsed.database or ""
    if database in ("", ":memory:") or parsed.query.get("mode") == "memory":
        raise ValueError(f"storage: {mask_url(url)!r} is an in-memory SQLite database, which "
                         "no other process or later run can open; give a file, e.g. "
                         "'sqlite:///runs/study.db', or None for one in the project.")
    if database.startswith("file:") or Path(database).is_absolute():
        return url
    return parsed.set(database=str(Path(database).resolve())).render_as_string(
        hide_password=False)


def open_storage(url: str):
    """An ``optuna.storages.RDBStorage`` on ``url`` (any SQLAlchemy URL).

    Raises
    ------
    ValueError
        Naming the URL (password masked) and the database's own message, if it cannot be
        opened: a malformed URL, a missing driver, a refused connection, an unwritable file.
    """
    import optuna

    sqlite = url.startswith("sqlite")
    engine_kwargs = {"connect_args": {"timeout": _SQLITE_TIMEOUT_S}} if sqlite else {
        "pool_pre_ping": True}
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            with _quiet_optuna(), _creation_lock(url):
                storage = optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs)
            break
        except Exception as error:  # noqa: BLE001 - drivers raise many types: "cannot open"
            # Processes that create a new database's tables at the same moment collide (a
            # table or Optuna's schema-version row "already exists"); the loser finds the
            # tables made on its next try.  SQLite files are also serialized by a file lock.
            racing = type(error).__name__ == "IntegrityError" or "already exists" in str(error)
            if racing and attempt + 1 < _OPEN_ATTEMPTS:
                time.sleep(0.2 * (attempt + 1))
                continue
            text = " ".join(str(error).split())[:500]
            raise ValueError(f"storage: cannot open {mask_url(url)!r}: {type(error).__name__}: "
                             f"{text}") from None
    if sqlite:
        _serialize_sqlite(storage.engine)
    return storage


@contextlib.contextmanager
def _creation_lock(url: str) -> Iterator[None]:
    """For a SQLite file URL, hold ``<file>.lock`` while its tables may be created (or its
    start points enqueued)."""
    from sqlalchemy.engine import make_url

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a malformed URL: opening it reports the error
        parsed = None
    sqlite = parsed is not None and parsed.get_backend_name() == "sqlite"
    path = (parsed.database or "") if sqlite else ""
    if not path or path == ":memory:" or not Path(path).parent.is_dir():
        yield
        return
    import filelock

    with filelock.FileLock(f"{path}.lock", timeout=_SQLITE_TIMEOUT_S):
        yield


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna's INFO lines ("A new study created ...") are not ours to print."""
    import optuna

    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(level)


def open_study(storage: Any, study_name: str, direction: str, manifest: dict[str, Any],
               sampler: Any = None, pruner: Any = None, create: bool = True,
               implied: dict[str, Any] | None = None):
    """Create or load the study ``study_name`` and check that it belongs to this meta-search.

    The first process stores ``manifest`` (JSON) as a study attribute; every later one must
    bring the same manifest and direction.  ``implied`` gives values for keys of the inner
    search's manifest (``manifest["inner"]``) that a study stored before those keys existed
    lacks: such a study is compared as if it held them, so it continues when the meta-search
    asks for the behaviour it was made with.

    Raises
    ------
    StudyManifestError
        If the study optimizes in the other direction, or was made with another space or
        other inner settings (each difference listed).
    ValueError
        If ``create`` is False and there is no such study.
    """
    import optuna

    with _quiet_optuna():
        if create:
            study = optuna.create_study(storage=storage, study_name=study_name,
                                        direction=direction, sampler=sampler, pruner=pruner,
                                        load_if_exists=True)
        else:
            try:
                study = optuna.load_study(storage=storage, study_name=study_name,
                                          sampler=sampler, pruner=pruner)
            except KeyError:
                names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
                raise ValueError(f"study: no study {study_name!r} in the storage; it holds "
                                 f"{names or 'none'}.") from None
    if len(study.directions) != 1 or study.direction.name.lower() != direction:
        raise StudyManifestError(
            f"study {study_name!r} was created to {study.directions[0].name.lower()} "
            f"(multi-objective: {len(study.directions) > 1}); this meta-search would {direction}. "
            "Use another study name or project.")
    stored = study.user_attrs.get(MANIFEST_KEY)
    if stored is None and create:
        study.set_user_attr(MANIFEST_KEY, manifest)
        stored = optuna.load_study(storage=storage, study_name=study_name).user_attrs.get(
            MANIFEST_KEY)
    filled: dict[str, Any] = {}
    if stored is not None and manifest is not None:
        stored, filled = _with_implied_inner(stored, manifest, implied or {})
    if stored is not None and manifest is not None and stored != manifest:
        differences = manifest_differences(
            stored, manifest, implied=frozenset(f"inner.{key}" for key in filled))
        raise StudyManifestError(
            f"study {study_name!r} was created by a meta-search with other settings: "
            + "; ".join(text for _, text in differences)
            + ". Use another study name or project, or the settings it was made with.",
            differences)
    return study


def _with_implied_inner(stored: dict[str, Any], manifest: dict[str, Any],
                        implied: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """``stored`` with each ``implied`` key that ``manifest["inner"]`` has and the stored
    inner manifest lacks filled in (JSON-normalized, as stored values are), and those keys
    with their filled values."""
    inner, wanted = stored.get("inner"), manifest.get("inner")
    if not isinstance(inner, dict) or not isinstance(wanted, dict):
        return stored, {}
    missing = {key: value for key, value in json.loads(json.dumps(implied)).items()
               if key in wanted and key not in inner}
    return ({**stored, "inner": {**inner, **missing}} if missing else stored), missing


# ------------------------------------------------------------------ trials
def meta_number(trial: Any) -> int:
    """The meta-trial an Optuna trial (or FrozenTrial) is an attempt of."""
    return int(trial.user_attrs.get(META_TRIAL, trial.number))


def released(trial: Any) -> bool:
    """Whether ``trial`` is a released attempt (superseded by its retry, or over budget)."""
    return trial.state.name == "FAIL" and RELEASED in trial.user_attrs


def counted(trial: Any) -> bool:
    """Whether ``trial`` takes a place in the budget: every attempt except released ones."""
    return not released(trial)


def _process_identity() -> dict[str, Any]:
    """Who runs an attempt: the host, a key naming this kernel's process-id space (boot id
    and pid namespace on Linux; None elsewhere), the process id and its start time."""
    space = started = None
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        space = f"{boot}:{os.stat('/proc/self/ns/pid').st_ino}"
        started = _start_time(os.getpid())
    except OSError:
        pass
    return {"host": socket.gethostname(), "space": space, "pid": os.getpid(),
            "started": started}


def _start_time(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _owner_dead(owner: Any, here: dict[str, Any]) -> bool:
    """Whether ``owner`` is a process of this machine's process-id space that has ended."""
    if not isinstance(owner, dict) or here["space"] is None or owner.get("space") != here["space"]:
        return False
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return False
    started = _start_time(pid)
    return started is None or started != owner.get("started")


def _storage_of(study: Any) -> Any:
    return study._storage  # noqa: SLF001 - Optuna exposes trial ids only through its storage


def release(study: Any, trial: Any, reason: str, retry: bool = True) -> bool:
    """Release a RUNNING attempt: mark it FAIL (``cerebros:released`` = ``reason``) and, with
    ``retry``, enqueue its retry.  Returns False if another process finished or released it
    first (then nothing is enqueued here)."""
    import optuna
    from optuna.trial import TrialState

    storage = _storage_of(study)
    trial_id = trial._trial_id  # noqa: SLF001
    try:
        storage.set_trial_user_attr(trial_id, RELEASED, reason)
        if not storage.set_trial_state_values(trial_id, TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    if not retry:
        return True
    frozen = storage.get_trial(trial_id)
    attrs = {k: v for k, v in frozen.user_attrs.items()
             if k in (META_TRIAL, INNER_TRIALS, INNER_BUDGET, INNER_PROJECT, START_POINT)}
    attrs[META_TRIAL] = meta_number(frozen)
    study.add_trial(optuna.trial.create_trial(
        state=TrialState.WAITING, params=frozen.params, distributions=frozen.distributions,
        user_attrs=attrs, intermediate_values=frozen.intermediate_values))
    logger.info("meta-trial %d (attempt %d) released (%s); enqueued to resume",
                attrs[META_TRIAL], frozen.number, reason)
    return True


def release_stale(study: Any, grace_s: float) -> list[int]:
    """Release the RUNNING attempts whose process is gone (see the module docstring); return
    their meta-trial numbers."""
    from optuna.trial import TrialState

    here, now, done = _process_identity(), time.time(), []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        beat = trial.user_attrs.get(HEARTBEAT)
        if beat is None and trial.datetime_start is not None:
            beat = trial.datetime_start.timestamp()
        owner = trial.user_attrs.get(OWNER)
        if owner == here:
            continue
        dead = _owner_dead(owner, here)
        stale = beat is not None and now - float(beat) > grace_s
        if (dead or stale) and release(study, trial, "process gone" if dead else "no heartbeat"):
            done.append(meta_number(trial))
    return done


def enqueue_start_points(study: Any, url: str, points: list[dict[str, Any]]) -> int:
    """Enqueue Optuna parameters ``points`` as start points if the study holds no trial
    yet; return how many were enqueued."""
    if not points:
        return 0
    with _creation_lock(url):
        if study.get_trials(deepcopy=False):
            return 0
        with _quiet_optuna():
            for index, params in enumerate(points):
                study.enqueue_trial(params, user_attrs={START_POINT: index})
    return len(points)


def _repeated_start_point(study: Any, frozen: Any) -> bool:
    """Whether ``frozen`` is a first attempt of a start point that a trial with a lower
    number holds too (another process enqueued it at the same time)."""
    point = frozen.user_attrs.get(START_POINT)
    if point is None or META_TRIAL in frozen.user_attrs:
        return False
    return any(other.number < frozen.number and other.user_attrs.get(START_POINT) == point
               for other in study.get_trials(deepcopy=False))


def _inner_trials_used(trials: Any, inner_budget: int) -> int:
    """Inner trials that meta-trial attempts ``trials`` ran (finished ones) or may run (the
    budget of the others)."""
    return sum(int(t.user_attrs.get(INNER_TRIALS, 0)) if t.state.is_finished()
               else int(t.user_attrs.get(INNER_BUDGET, inner_budget)) for t in trials)


def claim(study: Any, n_meta_trials: int, inner_budget: int | None = None,
          max_inner_trials: int | None = None, unit: int = 1):
    """Ask Optuna for an attempt (a WAITING retry or start point first) and keep it if the
    budget allows.

    Where less than a full meta-trial's ``inner_budget`` is left of ``max_inner_trials``
    (counting finished meta-trials' inner trials and running ones' budgets), the meta-trial
    gets what is left, rounded down to a multiple of ``unit`` (the tries per architecture),
    recorded as ``cerebros:inner_budget``; a retry keeps the budget its meta-trial had.

    Returns the ``optuna.Trial``, with ``cerebros:meta_trial`` and ``cerebros:owner`` set, or
    None when the budget is spent (the extra attempt is then released without a retry).
    """
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    waiting = [t for t in trials if t.state == TrialState.WAITING]
    started = [t for t in trials if counted(t) and t not in waiting]
    if not any(META_TRIAL in t.user_attrs for t in waiting):  # no retry must run
        room = n_meta_trials - len({meta_number(t) for t in started})
        if max_inner_trials is not None and inner_budget is not None:
            room = min(room, max_inner_trials - _inner_trials_used(started, inner_budget)
                       - unit + 1)
        if room < 1:
            return None  # spent: ask for no attempt that would only be released
    while True:
        with _quiet_optuna():
            trial = study.ask()
        frozen = _storage_of(study).get_trial(trial._trial_id)  # noqa: SLF001
        if not _repeated_start_point(study, frozen):
            break
        release(study, trial, "start point already enqueued", retry=False)
    number = meta_number(frozen)
    earlier = {}
    for other in study.get_trials(deepcopy=False):
        if other.number != trial.number and counted(other) and meta_number(other) < number:
            earlier[meta_number(other)] = other
    over, budget = len(earlier) >= n_meta_trials, frozen.user_attrs.get(INNER_BUDGET)
    if not over and max_inner_trials is not None and inner_budget is not None and budget is None:
        left = (max_inner_trials - _inner_trials_used(earlier.values(), inner_budget)) \
            // unit * unit
        over = left < 1
        if not over and left < inner_budget:
            budget = left
            trial.set_user_attr(INNER_BUDGET, budget)
    if over:
        point = None if META_TRIAL in frozen.user_attrs else frozen.user_attrs.get(START_POINT)
        if point is not None:  # a start point never tried: keep it for a larger budget
            trial.set_user_attr(START_POINT, None)
        release(study, trial, "over budget", retry=False)
        if point is not None:
            with _quiet_optuna():
                study.enqueue_trial(frozen.params, user_attrs={START_POINT: point})
        return None
    trial.set_user_attr(META_TRIAL, number)
    trial.set_user_attr(OWNER, _process_identity())
    trial.set_user_attr(HEARTBEAT, time.time())
    return trial


@contextlib.contextmanager
def heartbeat(study: Any, trial: Any, interval_s: float) -> Iterator[None]:
    """Record ``trial``'s heartbeat every ``interval_s`` seconds while the block runs."""
    storage, trial_id = _storage_of(study), trial._trial_id  # noqa: SLF001
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(interval_s):
            try:
                storage.set_trial_user_attr(trial_id, HEARTBEAT, time.time())
            except Exception as error:  # noqa: BLE001 - a missed beat is retried next time
                if stop.is_set():
                    return
                logger.warning("heartbeat of meta-trial attempt %d not recorded: %s",
                               trial.number, error)

    thread = threading.Thread(target=beat, name=f"cerebros-heartbeat-{trial.number}",
                              daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=max(1.0, math.ceil(interval_s)))
