"""Parallel trials as tasks of a real local Ray instance (a Ray cluster started by the test:
test_ray_cluster.py)."""

import time

import numpy as np
import pandas as pd
import pytest

import trial_callbacks
from cerebros import SimpleCerebrosRandomSearch
from test_executors import oracle_of
from trial_callbacks import KillWorkerOnTrial, SleepInTrial


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray instance (2 CPUs) for the module's tests, which run in one test worker
    with test_ray_cluster.py's (conftest.SHARED_SCOPES)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    # Test-only callbacks are not installed in the workers' environment: ship them by value.
    ray.cloudpickle.register_pickle_by_value(trial_callbacks)
    yield ray
    ray.shutdown()


def test_ray_search_completes_with_a_loadable_best_model(ray_session, small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, number_of_generations=2, backend="ray",
        deterministic=True))
    best = search.run_random_search()
    frame = oracle_of(tmp_path / "project")
    assert (frame.status == "completed").all() and frame.trial_number.nunique() == 3
    assert frame.groupby("trial_number").generation.first().tolist() == [0, 0, 1]
    assert best == pytest.approx(pd.read_csv(tmp_path / "project" / "oracle.csv")
                                 .val_root_mean_squared_error.min())
    model = search.get_best_model()
    assert model.predict(np.zeros((2, 5), "float32"), verbose=0).shape == (2, 1)
    assert ray_session.is_initialized(), "a search joining a running Ray leaves it running"


def test_ray_trial_running_too_long_is_cancelled_and_recorded(ray_session, small_search,
                                                              tmp_path):
    # Before the test that kills a worker: the normal trials start in the two workers that
    # the search above left idle (TensorFlow loaded), far within the limit on a busy machine.
    started = time.perf_counter()
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, backend="ray", trial_timeout_s=30,
        callbacks=[SleepInTrial([0], seconds=600)]))
    search.run_random_search()
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    status = frame.groupby("trial_number").status.first().to_dict()
    assert status == {0: "failed", 1: "completed", 2: "completed"}
    assert frame[frame.trial_number == 0].error.iloc[0] == (
        "TrialTimeout: the trial ran longer than trial_timeout_s=30 s; its Ray worker was "
        "stopped")
    assert time.perf_counter() - started < 200


def test_ray_worker_killed_mid_trial_loses_only_that_trial(ray_session, small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, backend="ray", callbacks=[KillWorkerOnTrial(0)]))
    search.run_random_search()
    frame = pd.read_csv(tmp_path / "project" / "oracle.csv")
    status = frame.groupby("trial_number").status.first().to_dict()
    assert status == {0: "failed", 1: "completed", 2: "completed"}
    assert frame[frame.trial_number == 0].error.iloc[0].startswith("WorkerDied: ")


def test_ray_address_none_starts_a_private_instance_even_with_ray_address_set(
        small_search, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:9")  # nothing listens there
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=2, backend="ray", n_workers=2, ray_address=None))
    search.run_random_search()
    assert (oracle_of(tmp_path / "project").status == "completed").all()
    assert not ray.is_initialized(), "the instance it started is shut down again"


def test_a_second_interrupt_while_closing_still_shuts_down_the_private_instance(
        small_search, monkeypatch):
    """The search stops after trial 0 (its hook raises) with trials 1 and 2 unfinished;
    while the executor waits for Ray to end them, a second Ctrl-C arrives (here: Ray's
    wait raises KeyboardInterrupt).  The private Ray instance is shut down all the same."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()

    def stop_then_interrupt_the_wait(progress):
        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt

        monkeypatch.setattr(ray, "wait", interrupted)
        raise RuntimeError("stop the search")

    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, backend="ray", n_workers=1, ray_address=None))
    with pytest.raises(KeyboardInterrupt):
        search.run_random_search(on_trial_end=stop_then_interrupt_the_wait)
    assert not ray.is_initialized(), "the instance it started is shut down"


def test_a_trial_timeout_counts_from_the_trials_start_not_a_fresh_workers(small_search,
                                                                          tmp_path, caplog):
    """A fresh private instance: each worker spends seconds importing TensorFlow before its
    first trial starts, and trials that train in well under the limit must complete.  Where
    that start takes longer than the limit less the trial (about 7 s on a loaded 2-core
    machine), a clock from the submission stopped them; on a quick machine the old clock
    passes too, so this guards the path end to end rather than proving the fix."""
    ray = pytest.importorskip("ray")
    if ray.is_initialized():
        ray.shutdown()
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=2, backend="ray", n_workers=2, ray_address=None,
        trial_timeout_s=6))
    search.run_random_search()
    frame = oracle_of(tmp_path / "project")
    assert (frame.status == "completed").all(), frame.error.dropna().tolist()
    assert not ray.is_initialized()


def test_a_search_in_a_process_with_ray_initialised_says_its_options_are_not_applied(
        small_search, tmp_path, caplog):
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=1, include_dashboard=False, log_to_driver=False)
    try:
        with caplog.at_level("WARNING", logger="cerebros"):
            search = SimpleCerebrosRandomSearch(**small_search(
                number_of_architecture_moities_to_try=1, backend="ray", n_workers=4,
                ray_address="ray://127.0.0.1:9"))
            search.run_random_search()
    finally:
        ray.shutdown()
    assert (oracle_of(tmp_path / "project").status == "completed").all()
    assert "Ray is already initialised in this process" in caplog.text
    assert "ray_address='ray://127.0.0.1:9' and n_workers=4 are not applied" in caplog.text
