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
import fcntl
import io
import logging
import math
import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Optional, Union

import pandas as pd
import pendulum

from cerebros.project import ORACLE_NAME, remove_stale_temp_files, write_bytes_atomic

__all__ = [
    "TRIAL_COLUMNS",
    "COMPLETED",
    "FAILED",
    "SUMMARY_COLUMNS",
    "TrialRecord",
    "Oracle",
    "normalize_direction",
    "now_iso",
]

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
)

SUMMARY_COLUMNS = (
    "trial_number",
    "subtrial_number",
    "status",
    "best_value",
    "best_epoch",
    "epochs_run",
    "wall_time_s",
    "n_params",
    "model_name",
    "error",
)

_DIRECTIONS = {"minimize": "minimize", "min": "minimize", "maximize": "maximize", "max": "maximize"}
_TEXT_COLUMNS = ("model_name", "status", "started_at", "ended_at", "error")
_NULLABLE_INT_COLUMNS = ("epoch", "n_params")

PathLike = Union[str, "os.PathLike[str]"]


def now_iso() -> str:
    """Return the current UTC time as an ISO 8601 string (made with pendulum)."""
    return pendulum.now("UTC").isoformat()


def normalize_direction(direction: str) -> str:
    """Return ``"minimize"`` or ``"maximize"`` for ``direction``.

    Parameters
    ----------
    direction : str
        One of ``"minimize"``, ``"min"``, ``"maximize"``, ``"max"`` (any case).

    Raises
    ------
    ValueError
        For anything else.
    """
    key = direction.lower() if isinstance(direction, str) else direction
    if key not in _DIRECTIONS:
        raise ValueError(
            f"direction must be one of 'minimize', 'min', 'maximize', 'max'; got {direction!r}.")
    return _DIRECTIONS[key]


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a non-negative int; got {value!r}.")


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

    def __post_init__(self) -> None:
        _check_count("trial_number", self.trial_number)
        _check_count("subtrial_number", self.subtrial_number)
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}; got {self.status!r}.")
        if self.n_params is not None:
            _check_count("n_params", self.n_params)
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
    frame["wall_time_s"] = pd.to_numeric(frame["wall_time_s"]).astype("float64")
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
        """Hold the exclusive inter-process lock on the oracle (released if we die)."""
        self.project_dir.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

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
                raise ValueError(
                    f"record: trial {record.trial_number} subtrial {record.subtrial_number} "
                    f"is already recorded in {self.path}.")
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
        int64, ``epoch``/``n_params`` nullable ``Int64``, metrics float64.
        """
        if not self.path.exists():
            return _coerce(pd.DataFrame(columns=list(TRIAL_COLUMNS)))
        return _coerce(pd.read_csv(self.path, dtype={column: "str" for column in _TEXT_COLUMNS}))

    def finished(self) -> set[tuple[int, int]]:
        """Return the (trial, subtrial) pairs recorded with any status."""
        frame = self.read()
        pairs = zip(frame["trial_number"], frame["subtrial_number"])
        return {(int(trial), int(subtrial)) for trial, subtrial in pairs}

    def completed(self) -> pd.DataFrame:
        """Return the rows of completed trials."""
        frame = self.read()
        return frame[frame["status"] == COMPLETED].reset_index(drop=True)

    @staticmethod
    def _check_metric(frame: pd.DataFrame, metric: str) -> None:
        if metric not in frame.columns:
            available = [column for column in frame.columns if column not in TRIAL_COLUMNS]
            raise ValueError(
                f"metric must be a column of the oracle; got {metric!r}; "
                f"available: {available or list(frame.columns)}.")

    def best(self, metric: str, direction: str) -> Optional[tuple[float, pd.Series]]:
        """Return the best value of ``metric`` over completed trials and its row.

        Parameters
        ----------
        metric : str
            A column, e.g. ``"val_root_mean_squared_error"``.
        direction : str
            ``"minimize"``/``"min"`` or ``"maximize"``/``"max"``.

        Returns
        -------
        (float, pandas.Series) or None
            The best value and the epoch row holding it (the earliest on ties), or None
            when no completed trial has a value of ``metric``. NaN values are ignored.

        Raises
        ------
        ValueError
            If ``direction`` is not allowed, or the oracle has rows but no ``metric``
            column (the message lists the available ones).
        """
        direction = normalize_direction(direction)
        frame = self.read()
        if frame.empty:
            return None
        self._check_metric(frame, metric)
        completed = frame[frame["status"] == COMPLETED]
        values = pd.to_numeric(completed[metric], errors="coerce").dropna()
        if values.empty:
            return None
        index = values.idxmin() if direction == "minimize" else values.idxmax()
        return float(values[index]), completed.loc[index]

    def trial_summaries(self, metric: str, direction: str) -> pd.DataFrame:
        """Return one row per (trial, subtrial), best first.

        Parameters
        ----------
        metric : str
            The column to rank by.
        direction : str
            ``"minimize"``/``"min"`` or ``"maximize"``/``"max"``.

        Returns
        -------
        pandas.DataFrame
            Columns :data:`SUMMARY_COLUMNS`: ``best_value`` and ``best_epoch`` are the
            trial's best epoch for ``metric`` (NaN / <NA> when it has none) and
            ``epochs_run`` counts its epoch rows. Completed trials come first, ranked by
            ``best_value`` (those without one last); failed trials follow, then ties go
            by trial and subtrial number.

        Raises
        ------
        ValueError
            As :meth:`best`.
        """
        direction = normalize_direction(direction)
        frame = self.read()
        if frame.empty:
            return _empty_summaries()
        self._check_metric(frame, metric)
        frame = frame.assign(_value=pd.to_numeric(frame[metric], errors="coerce"))
        summaries = [_summarize(rows, direction)
                     for _, rows in frame.groupby(["trial_number", "subtrial_number"], sort=True)]
        table = pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS))
        table["best_epoch"] = table["best_epoch"].astype("Int64")
        table["n_params"] = table["n_params"].astype("Int64")
        ranked = table.assign(
            _failed=table["status"] != COMPLETED,
            _missing=table["best_value"].isna(),
            _key=table["best_value"] if direction == "minimize" else -table["best_value"])
        ranked = ranked.sort_values(
            ["_failed", "_missing", "_key", "trial_number", "subtrial_number"], kind="stable")
        return ranked[list(SUMMARY_COLUMNS)].reset_index(drop=True)


def _summarize(rows: pd.DataFrame, direction: str) -> dict[str, Any]:
    """One trial's summary from its epoch rows (which carry a numeric ``_value``)."""
    first = rows.iloc[0]
    values = rows["_value"].dropna()
    if values.empty:
        best_value, best_epoch = math.nan, pd.NA
    else:
        index = values.idxmin() if direction == "minimize" else values.idxmax()
        best_value, best_epoch = float(values[index]), rows.loc[index, "epoch"]
    return {
        "trial_number": int(first["trial_number"]),
        "subtrial_number": int(first["subtrial_number"]),
        "status": first["status"],
        "best_value": best_value,
        "best_epoch": best_epoch,
        "epochs_run": int(rows["epoch"].notna().sum()),
        "wall_time_s": float(first["wall_time_s"]),
        "n_params": first["n_params"],
        "model_name": first["model_name"],
        "error": first["error"],
    }


def _empty_summaries() -> pd.DataFrame:
    table = pd.DataFrame(columns=list(SUMMARY_COLUMNS))
    for column in ("trial_number", "subtrial_number", "epochs_run"):
        table[column] = table[column].astype("int64")
    for column in ("best_epoch", "n_params"):
        table[column] = table[column].astype("Int64")
    for column in ("best_value", "wall_time_s"):
        table[column] = table[column].astype("float64")
    for column in ("status", "model_name", "error"):
        table[column] = table[column].astype(str)
    return table
