"""A search killed with SIGKILL mid-trial (inside an epoch, between two of its batches) resumes
to exactly the result of an uninterrupted run, its later generation bred from the same
recorded results."""

import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebros import SimpleCerebrosRandomSearch

HERE = Path(__file__).parent

SCRIPT = """
import json, sys
import numpy as np
sys.path.insert(0, {tests!r})
from cerebros import SimpleCerebrosRandomSearch
from trial_callbacks import HoldBatch, HoldEpoch
project, hold = sys.argv[1], json.loads(sys.argv[2])
rng = np.random.default_rng(0)
x = rng.normal(size=(240, 5)).astype("float32")
y = (x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=240)).astype("float32")
search = SimpleCerebrosRandomSearch(
    input_shapes=[(5,)], output_shapes=[1], training_data=[x], labels=[y],
    validation_split=0.25, direction="minimize", metric_to_rank_by="val_root_mean_squared_error",
    minimum_levels=2, maximum_levels=3, minimum_units_per_level=1, maximum_units_per_level=2,
    minimum_neurons_per_unit=1, maximum_neurons_per_unit=3,
    number_of_architecture_moities_to_try=3, number_of_generations=2, inherit_weights=True,
    epochs=3, patience=None, learning_rate=0.01,
    batch_size=32, seed=99, project_name=project, verbose=0, deterministic=True,
    steps_per_execution=1,  # batch callbacks see every batch
    callbacks=[(HoldBatch if len(hold) == 4 else HoldEpoch)(*hold)] if hold else None)
print(json.dumps({{"best": search.run_random_search(), "path": search.best_model_path}}))
"""


