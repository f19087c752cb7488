"""Ensembles: greedy selection (Caruana et al., 2004), weighted averaging, save and load."""

import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from cerebros import DenseUnit, FinalDenseUnit, InputUnit
from cerebros.ensemble import (
    WeightedAverage,
    average_models,
    build_ensemble,
    ensemble_weights,
    greedy_ensemble_selection,
    rmse_score,
)

REPO = Path(__file__).resolve().parents[1]


def rmse(y, p):
    return float(np.sqrt(np.mean((np.asarray(y, float) - np.asarray(p, float)) ** 2)))


def reference_path(predictions, y, max_size):
    """Naive forward selection with replacement: the whole path and its scores."""
    path, scores = [], []
    for _ in range(max_size):
        trial = [rmse(y, np.mean([predictions[i] for i in path + [c]], axis=0))
                 for c in range(len(predictions))]
        best = int(np.argmin(trial))  # argmin returns the lowest index on ties
        path.append(best)
        scores.append(trial[best])
    return path, scores


# --------------------------------------------------------------------------- selection


def test_greedy_picks_two_complementary_models():
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    e = rng.normal(size=50)
    worse = y + 3 * rng.normal(size=50)
    predictions = [worse, y + e, y - e, y + 1.5 * e]
    chosen = greedy_ensemble_selection(predictions, y, max_size=10)
    assert chosen == [1, 2]  # not a longer multiset of the same proportions
    assert rmse(y, np.mean([predictions[i] for i in chosen], axis=0)) < 1e-12
    # Each alone is worse than the pair.
    assert min(rmse(y, p) for p in predictions) > 0.5


def test_greedy_returns_the_dominant_model_alone():
    rng = np.random.default_rng(1)
    y = rng.normal(size=80)
    predictions = [y + 10 * rng.normal(size=80), y + 0.1 * rng.normal(size=80),
                   y + 10 * rng.normal(size=80)]
    assert greedy_ensemble_selection(predictions, y, max_size=8) == [1]


def test_greedy_with_replacement():
    y = np.zeros((6, 1))
    predictions = [np.full((6, 1), 1.0), np.full((6, 1), -2.0), np.full((6, 1), 5.0)]
    chosen = greedy_ensemble_selection(predictions, y, max_size=10)
    assert chosen == [0, 1, 0]
    np.testing.assert_allclose(ensemble_weights(chosen, 3), [2 / 3, 1 / 3, 0.0])


def test_greedy_returns_the_best_prefix_of_its_path():
    rng = np.random.default_rng(2)
    y = rng.normal(size=40)
    predictions = [y + rng.normal(scale=s, size=40) + b
                   for s, b in [(1, 0.3), (1, -0.2), (2, 0), (0.8, 0.5), (1.2, -0.6)]]
    path, scores = reference_path(predictions, y, max_size=12)
    chosen = greedy_ensemble_selection(predictions, y, max_size=12)
    best = int(np.argmin(scores))
    assert chosen == path[:best + 1]
    score = rmse(y, np.mean([predictions[i] for i in chosen], axis=0))
    assert score == pytest.approx(min(scores), abs=1e-12)
    assert score <= min(rmse(y, p) for p in predictions)
    # Maximizing the negated score chooses the same.
    assert greedy_ensemble_selection(predictions, y, score_fn=lambda t, p: -rmse(t, p),
                                     max_size=12, direction="maximize") == chosen


def test_greedy_multi_output_and_target_shapes():
    rng = np.random.default_rng(3)
    y = [rng.normal(size=30), rng.normal(size=(30, 2))]
    e, f = rng.normal(size=(30, 1)), rng.normal(size=(30, 2))
    predictions = [[y[0][:, None] + 2 * e, y[1] + 2 * f],
                   [y[0][:, None] + e, y[1] + f],
                   [y[0][:, None] - e, y[1] - f]]
    np.testing.assert_allclose(
        ensemble_weights(greedy_ensemble_selection(predictions, y, max_size=5), 3),
        [0, 0.5, 0.5])
    # The default score is the mean of the per-output RMSEs; (n,) targets match (n, 1).
    assert rmse_score(y, predictions[1]) == pytest.approx(
        (rmse(y[0][:, None], predictions[1][0]) + rmse(y[1], predictions[1][1])) / 2)
    seen = []
    greedy_ensemble_selection(predictions, y, max_size=1,
                              score_fn=lambda t, p: seen.append(p) or 0.0)
    assert all(isinstance(p, list) and len(p) == 2 for p in seen)


