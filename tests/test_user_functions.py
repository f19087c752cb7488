"""User-defined activations are kept by importable name in plans, manifests and saved
models, never replaced by a same-named Keras built-in, and refused up front when they
cannot be referenced."""

import json

import keras
import numpy as np
import pytest

import user_activations
from cerebros import SimpleCerebrosRandomSearch
from cerebros.layers import ImportedFunction
from cerebros.materialize import materialize, network_from_record


def test_a_user_activation_named_relu_round_trips_in_plans_and_saved_models(small_search,
                                                                           tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=1, activation=user_activations.relu))
    search.run_random_search()
    project = tmp_path / "project"
    assert json.loads((project / "search_config.json").read_text())["activation"] == \
        "user_activations:relu"
    record = json.loads(next((project / "model_architectures").glob("*.json")).read_text())
    assert record["activation"] == "user_activations:relu"

    saved = keras.models.load_model(search.best_model_path)
    units = [layer for layer in saved.layers if layer.name.startswith("u")]
    assert units and all(isinstance(layer.activation, ImportedFunction)
                         and layer.activation.function is user_activations.relu
                         for layer in units)
    x = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    predicted = saved.predict(x, verbose=0)

    # The saved plan rebuilds the same function: same predictions with the saved weights...
    plan, options = network_from_record(record)
    assert options.activation.function is user_activations.relu
    rebuilt = materialize(plan, options, name="rebuilt")
    rebuilt.set_weights(saved.get_weights())
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), predicted, rtol=1e-5, atol=1e-6)
    # ... and Keras' own relu would have given other ones.
    builtin = materialize(*network_from_record(record, activation="relu"), name="builtin")
    builtin.set_weights(saved.get_weights())
    assert not np.allclose(builtin.predict(x, verbose=0), predicted, atol=1e-3)


@pytest.mark.parametrize("backend", ["inline", "process"])
def test_a_lambda_activation_is_refused_up_front_naming_the_argument(small_search, tmp_path,
                                                                     backend):
    with pytest.raises(ValueError, match=r"^activation must be a name, a Keras function or a "
                                         r"function defined at module level.*<lambda>"):
        SimpleCerebrosRandomSearch(**small_search(backend=backend,
                                                  activation=lambda x: keras.ops.relu(x)))
    assert not (tmp_path / "project").exists()


def test_a_local_gate_function_is_refused_up_front_naming_the_argument(small_search):
    def gate(x):
        return keras.ops.sigmoid(x)

    with pytest.raises(ValueError, match=r"^gate_activation_function must be .*\.gate"):
        SimpleCerebrosRandomSearch(**small_search(gate_activation_function=gate))
