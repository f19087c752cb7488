"""Tests of the oracle CSV and the project directory, on real files and real processes."""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebros.checks import check_direction
from cerebros.oracle import COMPLETED, FAILED, TRIAL_COLUMNS, Oracle, TrialRecord, now_iso
from cerebros import cli
from cerebros.ranking import SUMMARY_COLUMNS, rank_trials
from cerebros.project import (DRAWN_NAMES, ProjectDir, ProjectMismatchError, read_unit_weights,
                              trial_stem, write_bytes_atomic, write_json_atomic,
                              write_unit_weights)

REPO_ROOT = Path(__file__).resolve().parents[1]


def make_record(trial, subtrial=0, status=COMPLETED, epochs=3, error="", **history):
    if not history and epochs:
        history = {
            "loss": [10.0 * trial + epoch for epoch in range(epochs)],
            "val_loss": [10.0 * trial + epoch + 0.5 for epoch in range(epochs)],
        }
    return TrialRecord(
        trial_number=trial,
        subtrial_number=subtrial,
        model_name=f"proj/models/{trial_stem(trial, subtrial)}.keras",
        status=status,
        started_at=now_iso(),
        ended_at=now_iso(),
        wall_time_s=1.25,
        n_params=123 if status == COMPLETED else None,
        error=error,
        history=history,
    )


# ---------------------------------------------------------------- rows and reading


def test_rows_round_trip_one_row_per_epoch(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, epochs=4))
    oracle.record(make_record(1, subtrial=2, epochs=2))

    frame = oracle.read()
    assert list(frame.columns) == ["loss", "val_loss", *TRIAL_COLUMNS]
    assert len(frame) == 6
    first = frame[frame["trial_number"] == 0]
    assert first["epoch"].tolist() == [0, 1, 2, 3]
    assert first["loss"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert set(first["model_name"]) == {f"proj/models/{trial_stem(0, 0)}.keras"}
    assert (frame["status"] == COMPLETED).all()
    assert (frame["error"] == "").all()
    assert frame["n_params"].tolist() == [123] * 6
    assert oracle.finished() == {(0, 0), (1, 2)}


def test_plain_read_csv_sees_the_original_columns(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(3, epochs=2))
    plain = pd.read_csv(oracle.path)
    for column in ("loss", "val_loss", "trial_number", "subtrial_number", "model_name"):
        assert column in plain.columns
    assert plain["trial_number"].tolist() == [3, 3]
    assert plain["val_loss"].tolist() == [30.5, 31.5]


def test_read_gives_pandas_string_dtypes(tmp_path):
    oracle = Oracle(tmp_path)
    empty = oracle.read()
    assert list(empty.columns) == list(TRIAL_COLUMNS) and empty.empty
    oracle.record(make_record(0))
    frame = oracle.read()
    for column in ("model_name", "status", "started_at", "ended_at", "error"):
        assert pd.api.types.is_string_dtype(frame[column]), column
    assert frame["trial_number"].dtype == "int64"
    assert pd.api.types.is_float_dtype(frame["loss"])
    assert pd.Timestamp(frame["started_at"].iloc[0]).tzinfo is not None


def test_floats_are_stored_exactly(tmp_path):
    oracle = Oracle(tmp_path)
    values = [0.1 + 0.2, 1 / 3, 123456.78901234567, 1e-300]
    oracle.record(make_record(0, loss=values))
    assert oracle.read()["loss"].tolist() == values


def test_failed_trial_without_epochs_has_one_row(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0))
    message = 'ValueError: bad shape, "x"\nsecond line'
    oracle.record(make_record(1, status=FAILED, epochs=0, error=message))

    rows = oracle.read().query("trial_number == 1")
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["status"] == FAILED
    assert row["error"] == message
    assert math.isnan(row["loss"]) and math.isnan(row["val_loss"])
    assert pd.isna(row["epoch"]) and pd.isna(row["n_params"])


