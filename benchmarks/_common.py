"""Small helpers shared by the benchmark scripts (no Cerebros logic here).

Every script prints its command line first, then markdown tables to paste into
``benchmarks/RESULTS.md``.  The machine these were written on is shared and noisy, so the
scripts report side-by-side figures and ratios measured in one run, never numbers to
compare across runs.
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import platform
import shlex
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

REPO = Path(__file__).resolve().parent.parent


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ start-up chatter (call before importing TensorFlow)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("cerebros").setLevel(level)


def print_header(title: str) -> None:
    """The command line, date and machine, so a pasted table says where it came from."""
    print(f"# {title}")
    print()
    print("command: `" + shlex.join(["python", *sys.argv]) + "`")
    print(f"date: {_dt.datetime.now().isoformat(timespec='seconds')}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPU cores (shared with other "
          f"jobs: compare figures within this run only), Python {platform.python_version()}")
    try:
        import keras
        import tensorflow as tf

        print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}")
    except ImportError:
        pass
    print(f"code: {code_state()}")
    print(flush=True)


def code_state() -> str:
    """The git commit of the checkout and the library files changed since it (if any)."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, text=True,
                              capture_output=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cerebros"], cwd=REPO,
                               text=True, capture_output=True, check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    changed = [line[3:] for line in dirty if line.strip()]
    return f"commit {head}" + (f" with uncommitted changes to {', '.join(changed)}"
                               if changed else " (library unmodified)")


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory (VmRSS) of a process in MiB, read from /proc (Linux)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def rss_at_train_end():
    """A Keras callback whose ``rss`` list gets the process's VmRSS (MiB) at the end of
    every ``fit`` it is passed to (Keras is imported only when this is called)."""
    import keras

    class RSSAtTrainEnd(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.rss: list[float] = []

        def on_train_end(self, logs=None) -> None:
            self.rss.append(rss_mb())
            self._model = None  # hold no reference to the finished trial's model

    return RSSAtTrainEnd()


def children_rss_mb(pid: int | None = None) -> float:
    """Summed VmRSS of all descendants of ``pid`` (default: this process), in MiB."""
    root = os.getpid() if pid is None else pid
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    descendants, frontier = set(), {root}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - descendants
        descendants |= frontier
    total = 0.0
    for pid_ in descendants:
        try:
            total += rss_mb(pid_)
        except OSError:
            continue
    return total


class RSSSampler:
    """Samples the driver's VmRSS (and its children's) every ``interval`` seconds in a
    background thread; ``peak`` and ``samples`` afterwards."""

    def __init__(self, interval: float = 0.5, include_children: bool = False) -> None:
        self.interval = interval
        self.include_children = include_children
        self.samples: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._start = 0.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            kids = children_rss_mb() if self.include_children else 0.0
            self.samples.append((time.perf_counter() - self._start, rss_mb(), kids))
            self._stop.wait(self.interval)

    def __enter__(self) -> "RSSSampler":
        self._start = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak(self) -> float:
        return max((s[1] for s in self.samples), default=float("nan"))

    @property
    def peak_children(self) -> float:
        return max((s[2] for s in self.samples), default=float("nan"))


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def median_time(function: Callable[[], Any], repeats: int,
                setup: Callable[[], Any] | None = None) -> tuple[float, list[float]]:
    """Median seconds of ``repeats`` calls (``setup`` runs untimed before each)."""
    times = []
    for _ in range(repeats):
        if setup is not None:
            setup()
        times.append(timed(function)[0])
    return statistics.median(times), times


def fmt(value: Any, digits: int = 3) -> str:
    """A table cell: floats to ``digits`` significant digits, the rest as str."""
    if isinstance(value, float):
        if value != value:  # NaN
            return "n/a"
        return f"{value:.{digits}g}" if abs(value) < 10 ** digits else f"{value:,.0f}"
    return str(value)


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        lines.append("| " + " | ".join(fmt(v) for v in row) + " |")
    return "\n".join(lines)


def frame_to_markdown(frame, digits: int = 4) -> str:
    """A pandas DataFrame as a markdown table (no tabulate needed)."""
    return markdown_table([str(c) for c in frame.columns],
                          ([_cell(v, digits) for v in row] for row in frame.itertuples(index=False)))


def _cell(value: Any, digits: int) -> Any:
    try:
        import numpy as np

        if isinstance(value, np.floating):
            value = float(value)
        elif isinstance(value, np.integer):
            value = int(value)
    except ImportError:
        pass
    if isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def alternating(items: Sequence[Any], repeat: int) -> list[Any]:
    """``items`` in their order on even repeats and reversed on odd ones (A B, B A, A B, …):
    over an even number of repeats every variant runs as often early as late, so neither a
    warming machine nor a load that changes with time favours the one that always runs last."""
    return list(items) if repeat % 2 == 0 else list(reversed(items))
