"""NeuralNetworkFuture: spec → plan → Keras model, with the original's API."""

import json
import logging
import re
import subprocess
import sys

import keras
import numpy as np
import pytest

from cerebros.config import WiringConfig
from cerebros.neuralnetworkfuture.neural_network_future import NeuralNetworkFuture
from cerebros.units.units import DenseUnit, FinalDenseUnit, InputUnit

GATED = dict(p_lateral_connection=0.9, num_lateral_connection_tries_per_unit=3,
             gate_after_n_lateral_connections=1, max_consecutive_lateral_connections=5)


def spec_of(inputs, hidden, outputs):
    spec = {"0": [{"1": InputUnit} for _ in inputs]}
    for k, level in enumerate(hidden, start=1):
        spec[str(k)] = [{str(n): DenseUnit} for n in level]
    spec[str(len(hidden) + 1)] = [{str(n): FinalDenseUnit} for n in outputs]
    return spec


def future(inputs=(6,), hidden=((4, 3), (2, 5, 3)), outputs=(1,), **kwargs):
    return NeuralNetworkFuture(input_shapes=[(w,) for w in inputs], output_shapes=list(outputs),
                               neural_network_spec=spec_of(inputs, hidden, outputs),
                               project_name="t", trial_number=1, subtrial_number=2, **kwargs)


def test_original_import_paths_and_short_forms():
    from cerebros import (DenseAutoMlStructuralComponent, DenseLateralConnectivity,  # noqa: F401
                          DenseLevel, FinalDenseLevel, InputLevel, NeuralNetworkFuture as Short,
                          simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay)
    from cerebros.denseautomlstructuralcomponent.dense_automl_structural_component import (  # noqa: F401
        DenseAutoMlStructuralComponent as D, DenseLateralConnectivity as L, simple_sigmoid as s)
    from cerebros.levels.levels import DenseLevel as DL, FinalDenseLevel as FL, InputLevel as IL  # noqa: F401
    from cerebros.units.units import Unit  # noqa: F401
    assert Short is NeuralNetworkFuture and s(0.0) == 0.5
    assert D().maximum_skip_connection_depth == 7 and L().p_lateral_connection == 0.97


def layer_graph(model):
    edges = {}
    for layer in model.layers:
        for node in layer._inbound_nodes:
            for tensor in node.input_tensors:
                edges.setdefault(tensor._keras_history[0].name, set()).add(layer.name)
    return edges


def reachable(starts, edges):
    seen, todo = set(starts), list(starts)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


@pytest.mark.parametrize("fused", [True, False])
def test_every_layer_lies_on_an_input_to_output_path(fused):
    nnf = future(hidden=((4, 3, 2), (2, 5), (3, 3, 3)), outputs=(1, 2), inputs=(6, 3),
                 fused_units=fused, **GATED)
    model = nnf.materialize()
    edges = layer_graph(model)
    reverse = {}
    for src, dsts in edges.items():
        for d in dsts:
            reverse.setdefault(d, set()).add(src)
    from_inputs = reachable([t._keras_history[0].name for t in model.inputs], edges)
    to_outputs = reachable([t._keras_history[0].name for t in model.outputs], reverse)
    names = {layer.name for layer in model.layers}
    assert names == from_inputs & to_outputs
    assert len(names) == len(model.layers), "layer names are unique"
    assert all(re.fullmatch(r"in_\d+|(out_\d+|u\d+_\d+)(_cat|_bn|_drop|_dense)?|gate\d+_\d+", n) for n in names)
    assert any(n.startswith("gate") for n in names), "gated laterals are applied"


def test_plan_is_pure_data_and_levels_describe_it():
    nnf = future(**GATED)
    plan = nnf.plan()
    assert nnf.materialized_neural_network is None
    data = nnf.to_dict()
    json.dumps(data)
    assert [[u["kind"] for u in level] for level in data["levels"]] == [
        ["input"], ["dense", "dense"], ["dense"] * 3, ["final"]]
    assert data["levels"][0][0]["n_neurons"] == 6
    assert len(data["connections"]) == len(plan.connections)
    unit = nnf.levels_unmaterialized[2].parallel_units[2]
    assert len(unit.predecessor_connectivity_future) + len(unit.lateral_connectivity_future) == \
        sum(c["to"] == [2, 2] for c in data["connections"])


