"""The oracle: a durable record of what happened in each trial of a search.

The oracle keeps ``<project_dir>/oracle.csv`` with one row per epoch per trial. The
Keras history columns come first (``loss``, ``val_loss``, ... — they vary by search),
then the bookkeeping columns of :data:`TRIAL_COLUMNS`. The file stays readable by a plain
``pandas.read_csv``, as the original library's notebooks expect.

A whole trial is appended at once, under an exclusive inter-process lock, by writing the
old rows plus the new ones to a temporary file and renaming it over the CSV. So a search
killed at any moment leaves either the old file or the new one, and writers in several
processes never interleave. The oracle knows nothing of Keras. Pure Python + pandas.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import filelock
import pandas as pd
import pendulum

from cerebros.checks import check_choice, check_int
from cerebros.project import ORACLE_NAME, remove_stale_temp_files, write_bytes_atomic

__all__ = ["TRIAL_COLUMNS", "COMPLETED", "FAILED", "TrialRecord", "Oracle", "now_iso",
           "WORKER_DIED_ERROR", "TIMEOUT_ERROR", "TRANSIENT_ERRORS", "is_transient"]

logger = logging.getLogger(__name__)

COMPLETED = "completed"
FAILED = "failed"
STATUSES = (COMPLETED, FAILED)

TRIAL_COLUMNS = (
    "trial_number",
    "subtrial_number",
    "model_name",
    "epoch",
    "status",
    "started_at",
    "ended_at",
    "wall_time_s",
    "n_params",
    "error",
    "generation",
    "parent_trial",
    "parent_subtrial",
    "attempt",
)

WORKER_DIED_ERROR = "WorkerDied"
"""Error kind of a trial whose worker process (or Ray worker) died under it."""
TIMEOUT_ERROR = "TrialTimeout"
"""Error kind of a trial stopped for running longer than ``trial_timeout_s``."""
TRANSIENT_ERRORS = (WORKER_DIED_ERROR, TIMEOUT_ERROR)
"""Error kinds of failures that say nothing of the network: a resumed search retries such a
trial once (its second record has ``attempt`` 2)."""

MAX_ERROR_CHARS = 4000
"""Longer error texts are cut, so that no CSV field nears the csv module's 128 KiB limit."""
_REQUIRED_COLUMNS = ("trial_number", "subtrial_number", "epoch", "status")
_TEXT_COLUMNS = ("model_name", "status", "started_at", "ended_at", "error")
_NULLABLE_INT_COLUMNS = ("epoch", "n_params", "generation", "parent_trial", "parent_subtrial",
                         "attempt")

PathLike = Union[str, "os.PathLike[str]"]


def now_iso() -> str:
    """Return the current UTC time as an ISO 8601 string (made with pendulum)."""
    return pendulum.now("UTC").isoformat()


def is_transient(error: str) -> bool:
    """Whether an error text (``"<kind>: <message>"``) is of a :data:`TRANSIENT_ERRORS` kind."""
    return str(error).split(":", 1)[0].strip() in TRANSIENT_ERRORS


def _as_float(value: Any) -> float:
    if value is None:
        return math.nan
    return float(value)


