"""Leaderboards (cerebros.results) and plots (cerebros.plots) of a hand-built project folder."""

from __future__ import annotations

import json
import math
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebros.config import WiringConfig
from cerebros.results import load_history, load_results
from cerebros.spec import NetworkSpec
from cerebros.wiring import WiringPlan, plan_wiring

METRIC = "val_root_mean_squared_error"

# (trial, subtrial) -> per-epoch validation RMSE; training RMSE is 1.5 x that, losses squares.
CURVES = {
    (0, 0): [5.0, 3.0, 3.5],
    (1, 0): [4.0, 2.5, 2.0, 2.2],
    (3, 0): [9.0, 8.0],
    (3, 1): [7.5],
    (4, 0): [2.8, 4.0],
}
FAILED = (2, 0)
NO_PLAN = (4, 0)
SPECS = {
    (0, 0): ((5,), (4, 3, 2), (2, 2), (1,)),
    (1, 0): ((5,), (6, 2), (1,)),
    (2, 0): ((5,), (3,), (3, 3, 3), (1,)),
    (3, 0): ((5, 2), (4, 4), (1,)),
    (3, 1): ((5, 2), (3, 2, 2, 2), (2,), (1,)),
}
WIRING = WiringConfig(p_lateral_connection=0.9, num_lateral_connection_tries_per_unit=3,
                      gate_after_n_lateral_connections=2)
HISTORY = ["loss", "root_mean_squared_error", "val_loss", METRIC]


def stem(trial: int, subtrial: int) -> str:
    return f"tr_{trial:016d}_subtrial_{subtrial:016d}"


def _row(trial: int, subtrial: int, epoch: float, status: str, values: dict, error="") -> dict:
    return {**values, "trial_number": trial, "subtrial_number": subtrial,
            "model_name": f"models/{stem(trial, subtrial)}.keras", "epoch": epoch,
            "status": status, "started_at": "2025-01-01T00:00:00+00:00",
            "ended_at": "2025-01-01T00:01:00+00:00", "wall_time_s": 10.0 + trial + subtrial,
            "n_params": 100 * (trial + 1) + subtrial, "error": error}


def build_project(root: Path, config: dict | None = None) -> dict[tuple[int, int], WiringPlan]:
    """A project folder as a search leaves it; returns the plans that were saved."""
    rows = []
    for (trial, subtrial), curve in CURVES.items():
        for epoch, val in enumerate(curve):
            train = 1.5 * val
            rows.append(_row(trial, subtrial, epoch, "completed",
                             {"loss": train ** 2, "root_mean_squared_error": train,
                              "val_loss": val ** 2, METRIC: val}))
    # As the oracle writes a trial that failed before its first epoch: NaN epoch and metrics.
    rows.append(_row(*FAILED, math.nan, "failed", dict.fromkeys(HISTORY, math.nan),
                     error="ValueError: the model diverged"))
    root.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=[*HISTORY, *_row(0, 0, 0, "", {}).keys()]).to_csv(
        root / "oracle.csv", index=False)
    plans = {}
    (root / "model_architectures").mkdir()
    for seed, (key, widths) in enumerate(SPECS.items()):
        plan = plan_wiring(NetworkSpec(widths), WIRING, np.random.default_rng(seed))
        (root / "model_architectures" / f"{stem(*key)}.json").write_text(
            json.dumps({**plan.to_dict(), "name": stem(*key)}))
        plans[key] = plan
    search_config = {"metric_to_rank_by": METRIC, "direction": "min", "epochs": 4}
    (root / "search_config.json").write_text(json.dumps(config or search_config))
    return plans


@pytest.fixture
def project(tmp_path: Path) -> Path:
    build_project(tmp_path / "project")
    return tmp_path / "project"


def keys(board: pd.DataFrame) -> list[tuple[int, int]]:
    return list(zip(board["trial_number"].tolist(), board["subtrial_number"].tolist()))


# ---------------------------------------------------------------- leaderboard

def test_leaderboard_ranks_by_the_configured_metric_lowest_first(project):
    board = load_results(project)
    assert keys(board) == [(1, 0), (4, 0), (0, 0), (3, 1), (3, 0), (2, 0)]
    assert board[METRIC].iloc[:5].tolist() == [2.0, 2.8, 3.0, 7.5, 8.0]
    assert board["best_epoch"].iloc[:5].tolist() == [2, 0, 1, 0, 1]
    assert board["epochs_run"].tolist() == [4, 2, 3, 1, 2, 0]
    assert board.attrs == {"metric": METRIC, "direction": "minimize", "project_dir": str(project)}
    assert list(board.columns[:6]) == ["trial_number", "subtrial_number", "status", METRIC,
                                       "best_epoch", "epochs_run"]