def test_same_seed_same_plan_and_weights_different_seed_differs():
    a, b, c = future(seed=5), future(seed=5), future(seed=6)
    assert a.plan() == b.plan() and a.plan() != c.plan()
    wa, wb = a.materialize().get_weights(), b.materialize().get_weights()
    assert all(np.array_equal(x, y) for x, y in zip(wa, wb))
    wc = future(seed=6).materialize().get_weights()
    assert not all(x.shape == y.shape and np.array_equal(x, y) for x, y in zip(wa, wc))


def test_from_dict_rebuilds_the_same_architecture_without_resampling():
    original = future(seed=11, **GATED)
    data = json.loads(json.dumps(original.to_dict()))
    restored = NeuralNetworkFuture.from_dict(data)
    assert restored.plan().connections == original.plan().connections
    assert restored.to_dict() == original.to_dict()
    m1, m2 = original.materialize(), restored.materialize()
    assert [l.name for l in m1.layers] == [l.name for l in m2.layers]
    x = np.random.default_rng(0).random((8, 6)).astype("float32")
    np.testing.assert_array_equal(m1.predict(x, verbose=0), m2.predict(x, verbose=0))


def test_from_dict_takes_a_gate_activation_stored_only_by_name():
    def gate(x):
        return keras.activations.sigmoid(2.0 * x)

    original = future(seed=11, gate_activation_function=gate, **GATED)
    data = json.loads(json.dumps(original.to_dict()))
    assert data["params"]["gate_activation_function"].endswith("gate"), "stored by name only"
    restored = NeuralNetworkFuture.from_dict(data, gate_activation_function=gate)
    x = np.random.default_rng(0).random((8, 6)).astype("float32")
    np.testing.assert_array_equal(original.materialize().predict(x, verbose=0),
                                  restored.materialize().predict(x, verbose=0))


@pytest.mark.parametrize("project_name", ["_scratch", "-dash", "élèves", "runs/ü"])
def test_a_project_name_tensorflow_would_refuse_as_a_scope_still_trains(project_name):
    net = NeuralNetworkFuture(input_shapes=[(6,)], output_shapes=[1],
                              neural_network_spec=spec_of((6,), ((2,),), (1,)),
                              project_name=project_name, trial_number=0, subtrial_number=0)
    x = np.random.default_rng(0).random((16, 6)).astype("float32")
    model = net.compile_neural_network()
    assert re.match(r"[A-Za-z0-9.]", model.name), model.name
    model.fit(x, x[:, :1], epochs=1, batch_size=8, verbose=0)


@pytest.mark.parametrize("fused", [True, False])
def test_batch_norm_momentum_sets_how_fast_the_moving_statistics_follow(fused):
    """One training step moves a first-level unit's moving mean from 0 to
    ``(1 - momentum) * batch mean``; the momentum survives the JSON record, and a record
    from before the option existed means Keras' default, 0.99."""
    x = np.random.default_rng(2).normal(3.0, 1.0, size=(64, 6)).astype("float32")
    net = future(seed=4, fused_units=fused, batch_norm_momentum=0.5)
    model = net.materialize()
    model(x, training=True)
    first = model.get_layer("u1_0" if fused else "u1_0_bn")  # reads copies of the input only
    moving_mean = np.asarray(first.get_weights()[2]).reshape(-1, 6)
    np.testing.assert_allclose(moving_mean, 0.5 * np.tile(x.mean(axis=0), (len(moving_mean), 1)),
                               rtol=1e-4)
    data = json.loads(json.dumps(net.to_dict()))
    assert data["batch_norm_momentum"] == 0.5
    assert NeuralNetworkFuture.from_dict(data).model_options.batch_norm_momentum == 0.5
    del data["batch_norm_momentum"]
    assert NeuralNetworkFuture.from_dict(data).model_options.batch_norm_momentum == 0.99
    with pytest.raises(ValueError, match=r"batch_norm_momentum must be a finite number in "
                                         r"\[0.0, 1.0\]; got 1.5"):
        future(batch_norm_momentum=1.5)


