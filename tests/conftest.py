"""Shared fixtures: small synthetic data and the arguments of a small, fast search."""

import gc
from pathlib import PurePosixPath

import numpy as np
import pytest

from cerebros import DenseUnit

#: Test files whose tests run in one test worker, one after another (``pytest -n``), by
#: scope name: files with an expensive module-scoped fixture (built once, not once per
#: worker), and the files that start, join and stop Ray instances (Ray's state is
#: per process, and their trial timeouts are sized for one Ray instance at a time).
#: Every other test is scheduled on its own.
SHARED_SCOPES = {
    "test_cli.py": "test_cli.py",
    "test_meta.py": "test_meta.py",
    "test_report.py": "test_report.py",
    "test_search.py": "test_search.py",
    "test_ray_executor.py": "ray",
    "test_ray_cluster.py": "ray",
}


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """With ``-n`` and the default ``--dist load``: xdist's load scheduling, except that
    the tests of each file in :data:`SHARED_SCOPES` form one unit of work per scope (as
    ``--dist loadgroup`` would with ``xdist_group`` marks, which pytest-xdist 3.8 ignores
    on pytest 9.2: pytest-xdist#1386).  Larger units are handed out first."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return SHARED_SCOPES.get(PurePosixPath(nodeid.split("::", 1)[0]).name, nodeid)

    return SharedScopeScheduling(config, log)


def pytest_collection_finish(session):
    """Freeze the objects that exist once every test module is imported (TensorFlow's,
    Keras', the other libraries'), so that the full garbage collections each trial runs do
    not walk those millions of long-lived objects again; everything created later, every
    trial's models and graphs included, is collected as before."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def regression_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(240, 5)).astype("float32")
    y = (x[:, 0] - 2 * x[:, 1] + 0.1 * rng.normal(size=240)).astype("float32")
    return x, y


@pytest.fixture
def small_search(regression_data, tmp_path):
    """Keyword arguments of a small search (tiny networks, few epochs) in tmp_path."""
    x, y = regression_data

    def make(**overrides):
        arguments = dict(
            unit_type=DenseUnit, input_shapes=[(5,)], output_shapes=[1], training_data=[x],
            labels=[y], validation_split=0.25, direction="minimize",
            metric_to_rank_by="val_root_mean_squared_error", minimum_levels=2,
            maximum_levels=3, minimum_units_per_level=1, maximum_units_per_level=2,
            minimum_neurons_per_unit=1, maximum_neurons_per_unit=3,
            number_of_architecture_moities_to_try=2, number_of_tries_per_architecture_moity=1,
            epochs=2, patience=None, learning_rate=0.01, batch_size=32, seed=123,
            project_name=str(tmp_path / "project"), verbose=0)
        arguments.update(overrides)
        return arguments

    return make