def test_leaderboard_for_max_takes_each_trials_largest_value_and_keeps_failed_last(project):
    board = load_results(project, METRIC, "max")
    # Trials 1 and 4 tie at 4.0: the lower trial number comes first.
    assert keys(board) == [(3, 0), (3, 1), (0, 0), (1, 0), (4, 0), (2, 0)]
    assert board[METRIC].iloc[:5].tolist() == [9.0, 7.5, 5.0, 4.0, 4.0]
    assert board["best_epoch"].iloc[:5].tolist() == [0, 0, 0, 0, 1]


def test_another_metric_with_explicit_direction(project):
    board = load_results(project, "loss", "maximize")
    assert board.attrs["direction"] == "maximize"
    assert board["loss"].iloc[0] == pytest.approx((1.5 * 9.0) ** 2)


def test_failed_trial_is_last_with_no_metric_and_keeps_its_error(project):
    board = load_results(project, top=None)
    failed = board.iloc[-1]
    assert (failed["trial_number"], failed["status"]) == (2, "failed")
    assert math.isnan(failed[METRIC]) and math.isnan(failed["best_epoch"])
    assert failed["error"] == "ValueError: the model diverged"
    assert set(board["status"].iloc[:-1]) == {"completed"}


def test_plan_counts_match_the_saved_plans(tmp_path):
    plans = build_project(tmp_path)
    board = load_results(tmp_path).set_index(["trial_number", "subtrial_number"])
    assert sum(plan.counts()["gated"] for plan in plans.values()) > 0
    for key, plan in plans.items():
        row = board.loc[key]
        counts = plan.counts()
        assert row["levels"] == len(plan.widths) - 1
        assert row["units"] == sum(len(level) for level in plan.widths[1:])
        assert row["connections_vertical"] == counts["vertical"]
        assert row["connections_lateral"] == counts["lateral"]
        assert row["connections_gated"] == counts["gated"]
    missing = board.loc[NO_PLAN]
    assert all(math.isnan(missing[c]) for c in ("levels", "units", "connections_vertical",
                                                 "connections_lateral", "connections_gated"))


def test_model_paths_are_the_files_under_the_folder_read_wherever_it_was_trained(
        project, tmp_path, monkeypatch):
    (project / "models").mkdir(exist_ok=True)
    (project / "models" / f"{stem(3, 1)}.keras").write_bytes(b"model")
    moved = tmp_path / "moved copy ü"
    shutil.copytree(project, moved)
    monkeypatch.chdir(tmp_path)
    board = load_results("moved copy ü").set_index(["trial_number", "subtrial_number"])
    assert board.loc[(3, 1), "model_path"] == str(moved / "models" / f"{stem(3, 1)}.keras"), \
        "absolute, in the folder read, not the recorded relative path"
    assert pd.isna(board.loc[(1, 0), "model_path"]), "no file: recorded, but not there"
    assert pd.isna(board.loc[FAILED, "model_path"])


def test_bookkeeping_columns_are_carried_per_trial(project):
    row = load_results(project).set_index(["trial_number", "subtrial_number"]).loc[(3, 1)]
    assert row["n_params"] == 401
    assert row["wall_time_s"] == 14.0
    assert pd.isna(row["error"])
    assert row["attempt"] == 1, "files written before the attempt column read as first attempts"


def test_top_keeps_the_best_rows(project):
    assert keys(load_results(project, top=2)) == [(1, 0), (4, 0)]


def test_unknown_metric_lists_the_available_columns(project):
    with pytest.raises(ValueError, match="metric_to_rank_by") as raised:
        load_results(project, "val_accuracy", "max")
    for column in HISTORY:
        assert column in str(raised.value)
    assert "trial_number" not in str(raised.value)


def test_a_project_whose_every_trial_failed_before_its_first_epoch_lists_their_errors(
        tmp_path):
    # As the oracle writes it then: no metric column at all, only the trial columns.
    rows = [_row(t, 0, math.nan, "failed", {}, error=f"RuntimeError: boom {t}") for t in (0, 1)]
    pd.DataFrame(rows).to_csv(tmp_path / "oracle.csv", index=False)
    (tmp_path / "search_config.json").write_text(
        json.dumps({"metric_to_rank_by": METRIC, "direction": "min"}))
    board = load_results(tmp_path)
    assert keys(board) == [(0, 0), (1, 0)]
    assert board["status"].tolist() == ["failed", "failed"]
    assert board[METRIC].isna().all() and board["epochs_run"].tolist() == [0, 0]
    assert board["error"].tolist() == ["RuntimeError: boom 0", "RuntimeError: boom 1"]
    assert board.attrs["metric"] == METRIC


def test_missing_oracle_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="project_dir.*oracle.csv"):
        load_results(tmp_path)


