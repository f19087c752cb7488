"""Leaderboards of a finished (or running) search, read from its project folder.

The oracle (``project_dir/oracle.csv``) holds one row per epoch per trial; this module folds
those rows into one row per trial, adds the shape of each trial's saved wiring plan
(``model_architectures/*.json``) and ranks the trials by a metric.  It reads the files with
pandas directly and never touches Keras.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from cerebros.project import ARCHITECTURES_DIR, MANIFEST_NAME, ORACLE_NAME, trial_stem

__all__ = ["load_results", "load_history", "history_columns", "resolve_ranking",
           "ORACLE_FILE", "SEARCH_CONFIG_FILE"]

logger = logging.getLogger(__name__)

ORACLE_FILE = ORACLE_NAME
SEARCH_CONFIG_FILE = MANIFEST_NAME

BOOKKEEPING_COLUMNS = ("trial_number", "subtrial_number", "model_name", "epoch", "status",
                       "started_at", "ended_at", "wall_time_s", "n_params", "error")
_REQUIRED_COLUMNS = ("trial_number", "subtrial_number", "epoch", "status")
_NUMERIC_COLUMNS = ("trial_number", "subtrial_number", "epoch", "wall_time_s", "n_params")
_DIRECTIONS = {"min": "min", "minimize": "min", "max": "max", "maximize": "max"}
_PLAN_COLUMNS = ("levels", "units", "connections_vertical", "connections_lateral",
                 "connections_gated")


def load_history(project_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``oracle.csv``: one row per epoch per trial, numeric columns as numbers.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder.

    Returns
    -------
    pandas.DataFrame
        The oracle's rows; the Keras history columns and ``epoch``, ``trial_number``,
        ``subtrial_number``, ``wall_time_s`` and ``n_params`` are numeric (unparseable
        entries become NaN).

    Raises
    ------
    ValueError
        If ``project_dir`` holds no ``oracle.csv`` or the file lacks a required column.
    """
    path = Path(project_dir) / ORACLE_FILE
    if not path.is_file():
        raise ValueError(f"project_dir: {str(project_dir)!r} holds no {ORACLE_FILE}; expected "
                         "the project folder of a Cerebros search.")
    frame = pd.read_csv(path)
    missing = [c for c in _REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; found {list(frame.columns)}.")
    for column in [*history_columns(frame), *_NUMERIC_COLUMNS]:
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column], errors="coerce")
    return frame


def history_columns(frame: pd.DataFrame) -> list[str]:
    """The oracle's Keras history columns (``loss``, ``val_loss``, ...), in file order."""
    return [c for c in frame.columns if c not in BOOKKEEPING_COLUMNS]


def _read_search_config(project: Path) -> dict[str, Any]:
    path = project / SEARCH_CONFIG_FILE
    if not path.is_file():
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}).") from None
    return config if isinstance(config, dict) else {}


def _normalize_direction(direction: Any, argument: str) -> str:
    key = direction.lower() if isinstance(direction, str) else direction
    if key not in _DIRECTIONS:
        raise ValueError(f"{argument}: got {direction!r}; allowed: 'min' or 'max' "
                         "('minimize' and 'maximize' are accepted too).")
    return _DIRECTIONS[key]


def resolve_ranking(project_dir: str | os.PathLike[str], metric: str | None,
                    direction: str | None, available: list[str]) -> tuple[str, str]:
    """Choose the metric and direction to rank by.

    ``metric`` and ``direction`` default to ``metric_to_rank_by`` and ``direction`` in the
    project's ``search_config.json``.  When ``metric`` differs from the configured metric,
    ``direction`` must be given explicitly, since the configured one may not apply.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder.
    metric : str or None
        Column to rank by; must be one of ``available``.
    direction : {"min", "max"} or None
        Whether smaller or larger values are better.
    available : list of str
        The metric columns present in the oracle.

    Returns
    -------
    tuple of (str, str)
        The metric and the direction (``"min"`` or ``"max"``).

    Raises
    ------
    ValueError
        If either cannot be determined, the metric is not available or the direction is
        not one of the allowed values.
    """
    config = _read_search_config(Path(project_dir))
    configured_metric = config.get("metric_to_rank_by")
    if metric is None:
        if configured_metric is None:
            raise ValueError(f"metric_to_rank_by: not given and no 'metric_to_rank_by' in "
                             f"{SEARCH_CONFIG_FILE}; pass one of {available}.")
        metric = str(configured_metric)
    if metric not in available:
        raise ValueError(f"metric_to_rank_by: {metric!r} is not a column of {ORACLE_FILE}; "
                         f"available: {available}.")
    if direction is None:
        if metric != configured_metric or config.get("direction") is None:
            raise ValueError(f"direction: needed to rank by {metric!r} (the search config does "
                             "not give one for this metric); pass 'min' or 'max'.")
        return metric, _normalize_direction(config["direction"], "direction")
    return metric, _normalize_direction(direction, "direction")


def _plan_shape(project: Path, trial: int, subtrial: int) -> dict[str, float]:
    path = project / ARCHITECTURES_DIR / f"{trial_stem(trial, subtrial)}.json"
    shape = dict.fromkeys(_PLAN_COLUMNS, math.nan)
    if not path.is_file():
        return shape
    try:
        plan = json.loads(path.read_text(encoding="utf-8"))
        levels = plan["levels"]
        connections = plan["connections"]
        lateral = sum(c.get("kind") == "lateral" for c in connections)
        shape.update(levels=len(levels) - 1,
                     units=sum(len(level) for level in levels[1:]),
                     connections_vertical=len(connections) - lateral,
                     connections_lateral=lateral,
                     connections_gated=sum(bool(c.get("gated", False)) for c in connections))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        logger.warning("could not read the plan %s (%s); its counts are left as NaN", path, error)
    return shape