def start(project, hold=None):
    """Start the search on ``project`` in a process of its own; ``finish`` collects it."""
    code = SCRIPT.format(tests=str(HERE))
    return subprocess.Popen([sys.executable, "-c", code, str(project), json.dumps(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(process):
    """Wait for a search started by ``start`` and return what it printed."""
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def run(project):
    return finish(start(project))


def start_holding(project, trial, epoch, marker, batch=None):
    """Start a search that stops to wait at ``epoch`` of ``trial`` (at its start, or at the
    start of ``batch`` of it); return once it waits."""
    hold = [trial, epoch, str(marker)] if batch is None else [trial, epoch, batch, str(marker)]
    process = start(project, hold=hold)
    deadline = time.time() + 240
    while not marker.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.time() < deadline, f"trial {trial} never reached epoch {epoch}"
        time.sleep(0.2)
    return process


def test_sigkill_inside_an_epoch_then_resume_matches_an_uninterrupted_run_exactly(tmp_path):
    # The uninterrupted run is independent of the others: it runs meanwhile.
    uninterrupted = start(tmp_path / "reference")
    # 180 training rows, batch 32: 6 batches per epoch. Hold at the start of batch 3 of
    # trial 1's second epoch, after three of that epoch's weight updates.
    killed = start_holding(tmp_path / "killed", 1, 1, tmp_path / "holding", batch=3)
    assert (tmp_path / "holding").read_text() == "1 3", "held inside the epoch"
    killed.kill()  # SIGKILL, between two batches in the middle of trial 1's second epoch
    killed.wait()
    oracle = pd.read_csv(tmp_path / "killed" / "oracle.csv")
    assert set(oracle.trial_number) == {0}, "only the finished trial was recorded"

    resumed = run(tmp_path / "killed")
    reference = finish(uninterrupted)
    assert resumed["best"] == reference["best"]
    assert Path(resumed["path"]).name == Path(reference["path"]).name

    final = pd.read_csv(tmp_path / "killed" / "oracle.csv")
    expected = pd.read_csv(tmp_path / "reference" / "oracle.csv")
    assert (final.status == "completed").all()
    runs = (final.trial_number != final.trial_number.shift()).cumsum()
    assert runs.nunique() == 3 == final.trial_number.nunique(), "one contiguous record per trial"
    assert final.groupby("trial_number").size().to_dict() == {0: 3, 1: 3, 2: 3}
    columns = ["trial_number", "epoch", "loss", "val_loss", "n_params", "generation",
               "parent_trial"]
    assert final.groupby("trial_number").generation.first().to_dict() == {0: 0, 1: 0, 2: 1}
    assert final[final.trial_number == 2].parent_trial.iloc[0] in (0, 1), "bred from generation 0"
    # deterministic=True: the resumed search's numbers are the uninterrupted run's, bit for bit.
    pd.testing.assert_frame_equal(final[columns].sort_values(["trial_number", "epoch"]).reset_index(drop=True),
                                  expected[columns].sort_values(["trial_number", "epoch"]).reset_index(drop=True),
                                  check_exact=True)
    leftovers = [p.name for p in (tmp_path / "killed").rglob("*") if p.name.startswith(".")]
    assert not [n for n in leftovers if not n.endswith(".lock")], leftovers


def test_a_second_search_on_a_held_project_fails_at_once_and_a_dead_holders_lock_is_taken_over(
        tmp_path):
    from cerebros import ProjectLockedError

    holder = start_holding(tmp_path / "shared", 0, 0, tmp_path / "holding")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)).astype("float32")
    arguments = dict(input_shapes=[(5,)], output_shapes=[1], training_data=[x],
                     labels=[x[:, 0] + x[:, 1]], validation_split=0.25, epochs=1, verbose=0,
                     project_name=str(tmp_path / "shared"))
    for overwrite in (False, True):  # overwrite must not delete a running search's files
        started = time.perf_counter()
        with pytest.raises(ProjectLockedError, match=f"process {holder.pid}"):
            SimpleCerebrosRandomSearch(overwrite=overwrite, **arguments).run_random_search()
        assert time.perf_counter() - started < 5, "refused at once, not after waiting"
    assert (tmp_path / "shared" / "search_config.json").is_file()
    holder.kill()  # SIGKILL: the OS releases the lock
    holder.wait()
    resumed = run(tmp_path / "shared")
    assert Path(resumed["path"]).is_file()


def test_a_resume_that_retries_a_trial_breeds_from_the_networks_recorded_trials_trained(
        tmp_path, monkeypatch):
    """Generation 1 is bred while trial 1 of generation 0 has failed transiently; the resume
    retries trial 1, whose result changes the parents at hand.  Generation 2 must still be
    bred from the networks generation 1 trained (as stored), not from generation 1 bred
    again from the new parents."""
    sys.path.insert(0, str(HERE))
    try:
        from trial_callbacks import TimeOutTrial
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype("float32")
    arguments = dict(
        input_shapes=[(4,)], output_shapes=[1], training_data=[x],
        labels=[x[:, 0] - x[:, 1]], validation_split=0.25, minimum_levels=2, maximum_levels=3,
        minimum_units_per_level=1, maximum_units_per_level=3, minimum_neurons_per_unit=1,
        maximum_neurons_per_unit=3, number_of_architecture_moities_to_try=6,
        number_of_generations=3, epochs=1, patience=None, seed=3, verbose=0,
        project_name=str(tmp_path / "p"))
    SimpleCerebrosRandomSearch(callbacks=[TimeOutTrial(1)], **arguments).run_random_search()
    first = pd.read_csv(tmp_path / "p" / "oracle.csv")
    assert first[first.trial_number == 1].error.iloc[0].startswith("TrialTimeout:")

    resumed = SimpleCerebrosRandomSearch(**arguments)
    bred_from = {}
    tasks = resumed.tasks

    def spy(generation, oracle_rows=None, plans=None):
        bred_from[generation] = dict(plans or {})
        return tasks(generation, oracle_rows, plans)

    monkeypatch.setattr(resumed, "tasks", spy)
    resumed.run_random_search()
    final = pd.read_csv(tmp_path / "p" / "oracle.csv")
    assert final[final.trial_number == 1].attempt.max() == 2, "trial 1 was retried"
    architectures = tmp_path / "p" / "model_architectures"
    for (trial, subtrial), plan in bred_from[2].items():
        stored = json.loads((architectures / f"tr_{trial:016d}_subtrial_{subtrial:016d}.json")
                            .read_text())
        assert plan.to_dict()["connections"] == stored["connections"], \
            f"generation 2 was bred from another network than trial {trial} trained"
    assert sorted(bred_from[2]) == [(t, 0) for t in range(4)]
