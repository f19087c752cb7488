"""cerebros.predict: a model's inference-mode outputs without tracing a graph."""

import keras
import numpy as np
import pytest

from cerebros import predict


def two_in_two_out():
    a, b = keras.Input((3,), name="a"), keras.Input((2,), name="b")
    hidden = keras.layers.BatchNormalization()(keras.layers.Concatenate()([a, b]))
    hidden = keras.layers.Dense(4, activation="elu")(hidden)
    model = keras.Model([a, b], [keras.layers.Dense(1)(hidden), keras.layers.Dense(2)(hidden)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = [rng.normal(5, 3, size=(50, 3)).astype("float32"), rng.normal(size=(50, 2)).astype("float32")]
    model.fit(x, [x[0][:, :1], x[1]], epochs=2, verbose=0)  # moving statistics move off (0, 1)
    return model, x


def test_predict_equals_keras_predict_in_inference_mode_in_any_chunking():
    model, x = two_in_two_out()
    expected = model.predict(x, verbose=0)
    for rows in (1, 7, 50, 8192):
        got = predict(model, x, batch_rows=rows)
        assert isinstance(got, list) and len(got) == 2
        for g, e in zip(got, expected):
            assert isinstance(g, np.ndarray) and g.shape == e.shape
            np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)
    single = keras.Model(model.inputs, model.outputs[0])
    got = predict(single, tuple(x), batch_rows=9)
    assert isinstance(got, np.ndarray) and got.shape == (50, 1)
    np.testing.assert_allclose(got, expected[0], rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_named():
    model, x = two_in_two_out()
    with pytest.raises(ValueError, match="batch_rows must be an int >= 1"):
        predict(model, x, batch_rows=0)
    with pytest.raises(ValueError, match=r"x must hold one array per model input \(2\); got 1"):
        predict(model, x[0])
    with pytest.raises(ValueError, match=r"same number of rows; got \[50, 49\]"):
        predict(model, [x[0], x[1][:49]])