def _first_present(rows: pd.DataFrame, column: str) -> Any:
    if column not in rows.columns:
        return None
    present = rows[column].dropna()
    return present.iloc[0] if len(present) else None


def _largest(rows: pd.DataFrame, column: str) -> float:
    if column not in rows.columns or rows[column].isna().all():
        return math.nan
    return float(rows[column].max())


def _summarize_trial(rows: pd.DataFrame, metric: str, direction: str,
                     history: list[str]) -> dict[str, Any]:
    rows = rows.sort_values("epoch", kind="stable")
    statuses = rows["status"].dropna().astype(str)
    status = "failed" if (statuses == "failed").any() else (
        statuses.iloc[-1] if len(statuses) else "unknown")
    values = rows[metric].dropna()
    if len(values):
        best_index = values.idxmin() if direction == "min" else values.idxmax()
        best, best_epoch = float(values[best_index]), float(rows.at[best_index, "epoch"])
    else:
        best, best_epoch = math.nan, math.nan
    recorded = rows[history].notna().any(axis=1)
    model_path = _first_present(rows, "model_name")
    error = _first_present(rows, "error")
    return {
        "status": status,
        metric: best,
        "best_epoch": best_epoch,
        "epochs_run": int(rows.loc[recorded, "epoch"].nunique()),
        "n_params": _largest(rows, "n_params"),
        "wall_time_s": _largest(rows, "wall_time_s"),
        "model_path": None if model_path is None else str(model_path),
        "error": None if error is None else str(error),
    }


def _rank(board: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    completed = board["status"] == "completed"
    # 0: completed with a value, 1: anything else that is not failed, 2: failed.
    group = (~(completed & board[metric].notna())).astype(int)
    group = group.where(board["status"] != "failed", 2)
    key = board[metric] if direction == "min" else -board[metric]
    ordered = board.assign(_group=group, _key=key).sort_values(
        ["_group", "_key", "trial_number", "subtrial_number"], kind="stable",
        na_position="last")
    return ordered.drop(columns=["_group", "_key"]).reset_index(drop=True)


def load_results(project_dir: str | os.PathLike[str], metric_to_rank_by: str | None = None,
                 direction: str | None = None, top: int | None = None) -> pd.DataFrame:
    """A leaderboard of the search in ``project_dir``: one row per trial, best first.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder (holding ``oracle.csv``).
    metric_to_rank_by : str, optional
        A history column of the oracle (e.g. ``"val_root_mean_squared_error"``); defaults to
        the one in ``search_config.json``.
    direction : {"min", "max"}, optional
        Whether smaller or larger values are better; defaults to the search config's
        direction (required when ranking by another metric than the configured one).
    top : int, optional
        Keep only the first ``top`` rows.

    Returns
    -------
    pandas.DataFrame
        Columns: ``trial_number``, ``subtrial_number``, ``status``, the metric (each trial's
        best value over its epochs), ``best_epoch`` (0-based), ``epochs_run`` (epochs with a
        recorded history), ``levels`` (dense levels including the final one), ``units``
        (non-input units), ``connections_vertical``, ``connections_lateral``,
        ``connections_gated`` (drawn connections in the saved plan, duplicates counted; NaN
        when the plan file is missing), ``n_params``, ``wall_time_s`` (the largest recorded
        for the trial), ``model_path`` and ``error``.  Completed trials come first, ranked by
        the metric; failed trials come last.  ``attrs`` holds ``"metric"``, ``"direction"``
        and ``"project_dir"``.

    Raises
    ------
    ValueError
        If ``project_dir`` has no ``oracle.csv``, the metric is unknown (the message lists the
        available columns), the direction is invalid or ``top`` is not a positive integer.
    """
    if top is not None and (isinstance(top, bool) or not isinstance(top, int) or top < 1):
        raise ValueError(f"top: got {top!r}; allowed: a positive integer or None.")
    project = Path(project_dir)
    history = load_history(project)
    metrics = history_columns(history)
    metric, direction = resolve_ranking(project, metric_to_rank_by, direction, metrics)
    rows = []
    for (trial, subtrial), trial_rows in history.groupby(["trial_number", "subtrial_number"],
                                                          sort=True, dropna=True):
        trial, subtrial = int(trial), int(subtrial)
        summary = _summarize_trial(trial_rows, metric, direction, metrics)
        rows.append({"trial_number": trial, "subtrial_number": subtrial, **summary,
                     **_plan_shape(project, trial, subtrial)})
    columns = ["trial_number", "subtrial_number", "status", metric, "best_epoch", "epochs_run",
               *_PLAN_COLUMNS, "n_params", "wall_time_s", "model_path", "error"]
    board = pd.DataFrame(rows, columns=columns)
    board = board.astype({"trial_number": "int64", "subtrial_number": "int64",
                          "epochs_run": "int64", metric: "float64", "best_epoch": "float64",
                          **dict.fromkeys(_PLAN_COLUMNS, "float64"),
                          "n_params": "float64", "wall_time_s": "float64"})
    board = _rank(board, metric, direction)
    if top is not None:
        board = board.head(top)
    board.attrs.update(metric=metric, direction=direction, project_dir=str(project))
    return board