def test_failed_trial_keeps_the_epochs_that_ran(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, status=FAILED, epochs=2, error="OOM"))
    frame = oracle.read()
    assert frame["epoch"].tolist() == [0, 1]
    assert set(frame["status"]) == {FAILED} and set(frame["error"]) == {"OOM"}
    assert oracle.finished() == {(0, 0)}
    assert not (oracle.read()["status"] == COMPLETED).any()


def test_new_history_columns_are_added_before_the_bookkeeping(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, loss=[1.0]))
    oracle.record(make_record(1, loss=[2.0], val_auc=[0.9]))
    frame = oracle.read()
    assert list(frame.columns) == ["loss", "val_auc", *TRIAL_COLUMNS]
    assert math.isnan(frame["val_auc"].iloc[0]) and frame["val_auc"].iloc[1] == 0.9


def test_duplicate_trial_is_refused_and_file_unchanged(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, subtrial=1))
    before = oracle.path.read_bytes()
    with pytest.raises(ValueError, match="trial 0 subtrial 1 is already recorded"):
        oracle.record(make_record(0, subtrial=1, status=FAILED, error="x"))
    assert oracle.path.read_bytes() == before
    oracle.record(make_record(0, subtrial=2))
    assert oracle.finished() == {(0, 1), (0, 2)}


@pytest.mark.parametrize("changes, message", [
    ({"status": "running"}, "status"),
    ({"trial_number": -1}, "trial_number"),
    ({"subtrial_number": 1.0}, "subtrial_number"),
    ({"n_params": -3}, "n_params"),
    ({"history": {"epoch": [1.0]}}, "history"),
])
def test_trial_record_validates(changes, message):
    arguments = dict(trial_number=0, subtrial_number=0, model_name="m", status=COMPLETED,
                     started_at="", ended_at="", wall_time_s=0.0)
    arguments.update(changes)
    with pytest.raises(ValueError, match=message):
        TrialRecord(**arguments)


def test_record_refuses_other_objects(tmp_path):
    with pytest.raises(ValueError, match="TrialRecord"):
        Oracle(tmp_path).record({"trial_number": 0})


# ---------------------------------------------------------------- ranking


@pytest.mark.parametrize("alias, expected", [
    ("min", "minimize"), ("minimize", "minimize"), ("MAX", "maximize"), ("maximize", "maximize")])
def test_check_direction(alias, expected):
    assert check_direction(alias) == expected


@pytest.mark.parametrize("bad", ["up", "", None, 1])
def test_check_direction_refuses(bad):
    with pytest.raises(ValueError, match="direction must be one of"):
        check_direction(bad)


def ranked_oracle(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, val_rmse=[5.0, 3.0, 4.0]))
    oracle.record(make_record(1, val_rmse=[math.nan, 2.5, 7.0]))
    oracle.record(make_record(2, status=FAILED, error="diverged", val_rmse=[0.1, 99.0]))
    oracle.record(make_record(3, val_rmse=[math.nan]))
    return oracle


def ranked(oracle, metric, direction):
    return rank_trials(oracle.read(), metric, direction)


def test_rank_minimize_ignores_failed_and_nan(tmp_path):
    best = ranked(ranked_oracle(tmp_path), "val_rmse", "min").iloc[0]
    assert (best["trial_number"], best["best_value"], best["best_epoch"]) == (1, 2.5, 1)


def test_rank_maximize_ignores_failed(tmp_path):
    best = ranked(ranked_oracle(tmp_path), "val_rmse", "maximize").iloc[0]
    assert (best["trial_number"], best["best_value"], best["best_epoch"]) == (1, 7.0, 2)


def test_rank_has_no_value_when_nothing_completed(tmp_path):
    oracle = Oracle(tmp_path)
    assert ranked(oracle, "val_loss", "min").empty
    oracle.record(make_record(0, status=FAILED, error="x", epochs=0))
    table = ranked(oracle, "val_loss", "min")
    assert table["status"].tolist() == [FAILED] and table["best_value"].isna().all()


