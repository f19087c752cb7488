"""Bred children start the units they share with their parent from its trained weights."""

import dataclasses
import logging

import keras
import numpy as np
import pytest

from cerebros import SimpleCerebrosRandomSearch
from cerebros.config import WiringConfig
from cerebros.data import prepare_data
from cerebros.evolution import shared_units
from cerebros.materialize import ModelOptions, materialize, set_unit_weights, unit_weights
from cerebros.oracle import Oracle
from cerebros.project import read_unit_weights
from cerebros.spec import NetworkSpec
from cerebros.trial import TrainingConfig, TrialTask, run_trial
from cerebros.wiring import plan_wiring


def _plan(seed=0):
    return plan_wiring(NetworkSpec(((5,), (3, 2), (2, 4), (1,))), WiringConfig(),
                       np.random.default_rng(seed))


def _same(first, second):
    assert first.keys() == second.keys()
    for unit in first:
        assert len(first[unit]) == len(second[unit])
        for a, b in zip(first[unit], second[unit]):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fused", [True, False])
def test_unit_weights_move_between_fused_and_unfused_models_of_one_plan(fused):
    plan = _plan()
    x = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    source = materialize(plan, ModelOptions(seed=1, fused_units=fused))
    source.compile(optimizer="adam", loss="mse")
    source.fit(x, x[:, :1], epochs=1, batch_size=8, verbose=0)  # moving statistics move too
    target = materialize(plan, ModelOptions(seed=2, fused_units=not fused))
    assert not np.allclose(source.predict(x, verbose=0), target.predict(x, verbose=0))
    weights = unit_weights(source, plan, ModelOptions(fused_units=fused))
    assert set(weights) == {(1, 0), (1, 1), (2, 0), (2, 1), (3, 0)}
    assert all(len(arrays) == 6 for arrays in weights.values()), "BN's four and Dense's two"
    assert set_unit_weights(target, plan, ModelOptions(fused_units=not fused), weights) == 5
    np.testing.assert_allclose(source.predict(x, verbose=0), target.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_units_whose_shapes_differ_keep_their_own_weights():
    plan = _plan()
    model = materialize(plan, ModelOptions(seed=1))
    options = ModelOptions()
    before = unit_weights(model, plan, options)
    wrong = {(1, 0): [np.ones((1, 1))] * 6,          # wrong shapes
             (1, 1): [a + 1 for a in before[(1, 1)]],  # right shapes
             (7, 0): before[(1, 0)]}                  # no such unit
    assert set_unit_weights(model, plan, options, wrong) == 1
    after = unit_weights(model, plan, options)
    _same({u: after[u] for u in ((1, 0),)}, {u: before[u] for u in ((1, 0),)})
    _same({(1, 1): after[(1, 1)]}, {(1, 1): wrong[(1, 1)]})


def test_a_trial_starts_from_its_initial_weights(regression_data):
    x, y = regression_data
    data = prepare_data([x], [y], [5], [1], validation_split=0.25)
    plan = plan_wiring(NetworkSpec(((5,), (3, 2), (1,))), WiringConfig(),
                       np.random.default_rng(0))
    seen = {}

    class StartingWeights(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["weights"] = unit_weights(self.model, plan, ModelOptions())

    training = TrainingConfig(epochs=1, batch_size=32, patience=None, learning_rate=0.01,
                              callbacks=(StartingWeights(),), keep_unit_weights=True)
    task = TrialTask(0, 0, plan, ModelOptions(seed=5), "t", "m.keras", 1, training)
    parent = run_trial(task, data)
    assert parent.record.status == "completed"
    inherited = {(1, 1): parent.unit_weights[(1, 1)], (2, 0): parent.unit_weights[(2, 0)]}
    child = TrialTask(1, 0, plan, ModelOptions(seed=6), "c", "c.keras", 2, training,
                      initial_weights=inherited)
    run_trial(child, data)
    _same({u: seen["weights"][u] for u in inherited}, inherited)
    fresh = run_trial(TrialTask(1, 0, plan, ModelOptions(seed=6), "c", "c.keras", 2,
                                dataclasses.replace(training, keep_unit_weights=False)), data)
    assert fresh.record.status == "completed"
    assert fresh.unit_weights is None, "weights are returned only when asked for"
    assert not np.allclose(seen["weights"][(1, 1)][4], inherited[(1, 1)][4]), \
        "without initial weights the unit starts afresh"


def test_children_carry_their_parents_saved_weights_when_asked_and_present(
        small_search, caplog):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=4, number_of_generations=2,
        inherit_weights=True))
    search.run_random_search()
    plans = {(t.trial_number, t.subtrial_number): t.plan for t in search.tasks(0)}
    oracle = Oracle(search.project.root).read()
    children = search.tasks(1, oracle, plans)
    assert any(task.initial_weights for task in children)
    for task in children:
        stored = read_unit_weights(search.project.weights_path(*task.parent))
        shared = shared_units(plans[task.parent], task.plan)
        assert sorted(task.initial_weights) == shared
        _same(task.initial_weights, {unit: stored[unit] for unit in shared})
    for key in plans:  # every completed trial left its weights beside its model
        assert search.project.weights_path(*key).is_file()

    search.inherit_weights = False
    assert all(task.initial_weights is None for task in search.tasks(1, oracle, plans))
    search.inherit_weights = True
    for key in plans:
        search.project.weights_path(*key).unlink()
    with caplog.at_level(logging.WARNING, logger="cerebros.search"):
        assert all(task.initial_weights is None for task in search.tasks(1, oracle, plans))
    assert "start afresh" in caplog.text


def test_by_default_children_start_afresh_and_no_weights_are_kept(small_search):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, number_of_generations=2))
    search.run_random_search()
    assert search.inherit_weights is False
    assert not list(search.project.models_dir.glob("*.npz"))
    assert len(list(search.project.models_dir.glob("*.keras"))) == 3
    plans = {(t.trial_number, t.subtrial_number): t.plan for t in search.tasks(0)}
    children = search.tasks(1, Oracle(search.project.root).read(), plans)
    assert children and all(task.initial_weights is None for task in children)


def test_inherit_weights_must_be_a_bool(small_search):
    with pytest.raises(ValueError, match="inherit_weights"):
        SimpleCerebrosRandomSearch(**small_search(inherit_weights="yes"))