def test_fused_and_unfused_models_compute_the_same_function():
    fused, plain = future(seed=3, **GATED), future(seed=3, fused_units=False, **GATED)
    x = np.random.default_rng(1).normal(size=(32, 6)).astype("float32")
    mf, mp = fused.materialize(), plain.materialize()
    np.testing.assert_allclose(mf(x, training=True), mp(x, training=True), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(mf.predict(x, verbose=0), mp.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
    assert mf.count_params() == mp.count_params()


def _unit_gradients(model, x, y):
    """d loss / d x, and per unit name its [gamma, beta, kernel, bias] gradients."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_mean((model(x, training=True) - y) ** 2)
    variables = model.trainable_variables
    grads = tape.gradient(loss, [x] + variables)
    by_id = {id(v): np.asarray(g) for v, g in zip(variables, grads[1:])}
    units: dict = {}
    for layer in model.layers:
        unit = layer.name.removesuffix("_bn").removesuffix("_dense")
        units.setdefault(unit, []).extend(by_id[id(v)] for v in layer.trainable_variables)
    return np.asarray(grads[0]), {k: v for k, v in units.items() if v}


def test_fused_and_unfused_models_have_the_same_training_gradients():
    """The fused units' hand-written backward pass, checked on a whole gated network."""
    import tensorflow as tf

    rng = np.random.default_rng(4)
    x = tf.constant(rng.normal(size=(32, 6)).astype("float32"))
    y = tf.constant(rng.normal(size=(32, 1)).astype("float32"))
    dx_fused, fused = _unit_gradients(future(seed=3, **GATED).materialize(), x, y)
    dx_plain, plain = _unit_gradients(
        future(seed=3, fused_units=False, **GATED).materialize(), x, y)
    assert sorted(fused) == sorted(plain) and len(fused) > 3
    scale = max(float(np.abs(g).max()) for unit in plain.values() for g in unit)
    assert scale > 0
    np.testing.assert_allclose(dx_fused, dx_plain, rtol=0, atol=1e-5 * scale)
    for name, want in plain.items():
        assert [g.shape for g in fused[name]] == [g.shape for g in want], name
        for got, expected in zip(fused[name], want):
            np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5 * scale, err_msg=name)


@pytest.mark.parametrize("kwargs", [{}, {"bnorm_or_dropout": "dropout"}])
def test_small_model_fits_one_epoch(kwargs):
    nnf = future(inputs=(4, 2), outputs=(1, 3), **kwargs)
    model = nnf.materialize()
    nnf.compile_neural_network()
    assert model.optimizer.built, "optimizer variables are created before the first step"
    if kwargs:
        assert not any(isinstance(l, keras.layers.BatchNormalization) for l in model.layers)
        assert any(isinstance(l, keras.layers.Dropout) for l in model.layers)
    rng = np.random.default_rng(0)
    x = [rng.random((64, 4), dtype=np.float32), rng.random((64, 2), dtype=np.float32)]
    y = [x[0].sum(1, keepdims=True), np.concatenate([x[1], x[1][:, :1]], 1)]
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert [p.shape for p in model.predict(x, verbose=0)] == [(64, 1), (64, 3)]


LOAD_SCRIPT = """
import sys, numpy as np, keras, cerebros
model = keras.models.load_model(sys.argv[1])
np.save(sys.argv[2], model.predict(np.load(sys.argv[3]), verbose=0))
"""


@pytest.mark.parametrize("fused", [True, False])
def test_gated_model_saves_and_loads_without_custom_objects(tmp_path, fused):
    nnf = future(seed=2, fused_units=fused, **GATED)
    model = nnf.materialize()
    nnf.compile_neural_network()
    x = np.random.default_rng(2).random((16, 6), dtype=np.float32)
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    subprocess.run([sys.executable, "-c", LOAD_SCRIPT, str(path), str(tmp_path / "y.npy"),
                    str(tmp_path / "x.npy")], check=True, capture_output=True)
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), model.predict(x, verbose=0))
    if not fused:  # plain Keras layers (the optimizer aside): no Cerebros needed to predict
        script = LOAD_SCRIPT.replace(", cerebros", "").replace("])", "], compile=False)", 1)
        subprocess.run([sys.executable, "-c", script, str(path), str(tmp_path / "y2.npy"),
                        str(tmp_path / "x.npy")], check=True, capture_output=True)
        np.testing.assert_array_equal(np.load(tmp_path / "y2.npy"), model.predict(x, verbose=0))
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_compile_uses_adamw_with_the_original_weight_decay_and_does_not_force_xla():
    nnf = future()
    model = nnf.compile_neural_network()
    assert isinstance(model.optimizer, keras.optimizers.AdamW)
    assert model.optimizer.weight_decay == pytest.approx(0.004)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)
    assert nnf.jit_compile is None