def test_rank_unknown_metric_lists_available(tmp_path):
    with pytest.raises(ValueError, match=r"'val_mae'.*val_rmse"):
        ranked(ranked_oracle(tmp_path), "val_mae", "min")


def test_rank_trials(tmp_path):
    table = ranked(ranked_oracle(tmp_path), "val_rmse", "min")
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    assert table["trial_number"].tolist() == [1, 0, 3, 2]
    assert table["best_value"].tolist()[:2] == [2.5, 3.0]
    assert math.isnan(table["best_value"].iloc[2])
    assert table["best_epoch"].tolist()[:2] == [1, 1]
    assert table["epochs_run"].tolist() == [2, 3, 0, 2]  # epochs with a recorded value
    assert table["status"].tolist() == [COMPLETED, COMPLETED, COMPLETED, FAILED]
    assert table["error"].iloc[3] == "diverged"
    maximized = ranked(ranked_oracle(tmp_path / "other"), "val_rmse", "max")
    assert maximized["trial_number"].tolist() == [1, 0, 3, 2]
    assert maximized["best_value"].tolist()[:2] == [7.0, 5.0]


def test_rank_of_an_empty_oracle(tmp_path):
    table = ranked(Oracle(tmp_path), "val_loss", "min")
    assert table.empty and list(table.columns) == list(SUMMARY_COLUMNS)


# ---------------------------------------------------------------- other processes

# Writer processes load the oracle without the package's __init__ (which imports
# TensorFlow), so each starts in well under a second; they also check that the oracle
# itself never needs TensorFlow.
PURE_IMPORTS = f"""
import sys, types
package = types.ModuleType("cerebros")
package.__path__ = [{str(REPO_ROOT / "cerebros")!r}]
sys.modules["cerebros"] = package
from cerebros.oracle import Oracle, TrialRecord
assert "tensorflow" not in sys.modules and "keras" not in sys.modules
"""


def assert_whole_contiguous_trials(frame, epochs):
    """Every trial's rows are adjacent, complete and in epoch order."""
    for trial, rows in frame.groupby("trial_number"):
        positions = rows.index.tolist()
        assert positions == list(range(positions[0], positions[0] + epochs)), trial
        assert rows["epoch"].tolist() == list(range(epochs)), trial


WRITERS, TRIALS_EACH, EPOCHS = 4, 10, 60

CONCURRENT_WRITER = PURE_IMPORTS + """
start.wait()
oracle = Oracle(project_dir)
for index in range(trials_each):
    trial = writer * trials_each + index
    history = {"loss": [trial + epoch / 1000 for epoch in range(epochs)],
               f"metric_{writer}": [float(writer)] * epochs}
    oracle.record(TrialRecord(trial, writer, "m", "completed", "", "", 0.5, 7, "", history))
"""


def test_concurrent_writers_never_interleave_or_lose_rows(tmp_path):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    processes = [
        context.Process(target=exec, args=(CONCURRENT_WRITER, {
            "project_dir": str(tmp_path), "writer": writer, "start": start,
            "trials_each": TRIALS_EACH, "epochs": EPOCHS}))
        for writer in range(WRITERS)]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    frame = pd.read_csv(tmp_path / "oracle.csv")
    assert len(frame) == WRITERS * TRIALS_EACH * EPOCHS
    assert frame["trial_number"].nunique() == WRITERS * TRIALS_EACH
    assert_whole_contiguous_trials(frame, EPOCHS)
    for trial, rows in frame.groupby("trial_number"):
        writer = trial // TRIALS_EACH
        assert (rows["subtrial_number"] == writer).all()
        assert rows["loss"].tolist() == [trial + epoch / 1000 for epoch in range(EPOCHS)]
        assert (rows[f"metric_{writer}"] == writer).all()
    assert sorted(column for column in frame.columns if column.startswith("metric_")) == [
        f"metric_{writer}" for writer in range(WRITERS)]


