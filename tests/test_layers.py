"""FusedDenseUnit equals Concatenate -> BatchNormalization -> Dense, exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from cerebros.layers import FusedDenseUnit, SeededGlorotUniform, distinct_sources

REPO_ROOT = Path(__file__).resolve().parents[1]
ATOL = {"float64": 1e-12, "float32": 1e-5}
BATCH = 11
UNITS = 4


def _pair(dtype: str, widths=(3, 5, 2), copy_order="abaagcbag", activation="tanh"):
    """Build an unfused and a fused model on the same inputs, with equal random weights.

    ``copy_order`` names the copies: a, b, c are the model inputs, g is sigmoid(a).
    """
    inputs = [keras.Input((w,), dtype=dtype) for w in widths]
    named = dict(zip("abc", inputs))
    named["g"] = keras.layers.Activation("sigmoid", dtype=dtype)(named["a"])
    copies = [named[k] for k in copy_order]
    distinct, copy_sources = distinct_sources(copies)

    concat = copies[0] if len(copies) == 1 else keras.layers.Concatenate(dtype=dtype)(copies)
    bn = keras.layers.BatchNormalization(dtype=dtype)
    dense = keras.layers.Dense(UNITS, activation=activation, dtype=dtype)
    unfused = keras.Model(inputs, dense(bn(concat)))

    fused_layer = FusedDenseUnit(UNITS, copy_sources, activation=activation, dtype=dtype)
    fused = keras.Model(inputs, fused_layer(distinct if len(distinct) > 1 else distinct[0]))

    rng = np.random.default_rng(0)
    width = bn.gamma.shape[0]
    bn.set_weights([
        rng.uniform(0.5, 1.5, width),
        rng.normal(0, 0.5, width),
        rng.normal(0, 1.0, width),  # every copy gets its own moving statistics
        rng.uniform(0.3, 2.0, width),
    ])
    dense.set_weights([rng.normal(0, 0.4, (width, UNITS)), rng.normal(0, 0.3, UNITS)])
    fused_layer.set_weights(bn.get_weights() + dense.get_weights())
    data = [tf.constant(rng.normal(1.0, 2.0, (BATCH, w)), dtype=dtype) for w in widths]
    return unfused, fused, bn, dense, fused_layer, data


def _grads(model, variables, data, training):
    with tf.GradientTape() as tape:
        tape.watch(data)
        for v in variables:
            tape.watch(v.value)
        out = model(data, training=training)
        cotangent = tf.cast(tf.reshape(tf.range(tf.size(out)) % 7 - 3, out.shape), out.dtype)
        loss = tf.reduce_sum(out * cotangent)
    grads = tape.gradient(loss, [v.value for v in variables] + list(data))
    return [np.zeros(t.shape) if g is None else np.asarray(g) for g, t in
            zip(grads, [v.value for v in variables] + list(data))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("training", [False, True])
def test_outputs_and_gradients_match_unfused(dtype, training):
    unfused, fused, bn, dense, fused_layer, data = _pair(dtype)
    atol = ATOL[dtype]
    np.testing.assert_allclose(
        fused(data, training=training), unfused(data, training=training), rtol=0, atol=atol
    )
    unfused_grads = _grads(unfused, bn.weights + dense.weights, data, training)
    fused_grads = _grads(fused, fused_layer.weights, data, training)
    assert len(fused_grads) == 6 + len(data)
    for got, want in zip(fused_grads, unfused_grads):
        assert got.shape == want.shape
        scale = max(1.0, float(np.abs(want).max()))  # gradients reach ~30: compare relative
        np.testing.assert_allclose(got, want, rtol=0, atol=atol * scale)
    if not training:  # moving statistics only matter at inference, so their gradients do
        assert np.abs(unfused_grads[2]).max() > 0.1


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_moving_statistics_after_training_call_match(dtype):
    unfused, fused, bn, _, fused_layer, data = _pair(dtype)
    before = fused_layer.moving_mean.numpy().copy()
    unfused(data, training=True)
    fused(data, training=True)
    np.testing.assert_allclose(fused_layer.moving_mean, bn.moving_mean, rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(
        fused_layer.moving_variance, bn.moving_variance, rtol=0, atol=ATOL[dtype]
    )
    assert not np.allclose(before, fused_layer.moving_mean.numpy())
    # Inference after the update still agrees.
    np.testing.assert_allclose(fused(data), unfused(data), rtol=0, atol=ATOL[dtype])


def test_single_copy_single_tensor():
    unfused, fused, bn, dense, fused_layer, data = _pair(
        "float64", widths=(3,), copy_order="a", activation=None
    )
    assert fused_layer.copy_sources == (0,)
    for training in (False, True):
        np.testing.assert_allclose(
            fused(data, training=training), unfused(data, training=training), atol=1e-12
        )
    np.testing.assert_allclose(fused_layer.moving_mean, bn.moving_mean, atol=1e-12)


def test_non_trainable_layer_uses_moving_statistics_in_training():
    unfused, fused, bn, _, fused_layer, data = _pair("float64")
    bn.trainable = False
    fused_layer.trainable = False
    before = fused_layer.moving_mean.numpy().copy()
    np.testing.assert_allclose(
        fused(data, training=True), unfused(data, training=False), atol=1e-12
    )
    np.testing.assert_array_equal(fused_layer.moving_mean.numpy(), before)


def test_weights_layout_and_order():
    *_, fused_layer, _ = _pair("float32")
    names = [w.name for w in fused_layer.weights]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias"]
    width = 4 * 3 + 2 * 5 + 2 * 3 + 1 * 2  # copies "abaagcbag": a x4, b x2, g x2, c x1
    assert [tuple(w.shape) for w in fused_layer.weights] == [
        (width,), (width,), (width,), (width,), (width, UNITS), (UNITS,)
    ]
    assert [w.name for w in fused_layer.trainable_weights] == ["gamma", "beta", "kernel", "bias"]


def test_fit_one_epoch_updates_weights():
    keras.utils.set_random_seed(1)
    a, b = keras.Input((3,)), keras.Input((2,))
    hidden = FusedDenseUnit(6, [0, 1, 0, 0, 1], activation="relu")([a, b])
    model = keras.Model([a, b], keras.layers.Dense(1)(hidden))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    x = [rng.normal(size=(64, 3)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")]
    y = rng.normal(size=(64, 1)).astype("float32")
    layer = model.layers[2]
    kernel_before = layer.kernel.numpy().copy()
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.allclose(kernel_before, layer.kernel.numpy())
    assert not np.allclose(layer.moving_mean.numpy(), 0.0)


def test_config_round_trip():
    layer = FusedDenseUnit(3, [1, 0, 1], activation="relu", epsilon=1e-4, momentum=0.9,
                           kernel_initializer="he_normal", bias_initializer="ones")
    config = layer.get_config()
    assert config["copy_sources"] == [1, 0, 1]
    assert config["activation"] == "relu"
    clone = FusedDenseUnit.from_config(config)
    assert clone.get_config() == config
    assert keras.saving.get_registered_name(FusedDenseUnit) == "cerebros>FusedDenseUnit"


def test_save_load_in_fresh_process(tmp_path):
    unfused, fused, *_ , data = _pair("float32")
    path = tmp_path / "fused.keras"
    fused.save(path)
    arrays = [d.numpy() for d in data]
    np.savez(tmp_path / "x.npz", *arrays)
    script = (
        "import sys, numpy as np\n"
        "import cerebros.layers, keras\n"
        f"m = keras.models.load_model({str(path)!r})\n"
        f"x = np.load({str(tmp_path / 'x.npz')!r})\n"
        "x = [x[f'arr_{i}'] for i in range(len(x.files))]\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, m.predict(x, verbose=0))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = np.load(tmp_path / "y.npy")
    np.testing.assert_array_equal(loaded, fused.predict(arrays, verbose=0))
    np.testing.assert_allclose(loaded, unfused.predict(arrays, verbose=0), atol=1e-5)


def test_weights_are_keras_variables_with_layer_paths_and_tape_flags():
    *_, fused_layer, _ = _pair("float32")
    assert [w.path for w in fused_layer.weights] == [
        f"{fused_layer.name}/{name}" for name in
        ("gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias")]
    # The moving statistics must not be watched by a GradientTape.
    assert [w.value.trainable for w in fused_layer.weights] == [True, True, False, False,
                                                                 True, True]


def test_seeded_glorot_uniform_is_reproducible_and_glorot():
    draw = SeededGlorotUniform(7)
    values = draw((300, 20), dtype="float64")
    assert values.dtype == np.float64 and values.shape == (300, 20)
    np.testing.assert_array_equal(values, SeededGlorotUniform(7)((300, 20), dtype="float64"))
    assert not np.allclose(values, SeededGlorotUniform(8)((300, 20), dtype="float64"))
    limit = np.sqrt(6.0 / (300 + 20))
    assert np.abs(values).max() <= limit and np.abs(values).max() > 0.99 * limit
    assert abs(values.mean()) < 0.05 * limit
    assert SeededGlorotUniform(3)((5,)).dtype == np.float32
    config = keras.initializers.serialize(draw)
    assert keras.initializers.deserialize(config).seed == 7
    assert keras.saving.get_registered_name(SeededGlorotUniform) == "cerebros>SeededGlorotUniform"
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="seed"):
            SeededGlorotUniform(bad)


def test_kernel_initializer_value_is_used():
    a, b = keras.Input((3,)), keras.Input((2,))
    layer = FusedDenseUnit(4, [0, 1, 0], kernel_initializer=SeededGlorotUniform(11),
                           bias_initializer="ones")
    layer([a, b])
    np.testing.assert_array_equal(layer.kernel.numpy(), SeededGlorotUniform(11)((8, 4)))
    np.testing.assert_array_equal(layer.bias.numpy(), np.ones(4))
    np.testing.assert_array_equal(layer.moving_variance.numpy(), np.ones(8))


def test_distinct_sources_is_identity_based():
    x, y = np.zeros(2), np.zeros(2)  # equal values, different objects
    distinct, sources = distinct_sources([y, x, y, y, x])
    assert distinct[0] is y and distinct[1] is x and len(distinct) == 2
    assert sources == [0, 1, 0, 0, 1]
    with pytest.raises(ValueError, match="tensors_per_copy"):
        distinct_sources([])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units"),
        ({"units": 2.5}, "units"),
        ({"units": True}, "units"),
        ({"copy_sources": []}, "copy_sources"),
        ({"copy_sources": [0, 2]}, r"never uses \[1\]"),
        ({"copy_sources": [0, -1]}, "copy_sources"),
        ({"copy_sources": [0, "1"]}, "copy_sources"),
        ({"copy_sources": 3}, "copy_sources"),
        ({"epsilon": 0.0}, "epsilon"),
        ({"momentum": 1.5}, "momentum"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    arguments = {"units": 2, "copy_sources": [0, 1], **kwargs}
    with pytest.raises(ValueError, match=match):
        FusedDenseUnit(**arguments)


def test_bad_inputs_raise_in_build():
    a, b = keras.Input((3,)), keras.Input((2,))
    with pytest.raises(ValueError, match="copy_sources"):
        FusedDenseUnit(2, [0, 1, 2])([a, b])
    with pytest.raises(ValueError, match="copy_sources"):
        FusedDenseUnit(2, [0, 0])([a, b])
    with pytest.raises(ValueError, match="2-D"):
        FusedDenseUnit(2, [0, 0])(keras.Input((3, 4)))


def test_fused_unit_matches_unfused_on_jax_backend():
    """The hand-written gradient also holds on Keras' JAX backend (used for GPU runs)."""
    pytest.importorskip("jax")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3",
           "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(REPO_ROOT / "tests" / "jax_fused_check.py")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for mode, diffs in report.items():
        assert diffs["output"] < 1e-5, mode
        assert diffs["inputs"] < 1e-5 * max(1.0, diffs["params_scale"]), mode
        assert diffs["params"] < 1e-5 * max(1.0, diffs["params_scale"]), mode