@dataclass
class TrialRecord:
    """What happened in one trial: its bookkeeping and its Keras history.

    Parameters
    ----------
    trial_number, subtrial_number : int
        Which trial this is.
    model_name : str
        Where the model was saved, e.g. ``<project>/models/tr_..._subtrial_....keras``.
    status : str
        :data:`COMPLETED` or :data:`FAILED`.
    started_at, ended_at : str
        ISO 8601 times (see :func:`now_iso`).
    wall_time_s : float
        Seconds the trial took.
    n_params : int or None
        The model's parameter count, None when no model was built.
    error : str
        Empty unless the trial failed.
    history : dict of str to list of float
        The Keras history, one list per metric, one value per epoch.
    generation : int
        The search generation that bred this trial (0: sampled at random).
    parent_trial, parent_subtrial : int or None
        The trial this one was bred from (None in generation 0).
    attempt : int
        1 for a trial's first run, 2 for its retry after a transient failure (see
        :data:`TRANSIENT_ERRORS`).  Files written before this column existed read as 1.
    """

    trial_number: int
    subtrial_number: int
    model_name: str
    status: str
    started_at: str
    ended_at: str
    wall_time_s: float
    n_params: Optional[int] = None
    error: str = ""
    history: dict[str, list[float]] = field(default_factory=dict)
    generation: int = 0
    parent_trial: Optional[int] = None
    parent_subtrial: Optional[int] = None
    attempt: int = 1

    def __post_init__(self) -> None:
        self.trial_number = check_int("trial_number", self.trial_number, 0)
        self.subtrial_number = check_int("subtrial_number", self.subtrial_number, 0)
        check_choice("status", self.status, STATUSES)
        if self.n_params is not None:
            self.n_params = check_int("n_params", self.n_params, 0)
        if len(self.error or "") > MAX_ERROR_CHARS:
            cut = len(self.error) - MAX_ERROR_CHARS
            self.error = f"{self.error[:MAX_ERROR_CHARS]} ... [{cut} more characters cut]"
        self.generation = check_int("generation", self.generation, 0)
        self.attempt = check_int("attempt", self.attempt, 1)
        for name in ("parent_trial", "parent_subtrial"):
            if getattr(self, name) is not None:
                setattr(self, name, check_int(name, getattr(self, name), 0))
        if not isinstance(self.history, dict):
            raise ValueError(f"history must be a dict of metric name to list; got {self.history!r}.")
        clashes = sorted(set(self.history) & set(TRIAL_COLUMNS))
        if clashes:
            raise ValueError(
                f"history must not use the oracle's own column names; got {clashes}.")
        self.history = {str(name): [_as_float(value) for value in values]
                        for name, values in self.history.items()}

    @property
    def epochs(self) -> int:
        """How many epochs the history holds (the longest metric list)."""
        return max((len(values) for values in self.history.values()), default=0)

    def rows(self) -> list[dict[str, Any]]:
        """Return the trial's CSV rows: one per epoch, or one with no metrics if none ran.

        Each row has the history columns first, then :data:`TRIAL_COLUMNS`. A row of a
        trial without epochs has NaN metrics and a NaN epoch.
        """
        bookkeeping = {
            "trial_number": self.trial_number,
            "subtrial_number": self.subtrial_number,
            "model_name": self.model_name,
            "status": self.status,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "wall_time_s": _as_float(self.wall_time_s),
            "n_params": self.n_params,
            "error": self.error or "",
            "generation": self.generation,
            "parent_trial": self.parent_trial,
            "parent_subtrial": self.parent_subtrial,
            "attempt": self.attempt,
        }
        epochs = range(self.epochs) if self.epochs else [math.nan]
        rows = []
        for epoch in epochs:
            row = {name: values[epoch] if epoch < len(values) else math.nan
                   for name, values in self.history.items()}
            row.update(bookkeeping)
            row["epoch"] = epoch
            rows.append({column: row[column] for column in [*self.history, *TRIAL_COLUMNS]})
        return rows


def _cell(value: Any) -> str:
    """Format one value for the CSV: floats exactly (``repr``), NaN and None as empty."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _coerce(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the bookkeeping columns their dtypes (text as ``str``, counts as ints)."""
    for column in TRIAL_COLUMNS:
        if column not in frame.columns:
            frame[column] = pd.Series(dtype="object")
    for column in _TEXT_COLUMNS:
        frame[column] = frame[column].astype("str").fillna("")
    for column in ("trial_number", "subtrial_number"):
        frame[column] = frame[column].astype("int64")
    for column in _NULLABLE_INT_COLUMNS:
        frame[column] = pd.to_numeric(frame[column]).astype("Int64")
    frame["attempt"] = frame["attempt"].fillna(1)  # files older than the column
    frame["wall_time_s"] = pd.to_numeric(frame["wall_time_s"]).astype("float64")
    for column in frame.columns:
        if column not in TRIAL_COLUMNS:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    return frame


