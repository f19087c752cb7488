"""SimpleCerebrosRandomSearch: the original's call, its oracle, models and ranking."""

import json
import logging
import math

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from cerebros import (DenseUnit, SearchFailedError, SimpleCerebrosRandomSearch, predict,
                      simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay)
from cerebros.data import SCALED_TARGET_STD
from cerebros.evolution import breed
from cerebros.simplecerebrosrandomsearch.simple_cerebros_random_search import (
    SimpleCerebrosRandomSearch as OriginalPath)
from trial_callbacks import (PoisonTrials, RecordEpochs, RecordGraphOptimizer,
                             RecordStepsPerExecution)

ORIGINAL_COLUMNS = ["loss", "root_mean_squared_error", "val_loss", "val_root_mean_squared_error",
                    "trial_number", "subtrial_number", "model_name"]


@pytest.fixture(scope="module")
def readme_search(tmp_path_factory):
    """The original README's call as written (but for two epochs instead of 96), run once:
    the search, its result, its input rows, its project folder and the warnings the
    ``cerebros`` logger gave.  Its own test checks the call and its project; the tests of
    breeding and ensembles read the same finished search."""
    rng = np.random.default_rng(1)
    tensor_x = tf.constant(rng.normal(size=(300, 12)).astype("float32"))
    label = pd.Series(rng.normal(size=300) * 3 + tensor_x.numpy()[:, 0], name="price")
    project = tmp_path_factory.mktemp("readme") / "ames"
    INPUT_SHAPES, PROJECT_NAME = [(12,)], str(project)
    warnings = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = warnings.append
    package_logger = logging.getLogger("cerebros")
    level = package_logger.level
    package_logger.setLevel(logging.WARNING)
    package_logger.addHandler(handler)
    try:
        cerebros = SimpleCerebrosRandomSearch(
            unit_type=DenseUnit, input_shapes=INPUT_SHAPES,
            output_shapes=[1], training_data=[tensor_x], labels=[label.values],
            validation_split=0.35, direction='minimize',
            metric_to_rank_by='val_root_mean_squared_error', minimum_levels=2, maximum_levels=7,
            minimum_units_per_level=1, maximum_units_per_level=4, minimum_neurons_per_unit=1,
            maximum_neurons_per_unit=4, activation='elu', final_activation=None,
            number_of_architecture_moities_to_try=7, number_of_tries_per_architecture_moity=1,
            number_of_generations=3, minimum_skip_connection_depth=1,
            maximum_skip_connection_depth=7,
            predecessor_level_connection_affinity_factor_first=15.0313,
            predecessor_level_connection_affinity_factor_first_rounding_rule='ceil',
            predecessor_level_connection_affinity_factor_main=10.046,
            predecessor_level_connection_affinity_factor_main_rounding_rule='ceil',
            predecessor_level_connection_affinity_factor_decay_main=zero_7_exp_decay,
            seed=8675309, max_consecutive_lateral_connections=23,
            gate_after_n_lateral_connections=3, gate_activation_function=simple_sigmoid,
            p_lateral_connection=0.19668, p_lateral_connection_decay=zero_95_exp_decay,
            num_lateral_connection_tries_per_unit=20, learning_rate=0.0664, loss='mse',
            metrics=[tf.keras.metrics.RootMeanSquaredError()], epochs=2, patience=7,
            project_name=PROJECT_NAME, model_graphs='model_graphs', batch_size=93,
            meta_trial_number=0)
        result = cerebros.run_random_search()
    finally:
        package_logger.removeHandler(handler)
        package_logger.setLevel(level)
    return cerebros, result, tensor_x, project, warnings


def test_the_original_readme_call_runs_as_written(readme_search):
    cerebros, result, tensor_x, project, warnings = readme_search
    assert isinstance(result, float)
    ignored = [r.getMessage() for r in warnings if "has no effect" in r.getMessage()]
    assert len(ignored) == 1 and "model_graphs" in ignored[0]

    oracle = pd.read_csv(project / "oracle.csv")
    assert list(oracle.columns[:7]) == ORIGINAL_COLUMNS
    assert len(oracle) == 7 * 2, "one row per epoch per trial"
    assert sorted(set(oracle.trial_number)) == list(range(7))
    lineage = oracle.groupby("trial_number")[["generation", "parent_trial"]].first()
    assert lineage.generation.tolist() == [0, 0, 0, 1, 1, 2, 2], "7 moieties in 3 generations"
    assert lineage.parent_trial.iloc[:3].isna().all()
    for trial, row in lineage.iloc[3:].iterrows():
        assert lineage.generation[int(row.parent_trial)] < row.generation
    assert (oracle.status == "completed").all() and (oracle.n_params > 0).all()
    assert result == pytest.approx(oracle.val_root_mean_squared_error.min())
    best_row = oracle.loc[oracle.val_root_mean_squared_error.idxmin()]
    assert cerebros.best_model_path.endswith(
        f"tr_{best_row.trial_number:016d}_subtrial_0000000000000000.keras")

    model = cerebros.get_best_model()
    assert isinstance(model, keras.Model)
    assert model.predict(tensor_x[:5], verbose=0).shape == (5, 1)
    for trial in range(7):
        stem = f"tr_{trial:016d}_subtrial_0000000000000000"
        assert (project / "models" / f"{stem}.keras").is_file()
        plan = json.loads((project / "model_architectures" / f"{stem}.json").read_text())
        assert plan["levels"][0][0]["n_neurons"] == 12
    assert OriginalPath is SimpleCerebrosRandomSearch


