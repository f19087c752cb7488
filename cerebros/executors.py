"""Where trials run: inline, in a pool of worker processes, or as Ray tasks.

Every executor takes the same picklable :class:`~cerebros.trial.TrialTask` s and the data
once, and yields :class:`~cerebros.trial.TrialOutcome` s as trials finish (in completion
order).  The search loop, which owns the oracle, records them; executors know nothing of
the wiring rules or the oracle's files.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from typing import Any, Iterable, Iterator, Protocol

from cerebros.data import PreparedData
from cerebros.tf_state import limit_threads
from cerebros.trial import TrialOutcome, TrialTask, failed_outcome, run_trial

__all__ = ["Executor", "InlineExecutor", "ProcessExecutor", "RayExecutor", "make_executor",
           "BACKENDS", "WorkerStartupError"]

logger = logging.getLogger(__name__)

BACKENDS = ("inline", "process", "ray")


class Executor(Protocol):
    """Runs trials and yields their outcomes as they finish."""

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]: ...

    def close(self) -> None: ...


class WorkerStartupError(RuntimeError):
    """Worker processes keep dying before they can take a trial."""


class InlineExecutor:
    """Runs trials one after another in this process."""

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        for task in tasks:
            yield run_trial(task, data)

    def close(self) -> None:
        """Nothing to release."""


def _exit_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """End this worker process once its parent (the search's driver) is gone, even if the
    driver was killed with SIGKILL and could not stop it."""
    while True:
        time.sleep(poll_seconds)
        if os.getppid() != parent:
            os._exit(1)


def _worker_main(data: PreparedData, threads: int, tasks: Any, results: Any,
                 parent: int) -> None:
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    limit_threads(threads)
    results.put(("ready", os.getpid()))
    while True:
        item = tasks.get()
        if item is None:
            return
        index, task = item
        results.put(("start", os.getpid(), index))
        results.put(("done", os.getpid(), index, run_trial(task, data)))


class ProcessExecutor:
    """Runs trials in ``n_workers`` spawned worker processes on this machine.

    Each worker receives the data once when it starts and caps TensorFlow at
    ``cores // n_workers`` threads.  A worker that dies mid-trial (killed, out of memory)
    costs only its own trial, which is reported as failed; a fresh worker replaces it and
    the other trials go on.  Workers that keep dying before they are ready (a script
    without a ``__main__`` guard, a broken environment) stop the search with
    :class:`WorkerStartupError` instead of being replaced forever, and every worker exits
    within about a second of its driver's death, SIGKILL included.
    """

    def __init__(self, n_workers: int = 2, threads_per_worker: int | None = None,
                 poll_seconds: float = 0.5) -> None:
        self.n_workers = int(n_workers)
        self.threads = threads_per_worker or max(1, (os.cpu_count() or 1) // self.n_workers)
        self.poll_seconds = poll_seconds
        self._context = mp.get_context("spawn")
        self._workers: dict[int, Any] = {}
        self._ready: set[int] = set()
        self._startup_deaths = 0
        self.max_startup_deaths = max(3, self.n_workers)

    def _start_worker(self, data: PreparedData, tasks: Any, results: Any) -> None:
        process = self._context.Process(
            target=_worker_main, args=(data, self.threads, tasks, results, os.getpid()),
            daemon=True)
        process.start()
        self._workers[process.pid] = process

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        task_list = list(tasks)
        if not task_list:
            return
        task_queue, results = self._context.Queue(), self._context.Queue()
        for item in enumerate(task_list):
            task_queue.put(item)
        for _ in range(self.n_workers):
            task_queue.put(None)
        for _ in range(min(self.n_workers, len(task_list))):
            self._start_worker(data, task_queue, results)
        running: dict[int, int] = {}
        pending = set(range(len(task_list)))
        try:
            while pending:
                try:
                    message = results.get(timeout=self.poll_seconds)
                except queue.Empty:
                    yield from self._reap_dead_workers(task_list, running, pending, data,
                                                       task_queue, results)
                    continue
                if message[0] == "ready":
                    self._ready.add(message[1])
                elif message[0] == "start":
                    running[message[1]] = message[2]
                else:
                    _, pid, index, outcome = message
                    running.pop(pid, None)
                    pending.discard(index)
                    yield outcome
        finally:
            self.close()

    def _reap_dead_workers(self, task_list, running, pending, data, task_queue, results):
        for pid, process in list(self._workers.items()):
            if process.is_alive() or process.exitcode == 0:
                continue
            del self._workers[pid]
            index = running.pop(pid, None)
            logger.warning("worker %s exited with code %s", pid, process.exitcode)
            if pid not in self._ready:
                self._startup_deaths += 1
                if self._startup_deaths >= self.max_startup_deaths:
                    raise WorkerStartupError(
                        f"{self._startup_deaths} worker processes exited before they were ready "
                        f"(last exit code {process.exitcode}). A script that runs a search with "
                        "backend='process' must start it under `if __name__ == \"__main__\":` "
                        "(each spawned worker re-runs the script's top level), and the workers' "
                        "Python must import cerebros; backend='inline' shows the error itself.")
            if index is not None and index in pending:
                pending.discard(index)
                yield failed_outcome(task_list[index], f"WorkerDied: the worker process running "
                                     f"this trial exited with code {process.exitcode}")
            if pending:
                self._start_worker(data, task_queue, results)

    def close(self) -> None:
        """Stop all workers."""
        for process in self._workers.values():
            if process.is_alive():
                process.terminate()
        for process in self._workers.values():
            process.join(timeout=10)
        self._workers.clear()


def _ray_trial(task: TrialTask, data: PreparedData, threads: int) -> TrialOutcome:
    limit_threads(threads)
    return run_trial(task, data)


class RayExecutor:
    """Runs each trial as a Ray task, locally or on a cluster.

    ``address=None`` starts a private local Ray instance with ``n_workers`` CPUs, even when
    ``RAY_ADDRESS`` is set or a cluster runs on this machine (stopped again by
    :meth:`close`); ``"auto"`` or ``"ray://host:port"`` joins an existing cluster.  The data
    is put in Ray's object store once and every task reads it from there; outcomes (records
    and model bytes) come back to the driver, which writes all files.
    """

    def __init__(self, n_workers: int | None = None, address: str | None = None,
                 cpus_per_trial: int = 1) -> None:
        try:
            import ray
        except ImportError as error:
            raise ImportError("backend='ray' needs Ray: pip install 'cerebros[distributed]'") from error
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if address is None:  # a private instance, even with RAY_ADDRESS set or a
                options["num_cpus"] = n_workers or os.cpu_count()  # cluster running here
            ray.init(address="local" if address is None else address, **options)
            self._started = True
        self.cpus_per_trial = int(cpus_per_trial)
        self._pending: dict[Any, TrialTask] = {}

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        ray = self._ray
        data_ref = ray.put(data)
        remote = ray.remote(num_cpus=self.cpus_per_trial, max_retries=0)(_ray_trial)
        refs = self._pending
        refs.update({remote.remote(task, data_ref, self.cpus_per_trial): task for task in tasks})
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                task = refs.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as error:  # a crashed worker costs only its own trial
                    yield failed_outcome(task, f"{type(error).__name__}: {error}")

    def close(self) -> None:
        """Cancel trials not yet finished (e.g. when the search stops early) and shut Ray
        down if this executor started it."""
        for ref in list(self._pending):
            self._ray.cancel(ref, force=True)
        self._pending.clear()
        if self._started and self._ray.is_initialized():
            self._ray.shutdown()
            self._started = False


def make_executor(backend: str, n_workers: int | None = None,
                  ray_address: str | None = None) -> Executor:
    """The executor for ``backend`` ("inline", "process" or "ray")."""
    if backend == "inline":
        return InlineExecutor()
    if backend == "process":
        return ProcessExecutor(n_workers or 2)
    if backend == "ray":
        return RayExecutor(n_workers, ray_address)
    raise ValueError(f"backend must be one of {BACKENDS}; got {backend!r}.")
