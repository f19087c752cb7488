"""Where trials run: inline, in a pool of worker processes, or as Ray tasks.

Every executor takes the same picklable :class:`~cerebros.trial.TrialTask` s and the data
once, and yields :class:`~cerebros.trial.TrialOutcome` s as trials finish (in completion
order).  The search loop, which owns the oracle, records them; executors know nothing of
the wiring rules or the oracle's files.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from typing import Any, Iterable, Iterator, Protocol

from cerebros.data import PreparedData
from cerebros.oracle import TIMEOUT_ERROR, WORKER_DIED_ERROR
from cerebros.process_pool import ProcessExecutor, WorkerStartupError
from cerebros.tf_state import freeze_heap, limit_threads
from cerebros.trial import TrialOutcome, TrialTask, failed_outcome, run_trial

__all__ = ["Executor", "InlineExecutor", "ProcessExecutor", "RayExecutor", "make_executor",
           "BACKENDS", "WorkerStartupError"]

logger = logging.getLogger(__name__)

CANCEL_WAIT_S = 30.0
"""How long :meth:`RayExecutor.close` waits for cancelled trials to end on the cluster."""

CANCEL_RETRY_S = 0.2
"""How often :meth:`RayExecutor.close` repeats the cancellation of a trial not yet ended."""

RAY_START_ALLOWANCE_S = 120.0
"""Seconds beyond ``trial_timeout_s`` that a Ray trial may take from its submission before
the driver cancels it (a worker that never starts it); its own limit runs from its start."""

_TIMED_OUT_EXIT = 124
"""The exit code of a Ray worker that ended itself at a trial's ``trial_timeout_s``."""

BACKENDS = ("inline", "process", "ray")


class Executor(Protocol):
    """Runs trials and yields their outcomes as they finish."""

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """Runs trials one after another in this process.  With ``trial_timeout_s`` a trial
    stops at the first epoch boundary after that many seconds (a trial stuck inside an
    epoch cannot be stopped in this process: use backend "process" or "ray" for that)."""

    def __init__(self, trial_timeout_s: float | None = None) -> None:
        self.trial_timeout_s = trial_timeout_s
        self._frozen = False

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        """Run ``tasks`` in order.  Until :meth:`close`, the objects alive when the first
        task starts are kept out of garbage collections (:func:`freeze_heap`): each trial
        collects once it has cleared its session, and walking everything TensorFlow and
        Keras hold took about 0.3 s each time.  A process that has frozen objects itself
        (``gc.freeze``) is left as it is."""
        if not self._frozen and gc.get_freeze_count() == 0:
            freeze_heap()
            self._frozen = True
        for task in tasks:
            yield run_trial(task, data, self.trial_timeout_s)

    def close(self) -> None:
        """Return the objects that :meth:`run` kept out of garbage collections to them."""
        if self._frozen:
            gc.unfreeze()
            self._frozen = False


def _ray_trial(task: TrialTask, data: PreparedData, threads: int,
               timeout_s: float | None = None) -> TrialOutcome:
    limit_threads(threads)
    if gc.get_freeze_count() == 0:  # a Ray worker runs trials until it exits, as a pool worker
        freeze_heap()
    if timeout_s is None:
        return run_trial(task, data)
    # The clock starts with the trial, not when the driver submitted it: a fresh worker's
    # start (its TensorFlow import) takes seconds.  Past it the worker ends itself, as a
    # pool worker is killed; the driver reports the trial as timed out.
    watchdog = threading.Timer(timeout_s, os._exit, args=(_TIMED_OUT_EXIT,))
    watchdog.daemon = True
    watchdog.start()
    try:
        return run_trial(task, data)
    finally:
        watchdog.cancel()


