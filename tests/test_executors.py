"""Parallel trials in a real process pool (Ray: test_ray_executor.py)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import pandas as pd
import pytest

import user_activations
from cerebros import SimpleCerebrosRandomSearch
from cerebros.layers import ImportedFunction
from trial_callbacks import (KillWhileSendingResult, KillWorkerOnTrial, SleepInTrial,
                             StopWorkerOnTrial)

COLUMNS = ["trial_number", "subtrial_number", "epoch", "loss", "val_loss", "n_params", "status",
           "generation", "parent_trial"]


def oracle_of(project):
    frame = pd.read_csv(project / "oracle.csv")
    return frame[COLUMNS].sort_values(["trial_number", "subtrial_number", "epoch"]).reset_index(drop=True)


def test_process_pool_gives_the_inline_results(small_search, tmp_path):
    # A user's activation (named like Keras' relu) reaches the workers and is kept.
    # Children inherit their parents' weights: read from the project in either backend.
    common = dict(number_of_architecture_moities_to_try=4, number_of_generations=2,
                  inherit_weights=True, deterministic=True, activation=user_activations.relu)
    inline = SimpleCerebrosRandomSearch(**small_search(project_name=str(tmp_path / "inline"), **common))
    pooled = SimpleCerebrosRandomSearch(**small_search(project_name=str(tmp_path / "pool"),
                                                       backend="process", n_workers=2, **common))
    best_inline, best_pooled = inline.run_random_search(), pooled.run_random_search()
    a, b = oracle_of(tmp_path / "inline"), oracle_of(tmp_path / "pool")
    assert a.groupby("trial_number").generation.first().tolist() == [0, 0, 1, 1]
    assert a[a.generation == 1].parent_trial.isin([0, 1]).all()
    assert len(list((tmp_path / "pool" / "models").glob("*.npz"))) == 4
    pd.testing.assert_frame_equal(a, b, rtol=1e-5)
    assert best_pooled == pytest.approx(best_inline, rel=1e-5)
    assert Path(pooled.best_model_path).name == Path(inline.best_model_path).name
    layers = pooled.get_best_model().layers
    assert any(getattr(layer, "activation", None) == ImportedFunction("user_activations:relu")
               for layer in layers)


def test_a_plain_function_loss_and_metric_reach_process_workers(small_search, tmp_path):
    def my_squared_error(y_true, y_pred):  # local: it travels by value, as from a notebook
        return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)

    def my_abs(y_true, y_pred):
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    # A registered Keras metric class, as a notebook defines it: a spawned worker never ran
    # the registration, so it receives the class along with the config.
    class AbsError(keras.metrics.MeanMetricWrapper):
        def __init__(self, name="abs_error", dtype=None):
            super().__init__(my_abs, name=name, dtype=dtype)

        def get_config(self):
            return {"name": self.name, "dtype": self.dtype}

    keras.saving.register_keras_serializable("test_executors")(AbsError)
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=1, epochs=1, backend="process", n_workers=1,
        loss=my_squared_error, metrics=[my_abs, AbsError()], metric_to_rank_by="val_my_abs"))
    best = search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert oracle["status"].tolist() == ["completed"] and oracle["error"].isna().all()
    assert best == pytest.approx(oracle["val_my_abs"].min())
    assert oracle["val_abs_error"].tolist() == pytest.approx(oracle["val_my_abs"].tolist())
    assert search.get_best_model().loss is my_squared_error


def test_killed_and_overdue_workers_cost_only_their_own_trials_which_a_resume_retries_once(
        small_search, tmp_path):
    """One pool, four ways to lose a worker: a trial running past trial_timeout_s (trial 0;
    the limit is far above a normal trial's few seconds, so that a loaded machine does not
    time out the others), SIGKILL in the middle of a batch (trial 1), SIGSTOP half-way
    through sending a large result (trial 2: the driver must not wait on the half-sent
    message; the timeout ends it) and SIGKILL half-way through sending one (trial 3).  Each
    costs only its own trial, a fresh worker replaces it, and a resumed search trains
    exactly those four once more.  The overdue trials come first, so that their waits
    overlap each other and the other trials."""
    started = time.perf_counter()
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=6, backend="process", n_workers=2,
        max_consecutive_failed_trials=6,  # four trials fail, three of them early
        trial_timeout_s=25, callbacks=[SleepInTrial([0], seconds=600), KillWorkerOnTrial(1),
                                       KillWhileSendingResult(2, signal.SIGSTOP),
                                       KillWhileSendingResult(3)]))
    search.run_random_search()
    assert time.perf_counter() - started < 400, "not the sleeping trial's 600 s"
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    status = frame.groupby("trial_number").status.first().to_dict()
    assert status == {0: "failed", 1: "failed", 2: "failed", 3: "failed", 4: "completed",
                      5: "completed"}
    errors = frame.groupby("trial_number").error.first()
    died = "WorkerDied: the worker process running this trial exited with code -9"
    assert errors[1] == died and errors[3] == died
    overdue = ("TrialTimeout: the trial ran longer than trial_timeout_s=25 s; its worker "
               "process was stopped")
    assert errors[0] == overdue and errors[2] == overdue
    assert "padding" not in frame.columns, "nothing of the half-sent result was recorded"
    assert (frame.attempt == 1).all()
    assert len(list((tmp_path / "project" / "models").glob("*.keras"))) == 2

    # Resuming (inline, without the saboteurs) trains trials 0 to 3 again, once each.
    resumed = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=6,
                                                        trial_timeout_s=25))
    resumed.run_random_search()
    after = pd.read_csv(tmp_path / "project" / "oracle.csv")
    kept = [4, 5]
    pd.testing.assert_frame_equal(after[after.trial_number.isin(kept)].reset_index(drop=True),
                                  frame[frame.trial_number.isin(kept)].reset_index(drop=True),
                                  check_dtype=False)  # the failed rows' empty epochs are gone
    retried = after[~after.trial_number.isin(kept)]
    assert (retried.status == "completed").all() and (retried.attempt == 2).all()
    assert retried.groupby("trial_number").size().to_dict() == {0: 2, 1: 2, 2: 2, 3: 2}, \
        "one record (two epochs) per trial, the failed one replaced"
    assert len(list((tmp_path / "project" / "models").glob("*.keras"))) == 6


class Stop(Exception):
    pass


def stopped(pid_file: Path) -> bool:
    """Whether the process named in ``pid_file`` exists and is stopped."""
    try:
        stat = Path(f"/proc/{int(pid_file.read_text())}/stat").read_text()
    except (OSError, ValueError):
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to see the worker stop")
def test_a_search_ended_while_a_worker_is_stopped_ends_that_worker_at_once(small_search,
                                                                          tmp_path):
    """Trial 0's worker stops itself (SIGSTOP, as a debugger would); the hook ends the search
    after trial 1.  Closing the pool continues the stopped worker after its SIGTERM, so it
    ends at once: before, the pool waited 10 s for it and then killed it."""
    pid_file = tmp_path / "stopped.pid"
    search = SimpleCerebrosRandomSearch(**small_search(
        backend="process", n_workers=2, callbacks=[StopWorkerOnTrial(0, pid_file)]))
    ended = []

    def end_search(progress):
        deadline = time.monotonic() + 120  # trial 1 may finish before trial 0 has begun
        while not stopped(pid_file) and time.monotonic() < deadline:
            time.sleep(0.1)
        ended.append(time.perf_counter())
        raise Stop

    with pytest.raises(Stop):
        search.run_random_search(on_trial_end=end_search)
    closing = time.perf_counter() - ended[0]
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # gone, and reaped by the pool
    assert closing < 8, f"closing the pool took {closing:.1f} s"


class HoldsALock(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        import threading

        self.lock = threading.Lock()


def test_a_callback_that_cannot_be_pickled_is_refused_before_any_work(small_search, tmp_path):
    with pytest.raises(ValueError, match=r"callbacks\[1\] \(HoldsALock\) cannot be sent to "
                                         r"backend='process' workers: TypeError: .*lock.*"
                                         r"on_train_begin\), or use backend='inline'"):
        SimpleCerebrosRandomSearch(**small_search(
            backend="process", callbacks=[keras.callbacks.TerminateOnNaN(), HoldsALock()]))
    assert not (tmp_path / "project").exists()
    # Inline runs need no pickling: the same callback is fine there.
    SimpleCerebrosRandomSearch(**small_search(callbacks=[HoldsALock()]))


MAIN_SCRIPT = """
import os, sys, tempfile
import keras
import numpy as np
from cerebros import SimpleCerebrosRandomSearch