class Oracle:
    """The durable oracle of one project directory.

    Parameters
    ----------
    project_dir : str or os.PathLike
        The project directory; ``oracle.csv`` lives there. It is created on the first
        :meth:`record`.
    """

    def __init__(self, project_dir: PathLike) -> None:
        if not isinstance(project_dir, (str, os.PathLike)) or str(project_dir) == "":
            raise ValueError(f"project_dir must be a non-empty path; got {project_dir!r}.")
        self.project_dir = Path(project_dir)
        self.path = self.project_dir / ORACLE_NAME
        self.lock_path = self.project_dir / (ORACLE_NAME + ".lock")

    def __repr__(self) -> str:
        return f"Oracle({str(self.project_dir)!r})"

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the exclusive inter-process lock on the oracle (``filelock``: an OS lock,
        released if we die; a soft lock file where the file system has no locking)."""
        self.project_dir.mkdir(parents=True, exist_ok=True)
        with filelock.FileLock(self.lock_path, is_singleton=False):
            yield

    def _read_text_rows(self) -> tuple[list[str], list[list[str]]]:
        """Return the CSV's header and rows as text, exactly as stored."""
        if not self.path.exists():
            return [], []
        with open(self.path, newline="", encoding="utf-8") as handle:
            lines = list(csv.reader(handle))
        if not lines:
            return [], []
        return lines[0], lines[1:]

    def record(self, record: TrialRecord) -> None:
        """Append one whole trial to the oracle, atomically and durably.

        Parameters
        ----------
        record : TrialRecord
            The trial. Its rows are written after every row already recorded; new
            history columns are added (empty in older rows).

        Raises
        ------
        ValueError
            If ``record`` is not a :class:`TrialRecord`, or its (trial, subtrial) already
            has a record.
        """
        if not isinstance(record, TrialRecord):
            raise ValueError(f"record must be a TrialRecord; got {type(record).__name__}.")
        new_rows = record.rows()
        with self._locked():
            remove_stale_temp_files(self.path)
            header, old_rows = self._read_text_rows()
            key = (str(record.trial_number), str(record.subtrial_number))
            if header and key in self._keys(header, old_rows):
                old_rows = self._without_retried(header, old_rows, key, record)
            columns = self._columns(header, list(new_rows[0]))
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\n")
            writer.writerow(columns)
            positions = {column: index for index, column in enumerate(header)}
            for row in old_rows:
                writer.writerow([row[positions[column]] if column in positions else ""
                                 for column in columns])
            for row in new_rows:
                writer.writerow([_cell(row.get(column)) for column in columns])
            write_bytes_atomic(self.path, buffer.getvalue().encode("utf-8"))
        logger.info("Recorded trial %d subtrial %d (%s, %d rows).", record.trial_number,
                    record.subtrial_number, record.status, len(new_rows))

    def _without_retried(self, header: list[str], rows: list[list[str]],
                         key: tuple[str, str], record: TrialRecord) -> list[list[str]]:
        """``rows`` without those of ``key``, which ``record`` retries: allowed only for the
        second attempt after a transient failure of the first (anything else is a
        duplicate)."""
        at = {column: index for index, column in enumerate(header)}
        mine = [row for row in rows if (row[at["trial_number"]], row[at["subtrial_number"]]) == key]
        first = mine[0]
        attempt = int(float(first[at["attempt"]] or 1)) if "attempt" in at else 1
        if not (first[at["status"]] == FAILED and is_transient(first[at["error"]])
                and attempt == 1 and record.attempt == 2):
            raise ValueError(
                f"record: trial {record.trial_number} subtrial {record.subtrial_number} "
                f"is already recorded in {self.path}.")
        return [row for row in rows if (row[at["trial_number"]], row[at["subtrial_number"]]) != key]

    @staticmethod
    def _keys(header: list[str], rows: list[list[str]]) -> set[tuple[str, str]]:
        trial, subtrial = header.index("trial_number"), header.index("subtrial_number")
        return {(row[trial], row[subtrial]) for row in rows}

    @staticmethod
    def _columns(old: list[str], new: list[str]) -> list[str]:
        """Union of columns: history columns (old ones first), then TRIAL_COLUMNS."""
        history = [column for column in old if column not in TRIAL_COLUMNS]
        history += [column for column in new
                    if column not in TRIAL_COLUMNS and column not in history]
        return history + list(TRIAL_COLUMNS)

    def read(self) -> pd.DataFrame:
        """Return every recorded row (an empty frame with :data:`TRIAL_COLUMNS` if none).

        Text columns have pandas' string dtype, ``trial_number``/``subtrial_number`` are
        int64, ``epoch``/``n_params`` nullable ``Int64``, history columns float64
        (unparseable entries NaN).  This is the one reader of the oracle file.
        """
        if not self.path.exists():
            return _coerce(pd.DataFrame(columns=list(TRIAL_COLUMNS)))
        frame = pd.read_csv(self.path, dtype={column: "str" for column in _TEXT_COLUMNS})
        missing = [c for c in _REQUIRED_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{self.path}: missing column(s) {missing}; found "
                             f"{list(frame.columns)}.")
        return _coerce(frame)

    def finished(self) -> set[tuple[int, int]]:
        """Return the (trial, subtrial) pairs recorded with any status."""
        frame = self.read()
        pairs = zip(frame["trial_number"], frame["subtrial_number"])
        return {(int(trial), int(subtrial)) for trial, subtrial in pairs}

    def retriable(self) -> set[tuple[int, int]]:
        """Return the (trial, subtrial) pairs whose first attempt failed for a transient
        reason (see :data:`TRANSIENT_ERRORS`): a resumed search runs them once more."""
        frame = self.read()
        failed = frame[(frame["status"] == FAILED) & (frame["attempt"] == 1)
                       & frame["error"].map(is_transient)]
        pairs = zip(failed["trial_number"], failed["subtrial_number"])
        return {(int(trial), int(subtrial)) for trial, subtrial in pairs}