def test_greedy_and_weights_reject_bad_arguments():
    y = np.zeros(4)
    with pytest.raises(ValueError, match="predictions\\[1\\]"):
        greedy_ensemble_selection([np.zeros(4), np.zeros(5)], y)
    with pytest.raises(ValueError, match="max_size must be an int >= 1; got 0"):
        greedy_ensemble_selection([np.zeros(4)], y, max_size=0)
    with pytest.raises(ValueError, match="direction"):
        greedy_ensemble_selection([np.zeros(4)], y, direction="up")
    with pytest.raises(ValueError, match="at least one"):
        greedy_ensemble_selection([], y)
    with pytest.raises(ValueError, match="indices"):
        ensemble_weights([0, 3], 3)
    with pytest.raises(ValueError, match="indices"):
        ensemble_weights([], 3)


# --------------------------------------------------------------------------- models


def plain_model(name, seed, n_inputs=1, n_outputs=1, dtype="float32"):
    keras.utils.set_random_seed(seed)
    inputs = [keras.Input((3 + i,), name=f"in_{i}", dtype=dtype) for i in range(n_inputs)]
    x = inputs[0] if n_inputs == 1 else keras.layers.Concatenate(name="cat", dtype=dtype)(inputs)
    hidden = keras.layers.Dense(4, activation="elu", name="u1_0", dtype=dtype)(x)
    outputs = [keras.layers.Dense(1 + j, name=f"out_{j}", dtype=dtype)(hidden)
               for j in range(n_outputs)]
    return keras.Model(inputs if n_inputs > 1 else inputs[0],
                       outputs if n_outputs > 1 else outputs[0], name=name)


def cerebros_model(seed):
    spec = {"0": [{"1": InputUnit}], "1": [{"3": DenseUnit}], "2": [{"1": FinalDenseUnit}]}
    try:
        from cerebros.neuralnetworkfuture.neural_network_future import (
            NeuralNetworkFuture,
        )
    except ImportError:  # the module moved: build from a plan directly
        from cerebros.config import WiringConfig
        from cerebros.materialize import ModelOptions, materialize
        from cerebros.spec import parse_spec
        from cerebros.wiring import plan_wiring
        plan = plan_wiring(parse_spec(spec, [(4,)], [1]), WiringConfig(),
                           np.random.default_rng(seed))
        return materialize(plan, ModelOptions(seed=seed),
                           name=f"proj_trial_{seed:016d}_subtrial_{0:016d}")
    return NeuralNetworkFuture(input_shapes=[(4,)], output_shapes=[1],
                               neural_network_spec=spec, project_name="proj",
                               trial_number=seed, seed=seed).materialize()


def weighted_mean(predictions, weights):
    weights = np.asarray(weights, float) / np.sum(weights)
    return sum(w * np.asarray(p, float) for w, p in zip(weights, predictions))


def run(model, x):
    """Inference without ``Model.predict`` (which traces a function per model)."""
    out = model(x, training=False)
    if isinstance(out, (list, tuple)):
        return [keras.ops.convert_to_numpy(o) for o in out]
    return keras.ops.convert_to_numpy(out)


def member_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.Model)]


@pytest.fixture(scope="module")
def cerebros_members():
    return [cerebros_model(seed) for seed in (3, 4, 5)]


def test_average_single_input_output(tmp_path):
    models = [plain_model(f"m{i}", i) for i in range(3)]
    x = np.random.default_rng(0).normal(size=(7, 3)).astype("float32")
    ensemble = average_models(models, [1.0, 2.0, 0.5])
    assert ensemble.name == "cerebros_ensemble"
    assert [t.name for t in ensemble.inputs] == ["in_0"] and ensemble.output_names == ["out_0"]
    prediction = run(ensemble, x)  # bare array in, bare array out
    assert isinstance(prediction, np.ndarray) and prediction.shape == (7, 1)
    np.testing.assert_allclose(
        prediction, weighted_mean([run(m, x) for m in models], [1, 2, 0.5]),
        atol=1e-6)
    # Equal weights by default; zero-weight members are left out.
    np.testing.assert_allclose(
        run(average_models(models), x),
        weighted_mean([run(m, x) for m in models], [1, 1, 1]), atol=1e-6)
    sparse = average_models(models, [0, 1, 3])
    assert [m.name for m in member_layers(sparse)] == ["m1", "m2"]
    assert sparse.get_layer("out_0").get_config()["weights"] == [0.25, 0.75]