def test_maximize_direction_picks_the_maximum(small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(direction="max", number_of_architecture_moities_to_try=3))
    result = search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert result == pytest.approx(oracle.val_root_mean_squared_error.max())
    board = search.results_summary()
    assert board.iloc[0]["val_root_mean_squared_error"] == pytest.approx(result)


def test_multiple_inputs_and_outputs(small_search, tmp_path):
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(200, 3)), rng.normal(size=(200, 2))
    y1, y2 = x1.sum(1), np.stack([x2[:, 0] + x2[:, 1], x2[:, 1] * 2], 1)
    search = SimpleCerebrosRandomSearch(**small_search(
        input_shapes=[(3,), (2,)], output_shapes=[1, 2], training_data=[x1, x2],
        labels=[y1, y2], metric_to_rank_by="val_loss"))
    search.run_random_search()
    predictions = search.get_best_model().predict([x1[:4], x2[:4]], verbose=0)
    assert [p.shape for p in predictions] == [(4, 1), (4, 2)]
    plan = json.loads(next((tmp_path / "project" / "model_architectures").glob("*.json")).read_text())
    assert len(plan["levels"][0]) == 2 and [u["n_neurons"] for u in plan["levels"][-1]] == [1, 2]


def test_same_seed_same_specs_and_plans_different_seed_differs(small_search):
    def plans(seed):
        search = SimpleCerebrosRandomSearch(**small_search(
            seed=seed, number_of_architecture_moities_to_try=4, number_of_tries_per_architecture_moity=2))
        return [json.dumps(task.network_record(), sort_keys=True) for task in search.tasks()]

    first = plans(7)
    assert first == plans(7)
    assert first != plans(8)
    assert len(set(first)) == 8, "each try re-plans the wiring"


def test_patience_stops_early_and_restores_the_best_weights(small_search, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 5)).astype("float32")
    noise = rng.normal(size=200).astype("float32")  # nothing to learn: validation stalls
    search = SimpleCerebrosRandomSearch(**small_search(
        training_data=[x], labels=[noise], epochs=40, patience=2, learning_rate=0.05,
        number_of_architecture_moities_to_try=1))
    search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert len(oracle) < 40, "early stopping ended the trial"
    model = search.get_best_model()
    val = model.evaluate(x[150:], noise[150:], verbose=0, return_dict=True)
    assert val["root_mean_squared_error"] == pytest.approx(
        oracle.val_root_mean_squared_error.min(), rel=1e-4)