def test_custom_gradient_scope_releases_the_traced_graphs():
    """tf.custom_gradient keeps every traced graph alive through TensorFlow's gradient
    registry (tensorflow#97697); a search runs each trial in custom_gradient_scope."""
    import gc

    from tensorflow.python.framework import ops as tf_ops
    from tensorflow.python.framework.func_graph import FuncGraph

    from cerebros.tf_state import custom_gradient_scope

    def live_graphs():
        gc.collect()
        return sum(isinstance(o, FuncGraph) for o in gc.get_objects())

    def fit_once():
        a, b = keras.Input((3,)), keras.Input((2,))
        model = keras.Model([a, b], keras.layers.Dense(1)(FusedDenseUnit(4, [0, 1, 0])([a, b])))
        model.compile(optimizer="adam", loss="mse")
        x = [np.ones((8, 3), "float32"), np.ones((8, 2), "float32")]
        model.fit(x, np.ones((8, 1), "float32"), epochs=1, verbose=0)

    def custom_gradients():
        return sum(name.startswith("CustomGradient-")
                   for name in tf_ops._gradient_registry._registry)

    before, registered = live_graphs(), custom_gradients()
    with custom_gradient_scope():
        fit_once()
        assert custom_gradients() > registered, "the traced step registered gradients"
    keras.backend.clear_session(free_memory=True)
    assert custom_gradients() == registered
    assert live_graphs() <= before