def test_average_two_inputs_two_outputs_and_float64():
    models = [plain_model(f"m{i}", 10 + i, n_inputs=2, n_outputs=2) for i in range(2)]
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 4)).astype("float32")]
    ensemble = average_models(models, [3, 1], name="pair")
    assert [t.name for t in ensemble.inputs] == ["in_0", "in_1"]
    prediction = run(ensemble, x)
    members = [run(m, x) for m in models]
    assert len(prediction) == 2 and [p.shape for p in prediction] == [(5, 1), (5, 2)]
    for j in range(2):
        np.testing.assert_allclose(prediction[j], weighted_mean([p[j] for p in members], [3, 1]),
                                   atol=1e-6)
    doubles = [plain_model(f"d{i}", 20 + i, dtype="float64") for i in range(2)]
    ensemble = average_models(doubles, [1, 3])
    assert ensemble.inputs[0].dtype == "float64" and ensemble.outputs[0].dtype == "float64"
    x64 = rng.normal(size=(4, 3))
    np.testing.assert_allclose(
        run(ensemble, x64),
        weighted_mean([run(m, x64) for m in doubles], [1, 3]), atol=1e-12)


def test_average_cerebros_models(cerebros_members):
    names = [[layer.name for layer in m.layers] for m in cerebros_members]
    assert names[0] == names[1] == names[2]  # the same inner layer names in every member
    x = np.random.default_rng(2).normal(size=(6, 4)).astype("float32")
    ensemble = average_models(cerebros_members, [0.2, 0.3, 0.5])
    np.testing.assert_allclose(
        run(ensemble, x),
        weighted_mean([run(m, x) for m in cerebros_members], [0.2, 0.3, 0.5]),
        atol=1e-6)
    # The same object twice is one member with the summed weight.
    twice = average_models([cerebros_members[0], cerebros_members[1], cerebros_members[0]],
                           [1, 1, 2])
    assert len(member_layers(twice)) == 2
    np.testing.assert_allclose(twice.get_layer("out_0").get_config()["weights"], [0.75, 0.25])


def test_average_rejects_bad_members_and_weights():
    a, b = plain_model("a", 0), plain_model("b", 1)
    inputs = keras.Input((5,), name="in_0")
    wide = keras.Model(inputs, keras.layers.Dense(1)(inputs), name="wide")
    with pytest.raises(ValueError, match=r"models\[2\] \('wide'\).*inputs"):
        average_models([a, b, wide])
    inputs = keras.Input((3,), name="x")
    renamed = keras.Model(inputs, keras.layers.Dense(1)(inputs), name="renamed")
    with pytest.raises(ValueError, match="renamed"):
        average_models([a, renamed])
    inputs = keras.Input((3,), name="in_0")
    two_out = keras.Model(inputs, [keras.layers.Dense(1)(inputs), keras.layers.Dense(1)(inputs)],
                          name="two_out")
    with pytest.raises(ValueError, match=r"models\[1\] \('two_out'\).*output"):
        average_models([a, two_out])
    for weights, match in [([1, -1], "non-negative"), ([1, float("nan")], "finite"),
                           ([0, 0], "all be zero"), ([1], "one weight per model"),
                           ([1, float("inf")], "finite")]:
        with pytest.raises(ValueError, match=match):
            average_models([a, b], weights)
    with pytest.raises(ValueError, match="at least one"):
        average_models([])
    with pytest.raises(ValueError, match="weights"):
        WeightedAverage(weights=[-1.0])


def test_ensemble_saves_and_loads_in_a_fresh_process(tmp_path, cerebros_members):
    rng = np.random.default_rng(4)
    x1 = rng.normal(size=(5, 4)).astype("float32")
    x2 = [rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 4)).astype("float32")]
    # Members with identical model names and identical inner layer names (a model loaded
    # twice from one file), next to plain Cerebros members.
    path = tmp_path / "member.keras"
    cerebros_members[0].save(path)
    same_a, same_b = keras.models.load_model(path), keras.models.load_model(path)
    same_b.set_weights([w + 0.5 for w in same_b.get_weights()])
    assert same_a.name == same_b.name
    ensembles = {
        "cerebros": (average_models(cerebros_members, [1, 2, 3]), x1),
        "same_names": (average_models([same_a, same_b, cerebros_members[1]], [1, 1, 2]), x1),
        "multi": (average_models([plain_model(f"m{i}", 30 + i, n_inputs=2, n_outputs=2)
                                  for i in range(2)], [1, 2]), x2),
    }
    np.testing.assert_allclose(
        run(ensembles["same_names"][0], x1),
        weighted_mean([run(m, x1) for m in (same_a, same_b, cerebros_members[1])],
                      [1, 1, 2]), atol=1e-6)
    arrays = {}
    for key, (model, x) in ensembles.items():
        model.save(tmp_path / f"{key}.keras")
        xs = x if isinstance(x, list) else [x]
        prediction = run(model, x)
        ps = prediction if isinstance(prediction, list) else [prediction]
        arrays.update({f"{key}_x{i}": a for i, a in enumerate(xs)})
        arrays.update({f"{key}_p{i}": a for i, a in enumerate(ps)})
    np.savez(tmp_path / "expected.npz", **arrays)
    script = f"""
import numpy as np, keras
import cerebros.ensemble
data = np.load({str(tmp_path / 'expected.npz')!r})
for key in {list(ensembles)!r}:
    model = keras.models.load_model({str(tmp_path)!r} + '/' + key + '.keras')
    xs = [data[k] for k in sorted(data.files) if k.startswith(key + '_x')]
    out = model(xs if len(xs) > 1 else xs[0], training=False)
    out = [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]
    expected = [data[k] for k in sorted(data.files) if k.startswith(key + '_p')]
    assert len(out) == len(expected), key
    for o, e in zip(out, expected):
        np.testing.assert_array_equal(o, e)
print('LOADED-OK')
"""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=False, env=env, cwd=tmp_path, timeout=300)
    assert "LOADED-OK" in result.stdout, result.stdout + result.stderr