def test_without_early_stopping_every_epoch_runs_and_the_best_one_is_saved(small_search,
                                                                           tmp_path):
    """``patience=None``: no epoch is skipped, and the saved model is still the best
    epoch's, the one whose score the oracle ranks the trial by (not the last epoch's)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 5)).astype("float32")
    noise = rng.normal(size=200).astype("float32")  # nothing to learn: validation wanders
    search = SimpleCerebrosRandomSearch(**small_search(
        training_data=[x], labels=[noise], epochs=8, patience=None, learning_rate=0.05,
        number_of_architecture_moities_to_try=1))
    search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert len(oracle) == 8, "every epoch ran"
    scores = oracle.val_root_mean_squared_error
    assert scores.idxmin() != len(scores) - 1, "the case to test: the last epoch is not the best"
    val = search.get_best_model().evaluate(x[150:], noise[150:], verbose=0, return_dict=True)
    assert val["root_mean_squared_error"] == pytest.approx(scores.min(), rel=1e-4)


def test_user_callbacks_reach_every_trial(small_search):
    RecordEpochs.epochs = 0
    SimpleCerebrosRandomSearch(**small_search(callbacks=[RecordEpochs()])).run_random_search()
    assert RecordEpochs.epochs == 2 * 2


@pytest.mark.parametrize("graph_optimization", [False, True])
def test_graph_optimizer_is_off_during_trials_and_restored_after(small_search,
                                                                 graph_optimization):
    import tensorflow as tf

    before = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    RecordGraphOptimizer.disabled = []
    SimpleCerebrosRandomSearch(**small_search(
        callbacks=[RecordGraphOptimizer()], graph_optimization=graph_optimization)
    ).run_random_search()
    assert RecordGraphOptimizer.disabled == [not graph_optimization] * 2
    after = tf.config.optimizer.get_experimental_options().get("disable_meta_optimizer", False)
    assert after == before is False


def test_trials_train_with_steps_per_execution_but_their_saved_models_predict_one_step_at_a_time(
        small_search):
    """Keras' ``predict`` traces ``steps_per_execution`` copies of the network into one
    graph, so a saved model keeps the setting out of its compile config (its first
    ``predict`` took 18.9 s instead of 1.3 s, ``benchmarks/bench_predict.py``)."""
    RecordStepsPerExecution.steps = []
    search = SimpleCerebrosRandomSearch(**small_search(
        steps_per_execution=8, callbacks=[RecordStepsPerExecution()]))
    search.run_random_search()
    assert RecordStepsPerExecution.steps == [8, 8], "training used the search's setting"
    model = search.get_best_model()
    assert model.steps_per_execution == 1
    assert model.get_compile_config()["steps_per_execution"] == 1
    x = search.data.x_val[0]
    np.testing.assert_allclose(model.predict(x, verbose=0), predict(model, x), rtol=1e-5)


def test_nan_trial_is_recorded_as_failed_and_the_search_goes_on(small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=3, callbacks=[PoisonTrials({1})]))
    result = search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    status = oracle.groupby("trial_number").status.first()
    assert status.to_dict() == {0: "completed", 1: "failed", 2: "completed"}
    error = oracle[oracle.trial_number == 1].error.iloc[0]
    assert "nan" in error.lower()
    assert np.isfinite(result) and "tr_0000000000000001" not in search.best_model_path


def test_consecutive_failures_stop_the_search_quoting_the_last_error(small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=5, max_consecutive_failed_trials=2,
        callbacks=[PoisonTrials(range(5))]))
    with pytest.raises(SearchFailedError, match="2 trials failed in a row.*nan"):
        search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert oracle.trial_number.nunique() == 2 and (oracle.status == "failed").all()


def test_resume_skips_finished_trials_and_refuses_other_arguments(small_search, tmp_path):
    first = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=2))
    best = first.run_random_search()
    oracle_file = tmp_path / "project" / "oracle.csv"
    before = oracle_file.read_bytes()
    # More moieties with otherwise equal arguments is a different search: refused.
    with pytest.raises(ValueError, match="number_of_architecture_moities_to_try"):
        SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3)).run_random_search()
    again = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=2))
    assert again.run_random_search() == best
    assert oracle_file.read_bytes() == before, "nothing retrained or duplicated"
    fresh = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3,
                                                      overwrite=True))
    fresh.run_random_search()
    assert pd.read_csv(oracle_file).trial_number.nunique() == 3


def test_deterministic_searches_repeat_exactly(small_search, tmp_path):
    def run(name, seed=123):
        search = SimpleCerebrosRandomSearch(**small_search(
            project_name=str(tmp_path / name), deterministic=True, seed=seed))
        search.run_random_search()
        frame = pd.read_csv(tmp_path / name / "oracle.csv")
        return frame[["loss", "val_loss", "n_params"]].to_numpy()

    a = run("a")
    np.testing.assert_array_equal(a, run("b"))
    assert not np.array_equal(a, run("c", seed=124))


def test_generations_breed_children_from_earlier_completed_trials(small_search, readme_search):
    planned = SimpleCerebrosRandomSearch(**small_search(
        number_of_architecture_moities_to_try=5, number_of_generations=3))
    assert [list(g) for g in planned.generations()] == [[0, 1], [2, 3], [4]]
    search, _, _, project, _ = readme_search  # 7 moieties in 3 generations, run
    assert [list(g) for g in search.generations()] == [[0, 1, 2], [3, 4], [5, 6]]
    board = search.results_summary(None).set_index("trial_number")
    assert board.generation.to_dict() == {0: 0, 1: 0, 2: 0, 3: 1, 4: 1, 5: 2, 6: 2}
    architectures = project / "model_architectures"
    for trial in (3, 4, 5, 6):
        record = json.loads((architectures / f"tr_{trial:016d}_subtrial_0000000000000000.json")
                            .read_text())
        parent = record["parent"][0]
        assert board.generation[parent] < board.generation[trial]
        assert board.parent_trial[trial] == parent
        assert record["mutation"].split()[0] in ("unit_width", "add_unit", "remove_unit",
                                                 "add_level", "remove_level", "redraw_inputs",
                                                 "redraw_laterals")
        parent_record = json.loads((architectures / f"tr_{parent:016d}_subtrial_0000000000000000"
                                    ".json").read_text())
        assert (record["levels"], record["connections"]) != (parent_record["levels"],
                                                              parent_record["connections"])


def test_one_generation_is_the_plain_random_search(small_search):
    one = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3))
    assert [t.generation for t in one.tasks()] == [0, 0, 0]
    assert [t.plan for t in one.tasks()] == [one.plan(m, 0) for m in range(3)]


@pytest.mark.parametrize("generations", [0, 4, 1.5, True])
def test_number_of_generations_must_fit_the_moieties(small_search, tmp_path, generations):
    with pytest.raises(ValueError, match=r"number_of_generations must be an int in \[1, 3\]"):
        SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3,
                                                  number_of_generations=generations))
    assert not (tmp_path / "project").exists(), "refused before anything was written"


def test_generations_are_refused_up_front_where_no_mutation_can_change_a_network(small_search,
                                                                                tmp_path):
    fixed = dict(minimum_levels=2, maximum_levels=2, minimum_units_per_level=1,
                 maximum_units_per_level=1, minimum_neurons_per_unit=2, maximum_neurons_per_unit=2)
    with pytest.raises(ValueError, match=r"^number_of_generations=2 needs a mutation that changes "
                                         r"a network.*Pass number_of_generations=1, or widen"):
        SimpleCerebrosRandomSearch(**small_search(number_of_generations=2, **fixed))
    assert not (tmp_path / "project").exists(), "refused before anything was written"
    SimpleCerebrosRandomSearch(**small_search(number_of_generations=1, **fixed))
    # Fixed sizes with two units a level still leave the units' inputs to re-draw: accepted,
    # and its plans do breed.
    search = SimpleCerebrosRandomSearch(**small_search(
        number_of_generations=2, **{**fixed, "minimum_units_per_level": 2,
                                    "maximum_units_per_level": 2}))
    (_, child, mutation), = breed([search.plan(0, 0)], [1.0], 1, search.wiring_config,
                                  search.bounds, np.random.default_rng(0))
    assert mutation.startswith("redraw_") and child.widths == search.plan(0, 0).widths


def _layers(model, kind):
    return [layer for layer in model.layers if type(layer).__name__ == kind]


def test_targets_are_scaled_and_features_clipped_inside_the_saved_model(small_search,
                                                                       regression_data):
    x, y = regression_data
    prices = y * 40_000 + 180_000  # raw units, as house prices
    search = SimpleCerebrosRandomSearch(**small_search(labels=[prices], epochs=3))
    search.run_random_search()
    model = keras.models.load_model(search.best_model_path)  # after `import cerebros` only
    (scale,), (clip,) = _layers(model, "ScaleTargets"), _layers(model, "ClipFeatures")
    (standardize,) = _layers(model, "StandardizeFeatures")
    train = search.data.y_train[0].astype("float64")
    assert scale.get_config()["mean"] == pytest.approx([train.mean()])
    assert SCALED_TARGET_STD == "auto"
    spread = 7.5 * 0.01 * math.ceil(len(train) / 32) * 3  # learning rate, batch 32, 3 epochs
    assert search.manifest()["target_spread"] == pytest.approx(spread) == 1.35
    assert scale.get_config()["scale"] == pytest.approx([train.std() / spread])
    features = search.data.x_train[0].astype("float64")
    low, high = np.quantile(features, 0.001, axis=0), np.quantile(features, 0.999, axis=0)
    assert clip.get_config()["low"] == pytest.approx(low.tolist(), rel=1e-6)
    assert clip.get_config()["high"] == pytest.approx(high.tolist(), rel=1e-6)
    clipped = np.clip(features, low, high)  # standardized as the model sees them: clipped
    assert standardize.get_config()["mean"] == pytest.approx(clipped.mean(axis=0).tolist())
    assert standardize.get_config()["scale"] == pytest.approx(clipped.std(axis=0).tolist())
    assert standardize.input is clip.output, "clipped first, then standardized"
    far = x[:1].copy()
    far[0, 0] = 1e6  # far beyond anything seen in training
    at_bound = far.copy()
    at_bound[0, 0] = clip.get_config()["high"][0]
    np.testing.assert_allclose(model.predict(far, verbose=0), model.predict(at_bound, verbose=0))
    val = model.evaluate(search.data.x_val[0], search.data.y_val[0], verbose=0, return_dict=True)
    board = search.results_summary(None)
    assert val["root_mean_squared_error"] == pytest.approx(
        board["val_root_mean_squared_error"].iloc[0], rel=1e-4), "the oracle reports raw units"


def test_original_behaviour_without_scaling_or_clipping(small_search, tmp_path):
    search = SimpleCerebrosRandomSearch(**small_search(scale_targets=False, clip_features=None,
                                                       number_of_architecture_moities_to_try=1))
    search.run_random_search()
    model = search.get_best_model()
    assert not _layers(model, "ScaleTargets") and not _layers(model, "ClipFeatures")
    assert _layers(model, "StandardizeFeatures"), "standardization is its own switch"
    raw = SimpleCerebrosRandomSearch(**small_search(project_name=str(tmp_path / "raw"),
                                                    standardize_features=False,
                                                    number_of_architecture_moities_to_try=1))
    raw.run_random_search()
    assert not _layers(raw.get_best_model(), "StandardizeFeatures")


def test_momentum_and_target_spread_reach_the_saved_models(small_search, regression_data):
    x, y = regression_data
    prices = y * 40_000 + 180_000
    search = SimpleCerebrosRandomSearch(**small_search(
        labels=[prices], number_of_architecture_moities_to_try=1, batch_norm_momentum=0.75,
        scaled_target_std=1000.0))
    search.run_random_search()
    assert search.manifest()["batch_norm_momentum"] == 0.75
    assert search.manifest()["scaled_target_std"] == 1000.0
    model = search.get_best_model()
    units = _layers(model, "FusedDenseUnit")
    assert units and {unit.momentum for unit in units} == {0.75}
    (scale,) = _layers(model, "ScaleTargets")
    train = search.data.y_train[0].astype("float64")
    assert scale.get_config()["scale"] == pytest.approx([train.std() / 1000.0])
    assert scale.get_config()["mean"] == pytest.approx([train.mean()])


@pytest.mark.parametrize("rate, epochs, batch", [(0.0664, 96, 32), (0.005, 20, 16),
                                                  (0.01, 2, 32), (0.0664, 96, 200)])
def test_the_automatic_target_spread_counts_the_training_budgets_steps(
        small_search, regression_data, rate, epochs, batch):
    x, y = regression_data
    prices = y * 40_000 + 180_000
    search = SimpleCerebrosRandomSearch(**small_search(
        labels=[prices], learning_rate=rate, epochs=epochs, batch_size=batch))
    train = search.data.y_train[0].astype("float64")
    steps = -(-len(train) // batch) * epochs  # 180 training rows
    spread = max(1.0, 7.5 * rate * steps)
    ((mean, (scale,)),) = search.model_options.target_scaling
    assert scale * spread == pytest.approx(float(train.std()), rel=1e-6)
    assert mean == pytest.approx([train.mean()])
    assert search.manifest()["scaled_target_std"] == "auto"
    assert search.manifest()["target_spread"] == pytest.approx(spread)
    assert (f"to standard deviation {spread:g} = max(1, 7.5 x learning rate x {steps} "
            "optimizer steps)") in search.search_space_summary()


@pytest.mark.parametrize("bad", ["AUTO", "1000", "", [1.0]])
def test_a_bad_target_spread_is_refused_naming_the_choices(small_search, bad):
    with pytest.raises(ValueError, match=r"scaled_target_std must be a finite number > 0") as error:
        SimpleCerebrosRandomSearch(**small_search(scaled_target_std=bad))
    if isinstance(bad, str):
        assert "None (centred only) or 'auto'" in str(error.value)


def test_standardized_inputs_give_sane_validation_scores_from_the_first_epoch(small_search,
                                                                              tmp_path):
    """A raw column with a large mean (a year: about 2008, spread 1.3) leaves batch
    normalization's moving averages, which start at mean 0, far off after a few batches, so
    the validation score of an early epoch is off by orders of magnitude; standardized
    inputs start them where they belong.  Training is the same either way."""
    rng = np.random.default_rng(5)
    year = rng.normal(2008, 1.3, size=(240, 1))
    x = np.hstack([year, rng.normal(size=(240, 3))]).astype("float32")
    y = (year[:, 0] - 2008 + x[:, 1]).astype("float32")
    scores = {}
    for flag in (True, False):
        search = SimpleCerebrosRandomSearch(**small_search(
            training_data=[x], labels=[y], input_shapes=[(4,)], epochs=1, seed=7,
            number_of_architecture_moities_to_try=1, standardize_features=flag,
            clip_predictions=None,  # bounded predictions would hide how far off it is
            project_name=str(tmp_path / f"std{flag}")))
        scores[flag] = search.run_random_search()
    spread = float(np.std(y))
    assert scores[True] < 3 * spread, scores
    assert scores[False] > 100 * scores[True], scores


def test_classification_outputs_are_not_rescaled(small_search, regression_data, caplog):
    x, y = regression_data
    classes = (y > 0).astype("int64")
    search = SimpleCerebrosRandomSearch(**small_search(
        labels=[classes], output_shapes=[2], final_activation="softmax",
        loss="sparse_categorical_crossentropy", metrics=["accuracy"],
        metric_to_rank_by="val_accuracy", direction="max"))
    assert search.model_options.target_scaling is None
    assert search.model_options.input_bounds is not None
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(
            labels=[classes], output_shapes=[2], final_activation="softmax",
            loss="sparse_categorical_crossentropy", metrics=["accuracy"],
            metric_to_rank_by="val_accuracy", direction="max", scaled_target_std=10.0))
    assert "scaled_target_std=10.0 has no effect: no output learns scaled" in caplog.text


def two_classes(y, **extra):
    """Search arguments of a softmax classifier of ``y > 0`` ranked by validation accuracy."""
    return dict(labels=[(y > 0).astype("int64")], output_shapes=[2], final_activation="softmax",
                loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                metric_to_rank_by="val_accuracy", **extra)


def test_clip_predictions_warns_on_classification_only_when_the_user_set_it(small_search,
                                                                         regression_data, caplog):
    classify = two_classes(regression_data[1], direction="max")
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(**classify))
    assert "clip_predictions" not in caplog.text, "the default is not the user's setting"
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(**classify, clip_predictions=0.5))
    assert "clip_predictions=0.5 has no effect: no output learns scaled targets" in caplog.text


def test_a_direction_that_would_rank_the_worst_model_first_is_warned_of(small_search,
                                                                        regression_data, caplog):
    classify = two_classes(regression_data[1])
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(**classify))  # the original's "minimize"
    assert "direction='minimize' ranks the smallest val_accuracy first" in caplog.text
    assert "Pass direction='maximize'" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(**classify, direction="max"))
        SimpleCerebrosRandomSearch(**small_search(metric_to_rank_by="val_loss"))
    assert "ranks the" not in caplog.text
    with caplog.at_level(logging.WARNING, logger="cerebros"):
        SimpleCerebrosRandomSearch(**small_search(metric_to_rank_by="val_loss",
                                                  direction="maximize"))
    assert "ranks the largest val_loss first" in caplog.text


def _my_squared_error(y_true, y_pred):
    return keras.ops.mean(keras.ops.square(y_true - y_pred), axis=-1)


def test_a_plain_function_loss_and_metric_train_resume_and_load(small_search, tmp_path):
    def my_abs(y_true, y_pred):  # local: only the function itself can reach a trial
        return keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    arguments = small_search(loss=_my_squared_error, metrics=[my_abs, "mae"],
                             metric_to_rank_by="val_my_abs")
    search = SimpleCerebrosRandomSearch(**arguments)
    best = search.run_random_search()
    oracle = pd.read_csv(tmp_path / "project" / "oracle.csv")
    assert {"loss", "val_loss", "my_abs", "val_my_abs", "val_mae"} <= set(oracle.columns)
    assert best == pytest.approx(oracle["val_my_abs"].min())
    # The loss is the function's: mean squared error, as Keras' own "mse" gives it.
    assert (oracle["loss"] > 0).all() and oracle["val_my_abs"].notna().all()
    manifest = json.loads((tmp_path / "project" / "search_config.json").read_text())
    assert manifest["loss"] == repr("test_search:_my_squared_error")
    assert manifest["metrics"] == repr(["my_abs", "mae"])
    model = search.get_best_model()
    assert model.loss is _my_squared_error
    again = SimpleCerebrosRandomSearch(**arguments)
    assert again.run_random_search() == best, "resumed: nothing to rerun"


def test_a_custom_keras_object_keras_cannot_rebuild_is_refused_naming_the_argument(small_search,
                                                                                  tmp_path):
    class MyMAE(keras.metrics.MeanMetricWrapper):  # not registered with Keras
        def __init__(self, name="my_mae", dtype=None):
            super().__init__(_my_squared_error, name=name, dtype=dtype)

    with pytest.raises(ValueError, match=r"^metrics\[1\] \(MyMAE\) cannot be rebuilt from its "
                                         r"Keras config.*register_keras_serializable"):
        SimpleCerebrosRandomSearch(**small_search(metrics=["mae", MyMAE()],
                                                  metric_to_rank_by="val_my_mae"))
    assert not (tmp_path / "project").exists()


@pytest.mark.parametrize("bad, match", [
    (dict(scale_targets="yes"), "scale_targets must be one of True, False, 'auto'; got 'yes'"),
    (dict(clip_features=0.5), r"clip_features must be a finite number in \[0.0, 0.25\]"),
    (dict(clip_margin=-1), r"clip_margin must be a finite number >= 0.0; got -1"),
    (dict(standardize_features="yes"), "standardize_features must be True or False; got .yes."),
    (dict(batch_norm_momentum="0.9"), r"batch_norm_momentum must be a finite number in "
                                      r"\[0.0, 1.0\]; got .0.9."),
    (dict(batch_norm_momentum=-0.1), r"batch_norm_momentum must be a finite number in "
                                     r"\[0.0, 1.0\]; got -0.1"),
    (dict(scaled_target_std=0), r"scaled_target_std must be a finite number > 0.0; got 0"),
    (dict(scaled_target_std=float("nan")), r"scaled_target_std must be a finite number"),
    (dict(scaled_target_std="1000"), r"scaled_target_std must be a finite number"),
    (dict(scaled_target_std=1000, scale_targets=False),
     r"scaled_target_std=1000.0 has no effect with scale_targets=False"),
])
def test_bad_scaling_options_fail_before_anything_is_written(small_search, tmp_path, bad, match):
    with pytest.raises(ValueError, match=match):
        SimpleCerebrosRandomSearch(**small_search(**bad))
    assert not (tmp_path / "project").exists()


def test_best_ensemble_averages_the_best_trials_and_loads_after_import(small_search,
                                                                       readme_search):
    with pytest.raises(ValueError, match="completed trial"):
        SimpleCerebrosRandomSearch(**small_search()).get_best_ensemble()
    search, _, _, project, _ = readme_search
    with pytest.raises(ValueError, match="top must be an int >= 1; got 0"):
        search.get_best_ensemble(top=0)
    ensemble = search.get_best_ensemble(top=3)
    info = json.loads((project / "ensemble.json").read_text())
    assert 1 <= len(info["members"]) <= 3
    assert info["val_score"] <= min(info["member_val_scores"]) + 1e-9
    loaded = keras.models.load_model(project / "ensemble.keras")
    x_val, y_val = search.data.x_val[0], search.data.y_val[0]
    from cerebros import predict  # the model called directly: Model.predict would trace it

    predicted = predict(loaded, x_val)
    np.testing.assert_allclose(predicted, predict(ensemble, x_val), rtol=1e-5, atol=1e-5)
    rmse = float(np.sqrt(np.mean((predicted.ravel() - y_val.ravel()) ** 2)))
    assert rmse == pytest.approx(info["val_score"], rel=1e-4)
    best_two = search.get_best_models(num_models=2)
    assert len(best_two) == 2 and best_two[0].name != best_two[1].name


def test_a_search_whose_every_trial_failed_raises_search_failed(small_search):
    search = SimpleCerebrosRandomSearch(**small_search(
        callbacks=[PoisonTrials(range(5))], max_consecutive_failed_trials=5))
    with pytest.raises(SearchFailedError, match="no trial completed"):
        search.run_random_search()


def test_all_trials_failing_before_any_epoch_raises_search_failed(small_search):
    from trial_callbacks import FailBeforeTraining

    search = SimpleCerebrosRandomSearch(**small_search(
        callbacks=[FailBeforeTraining()], max_consecutive_failed_trials=5))
    with pytest.raises(SearchFailedError, match="no trial completed"):
        search.run_random_search()


def test_search_space_summary_names_the_ranges_and_wiring(small_search):
    search = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=3,
                                                       number_of_generations=2))
    shown = []
    text = search.search_space_summary(print_fn=shown.append)
    assert shown == [text]
    assert "levels (dense, incl. final): 2..3" in text
    assert "neurons per hidden unit: 1..3" in text
    assert "3 moieties x 1 tries, in 2 generation(s)" in text
    assert "p_lateral_connection: 0.97" in text
    assert ("features clipped at quantile 0.001 with margin 0.0, standardized: True, "
            "batch-normalization momentum 0.9") in text
    assert ("targets scaled: True (to standard deviation 1 = max(1, 7.5 x learning rate x 12 "
            "optimizer steps))") in text
    assert "targets scaled: True (to standard deviation 1.0)" in SimpleCerebrosRandomSearch(
        **small_search(scaled_target_std=1.0)).search_space_summary()
    assert "targets scaled: True (centred only)" in SimpleCerebrosRandomSearch(
        **small_search(scaled_target_std=None)).search_space_summary()


@pytest.mark.parametrize("reduce_lr_patience, halved", [(1, True), (None, False)])
def test_the_learning_rate_halves_on_a_plateau(small_search, reduce_lr_patience, halved):
    from trial_callbacks import RecordLearningRate

    rng = np.random.default_rng(5)
    x = rng.normal(size=(200, 5)).astype("float32")
    noise = rng.normal(size=200).astype("float32")  # nothing to learn: validation stalls
    RecordLearningRate.rates = []
    SimpleCerebrosRandomSearch(**small_search(
        training_data=[x], labels=[noise], epochs=8, patience=None, learning_rate=0.05,
        number_of_architecture_moities_to_try=1, reduce_lr_patience=reduce_lr_patience,
        callbacks=[RecordLearningRate()])).run_random_search()
    rates = RecordLearningRate.rates
    assert len(rates) == 8 and rates[0] == pytest.approx(0.05)
    if halved:
        steps = [later / earlier for earlier, later in zip(rates, rates[1:])]
        assert min(rates) < 0.05 and all(step == pytest.approx(1) or step == pytest.approx(0.5)
                                         for step in steps)
    else:
        assert rates == [pytest.approx(0.05)] * 8


def test_a_search_leaves_no_lasting_side_effects(small_search):
    import random

    from tensorflow.python.framework import config as tf_config

    random.seed(1)
    np.random.seed(2)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    grappler = tf.config.optimizer.get_experimental_options()
    keras.config.set_dtype_policy("float64")
    try:
        search = SimpleCerebrosRandomSearch(**small_search(
            deterministic=True, number_of_architecture_moities_to_try=1))
        search.run_random_search()
        assert not tf_config.is_op_determinism_enabled()
        assert tf.config.optimizer.get_experimental_options() == grappler
        assert keras.config.dtype_policy().name == "float64"
        assert random.getstate() == python_state
        after = np.random.get_state()
        assert after[0] == numpy_state[0] and (after[1] == numpy_state[1]).all()
    finally:
        keras.config.set_dtype_policy("float32")


def test_a_saved_trial_plan_rebuilds_the_same_model_with_its_fitted_constants(small_search,
                                                                             tmp_path):
    from cerebros import NeuralNetworkFuture

    search = SimpleCerebrosRandomSearch(**small_search(number_of_architecture_moities_to_try=1))
    search.run_random_search()
    record = json.loads(next((tmp_path / "project" / "model_architectures").glob("*.json"))
                        .read_text())
    rebuilt = NeuralNetworkFuture.from_dict(record).materialize()
    trained = search.get_best_model()
    rebuilt.set_weights(trained.get_weights())
    x = search.data.x_val[0]
    np.testing.assert_allclose(rebuilt.predict(x, verbose=0), trained.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    assert (_layers(rebuilt, "ScaleTargets") and _layers(rebuilt, "ClipFeatures")
            and _layers(rebuilt, "StandardizeFeatures"))
    (bounded,), (fitted,) = _layers(rebuilt, "ScaleTargets"), _layers(trained, "ScaleTargets")
    assert bounded.get_config()["high"] == fitted.get_config()["high"], "bounds rebuilt too"


def test_bounded_predictions_stay_in_the_training_labels_range_only_outside_training(
        small_search, regression_data):
    x, y = regression_data
    prices = y * 40_000 + 180_000
    search = SimpleCerebrosRandomSearch(**small_search(
        labels=[prices], number_of_architecture_moities_to_try=1, clip_predictions=0.5,
        clip_features=None))  # unclipped inputs, so that a far row moves the output far
    assert "predictions bounded: 0.5" in search.search_space_summary()
    search.run_random_search()
    assert search.manifest()["clip_predictions"] == 0.5
    model = keras.models.load_model(search.best_model_path)  # after `import cerebros` only
    (scale,) = _layers(model, "ScaleTargets")
    train = search.data.y_train[0].astype("float64")
    width = train.max() - train.min()
    assert scale.get_config()["low"] == pytest.approx([train.min() - 0.5 * width])
    assert scale.get_config()["high"] == pytest.approx([train.max() + 0.5 * width])
    far = np.repeat(x[:1], 2, axis=0)
    far[:, :2] = [[1e4, -1e4], [-1e4, 1e4]]  # far outside, in opposite directions
    predicted = model.predict(far, verbose=0).ravel()
    low, high = scale.get_config()["low"][0], scale.get_config()["high"][0]
    assert np.all((predicted >= low - 1e-3 * width) & (predicted <= high + 1e-3 * width))


def test_scale_targets_clips_outside_training_only_and_saves_its_bounds():
    from cerebros.layers import ScaleTargets

    layer = ScaleTargets([10.0], [2.0], low=[0.0], high=[20.0])
    z = np.array([[-10.0], [0.0], [10.0]], "float32")
    np.testing.assert_allclose(layer(z, training=True), [[-10.0], [10.0], [30.0]])
    np.testing.assert_allclose(layer(z, training=False), [[0.0], [10.0], [20.0]])
    np.testing.assert_allclose(layer(z), [[0.0], [10.0], [20.0]])
    again = ScaleTargets.from_config(layer.get_config())
    np.testing.assert_allclose(again(z), [[0.0], [10.0], [20.0]])
    unbounded = ScaleTargets([10.0], [2.0])
    assert "low" not in unbounded.get_config()
    np.testing.assert_allclose(unbounded(z), [[-10.0], [10.0], [30.0]])


def test_bad_prediction_bounds_are_refused_and_old_projects_had_none(small_search):
    with pytest.raises(ValueError, match=r"clip_predictions must be a finite number >= 0.0; "
                                         r"got -1"):
        SimpleCerebrosRandomSearch(**small_search(clip_predictions=-1))
    from cerebros.layers import ScaleTargets
    with pytest.raises(ValueError, match="low and high must be given together"):
        ScaleTargets([0.0], [1.0], low=[0.0])
    with pytest.raises(ValueError, match=r"low must be <= high in every column"):
        ScaleTargets([0.0], [1.0], low=[2.0], high=[1.0])
    from cerebros.search import IMPLIED_MANIFEST_VALUES
    assert IMPLIED_MANIFEST_VALUES["clip_predictions"] is None
    assert SimpleCerebrosRandomSearch(**small_search()).manifest()["clip_predictions"] == 0.0


def test_auto_scaling_follows_each_outputs_own_loss(small_search, regression_data):
    x, y = regression_data
    classes = (y > 0).astype("int64")
    search = SimpleCerebrosRandomSearch(**small_search(
        output_shapes=[1, 2], labels=[y, classes],
        loss=["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)],
        metrics=[], metric_to_rank_by="val_loss"))
    assert [search._scales_output(i) for i in (0, 1)] == [True, False], \
        "the regression output learns scaled targets, the classifier's class ids stay"