def test_original_attributes_are_exposed():
    nnf = future(maximum_skip_connection_depth=3)
    assert nnf.maximum_skip_connection_depth == 3
    assert nnf.name == "t_trial_0000000000000001_subtrial_0000000000000002"
    with pytest.raises(AttributeError):
        nnf.no_such_attribute


BAD = [
    (dict(neural_network_spec={"1": [{"1": FinalDenseUnit}]}), "no level '0'"),
    (dict(neural_network_spec={"0": [{"1": InputUnit}], "2": [{"1": FinalDenseUnit}]}), "consecutive"),
    (dict(neural_network_spec={"0": [{"1": InputUnit}], "1": [], "2": [{"1": FinalDenseUnit}]}),
     "non-empty"),
    (dict(neural_network_spec={"0": [{"1": InputUnit}], "1": [{"0": DenseUnit}],
                               "2": [{"1": FinalDenseUnit}]}), "at least 1 neuron"),
    (dict(input_shapes=[(6,), (2,)]), "input_shapes"),
    (dict(output_shapes=[3]), "output_shapes"),
    (dict(minimum_skip_connection_depth=4, maximum_skip_connection_depth=2),
     "minimum_skip_connection_depth"),
    (dict(predecessor_level_connection_affinity_factor_main=-1),
     "predecessor_level_connection_affinity_factor_main"),
    (dict(p_lateral_connection=1.5), "p_lateral_connection"),
    (dict(predecessor_level_connection_affinity_factor_first_rounding_rule="round"), "one of 'ceil', 'floor'"),
    (dict(merging_strategy="add"), "merging_strategy"),
    (dict(activation="no_such_activation"), "activation"),
    (dict(gate_activation_function=3), "gate_activation_function"),
]


@pytest.mark.parametrize("override, message", BAD)
def test_bad_input_raises_a_clear_value_error(override, message):
    arguments = dict(input_shapes=[(6,)], output_shapes=[1], project_name="p", trial_number=0,
                     subtrial_number=0, neural_network_spec=spec_of((6,), ((3,),), (1,)))
    arguments.update(override)
    with pytest.raises(ValueError, match=re.escape(message)):
        NeuralNetworkFuture(**arguments)


def test_wiring_config_validates_at_construction():
    with pytest.raises(ValueError, match="num_lateral_connection_tries_per_unit"):
        WiringConfig(num_lateral_connection_tries_per_unit=-1)


def double(x):
    return 2 * x


def test_a_lambda_activation_warns_that_a_saved_model_will_not_load(caplog):
    spec = {"0": [{"3": InputUnit}], "1": [{"2": DenseUnit}], "2": [{"1": FinalDenseUnit}]}
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        NeuralNetworkFuture(input_shapes=[(3,)], output_shapes=[1], neural_network_spec=spec,
                            activation=double, gate_activation_function="sigmoid")
    assert not [r for r in caplog.records if "cannot be loaded" in r.getMessage()]
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        NeuralNetworkFuture(input_shapes=[(3,)], output_shapes=[1], neural_network_spec=spec,
                            activation=lambda x: 2 * x)
    warned = [r.getMessage() for r in caplog.records if "cannot be loaded" in r.getMessage()]
    assert len(warned) == 1 and warned[0].startswith("activation must be") and "lambda" in \
        warned[0]
