"""FlatAdamW: bitwise the same training as keras.optimizers.AdamW, with far fewer graph ops."""

import inspect
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from cerebros.neuralnetworkfuture.neural_network_future import NeuralNetworkFuture
from cerebros.optimizers import FlatAdamW
from cerebros.units.units import DenseUnit, FinalDenseUnit, InputUnit

REPO_ROOT = Path(__file__).resolve().parent.parent
STEPS = 20


class Scale(keras.layers.Layer):
    """Multiplies by one scalar weight (gives the tests a 0-d variable)."""

    def build(self, input_shape):
        self.factor = self.add_weight(shape=(), initializer="ones", name="factor")

    def call(self, inputs):
        return inputs * self.factor


def small_model(dtype: str = "float32") -> keras.Model:
    """Kernels, biases, batch-norm gammas and betas and a scalar: shapes (), (n,), (m, n)."""
    inputs = keras.Input((6,), dtype=dtype)
    x = keras.layers.Dense(5, activation="elu", dtype=dtype)(inputs)
    x = keras.layers.BatchNormalization(dtype=dtype)(x)
    x = keras.layers.Dense(3, activation="tanh", dtype=dtype)(x)
    x = Scale(dtype=dtype)(x)
    return keras.Model(inputs, keras.layers.Dense(1, dtype=dtype)(x))


def mixed_dtype_model() -> keras.Model:
    """A float64 layer between float32 layers: two flat groups."""
    inputs = keras.Input((6,))
    x = keras.layers.Dense(5, activation="elu")(inputs)
    x = keras.layers.Dense(4, activation="elu", dtype="float64")(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


def embedding_model() -> keras.Model:
    """An embedding, whose gradient is a tf.IndexedSlices with repeated indices."""
    inputs = keras.Input((5,), dtype="int32")
    x = keras.layers.Embedding(7, 3)(inputs)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(1)(x))


def cerebros_model(dtype: str = "float32") -> keras.Model:
    spec = {"0": [{"1": InputUnit}], "1": [{"4": DenseUnit}, {"3": DenseUnit}],
            "2": [{"2": DenseUnit}, {"5": DenseUnit}, {"3": DenseUnit}],
            "3": [{"1": FinalDenseUnit}]}
    return NeuralNetworkFuture(input_shapes=[(6,)], output_shapes=[1], neural_network_spec=spec,
                               project_name="t", trial_number=1, subtrial_number=2, seed=3,
                               train_data_dtype=dtype).materialize()


def data(dtype: str = "float32", rows: int = 24, integer: bool = False):
    rng = np.random.default_rng(0)
    if integer:
        x = rng.integers(0, 7, size=(rows, 5)).astype("int32")
        y = (x[:, :2].sum(1, keepdims=True) / 7.0).astype(dtype)
    else:
        x = rng.normal(size=(rows, 6)).astype(dtype)
        y = (x[:, :2].sum(1, keepdims=True) - x[:, 2:3] ** 2).astype(dtype)
    return x, y


def train(make_model, optimizer, dtype="float32", extra_variable=False, eager=False,
          integer=False, exclude=None):
    """``STEPS`` optimizer steps on a fresh, seeded model; its weights (and the extra
    variable) and the optimizer's iteration count."""
    keras.utils.set_random_seed(1)
    model = make_model()
    variables = list(model.trainable_variables)
    if extra_variable:  # gets a gradient every other step; the optimizer must leave it
        # and its moments alone in the other steps
        variables.append(keras.Variable(np.ones((2, 3)), dtype=variables[0].dtype, name="idle"))
    if exclude:
        optimizer.exclude_from_weight_decay(var_names=exclude)
    optimizer.build(variables)
    x, y = data(dtype, integer=integer)

    def step(xb, yb, use_extra):
        with tf.GradientTape() as tape:
            prediction = model(xb, training=True)
            loss = keras.ops.mean(keras.ops.square(keras.ops.cast(prediction, yb.dtype) - yb))
            if use_extra:
                loss = loss + keras.ops.cast(keras.ops.sum(variables[-1] ** 2), loss.dtype)
        optimizer.apply(tape.gradient(loss, variables), variables)

    if not eager:
        step = tf.function(step)
    for i in range(STEPS):
        rows = slice(8 * (i % 3), 8 * (i % 3) + 8)
        step(tf.constant(x[rows]), tf.constant(y[rows]), extra_variable and i % 2 == 0)
    return ([v.numpy() for v in model.weights + variables[len(model.trainable_variables):]],
            int(optimizer.iterations.numpy()))


