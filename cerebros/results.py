"""Leaderboards of a finished (or running) search, read from its project folder.

The oracle (``project_dir/oracle.csv``, read by :class:`~cerebros.oracle.Oracle`) holds
one row per epoch per trial; :func:`cerebros.ranking.rank_trials` folds those rows into one
row per trial, best first, and this module adds the shape of each trial's saved wiring plan
(``model_architectures/*.json``).  It never touches Keras.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path

import pandas as pd

from cerebros.checks import check_direction, check_int
from cerebros.oracle import Oracle
from cerebros.project import ORACLE_NAME, ProjectDir
from cerebros.ranking import history_columns, rank_trials
from cerebros.wiring import WiringPlan

__all__ = ["load_results", "load_history", "history_columns", "resolve_ranking"]

logger = logging.getLogger(__name__)

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
        The oracle's rows, typed as :meth:`cerebros.oracle.Oracle.read` gives them.

    Raises
    ------
    ValueError
        If ``project_dir`` holds no ``oracle.csv`` or the file lacks a required column.
    """
    if not (Path(project_dir) / ORACLE_NAME).is_file():
        raise ValueError(f"project_dir: {str(project_dir)!r} holds no {ORACLE_NAME}; expected "
                         "the project folder of a Cerebros search.")
    return Oracle(project_dir).read()


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
        Column to rank by; must be one of ``available``, unless that is empty (every trial
        failed before its first epoch, so no metric was recorded yet): then any metric is
        accepted, and every trial's value is NaN, so that the failed trials and their errors
        can still be listed.
    direction : {"minimize", "maximize"} (or "min", "max") or None
        Whether smaller or larger values are better.
    available : list of str
        The metric columns present in the oracle.

    Returns
    -------
    tuple of (str, str)
        The metric and the direction (``"minimize"`` or ``"maximize"``).

    Raises
    ------
    ValueError
        If either cannot be determined, the metric is not available or the direction is
        not one of the allowed values.
    """
    config = ProjectDir(project_dir).read_manifest() or {}
    configured_metric = config.get("metric_to_rank_by")
    if metric is None:
        if configured_metric is None:
            raise ValueError(f"metric_to_rank_by: not given and no 'metric_to_rank_by' in "
                             f"the search's manifest; pass one of {available}.")
        metric = str(configured_metric)
    if available and metric not in available:
        raise ValueError(f"metric_to_rank_by must be a column of {ORACLE_NAME}, one of "
                         f"{available}; got {metric!r}.")
    if direction is None:
        if metric != configured_metric or config.get("direction") is None:
            raise ValueError(f"direction: needed to rank by {metric!r} (the search config does "
                             "not give one for this metric); pass 'minimize' or 'maximize'.")
        return metric, check_direction(config["direction"])
    return metric, check_direction(direction)


def _plan_shape(project: ProjectDir, trial: int, subtrial: int) -> dict[str, float]:
    path = project.architecture_path(trial, subtrial)
    shape = dict.fromkeys(_PLAN_COLUMNS, math.nan)
    if not path.is_file():
        return shape
    try:
        plan = WiringPlan.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError) as error:
        logger.warning("could not read the plan %s (%s); its counts are left as NaN", path, error)
        return shape
    counts = plan.counts()
    shape.update(levels=plan.n_levels - 1, units=sum(len(level) for level in plan.widths[1:]),
                 connections_vertical=counts["vertical"], connections_lateral=counts["lateral"],
                 connections_gated=counts["gated"])
    return shape


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
    direction : {"minimize", "maximize"} (or "min", "max"), optional
        Whether smaller or larger values are better; defaults to the search config's
        direction (required when ranking by another metric than the configured one).
    top : int, optional
        Keep only the first ``top`` rows.

    Returns
    -------
    pandas.DataFrame
        Columns: ``trial_number``, ``subtrial_number``, ``status``, the metric, ``best_epoch``
        and ``epochs_run`` (as :func:`cerebros.ranking.rank_trials` defines them), ``levels`` (dense levels including the final one), ``units``
        (non-input units), ``connections_vertical``, ``connections_lateral``,
        ``connections_gated`` (drawn connections in the saved plan, duplicates counted; NaN
        when the plan file is missing), ``n_params``, ``wall_time_s`` (the largest recorded
        for the trial), ``generation``, ``parent_trial`` and ``parent_subtrial`` (which trial a
        bred trial was mutated from), ``attempt`` (2 for a trial retried after a transient
        failure), ``model_path`` and ``error``, ranked by ``rank_trials``.  ``attrs``
        holds ``"metric"``, ``"direction"`` (``"minimize"``/``"maximize"``) and
        ``"project_dir"``.

    Raises
    ------
    ValueError
        If ``project_dir`` has no ``oracle.csv``, the metric is unknown (the message lists the
        available columns), the direction is invalid or ``top`` is not a positive integer.
    """
    if top is not None:
        check_int("top", top, 1)
    history = load_history(project_dir)
    metric, direction = resolve_ranking(project_dir, metric_to_rank_by, direction,
                                        history_columns(history))
    board = rank_trials(history, metric, direction).rename(
        columns={"best_value": metric, "model_name": "model_path"})
    project = ProjectDir(project_dir)
    shapes = pd.DataFrame([_plan_shape(project, int(t), int(s)) for t, s in
                           zip(board["trial_number"], board["subtrial_number"])],
                          columns=list(_PLAN_COLUMNS), dtype="float64")
    board = pd.concat([board, shapes], axis=1)
    # The model file under project_dir as it is now (moved, copied, or named relative to
    # another folder), not the path the trial recorded; None where there is none (a failed
    # trial's, a deleted one).
    located = ProjectDir(Path(project_dir).resolve())
    paths = [located.model_path(int(t), int(s))
             for t, s in zip(board["trial_number"], board["subtrial_number"])]
    board["model_path"] = [str(path) if path.is_file() else None for path in paths]
    board["error"] = board["error"].astype(object).where(board["error"] != "")
    board = board[["trial_number", "subtrial_number", "status", metric, "best_epoch",
                   "epochs_run", *_PLAN_COLUMNS, "n_params", "wall_time_s", "generation",
                   "parent_trial", "parent_subtrial", "attempt", "model_path", "error"]]
    if top is not None:
        board = board.head(top)
    board.attrs.update(metric=metric, direction=direction, project_dir=str(project_dir))
    return board
