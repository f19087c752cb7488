"""A pool of spawned worker processes, each talking to the driver over its own pipe.

Each worker has a private duplex pipe: the driver sends it one task at a time (pickled with
cloudpickle, so callbacks and functions defined in ``__main__`` or a notebook travel by
value) and it answers with the trial's outcome.  A reader thread per worker receives its
messages and hands them to the driver's loop through one queue, so a worker that stops
half-way through a message (SIGSTOP, a debugger) blocks only its own reader, never the
driver.  Nothing is shared between workers, so a worker killed at any moment (mid-trial,
or half-way through writing a large result) costs only its own trial: its reader sees the
pipe close, the driver records the trial as failed with a transient ``WorkerDied`` error,
and starts a fresh worker.  A trial that runs longer than ``trial_timeout_s`` (stopped
mid-message included) has its worker killed and replaced the same way (error
``TrialTimeout``).
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing as mp
import os
import pickle
import queue
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import cloudpickle

from cerebros.data import PreparedData
from cerebros.oracle import TIMEOUT_ERROR, WORKER_DIED_ERROR
from cerebros.tf_state import freeze_heap, limit_threads
from cerebros.trial import TrialOutcome, TrialTask, failed_outcome, run_trial

__all__ = ["ProcessExecutor", "WorkerStartupError"]

logger = logging.getLogger(__name__)

_READY, _DONE = "ready", "done"
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


class WorkerStartupError(RuntimeError):
    """Worker processes keep dying before they can take a trial."""


def _die_with_parent() -> None:
    """On Linux, have the kernel SIGKILL this worker when the driver thread that started it
    ends: unlike :func:`_exit_with_parent`'s thread, that reaches a worker that is stopped
    (SIGSTOP, a debugger) and so cannot run.  Elsewhere, or where ``prctl`` is unavailable,
    nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return
    prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)


def _exit_with_parent(parent: int, poll_seconds: float = 1.0) -> None:
    """End this worker process once its parent (the search's driver) is gone, even if the
    driver was killed with SIGKILL and could not stop it."""
    if os.getppid() != parent:  # gone before _die_with_parent could take effect
        os._exit(1)
    while True:
        time.sleep(poll_seconds)
        if os.getppid() != parent:
            os._exit(1)


def _worker_main(data_path: str, threads: int, conn: Any, parent: int) -> None:
    """A worker's life: read the data, announce itself, then run each task it receives
    until the driver sends an empty message or closes the pipe."""
    _die_with_parent()
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    limit_threads(threads)
    with open(data_path, "rb") as handle:
        data: PreparedData = pickle.load(handle)
    freeze_heap()  # what is alive now lives as long as the worker
    conn.send_bytes(pickle.dumps((_READY, os.getpid())))
    while True:
        try:
            payload = conn.recv_bytes()
        except EOFError:
            return
        if not payload:
            return
        task = pickle.loads(payload)  # cloudpickle writes ordinary pickle streams
        conn.send_bytes(pickle.dumps((_DONE, run_trial(task, data))))


def _continue(pid: int | None) -> None:
    """Send SIGCONT to ``pid`` where the platform has it (a stopped process then takes the
    signals pending for it); a process already gone is fine."""
    if pid is None or not hasattr(signal, "SIGCONT"):
        return
    try:
        os.kill(pid, signal.SIGCONT)
    except OSError:
        pass


def _write_data(data: PreparedData) -> str:
    """The data pickled into a private temporary file that the workers read; its path."""
    descriptor, path = tempfile.mkstemp(prefix="cerebros-data-", suffix=".pkl")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            pickle.dump(data, handle, protocol=pickle.HIGHEST_PROTOCOL)
    except BaseException:
        os.unlink(path)
        raise
    return path


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any
    ready: bool = False
    index: int | None = None
    started: float = field(default=0.0)
    reader: threading.Thread | None = None