CRASH_EPOCHS = 40

CRASH_WRITER = PURE_IMPORTS + f"""
oracle = Oracle(sys.argv[1])
trial = len(oracle.finished())
print("ready", flush=True)
while True:
    history = {{name: [trial + epoch / 100 for epoch in range({CRASH_EPOCHS})]
               for name in ("loss", "mae", "val_loss", "val_mae")}}
    oracle.record(TrialRecord(trial, 0, "m", "completed", "", "", 0.5, 7, "", history))
    trial += 1
"""


def test_sigkill_while_writing_leaves_only_whole_trials(tmp_path):
    rng = random.Random(0)
    counts = []
    for _ in range(10):
        writer = subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(tmp_path)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.3))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=10)
        writer.stdout.close()

        frame = pd.read_csv(tmp_path / "oracle.csv")
        trials = frame["trial_number"].nunique()
        assert sorted(frame["trial_number"].unique()) == list(range(trials))
        assert len(frame) == trials * CRASH_EPOCHS
        assert_whole_contiguous_trials(frame, CRASH_EPOCHS)
        counts.append(trials)
    assert counts == sorted(counts) and counts[-1] > counts[0]

    oracle = Oracle(tmp_path)
    oracle.record(make_record(counts[-1]))
    assert not list(tmp_path.glob(".oracle.csv.*"))
    assert oracle.finished() == {(trial, 0) for trial in range(counts[-1] + 1)}


# ---------------------------------------------------------------- project directory


def test_project_layout_and_paths(tmp_path):
    project = ProjectDir(tmp_path / "proj").create()
    for name in ("models", "model_architectures", "model_graphs"):
        assert (tmp_path / "proj" / name).is_dir()
    stem = "tr_0000000000000012_subtrial_0000000000000003"
    assert trial_stem(12, 3) == stem
    assert project.model_path(12, 3) == tmp_path / "proj" / "models" / f"{stem}.keras"
    assert project.architecture_path(12, 3) == (
        tmp_path / "proj" / "model_architectures" / f"{stem}.json")
    assert project.graph_path(12, 3) == tmp_path / "proj" / "model_graphs" / f"{stem}.html"
    assert project.weights_path(12, 3) == tmp_path / "proj" / "models" / f"{stem}.npz"
    with pytest.raises(ValueError, match="trial"):
        trial_stem(-1, 0)


def test_unit_weights_round_trip_through_their_npz_file(tmp_path):
    weights = {(1, 0): [np.arange(3, dtype="float32"), np.ones((2, 2))],
               (3, 1): [np.zeros(0)], (12, 10): [np.float32(2.5)] * 11}
    write_unit_weights(tmp_path / "w.npz", weights)
    read = read_unit_weights(tmp_path / "w.npz")
    assert read.keys() == weights.keys()
    for unit, arrays in weights.items():
        assert len(read[unit]) == len(arrays)
        for got, wanted in zip(read[unit], arrays):
            np.testing.assert_array_equal(got, wanted)
            assert got.dtype == np.asarray(wanted).dtype
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"], "no temporary file left"


def test_atomic_writes(tmp_path):
    target = tmp_path / "plan.json"
    write_json_atomic(target, {"levels": [1, 2], "name": "x"})
    write_json_atomic(target, {"levels": [3]})
    assert json.loads(target.read_text()) == {"levels": [3]}
    write_bytes_atomic(tmp_path / "blob", b"\x00\x01")
    assert (tmp_path / "blob").read_bytes() == b"\x00\x01"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["blob", "plan.json"]
    with pytest.raises(ValueError, match="JSON"):
        write_json_atomic(target, {"f": object()})
    assert json.loads(target.read_text()) == {"levels": [3]}