def mark(folder, kind, epoch):
    # A new file named by the callback's kind, this process and the epoch (and made unique:
    # one worker may train both trials).
    os.close(tempfile.mkstemp(prefix=f"{kind}-{os.getpid()}-{epoch}-", dir=folder)[0])


if __name__ == "__main__":
    # Defined under the guard: a spawned worker re-running this script's top level never
    # sees it, so only pickling by value (cloudpickle) can send it, as from a notebook.
    class MarkEpochs(keras.callbacks.Callback):
        def __init__(self, folder):
            super().__init__()
            self.folder = folder

        def on_epoch_end(self, epoch, logs=None):
            mark(self.folder, "class", epoch)

    project, folder = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)).astype("float32")
    search = SimpleCerebrosRandomSearch(
        input_shapes=[(5,)], output_shapes=[1], training_data=[x], labels=[x[:, 0] - x[:, 1]],
        validation_split=0.25, minimum_levels=2, maximum_levels=2, maximum_units_per_level=2,
        maximum_neurons_per_unit=2, number_of_architecture_moities_to_try=2, epochs=2,
        project_name=project, verbose=0, backend="process", n_workers=2,
        callbacks=[MarkEpochs(folder), keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: mark(folder, "lambda", epoch))])
    search.run_random_search()
    print(os.getpid())