class RayExecutor:
    """Runs each trial as a Ray task, locally or on a cluster.

    ``address=None`` starts a private local Ray instance with ``n_workers`` CPUs, even when
    ``RAY_ADDRESS`` is set or a cluster runs on this machine (stopped again by
    :meth:`close`); ``"auto"`` or ``"ray://host:port"`` joins an existing cluster.  The data
    is put in Ray's object store once and every task reads it from there; outcomes (records
    and model bytes) come back to the driver, which writes all files.  A trial whose worker
    dies fails with a ``WorkerDied`` error.  With ``trial_timeout_s`` at most as many trials
    as the cluster has CPUs for are submitted at once, and a trial running longer than that
    from its start ends its worker (error ``TrialTimeout``); one not even started
    ``RAY_START_ALLOWANCE_S`` after that limit from its submission is cancelled.  In a
    process where Ray is already initialised the search runs on that instance, and
    ``address`` and ``n_workers`` are not applied (a warning says so).
    """

    def __init__(self, n_workers: int | None = None, address: str | None = None,
                 cpus_per_trial: int = 1, trial_timeout_s: float | None = None) -> None:
        try:
            import ray
        except ImportError as error:
            raise ImportError("backend='ray' needs Ray: pip install 'cerebros[distributed]'") from error
        self._ray = ray
        self._started = False
        if ray.is_initialized() and (address is not None or n_workers is not None):
            logger.warning("Ray is already initialised in this process: the search runs on "
                           "that instance, so ray_address=%r and n_workers=%r are not applied "
                           "(call ray.shutdown() first to have them applied)", address,
                           n_workers)
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:  # a private instance, even with RAY_ADDRESS set or a
                options["num_cpus"] = n_workers or os.cpu_count()  # cluster running here
            ray.init(address="local" if address is None else address, **options)
            self._started = True
        self.cpus_per_trial = int(cpus_per_trial)
        self.trial_timeout_s = trial_timeout_s
        self._pending: dict[Any, TrialTask] = {}
        self._submitted: dict[Any, float] = {}

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        ray = self._ray
        data_ref = ray.put(data)
        remote = ray.remote(num_cpus=self.cpus_per_trial, max_retries=0)(_ray_trial)
        waiting, refs = list(tasks), self._pending
        capacity = len(waiting)
        if self.trial_timeout_s is not None:
            cpus = ray.cluster_resources().get("CPU", 1)
            capacity = max(1, int(cpus // self.cpus_per_trial))
        while waiting or refs:
            while waiting and len(refs) < capacity:
                task = waiting.pop(0)
                ref = remote.remote(task, data_ref, self.cpus_per_trial, self.trial_timeout_s)
                refs[ref], self._submitted[ref] = task, time.monotonic()
            done, _ = ray.wait(list(refs), num_returns=1, timeout=self._wait_seconds())
            for ref in done:
                yield self._outcome(ref, refs.pop(ref))
            yield from self._cancel_overdue()

    def _wait_seconds(self) -> float | None:
        """Until the earliest deadline (None: no limit)."""
        if self.trial_timeout_s is None or not self._pending:
            return None
        now = time.monotonic()
        return max(0.0, min(self._submitted[ref] + self._allowed_s() - now
                            for ref in self._pending))

    def _allowed_s(self) -> float:
        """Seconds from a trial's submission until the driver cancels it: its own limit
        (which its worker enforces from the trial's start) and a worker's start."""
        return self.trial_timeout_s + RAY_START_ALLOWANCE_S

    def _outcome(self, ref: Any, task: TrialTask) -> TrialOutcome:
        elapsed = time.monotonic() - self._submitted.pop(ref, time.monotonic())
        exceptions = self._ray.exceptions
        try:
            return self._ray.get(ref)
        except (exceptions.WorkerCrashedError, exceptions.NodeDiedError,
                exceptions.OutOfMemoryError) as error:  # costs only its own trial
            if self.trial_timeout_s is not None and elapsed >= self.trial_timeout_s:
                return failed_outcome(task, self._timeout_error(), elapsed_s=elapsed)
            return failed_outcome(task, f"{WORKER_DIED_ERROR}: {type(error).__name__}: {error}",
                                  elapsed_s=elapsed)
        except Exception as error:
            return failed_outcome(task, f"{type(error).__name__}: {error}", elapsed_s=elapsed)

    def _timeout_error(self) -> str:
        return (f"{TIMEOUT_ERROR}: the trial ran longer than trial_timeout_s="
                f"{self.trial_timeout_s:g} s; its Ray worker was stopped")

    def _cancel_overdue(self) -> Iterator[TrialOutcome]:
        if self.trial_timeout_s is None:
            return
        now = time.monotonic()
        for ref in [r for r in self._pending
                    if now - self._submitted[r] >= self._allowed_s()]:
            self._ray.cancel(ref, force=True)  # kills the worker; Ray starts another
            task = self._pending.pop(ref)
            elapsed = now - self._submitted.pop(ref)
            yield failed_outcome(task, self._timeout_error(), elapsed_s=elapsed)

    def close(self) -> None:
        """Cancel trials not yet finished (e.g. when the search stops early), wait up to
        ``CANCEL_WAIT_S`` for Ray to end them, and shut Ray down if this executor started it.

        The newest are cancelled first: a queued trial is then gone before cancelling a
        running one frees a CPU that Ray could start it on.  A cancellation that reaches a
        trial while Ray is handing it to a worker can be lost (the trial then runs), so the
        cancellation is repeated every ``CANCEL_RETRY_S`` until each trial has ended.
        Interrupting the wait (a second Ctrl-C) still shuts down a Ray instance this executor
        started."""
        ending = list(self._pending)[::-1]
        deadline = time.monotonic() + CANCEL_WAIT_S
        try:
            while ending and time.monotonic() < deadline:
                for ref in ending:
                    self._ray.cancel(ref, force=True)
                _, ending = self._ray.wait(ending, num_returns=len(ending),
                                           timeout=CANCEL_RETRY_S)
            if ending:
                logger.warning("%d cancelled trial(s) had not ended on the Ray cluster after "
                               "%g s; Ray ends them in the background", len(ending),
                               CANCEL_WAIT_S)
        finally:
            self._pending.clear()
            self._submitted.clear()
            if self._started and self._ray.is_initialized():
                self._ray.shutdown()
                self._started = False


def make_executor(backend: str, n_workers: int | None = None, ray_address: str | None = None,
                  trial_timeout_s: float | None = None) -> Executor:
    """The executor for ``backend`` ("inline", "process" or "ray"); ``trial_timeout_s``
    limits each trial's seconds (None: no limit)."""
    if backend == "inline":
        return InlineExecutor(trial_timeout_s)
    if backend == "process":
        return ProcessExecutor(n_workers or 2, trial_timeout_s=trial_timeout_s)
    if backend == "ray":
        return RayExecutor(n_workers, ray_address, trial_timeout_s=trial_timeout_s)
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")
