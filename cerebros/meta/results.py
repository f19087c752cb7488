"""The leaderboard of a meta-search: one row per meta-trial, read from its study.

A meta-search's project holds ``meta_search.json`` (written by
:class:`~cerebros.meta.MetaSearch`), which names the study and its storage, so
:func:`load_meta_results` needs only the project directory.  Optuna is imported only here
and only when a study is read; no TensorFlow.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd

from cerebros.checks import check_direction, check_int
from cerebros.meta import study as studies
from cerebros.meta.space import DIMENSIONS, SearchSpace

__all__ = ["meta_leaderboard", "load_meta_results", "is_meta_project", "read_meta_manifest"]

_STATE_ORDER = {"complete": 0, "pruned": 1, "running": 2, "waiting": 3, "fail": 4}
_STATE_NAMES = {"fail": "failed"}


def is_meta_project(project_dir: str | os.PathLike[str]) -> bool:
    """Whether ``project_dir`` holds a meta-search (its ``meta_search.json``)."""
    from cerebros.meta.metasearch import META_MANIFEST_NAME

    return (Path(project_dir) / META_MANIFEST_NAME).is_file()


def read_meta_manifest(project_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The content of ``meta_search.json``.

    Raises
    ------
    ValueError
        If the file is missing or is not a JSON object.
    """
    from cerebros.meta.metasearch import META_MANIFEST_NAME

    path = Path(project_dir) / META_MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"project_dir: {str(project_dir)!r} holds no {META_MANIFEST_NAME}; "
                         "expected the project of a meta-search (cerebros tune).") from None
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON ({error}).") from None
    if not isinstance(manifest, dict):
        raise ValueError(f"{path} must hold a JSON object.")
    return manifest


def meta_leaderboard(study: Any, space: SearchSpace, metric: str, top: int | None = None
                     ) -> pd.DataFrame:
    """One row per meta-trial of ``study``, best first.

    Columns: ``meta_trial`` (its number; the inner search is in ``meta_trial_<number>/``),
    ``state`` (complete, pruned, running, waiting: to be resumed, or failed), the metric
    (the inner search's best value; for a pruned meta-trial the best when it was stopped),
    ``inner_trials`` (run so far), ``attempts`` (1 plus the times it was resumed), ``origin``
    ("start point": settings the meta-search asked to try, see ``start_from``; "sampled":
    drawn by the sampler), one column
    per argument of each tuned dimension, ``wall_time_s`` (of its last attempt), ``trial``
    (the Optuna trial of its last attempt) and ``error``.  Completed meta-trials come first,
    best first, then pruned ones, then the rest.  ``attrs`` holds ``metric``, ``direction``,
    ``study_name`` and ``curves`` (meta-trial -> list of (inner trials, best so far)).
    """
    if top is not None:
        check_int("top", top, 1)
    direction = check_direction(study.direction.name.lower())
    trials = study.get_trials(deepcopy=False)
    attempts: dict[int, int] = {}
    for trial in trials:
        attempts[studies.meta_number(trial)] = attempts.get(studies.meta_number(trial), 0) + 1
    tuned = [a for name in space.tuned() for a in DIMENSIONS[name].arguments]
    rows, curves = [], {}
    for trial in trials:
        if not studies.counted(trial):
            continue
        number = studies.meta_number(trial)
        state = trial.state.name.lower()
        value = trial.value if trial.value is not None else (
            trial.intermediate_values[max(trial.intermediate_values)]
            if trial.intermediate_values else math.nan)
        try:
            settings = space.arguments_of(trial.params)
        except ValueError:  # not sampled yet (a waiting retry of an attempt stopped early)
            settings = {}
        start, end = trial.datetime_start, trial.datetime_complete
        rows.append({
            "meta_trial": number, "state": _STATE_NAMES.get(state, state), metric: value,
            "inner_trials": int(trial.user_attrs.get(studies.INNER_TRIALS, 0)),
            "attempts": attempts[number],
            "origin": "start point" if studies.START_POINT in trial.user_attrs else "sampled",
            **{argument: settings.get(argument) for argument in tuned},
            "wall_time_s": (end - start).total_seconds() if start and end else math.nan,
            "trial": trial.number, "error": trial.user_attrs.get(studies.ERROR),
            "_order": _STATE_ORDER.get(state, 5),
        })
        curves[number] = sorted(trial.intermediate_values.items())
    columns = ["meta_trial", "state", metric, "inner_trials", "attempts", "origin", *tuned,
               "wall_time_s", "trial", "error"]
    board = pd.DataFrame(rows, columns=[*columns, "_order"])
    key = board[metric] if direction == "minimize" else -board[metric]
    board = (board.assign(_key=key)
             .sort_values(["_order", "_key", "meta_trial"], kind="stable", na_position="last")
             .drop(columns=["_order", "_key"]).reset_index(drop=True))
    board["meta_trial"] = board["meta_trial"].astype("int64")
    if top is not None:
        board = board.head(top)
    board.attrs.update(metric=metric, direction=direction, study_name=study.study_name,
                       curves=curves)
    return board


def load_meta_results(project_dir: str | os.PathLike[str], storage: str | None = None,
                      top: int | None = None) -> pd.DataFrame:
    """The leaderboard (:func:`meta_leaderboard`) of the meta-search in ``project_dir``.

    Parameters
    ----------
    project_dir : str or path-like
        The meta-search's project (with ``meta_search.json``).
    storage : str, optional
        The study's SQLAlchemy URL; needed when it holds a password (``meta_search.json``
        keeps the URL with its password masked).  Default: the one the meta-search used.

    Raises
    ------
    ValueError
        If ``project_dir`` is not a meta-search's project, the storage cannot be opened or
        holds no such study.
    """
    from cerebros.meta.metasearch import default_storage

    manifest = read_meta_manifest(project_dir)
    url = storage or manifest.get("storage") or default_storage(project_dir)
    if "***" in url:
        raise ValueError(f"storage: {url!r} has a masked password; pass the study's storage "
                         "URL (cerebros show --storage URL).")
    opened = studies.open_storage(url)
    study = studies.open_study(opened, manifest["study_name"], manifest["direction"], None,
                               create=False)
    board = meta_leaderboard(study, SearchSpace(manifest["space"]),
                             manifest["metric_to_rank_by"], top=top)
    board.attrs["project_dir"] = str(project_dir)
    return board