"""


def test_a_lambda_callback_and_a_class_defined_in_main_train_in_worker_processes(tmp_path):
    script, marks = tmp_path / "main_script.py", tmp_path / "marks"
    script.write_text(MAIN_SCRIPT)
    marks.mkdir()
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "project"), str(marks)],
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    driver = int(done.stdout.split()[-1])
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert (frame.status == "completed").all() and frame.trial_number.nunique() == 2
    names = [p.name.split("-") for p in marks.iterdir()]
    for kind in ("class", "lambda"):
        ran = [(int(pid), int(epoch)) for k, pid, epoch, _ in names if k == kind]
        assert len(ran) == 4, names  # 2 trials x 2 epochs
        assert driver not in {pid for pid, _ in ran}, "the callbacks ran in the workers"


DRIVER = """
import sys
import numpy as np
sys.path.insert(0, {tests!r})
from cerebros import SimpleCerebrosRandomSearch
from trial_callbacks import HoldEpoch

def search(project, hold, rows=240):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 5)).astype("float32")
    return SimpleCerebrosRandomSearch(
        input_shapes=[(5,)], output_shapes=[1], training_data=[x], labels=[x[:, 0] - x[:, 1]],
        validation_split=0.25, minimum_levels=2, maximum_levels=2, maximum_units_per_level=2,
        maximum_neurons_per_unit=2, number_of_architecture_moities_to_try=2, epochs=2,
        project_name=project, verbose=0, backend="process", n_workers=2,
        callbacks=[HoldEpoch(0, 0, hold)] if hold else None)
{body}
"""


def write_driver(tmp_path, body):
    path = tmp_path / "driver.py"
    path.write_text(DRIVER.format(tests=str(Path(__file__).parent), body=body))
    return path


@pytest.mark.parametrize("rows", [240, 20_000])  # 20,000 x 5 float32: beyond a pipe's buffer
def test_a_script_without_a_main_guard_fails_with_a_clear_error_instead_of_hanging(tmp_path,
                                                                                  rows):
    script = write_driver(tmp_path, f"search(sys.argv[1], None, {rows}).run_random_search()\n")
    done = subprocess.run([sys.executable, str(script), str(tmp_path / "project")],
                          capture_output=True, text=True, timeout=400)
    assert done.returncode != 0
    assert "WorkerStartupError" in done.stderr and "__main__" in done.stderr, done.stderr[-3000:]


def _children(pid):
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if int(fields[1]) == pid and b"spawn_main" in cmdline:
            found.append(int(stat.parent.name))
    return found


def _is_worker(pid):
    try:
        return b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:  # gone
        return False


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find the workers")
def test_workers_exit_when_the_driver_is_killed_even_a_stopped_one(tmp_path):
    marker = tmp_path / "holding"
    script = write_driver(tmp_path, "if __name__ == '__main__':\n"
                                    "    search(sys.argv[1], sys.argv[2]).run_random_search()\n")
    driver = subprocess.Popen([sys.executable, str(script), str(tmp_path / "project"),
                               str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.time() + 300
    while not marker.exists():
        assert driver.poll() is None, driver.communicate()[1][-3000:]
        assert time.time() < deadline, "no worker reached trial 0"
        time.sleep(0.2)
    workers = _children(driver.pid)
    assert len(workers) == 2, "the driver has spawned its two workers"
    os.kill(workers[0], signal.SIGSTOP)  # as a debugger would: its own threads cannot run
    driver.kill()  # SIGKILL: the driver cannot stop its workers itself
    driver.wait()
    try:
        deadline = time.time() + 15
        while any(_is_worker(pid) for pid in workers):
            assert time.time() < deadline, (
                f"workers outlived their driver by 15 s: stopped {_is_worker(workers[0])}, "
                f"running {_is_worker(workers[1])}")
            time.sleep(0.2)
    finally:
        for pid in filter(_is_worker, workers):
            os.kill(pid, signal.SIGKILL)