ARGUMENTS = {"epochs": 5, "metric": "val_root_mean_squared_error", "units": [1, 3],
             "seed": 7, "learning_rate": 0.001}


def test_manifest_identical_arguments_resume(tmp_path):
    project = ProjectDir(tmp_path / "proj")
    assert project.check_or_write_manifest(ARGUMENTS, overwrite=False) is False
    assert (tmp_path / "proj" / "models").is_dir()
    assert project.read_manifest() == ARGUMENTS
    assert ProjectDir(tmp_path / "proj").check_or_write_manifest(
        dict(reversed(ARGUMENTS.items())), overwrite=False) is True


def test_a_nested_setting_that_differs_is_named_by_its_dotted_key(tmp_path):
    nested = {**ARGUMENTS, "wiring": {"p_lateral_connection": 0.2, "tries": 3}}
    ProjectDir(tmp_path).check_or_write_manifest(nested, overwrite=False)
    changed = {**nested, "wiring": {"p_lateral_connection": 0.5, "tries": 3}}
    with pytest.raises(ProjectMismatchError) as raised:
        ProjectDir(tmp_path).check_or_write_manifest(changed, overwrite=False)
    assert raised.value.changed == ["wiring.p_lateral_connection"]
    assert raised.value.changes == ["wiring.p_lateral_connection: 0.2 -> 0.5"]


def test_manifest_different_arguments_refused_naming_keys(tmp_path):
    project = ProjectDir(tmp_path)
    project.check_or_write_manifest(ARGUMENTS, overwrite=False)
    changed = {**ARGUMENTS, "epochs": 9, "patience": 2}
    del changed["seed"]
    with pytest.raises(ProjectMismatchError) as raised:
        project.check_or_write_manifest(changed, overwrite=False)
    assert raised.value.changed == ["epochs", "seed", "patience"]
    message = str(raised.value)
    assert "epochs: 5 -> 9" in message
    assert "seed: 7 -> <absent>" in message
    assert "patience: <absent> -> 2" in message
    assert "learning_rate" not in message
    assert "project_name" in message and "overwrite=True" in message
    assert project.read_manifest() == ARGUMENTS


def test_manifest_overwrite_wipes_only_cerebros_files(tmp_path):
    project = ProjectDir(tmp_path).create()
    project.check_or_write_manifest(ARGUMENTS, overwrite=False)
    Oracle(tmp_path).record(make_record(0))
    for path in (project.model_path(0, 0), project.architecture_path(0, 0),
                 project.graph_path(0, 0), project.weights_path(0, 0)):
        path.write_text("trial file")
    (project.models_dir / ".tr_0000000000000001_subtrial_0000000000000000.keras.ab_1.tmp"
     ).write_text("left by a crash")
    (project.models_dir / "notes.txt").write_text("mine")
    for name in DRAWN_NAMES:  # plots and report of the results being cleared
        (tmp_path / name).write_text("stale")

    assert project.check_or_write_manifest({"epochs": 1}, overwrite=True) is False
    assert not [name for name in DRAWN_NAMES if (tmp_path / name).exists()]
    assert project.read_manifest() == {"epochs": 1}
    assert not project.oracle_path.exists()
    assert Oracle(tmp_path).read().empty
    assert [path.name for path in project.models_dir.iterdir()] == ["notes.txt"]
    assert not list(project.architectures_dir.iterdir())
    assert not list(project.graphs_dir.iterdir())


def test_original_library_project_is_refused(tmp_path):
    (tmp_path / "oracle.csv").write_text("loss,trial_number,subtrial_number,model_name\n")
    project = ProjectDir(tmp_path)
    with pytest.raises(ValueError, match="no search_config.json"):
        project.check_or_write_manifest(ARGUMENTS, overwrite=False)
    assert project.check_or_write_manifest(ARGUMENTS, overwrite=True) is False
    assert not (tmp_path / "oracle.csv").exists()