def assert_same_training(make_model, kwargs, dtype="float32", **options):
    """Train with AdamW and FlatAdamW; weights and moments must be bitwise equal."""
    reference = keras.optimizers.AdamW(**kwargs)
    expected = train(make_model, reference, dtype, **options)
    flat = FlatAdamW(**kwargs)
    got = train(make_model, flat, dtype, **options)
    assert got[1] == expected[1] == STEPS // kwargs.get("gradient_accumulation_steps", 1)
    assert len(got[0]) == len(expected[0])
    for value, reference_value in zip(got[0], expected[0]):
        np.testing.assert_array_equal(value, reference_value)
    per_variable = [reference._momentums, reference._velocities]
    if flat.amsgrad:
        per_variable.append(reference._velocity_hats)
    for group, slots in zip(flat._flat_groups, flat._flat_slots):
        for slot, references in zip(slots, per_variable, strict=True):
            np.testing.assert_array_equal(
                slot.numpy(), np.concatenate([references[i].numpy().ravel()
                                              for i in group.indices]))
    return flat


def schedule():
    return keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.7)


CASES = {
    "weight_decay": dict(learning_rate=0.01, weight_decay=0.004),
    "strong_decay": dict(learning_rate=0.05, weight_decay=0.3, beta_1=0.8, epsilon=1e-5),
    "schedule": dict(learning_rate=schedule(), weight_decay=0.01),
    "clipnorm": dict(learning_rate=0.05, weight_decay=0.004, clipnorm=0.05),
    "global_clipnorm": dict(learning_rate=0.05, weight_decay=0.004, global_clipnorm=0.1),
    "clipvalue": dict(learning_rate=0.05, weight_decay=0.004, clipvalue=0.01),
    "amsgrad": dict(learning_rate=0.05, weight_decay=0.004, amsgrad=True),
}


@pytest.fixture(params=["float32", "float64"])
def floatx(request):
    previous = keras.config.floatx()
    keras.config.set_floatx(request.param)
    yield request.param
    keras.config.set_floatx(previous)


@pytest.mark.parametrize("case", sorted(CASES))
def test_bitwise_equal_to_adamw_on_a_small_model(case, floatx):
    kwargs = dict(CASES[case])
    if case == "schedule":
        kwargs["learning_rate"] = schedule()
    flat = assert_same_training(lambda: small_model(floatx), kwargs, floatx)
    groups = flat._flat_groups
    assert len(groups) == 1 and groups[0].dtype == floatx


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitwise_equal_to_adamw_on_a_cerebros_model(dtype):
    kwargs = dict(learning_rate=schedule(), weight_decay=0.004, global_clipnorm=0.5)
    flat = assert_same_training(lambda: cerebros_model(dtype), kwargs, dtype)
    assert sum(len(g.indices) for g in flat._flat_groups) == 24  # 6 units x 4 variables


@pytest.mark.parametrize("name, make_model, options, kwargs", [
    ("eager", small_model, dict(eager=True), {}),
    ("missing_gradient", small_model, dict(extra_variable=True), {}),
    ("excluded_from_decay", small_model, dict(exclude=["bias", "gamma"]), {}),
    ("sparse_gradient", embedding_model, dict(integer=True), {}),
    ("mixed_dtypes", mixed_dtype_model, {}, {}),
    ("ema", small_model, {}, dict(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=3)),
    ("accumulation", small_model, {}, dict(gradient_accumulation_steps=2)),
    ("loss_scale", small_model, {}, dict(loss_scale_factor=8.0)),
])
def test_bitwise_equal_to_adamw_in_special_cases(name, make_model, options, kwargs):
    flat = assert_same_training(make_model, dict(learning_rate=0.05, weight_decay=0.01, **kwargs),
                                **options)
    if name == "mixed_dtypes":
        assert sorted(g.dtype for g in flat._flat_groups) == ["float32", "float64"]


def test_embedding_gradient_is_sparse():
    model = embedding_model()
    x, y = data(integer=True)
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(model(x) - y))
    gradients = tape.gradient(loss, model.trainable_variables)
    assert isinstance(gradients[0], tf.IndexedSlices)
    assert len(np.unique(gradients[0].indices)) < len(gradients[0].indices)


def test_distribution_strategy_uses_the_per_variable_update():
    with tf.distribute.OneDeviceStrategy("/cpu:0").scope():
        model = small_model()
        optimizer = FlatAdamW(learning_rate=0.01)
        optimizer.build(model.trainable_variables)
    assert optimizer._flat_groups is None
    assert len(optimizer.variables) == 2 + 2 * len(model.trainable_variables)