# --------------------------------------------------------------------------- from files


def linear_model(name, w, b):
    inputs = keras.Input((3,), name="in_0")
    outputs = keras.layers.Dense(1, name="out_0")(inputs)
    model = keras.Model(inputs, outputs, name=name)
    model.get_layer("out_0").set_weights([np.asarray(w, "float32")[:, None],
                                          np.asarray([b], "float32")])
    return model


@pytest.fixture(scope="module")
def saved_linear_models(tmp_path_factory):
    """Three saved models: the first two err in opposite directions, the third is worse."""
    folder = tmp_path_factory.mktemp("models")
    w_true, d = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.2, -0.4])
    paths = []
    for i, w in enumerate([w_true + 3 * d, w_true + d, w_true - d]):
        path = folder / f"proj_trial_{i:016d}_subtrial_{0:016d}.keras"
        linear_model(path.stem, w, 0.1).save(path)
        paths.append(str(path))
    x = np.random.default_rng(5).normal(size=(40, 3)).astype("float32")
    y = (x @ w_true + 0.1).astype("float32")
    return paths, x, y


def test_build_ensemble_greedy(saved_linear_models):
    paths, x, y = saved_linear_models
    model, info = build_ensemble(paths, x, y, max_size=6)
    assert set(info) == {"members", "weights", "val_score", "member_val_scores"}
    assert info["members"] == paths[1:] and info["weights"] == [0.5, 0.5]
    assert info["val_score"] < 1e-5 < min(info["member_val_scores"])
    assert info["member_val_scores"][0] > max(info["member_val_scores"][1:])
    assert info["val_score"] == pytest.approx(rmse(y[:, None], run(model, x)),
                                              abs=1e-5)
    assert [t.name for t in model.inputs] == ["in_0"]
    # A list of one array and (n, 1) targets work the same.
    _, again = build_ensemble(paths, [x], [y[:, None]], max_size=6)
    assert again["members"] == info["members"]


def test_build_ensemble_plain_average_and_top(saved_linear_models):
    paths, x, y = saved_linear_models
    _, info = build_ensemble(paths + [paths[0]], x, y, greedy=False)
    assert info["members"] == paths and info["weights"] == pytest.approx([1 / 3] * 3)
    assert len(info["member_val_scores"]) == 3
    _, best = build_ensemble(paths, x, y, top=1)
    assert best["members"] == [paths[1]] and best["weights"] == [1.0]
    _, two = build_ensemble(paths, x, y, top=2, greedy=False)
    assert two["members"] == paths[1:]


@pytest.mark.parametrize("top", [0, -1, 1.5, "2", True])
def test_build_ensemble_rejects_bad_top(saved_linear_models, top):
    paths, x, y = saved_linear_models
    with pytest.raises(ValueError, match=f"top must be an int >= 1; got {top!r}"):
        build_ensemble(paths, x, y, top=top)


def test_build_ensemble_rejects_bad_arguments(saved_linear_models, tmp_path):
    paths, x, y = saved_linear_models
    with pytest.raises(ValueError, match="model_paths"):
        build_ensemble([], x, y)
    with pytest.raises(ValueError, match="max_size"):
        build_ensemble(paths, x, y, max_size=0)
    other = tmp_path / "other.keras"
    inputs = keras.Input((5,), name="in_0")
    keras.Model(inputs, keras.layers.Dense(1)(inputs), name="other").save(other)
    with pytest.raises(ValueError, match="other"):
        build_ensemble([paths[0], str(other)], x, y)
