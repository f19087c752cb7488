"""The one ranking of trials: from the oracle's epoch rows to one row per trial, best first.

Every consumer (the search's best model, ``results_summary``, ``load_results``, the CLI,
the plots) ranks through :func:`rank_trials`, so "best value", "best epoch" and "epochs
run" mean the same everywhere:

* a trial's **best value** is the best of ``metric`` over its epochs (NaN epochs ignored;
  NaN when it has none), its **best epoch** the 0-based epoch holding it (the earliest on
  ties);
* **epochs run** counts the epochs with some recorded history value;
* completed trials with a value come first, best first; then other trials without a value;
  failed trials last; ties go by trial and subtrial number.

Pure pandas: no Keras, no files.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from cerebros.checks import check_direction
from cerebros.oracle import COMPLETED, FAILED, TRIAL_COLUMNS

__all__ = ["SUMMARY_COLUMNS", "history_columns", "rank_trials", "direction_mismatch"]

SUMMARY_COLUMNS = ("trial_number", "subtrial_number", "status", "best_value", "best_epoch",
                   "epochs_run", "n_params", "wall_time_s", "model_name", "error", "generation",
                   "parent_trial", "parent_subtrial", "attempt")


_HIGHER_IS_BETTER = ("accuracy", "auc", "precision", "recall", "f1_score", "fbeta_score",
                     "r2_score", "iou")
_LOWER_IS_BETTER = ("loss", "error", "crossentropy", "hinge", "logcosh", "huber",
                    "divergence", "poisson")


def direction_mismatch(metric: str, direction: str) -> str | None:
    """A sentence saying that ``direction`` ranks ``metric`` worst first, when the metric's
    name says which way is better (``val_accuracy``: larger; ``val_loss``, ``*_error``:
    smaller) and ``direction`` says the other; None otherwise (unknown names included)."""
    name = metric.lower().removeprefix("val_")
    higher = any(word in name for word in _HIGHER_IS_BETTER)
    lower = any(word in name for word in _LOWER_IS_BETTER)
    if higher == lower:
        return None
    wanted = "maximize" if higher else "minimize"
    if check_direction(direction) == wanted:
        return None
    return (f"direction={direction!r} ranks the {'smallest' if higher else 'largest'} "
            f"{metric} first, but {'larger' if higher else 'smaller'} is better for it: the "
            f"search would return its worst model. Pass direction={wanted!r}.")


def history_columns(frame: pd.DataFrame) -> list[str]:
    """The oracle's Keras history columns (``loss``, ``val_loss``, ...), in file order."""
    return [c for c in frame.columns if c not in TRIAL_COLUMNS]


def _largest(column: pd.Series) -> float:
    values = pd.to_numeric(column, errors="coerce").astype("float64").dropna()
    return float(values.max()) if len(values) else math.nan


def _first_int(rows: pd.DataFrame, column: str) -> Any:
    values = rows[column].dropna() if column in rows.columns else ()
    return int(values.iloc[0]) if len(values) else pd.NA


def _summarize(rows: pd.DataFrame, metric: str, direction: str,
               history: list[str]) -> dict[str, Any]:
    rows = rows.sort_values("epoch", kind="stable")
    statuses = rows["status"].dropna().astype(str)
    status = FAILED if (statuses == FAILED).any() else (
        statuses.iloc[-1] if len(statuses) else "unknown")
    values = pd.to_numeric(rows[metric], errors="coerce").dropna()
    if len(values):
        index = values.idxmin() if direction == "minimize" else values.idxmax()
        best, best_epoch = float(values[index]), float(rows.at[index, "epoch"])
    else:
        best, best_epoch = math.nan, math.nan
    recorded = rows[history].notna().any(axis=1) if history else pd.Series(False, rows.index)
    first = rows.iloc[0]
    return {
        "trial_number": int(first["trial_number"]),
        "subtrial_number": int(first["subtrial_number"]),
        "status": status, "best_value": best, "best_epoch": best_epoch,
        "epochs_run": int(rows.loc[recorded, "epoch"].nunique()),
        "n_params": _largest(rows["n_params"]),
        "wall_time_s": _largest(rows["wall_time_s"]),
        "model_name": first["model_name"],
        "error": first["error"],
        **{column: _first_int(rows, column)
           for column in ("generation", "parent_trial", "parent_subtrial", "attempt")},
    }


def rank_trials(frame: pd.DataFrame, metric: str, direction: str) -> pd.DataFrame:
    """One row per (trial, subtrial) of the oracle rows ``frame``, best first.

    Parameters
    ----------
    frame : pandas.DataFrame
        The oracle's rows (:meth:`cerebros.oracle.Oracle.read`).
    metric : str
        A history column, e.g. ``"val_root_mean_squared_error"``.
    direction : str
        ``"minimize"``/``"min"`` or ``"maximize"``/``"max"``.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SUMMARY_COLUMNS`, ranked as the module docstring says.

    Raises
    ------
    ValueError
        If ``direction`` is not allowed, or the oracle has history columns and ``metric``
        is not one of them (the message lists them).  An oracle whose trials all failed
        before their first epoch has no history columns: every best value is then NaN.
    """
    direction = check_direction(direction)
    history = history_columns(frame)
    if metric not in frame.columns:
        if history:
            raise ValueError(f"metric must be a column of the oracle; got {metric!r}; "
                             f"available: {history}.")
        frame = frame.assign(**{metric: math.nan})
    summaries = [_summarize(rows, metric, direction, history)
                 for _, rows in frame.groupby(["trial_number", "subtrial_number"], sort=True)]
    table = pd.DataFrame(summaries, columns=list(SUMMARY_COLUMNS)).astype(
        {"trial_number": "int64", "subtrial_number": "int64", "epochs_run": "int64",
         "best_value": "float64", "best_epoch": "float64", "n_params": "float64",
         "wall_time_s": "float64", "generation": "Int64", "parent_trial": "Int64",
         "parent_subtrial": "Int64", "attempt": "Int64"})
    group = (~((table["status"] == COMPLETED) & table["best_value"].notna())).astype(int)
    group = group.where(table["status"] != FAILED, 2)
    key = table["best_value"] if direction == "minimize" else -table["best_value"]
    ranked = table.assign(_group=group, _key=key).sort_values(
        ["_group", "_key", "trial_number", "subtrial_number"], kind="stable", na_position="last")
    return ranked.drop(columns=["_group", "_key"]).reset_index(drop=True)