def test_constructor_config_and_variables_match_adamw():
    assert (inspect.signature(FlatAdamW.__init__)
            == inspect.signature(keras.optimizers.AdamW.__init__))
    optimizer = FlatAdamW(learning_rate=schedule(), weight_decay=0.02, beta_1=0.8, beta_2=0.99,
                          epsilon=1e-6, amsgrad=True, global_clipnorm=1.0, use_ema=True)
    config = optimizer.get_config()
    reference = keras.optimizers.AdamW(learning_rate=schedule(), weight_decay=0.02, beta_1=0.8,
                                       beta_2=0.99, epsilon=1e-6, amsgrad=True,
                                       global_clipnorm=1.0, use_ema=True).get_config()
    assert {k: v for k, v in config.items() if k != "name"} == {
        k: v for k, v in reference.items() if k != "name"}
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(optimizer))
    assert type(restored) is FlatAdamW and restored.get_config() == config

    model = small_model()
    optimizer.build(model.trainable_variables)
    size = sum(int(np.prod(v.shape)) for v in model.trainable_variables)
    shapes = [tuple(v.shape) for v in optimizer.variables]
    # iterations, EMA averages, then flat momentum, velocity and velocity_hat
    assert shapes[0] == () and shapes[-3:] == [(size,)] * 3
    assert len(shapes) == 1 + len(model.trainable_variables) + 3


def fit_history(optimizer, x, y):
    keras.utils.set_random_seed(4)
    model = cerebros_model()
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"], jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25, verbose=0)
    return history.history, [v.numpy() for v in model.weights]


def test_fit_matches_adamw_history_exactly():
    x, y = data(rows=64)
    kwargs = dict(learning_rate=0.01, weight_decay=0.004)
    expected_history, expected_weights = fit_history(keras.optimizers.AdamW(**kwargs), x, y)
    history, weights = fit_history(FlatAdamW(**kwargs), x, y)
    assert history == expected_history
    for value, reference in zip(weights, expected_weights):
        np.testing.assert_array_equal(value, reference)


def test_neural_network_future_compiles_with_flat_adamw():
    nnf = NeuralNetworkFuture(input_shapes=[(6,)], output_shapes=[1],
                              neural_network_spec={"0": [{"1": InputUnit}],
                                                   "1": [{"3": DenseUnit}],
                                                   "2": [{"1": FinalDenseUnit}]},
                              project_name="t", trial_number=1, subtrial_number=2)
    model = nnf.compile_neural_network()
    assert type(model.optimizer) is FlatAdamW and model.optimizer.built
    assert model.optimizer._flat_groups is not None


CONTINUE_SCRIPT = """
import sys, numpy as np, keras, cerebros
model = keras.models.load_model(sys.argv[1])
data = np.load(sys.argv[2])
assert type(model.optimizer).__name__ == "FlatAdamW", type(model.optimizer)
model.fit(data["x"], data["y"], batch_size=8, epochs=2, shuffle=False, verbose=0)
np.savez(sys.argv[3], int(model.optimizer.iterations.numpy()),
         *[v.numpy() for v in model.weights + model.optimizer.variables])
"""


def test_saved_model_loads_in_a_fresh_process_and_continues_identically(tmp_path):
    x, y = data(rows=32)
    keras.utils.set_random_seed(5)
    model = cerebros_model()
    model.compile(optimizer=FlatAdamW(learning_rate=0.01, weight_decay=0.004), loss="mse",
                  jit_compile=False)
    model.optimizer.build(model.trainable_variables)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, "-c", CONTINUE_SCRIPT, str(path),
                             str(tmp_path / "data.npz"), str(tmp_path / "out.npz")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]

    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    saved = np.load(tmp_path / "out.npz")
    expected = [model.optimizer.iterations.numpy(),
                *[v.numpy() for v in model.weights + model.optimizer.variables]]
    assert len(saved.files) == len(expected) and int(saved["arr_0"]) == 16
    for i, reference in enumerate(expected):
        np.testing.assert_array_equal(saved[f"arr_{i}"], reference)


def optimizer_ops(model, optimizer):
    """Graph operations the optimizer adds to a traced train step."""
    optimizer.build(model.trainable_variables)
    specs = (tf.TensorSpec([8, 6]), tf.TensorSpec([8, 1]))

    def count(apply):
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = keras.ops.mean(keras.ops.square(model(x, training=True) - y))
            gradients = tape.gradient(loss, model.trainable_variables)
            if apply:
                optimizer.apply(gradients, model.trainable_variables)
            return loss
        return len(tf.function(step).get_concrete_function(*specs).graph.get_operations())

    return count(True) - count(False)


def test_traced_train_step_has_far_fewer_optimizer_ops():
    def deep_model():
        inputs = keras.Input((6,))
        x = inputs
        for _ in range(25):
            x = keras.layers.BatchNormalization()(keras.layers.Dense(4, activation="elu")(x))
        return keras.Model(inputs, keras.layers.Dense(1)(x))

    model = deep_model()
    assert len(model.trainable_variables) >= 100
    kwargs = dict(learning_rate=0.01, weight_decay=0.004)
    keras_ops = optimizer_ops(model, keras.optimizers.AdamW(**kwargs))
    flat_ops = optimizer_ops(model, FlatAdamW(**kwargs))
    assert flat_ops < keras_ops / 4, (flat_ops, keras_ops)