def _read(worker: _Worker, inbox: "queue.SimpleQueue[tuple[_Worker, bytes | None]]") -> None:
    """Put each whole message of ``worker`` in ``inbox``, then None once its pipe closes."""
    try:
        while True:
            inbox.put((worker, worker.conn.recv_bytes()))
    except (EOFError, OSError):
        inbox.put((worker, None))


class ProcessExecutor:
    """Runs trials in ``n_workers`` spawned worker processes on this machine.

    Each worker reads the data once when it starts (from a private temporary file the run
    writes and removes) and caps TensorFlow at
    ``cores // n_workers`` threads.  A worker that dies mid-trial (killed, out of memory,
    even while sending its result) costs only its own trial, which is reported as failed
    with a ``WorkerDied`` error within a poll interval; a fresh worker replaces it and the
    other trials go on.  With ``trial_timeout_s``, a trial running longer is stopped by
    killing its worker (error ``TrialTimeout``).  Workers that keep dying before they are
    ready (a script without a ``__main__`` guard, a broken environment) stop the search
    with :class:`WorkerStartupError` instead of being replaced forever, and every worker
    exits within about a second of its driver's death, SIGKILL included (on Linux even a
    stopped worker: the kernel kills it when the thread that started it ends, which is the
    thread running the search, and it outlives the pool).
    """

    def __init__(self, n_workers: int = 2, threads_per_worker: int | None = None,
                 poll_seconds: float = 0.5, trial_timeout_s: float | None = None) -> None:
        self.n_workers = int(n_workers)
        self.threads = threads_per_worker or max(1, (os.cpu_count() or 1) // self.n_workers)
        self.poll_seconds = poll_seconds
        self.trial_timeout_s = trial_timeout_s
        self._context = mp.get_context("spawn")
        self._workers: list[_Worker] = []
        self._inbox: queue.SimpleQueue[tuple[_Worker, bytes | None]] = queue.SimpleQueue()
        self._startup_deaths = 0
        self.max_startup_deaths = max(3, self.n_workers)

    def _start_worker(self, data_path: str) -> None:
        # The data goes through a file, not the spawn arguments: those are written into the
        # child's pipe before start() returns, so a child that died before reading them
        # (a script without a __main__ guard) would block the driver for ever once they
        # exceed the pipe's buffer, and a large write blocks it for every start.
        ours, theirs = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(data_path, self.threads, theirs, os.getpid()),
            daemon=True)
        process.start()
        theirs.close()  # only the worker holds its end: its death closes the pipe for us
        worker = _Worker(process, ours)
        worker.reader = threading.Thread(target=_read, args=(worker, self._inbox), daemon=True,
                                         name=f"cerebros-worker-{process.pid}-reader")
        worker.reader.start()
        self._workers.append(worker)

    def run(self, tasks: Iterable[TrialTask], data: PreparedData) -> Iterator[TrialOutcome]:
        task_list = list(tasks)
        if not task_list:
            return
        payloads = [cloudpickle.dumps(task) for task in task_list]
        todo = list(range(len(task_list)))
        pending = set(todo)
        data_path = _write_data(data)
        try:
            for _ in range(min(self.n_workers, len(task_list))):
                self._start_worker(data_path)
            while pending:
                self._assign(todo, payloads)
                try:
                    message = self._inbox.get(timeout=self._wait_seconds())
                    while True:
                        yield from self._serve(*message, task_list, pending)
                        message = self._inbox.get_nowait()
                except queue.Empty:
                    pass
                yield from self._stop_overdue(task_list, pending)
                missing = min(self.n_workers, len(pending)) - len(self._workers)
                for _ in range(max(0, missing)):
                    self._start_worker(data_path)
        finally:
            self.close()
            os.unlink(data_path)

    def _assign(self, todo: list[int], payloads: list[bytes]) -> None:
        """Give the next task to every ready, idle worker."""
        for worker in self._workers:
            if todo and worker.ready and worker.index is None:
                index = todo.pop(0)
                worker.index, worker.started = index, time.monotonic()
                try:
                    worker.conn.send_bytes(payloads[index])
                except OSError:  # died since; _serve reports the trial as failed
                    logger.debug("worker %s died before taking a task", worker.process.pid)

    def _wait_seconds(self) -> float:
        """How long to wait for a message: until the next trial's deadline, at most a poll."""
        if self.trial_timeout_s is None:
            return self.poll_seconds
        deadlines = [w.started + self.trial_timeout_s - time.monotonic()
                     for w in self._workers if w.index is not None]
        return max(0.0, min([self.poll_seconds, *deadlines]))

    def _serve(self, worker: _Worker, message: bytes | None, task_list: list[TrialTask],
               pending: set[int]) -> Iterator[TrialOutcome]:
        """Act on one message of ``worker`` (None: its pipe closed, possibly half-way
        through a message): mark it ready, yield its trial's outcome, or report its trial as
        failed and drop it.  Messages of a worker already dropped are ignored."""
        if worker not in self._workers:
            return
        try:
            kind, value = pickle.loads(message) if message is not None else (None, None)
        except pickle.UnpicklingError:
            kind = None
        if kind == _READY:
            worker.ready = True
        elif kind == _DONE:
            if worker.index is not None:
                pending.discard(worker.index)
                worker.index = None
                yield value
        else:
            yield from self._drop(worker, task_list, pending, None)

    def _stop_overdue(self, task_list: list[TrialTask],
                      pending: set[int]) -> Iterator[TrialOutcome]:
        if self.trial_timeout_s is None:
            return
        now = time.monotonic()
        for worker in list(self._workers):
            if worker.index is not None and now - worker.started >= self.trial_timeout_s:
                yield from self._drop(worker, task_list, pending, (
                    f"{TIMEOUT_ERROR}: the trial ran longer than trial_timeout_s="
                    f"{self.trial_timeout_s:g} s; its worker process was stopped"))

    def _drop(self, worker: _Worker, task_list: list[TrialTask], pending: set[int],
              error: str | None) -> Iterator[TrialOutcome]:
        """Kill (if needed) and forget ``worker``; its trial, if any, fails with ``error``
        (None: the worker died by itself)."""
        self._workers.remove(worker)
        if worker.process.is_alive():
            worker.process.kill()
        self._release(worker)
        code = worker.process.exitcode
        if error is None:
            logger.warning("worker %s exited with code %s", worker.process.pid, code)
            if not worker.ready:
                self._count_startup_death(code)
        index = worker.index
        if index is not None and index in pending:
            pending.discard(index)
            yield failed_outcome(task_list[index], error or (
                f"{WORKER_DIED_ERROR}: the worker process running this trial exited with "
                f"code {code}"), elapsed_s=time.monotonic() - worker.started)

    def _count_startup_death(self, code: int | None) -> None:
        self._startup_deaths += 1
        if self._startup_deaths >= self.max_startup_deaths:
            raise WorkerStartupError(
                f"{self._startup_deaths} worker processes exited before they were ready "
                f"(last exit code {code}). A script that runs a search with "
                "backend='process' must start it under `if __name__ == \"__main__\":` "
                "(each spawned worker re-runs the script's top level), and the workers' "
                "Python must import cerebros; backend='inline' shows the error itself.")

    @staticmethod
    def _release(worker: _Worker) -> None:
        """Wait for a stopping worker's process and its reader (which sees the pipe close
        as the process ends), then close the driver's end of the pipe."""
        worker.process.join(timeout=10)
        if worker.process.is_alive():  # ignored terminate(): a stopped process, say
            worker.process.kill()
            worker.process.join(timeout=10)
        if worker.reader is not None:
            worker.reader.join(timeout=10)
        if worker.reader is None or not worker.reader.is_alive():
            worker.conn.close()  # a reader still blocked keeps it: never close under it

    def close(self) -> None:
        """Stop all workers.  A stopped one (SIGSTOP, a debugger) is continued after its
        SIGTERM, so that it ends at once instead of after the 10 s wait for it."""
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()
                _continue(worker.process.pid)
        for worker in self._workers:
            self._release(worker)
        self._workers.clear()