@pytest.mark.parametrize("arguments", [{"x": object()}, {"x": math.nan}, {1: 2}, [1]])
def test_manifest_needs_json_safe_arguments(tmp_path, arguments):
    with pytest.raises(ValueError, match="arguments"):
        ProjectDir(tmp_path).check_or_write_manifest(arguments, overwrite=False)
    assert not (tmp_path / "search_config.json").exists()


def test_a_huge_error_text_is_cut_and_later_records_still_work(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, status=FAILED, epochs=0, error="x" * 300_000))
    oracle.record(make_record(1))
    error = oracle.read().query("trial_number == 0")["error"].iloc[0]
    assert len(error) < 5000 and error.endswith("more characters cut]")
    assert oracle.finished() == {(0, 0), (1, 0)}


# ---------------------------------------------------------------- retries of transient failures


def test_only_a_transient_failure_is_retried_and_only_once(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, status=FAILED, epochs=0, error="WorkerDied: exit code -9"))
    oracle.record(make_record(1, status=FAILED, epochs=0, error="ValueError: bad network"))
    oracle.record(make_record(2, status=FAILED, epochs=1, error="TrialTimeout: too long"))
    oracle.record(make_record(3))
    assert oracle.retriable() == {(0, 0), (2, 0)}
    with pytest.raises(ValueError, match="trial 1 subtrial 0 is already recorded"):
        oracle.record(dataclasses.replace(make_record(1), attempt=2))
    with pytest.raises(ValueError, match="trial 0 subtrial 0 is already recorded"):
        oracle.record(make_record(0))  # a retry must say it is one
    retry = make_record(0, status=FAILED, epochs=0, error="WorkerDied: exit code -9")
    oracle.record(dataclasses.replace(retry, attempt=2))
    frame = oracle.read()
    assert frame.groupby("trial_number").size().to_dict() == {0: 1, 1: 1, 2: 1, 3: 3}
    assert frame.set_index("trial_number").attempt.loc[0] == 2
    board = rank_trials(frame, "val_loss", "min").set_index("trial_number")
    assert board.attempt.to_dict() == {0: 2, 1: 1, 2: 1, 3: 1}, "the leaderboard shows it too"
    shown = board.reset_index()
    shown.attrs["metric"] = "best_value"
    lines = cli._format_leaderboard(shown).splitlines()
    assert lines[0].split()[:4] == ["trial", "subtrial", "status", "attempt"]
    assert {int(line.split()[0]): line.split()[3] for line in lines[1:5]} == {
        0: "2", 1: "1", 2: "1", 3: "1"}, "cerebros show prints attempts when one was retried"
    assert oracle.retriable() == {(2, 0)}, "a second transient failure is final"
    with pytest.raises(ValueError, match="already recorded"):
        oracle.record(dataclasses.replace(retry, attempt=3))


def test_an_oracle_written_before_the_attempt_column_reads_as_first_attempts(tmp_path):
    oracle = Oracle(tmp_path)
    oracle.record(make_record(0, status=FAILED, epochs=0, error="WorkerDied: exit code -9"))
    oracle.record(make_record(1))
    old = pd.read_csv(oracle.path).drop(columns=["attempt"])
    old.to_csv(oracle.path, index=False)
    frame = oracle.read()
    assert frame.attempt.tolist() == [1, 1, 1, 1] and str(frame.attempt.dtype) == "Int64"
    assert oracle.retriable() == {(0, 0)}
    oracle.record(dataclasses.replace(make_record(0), attempt=2))
    assert oracle.read().groupby("trial_number").attempt.first().to_dict() == {0: 2, 1: 1}


def test_the_drawn_files_a_clear_removes_are_the_ones_plots_and_report_write():
    from cerebros import plots, report

    assert set(DRAWN_NAMES) == {plots.SEARCH_PROGRESS_FILE, plots.LEARNING_CURVES_FILE,
                                plots.GENERATIONS_FILE, report.REPORT_NAME}
