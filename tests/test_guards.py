"""Every bad search argument is refused with a clear ValueError before any file is written."""

import json
import re

import keras
import numpy as np
import pytest

from cerebros import SimpleCerebrosRandomSearch

rng = np.random.default_rng(0)
X = rng.normal(size=(100, 5)).astype("float32")
Y = X[:, 0] * 2 + 1
X_NAN = X.copy()
X_NAN[7, 3] = np.nan

CASES = {
    "input shapes": (dict(input_shapes=[(4,)]), "input_shapes"),
    "two shapes one input": (dict(input_shapes=[(5,), (2,)]), "input_shapes"),
    "lengths differ": (dict(labels=[Y[:90]]), "labels"),
    "nan in data": (dict(training_data=[X_NAN]), "training_data[0]"),
    "nan column named": (dict(training_data=[X_NAN]), "column 3"),
    "inf in labels": (dict(labels=[np.where(np.arange(100) == 3, np.inf, Y)]), "labels[0]"),
    "empty data": (dict(training_data=[X[:0]], labels=[Y[:0]]), "has 0 rows"),
    "validation split 1": (dict(validation_split=1.0), "validation_split"),
    "validation split negative": (dict(validation_split=-0.1), "validation_split"),
    "validation data shape": (dict(validation_split=0.0, validation_data=([X[:10, :4]], [Y[:10]])),
                              "validation_data"),
    "direction": (dict(direction="sideways"), "direction"),
    "metric": (dict(metric_to_rank_by="val_accuracy"), "val_root_mean_squared_error"),
    "levels": (dict(minimum_levels=4, maximum_levels=2), "minimum_levels"),
    "units": (dict(minimum_units_per_level=3, maximum_units_per_level=1), "minimum_units_per_level"),
    "neurons": (dict(minimum_neurons_per_unit=5, maximum_neurons_per_unit=2), "minimum_neurons_per_unit"),
    "leakage": (dict(training_data=[np.column_stack([X, Y])], input_shapes=[(6,)]),
                "allow_label_leakage"),
    "rounding rule": (dict(predecessor_level_connection_affinity_factor_main_rounding_rule="round"),
                      "predecessor_level_connection_affinity_factor_main_rounding_rule"),
    "p lateral": (dict(p_lateral_connection=2), "p_lateral_connection"),
    "activation": (dict(activation="nope"), "activation"),
    "backend": (dict(backend="gpu-cluster"), "backend"),
    "graph optimization": (dict(graph_optimization="no"), "graph_optimization"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_before_any_file_is_written(case, tmp_path):
    override, message = CASES[case]
    project = tmp_path / "project"
    arguments = dict(input_shapes=[(5,)], output_shapes=[1], training_data=[X], labels=[Y],
                     validation_split=0.2, direction="minimize",
                     metric_to_rank_by="val_root_mean_squared_error", minimum_levels=2,
                     maximum_levels=3, minimum_units_per_level=1, maximum_units_per_level=2,
                     minimum_neurons_per_unit=1, maximum_neurons_per_unit=2,
                     project_name=str(project), verbose=0)
    arguments.update(override)
    with pytest.raises(ValueError, match=re.escape(message)):
        SimpleCerebrosRandomSearch(**arguments).run_random_search()
    assert not project.exists()


def test_numpy_bools_are_accepted_as_bools(small_search):
    from cerebros.checks import check_bool

    assert check_bool("flag", np.True_) is True and check_bool("flag", np.False_) is False
    search = SimpleCerebrosRandomSearch(**small_search(
        overwrite=np.True_, deterministic=np.False_, standardize_features=np.True_))
    assert search.overwrite is True and search.standardize_features is True
    assert search.training.deterministic is False
    with pytest.raises(ValueError, match="overwrite must be True or False; got 1"):
        SimpleCerebrosRandomSearch(**small_search(overwrite=1))


def test_leakage_opt_out_is_explicit(tmp_path):
    search = SimpleCerebrosRandomSearch(
        input_shapes=[(6,)], output_shapes=[1], training_data=[np.column_stack([X, Y])],
        labels=[Y], validation_split=0.2, direction="minimize",
        metric_to_rank_by="val_loss", minimum_levels=2, maximum_levels=2,
        minimum_units_per_level=1, maximum_units_per_level=1, minimum_neurons_per_unit=1,
        maximum_neurons_per_unit=1, project_name=str(tmp_path / "p"), allow_label_leakage=True)
    assert search.data.x_train[0].shape == (80, 6)


@pytest.mark.parametrize("bad, match", [
    (dict(learning_rate=-0.01), r"learning_rate must be a finite number > 0.0; got -0.01"),
    (dict(learning_rate=0), r"learning_rate must be a finite number > 0.0; got 0"),
    (dict(learning_rate="0.01"), r"learning_rate must be a finite number > 0.0; got '0.01'"),
    (dict(jit_compile="yes"), r"jit_compile must be one of None, True, False, 'auto'"),
    (dict(steps_per_execution=0), r"steps_per_execution must be an int >= 1; got 0"),
    (dict(trial_timeout_s=0), r"trial_timeout_s must be a finite number > 0.0; got 0"),
    (dict(trial_timeout_s="60"), r"trial_timeout_s must be a finite number > 0.0; got '60'"),
    (dict(metrics=[keras.metrics.MeanAbsoluteError(name="epoch")], metric_to_rank_by="val_loss"),
     r"metrics must not report names the oracle uses.*'epoch'"),
])
def test_bad_training_arguments_fail_in_the_constructor(small_search, tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        SimpleCerebrosRandomSearch(**small_search(**bad))
    assert not (tmp_path / "project").exists(), "nothing written before the error"


def test_a_project_is_not_resumed_with_another_decay_function_of_the_same_name(small_search,
                                                                               tmp_path):
    slow, fast = (lambda k: 0.9 ** k), (lambda k: 0.5 ** k)
    assert slow.__name__ == fast.__name__ == "<lambda>"
    first = SimpleCerebrosRandomSearch(**small_search(p_lateral_connection_decay=slow))
    first.project.check_or_write_manifest(first.manifest(), overwrite=False)
    values = first.manifest()["decay_values"]
    assert list(values) == ["p_lateral_connection_decay"], "library decays go by name"
    assert values["p_lateral_connection_decay"][:3] == [1.0, 0.9, pytest.approx(0.81)]
    again = SimpleCerebrosRandomSearch(**small_search(p_lateral_connection_decay=slow))
    assert again.project.check_or_write_manifest(again.manifest(), overwrite=False) is True
    other = SimpleCerebrosRandomSearch(**small_search(p_lateral_connection_decay=fast))
    with pytest.raises(ValueError, match="decay_values"):
        other.run_random_search()
    assert not list((tmp_path / "project" / "models").iterdir()), "refused before training"


def test_a_project_from_before_a_setting_existed_resumes_with_that_settings_old_behaviour(
        small_search, tmp_path):
    """A manifest written before ``standardize_features``, ``inherit_weights``,
    ``batch_norm_momentum`` and ``scaled_target_std`` existed lacks them: such a project had
    raw inputs, no inheritance, Keras' momentum and targets standardized to spread 1, so it
    resumes when asked for those and is refused, naming the setting, when asked for
    another."""
    from cerebros.project import MANIFEST_NAME

    raw = dict(number_of_architecture_moities_to_try=1, standardize_features=False,
               batch_norm_momentum=0.99, scaled_target_std=1.0)
    SimpleCerebrosRandomSearch(**small_search(**raw)).run_random_search()
    manifest = tmp_path / "project" / MANIFEST_NAME
    older = json.loads(manifest.read_text())
    for key in ("standardize_features", "inherit_weights", "batch_norm_momentum",
                "scaled_target_std"):
        del older[key]
    manifest.write_text(json.dumps(older))
    oracle = (tmp_path / "project" / "oracle.csv").read_bytes()

    SimpleCerebrosRandomSearch(**small_search(**raw)).run_random_search()
    assert (tmp_path / "project" / "oracle.csv").read_bytes() == oracle, "nothing retrained"
    with pytest.raises(ValueError, match=r"standardize_features: False \(absent: implied\) "
                                         r"-> True\. To continue it, pass the values it "
                                         r"was started with"):
        SimpleCerebrosRandomSearch(**small_search(**{**raw, "standardize_features": True})
                                   ).run_random_search()
    with pytest.raises(ValueError, match=r"batch_norm_momentum: 0.99 \(absent: implied\) "
                                         r"-> 0.9\b"):
        SimpleCerebrosRandomSearch(**small_search(**{**raw, "batch_norm_momentum": 0.9})
                                   ).run_random_search()
    with pytest.raises(ValueError, match=r"scaled_target_std: 1.0 \(absent: implied\) "
                                         r"-> None\b"):
        SimpleCerebrosRandomSearch(**small_search(**{**raw, "scaled_target_std": None})
                                   ).run_random_search()
    with pytest.raises(ValueError, match=r"scaled_target_std: 1.0 \(absent: implied\) "
                                         r"-> 'auto'; target_spread: <absent> -> 1\.0\. To "
                                         r"continue it"):
        SimpleCerebrosRandomSearch(**small_search(**{**raw, "scaled_target_std": "auto"})
                                   ).run_random_search()


def test_a_project_made_when_auto_meant_another_spread_is_not_resumed_under_todays_rule(
        small_search, tmp_path):
    """Before ``target_spread`` was recorded, ``scaled_target_std="auto"`` meant 15,000 x the
    learning rate (150 here); today it gives 1 for this search.  Such a project is refused,
    naming both spreads, instead of being resumed with other targets; today's resumes."""
    from cerebros.project import MANIFEST_NAME

    arguments = dict(number_of_architecture_moities_to_try=1)
    SimpleCerebrosRandomSearch(**small_search(**arguments)).run_random_search()
    manifest = tmp_path / "project" / MANIFEST_NAME
    stored = json.loads(manifest.read_text())
    assert (stored["scaled_target_std"], stored["target_spread"]) == ("auto", 1.0)
    oracle = (tmp_path / "project" / "oracle.csv").read_bytes()
    SimpleCerebrosRandomSearch(**small_search(**arguments)).run_random_search()
    assert (tmp_path / "project" / "oracle.csv").read_bytes() == oracle, "resumed, not retrained"

    del stored["target_spread"]
    manifest.write_text(json.dumps(stored))
    with pytest.raises(ValueError, match=r"target_spread: 150\.0 \(absent: implied\) -> 1\.0\. "
                                         r"To continue it"):
        SimpleCerebrosRandomSearch(**small_search(**arguments)).run_random_search()
    assert (tmp_path / "project" / "oracle.csv").read_bytes() == oracle


def test_where_no_output_learns_scaled_targets_the_default_spread_is_recorded_as_before(
        small_search, regression_data):
    """A classifier's targets are not scaled, so the spread has no effect: the default is
    recorded as 1.0, the value every project made before "auto" holds, so those resume."""
    x, _ = regression_data
    search = SimpleCerebrosRandomSearch(**small_search(
        labels=[(x[:, 0] > 0).astype("int32")], output_shapes=[2], final_activation="softmax",
        loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        metric_to_rank_by="val_accuracy", direction="maximize"))
    assert search.model_options.target_scaling is None
    manifest = search.manifest()
    assert manifest["scaled_target_std"] == 1.0 and "target_spread" not in manifest