@pytest.mark.parametrize("kwargs, match", [
    ({"direction": "down"}, "direction must be one of .*; got 'down'"),
    ({"metric_to_rank_by": "loss"}, "direction: needed"),
    ({"top": 0}, "top must be an int >= 1; got 0"),
    ({"top": 1.5}, "top must be an int >= 1; got 1.5"),
])
def test_bad_arguments_are_rejected(project, kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_results(project, **kwargs)


def test_without_search_config_the_metric_must_be_given(project):
    (project / "search_config.json").unlink()
    with pytest.raises(ValueError, match="metric_to_rank_by: not given"):
        load_results(project)
    assert keys(load_results(project, METRIC, "min"))[0] == (1, 0)


def test_history_is_numeric_even_with_unparseable_cells(project):
    oracle = pd.read_csv(project / "oracle.csv")
    oracle[METRIC] = oracle[METRIC].astype(object)
    oracle.loc[oracle["trial_number"] == 1, METRIC] = "oops"
    oracle.to_csv(project / "oracle.csv", index=False)
    assert pd.api.types.is_float_dtype(load_history(project)[METRIC])
    board = load_results(project)
    row = board.set_index(["trial_number", "subtrial_number"]).loc[(1, 0)]
    assert math.isnan(row[METRIC]) and row["status"] == "completed"
    assert keys(board)[-2:] == [(1, 0), (2, 0)]


# ---------------------------------------------------------------------- plots

def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_write_plots_writes_two_plausible_pngs(project):
    pytest.importorskip("matplotlib")
    from cerebros.plots import write_plots

    paths = write_plots(project)
    assert paths == [project / "search_progress.png", project / "learning_curves.png"]
    for path in paths:
        assert path.stat().st_size > 10_000
        assert png_size(path) == (800, 500)
    assert not [p for p in project.iterdir() if p.name.endswith(".tmp") or p.name.startswith(".")]


def test_search_progress_draws_every_scored_trial_and_the_best_so_far(project):
    pytest.importorskip("matplotlib")
    from cerebros.plots import plot_search_progress

    figure = plot_search_progress(project)
    (axes,) = figure.axes
    (scatter,) = axes.collections
    assert len(scatter.get_offsets()) == len(CURVES)
    (best,) = axes.lines
    # Trials in order 0, 1, 3.0, 3.1, 4 have bests 3, 2, 8, 7.5, 2.8: best so far 3, 2, 2, 2, 2.
    assert list(best.get_ydata()) == [3.0, 2.0, 2.0, 2.0, 2.0]
    assert axes.get_ylabel() == METRIC
    assert (project / "search_progress.png").is_file()


def test_search_progress_from_a_leaderboard_saves_only_when_asked(project, tmp_path):
    pytest.importorskip("matplotlib")
    from cerebros.plots import plot_search_progress

    board = load_results(project, METRIC, "max")
    figure = plot_search_progress(board)
    assert list(figure.axes[0].lines[0].get_ydata()) == [5.0, 5.0, 9.0, 9.0, 9.0]
    assert not (project / "search_progress.png").exists()
    plot_search_progress(board, path=tmp_path / "out" / "progress.png")
    assert png_size(tmp_path / "out" / "progress.png") == (800, 500)
    with pytest.raises(ValueError, match="metric"):
        plot_search_progress(pd.DataFrame(board.to_dict("list")))


def test_learning_curves_draw_train_and_val_of_the_top_trials(project):
    pytest.importorskip("matplotlib")
    from cerebros.plots import plot_learning_curves

    figure = plot_learning_curves(project, top=3)
    (axes,) = figure.axes
    labels = [line.get_label() for line in axes.lines]
    assert labels == [f"trial {t}.0 {role}" for t in (1, 4, 0) for role in ("train", "val")]
    val = axes.lines[1]
    assert list(val.get_xdata()) == [0, 1, 2, 3]
    assert list(val.get_ydata()) == CURVES[(1, 0)]
    assert (project / "learning_curves.png").stat().st_size > 10_000


def test_learning_curves_of_a_train_metric_and_bad_top(project):
    pytest.importorskip("matplotlib")
    from cerebros.plots import plot_learning_curves

    figure = plot_learning_curves(project, top=10, metric="loss", direction="min",
                                  path=project / "loss.png")
    assert len(figure.axes[0].lines) == 2 * len(CURVES)
    assert (project / "loss.png").is_file()
    with pytest.raises(ValueError, match="top"):
        plot_learning_curves(project, top=0)


def test_missing_matplotlib_names_the_extra(project, monkeypatch):
    from cerebros.plots import plot_search_progress

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r"pip install 'cerebros\[plots\]'"):
        plot_search_progress(project)
