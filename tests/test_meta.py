"""The meta-search (cerebros.meta, cerebros tune): real SQLite and PostgreSQL studies, pruning,
resume after SIGKILL, two processes on one study, and bad input refused before any work.

Every search here is tiny (60 rows, 3 features, 1 epoch, 1-3 inner trials of 2-level nets).
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

optuna = pytest.importorskip("optuna")

from cerebros import SimpleCerebrosRandomSearch  # noqa: E402
from cerebros import cli  # noqa: E402
from cerebros.meta import (README_SETTINGS, Choice, Fixed, MetaSearch, Range,  # noqa: E402
                           SearchSpace, load_meta_results)
from cerebros.meta import study as studies  # noqa: E402
from cerebros.meta.study import StudyManifestError  # noqa: E402

TINY = {"levels": Fixed((2, 2)), "units_per_level": Fixed((1, 1)), "neurons_per_unit": (1, 2),
        "skip_connection_depth": Fixed((1, 1)), "batch_size": 16,
        "num_lateral_connection_tries_per_unit": (0, 2), "activation": ["elu", "relu"],
        "learning_rate": Range(0.01, 0.1)}
TINY_JSON = {"levels": {"value": [2, 2]}, "units_per_level": {"value": [1, 1]},
             "neurons_per_unit": {"low": 1, "high": 2}, "skip_connection_depth": {"value": 1},
             "batch_size": 16, "num_lateral_connection_tries_per_unit": {"low": 0, "high": 2},
             "learning_rate": {"low": 0.01, "high": 0.1, "log": True}}


def tiny_data(rows=60):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3)).astype("float32")
    y = (3 * x[:, 0] - x[:, 1] + 0.1 * rng.normal(size=rows)).astype("float32")
    return x, y


def inner(**overrides):
    x, y = tiny_data()
    arguments = dict(input_shapes=[(3,)], output_shapes=[1], training_data=[x], labels=[y],
                     validation_split=0.25, number_of_architecture_moities_to_try=1, epochs=1,
                     patience=None, seed=5)
    arguments.update(overrides)
    return arguments


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    x, y = tiny_data()
    path = tmp_path_factory.mktemp("data") / "data.csv"
    pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": x[:, 2], "y": y}).to_csv(path, index=False)
    (path.parent / "space.json").write_text(json.dumps(TINY_JSON))
    return path


def tune_command(csv, project, *extra):
    return [sys.executable, "-m", "cerebros", "tune", str(csv), "--target", "y", "--project",
            str(project), "--space", str(csv.parent / "space.json"), "--epochs", "1",
            "--patience", "0", "--seed", "5", *extra]


def env():
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


# ------------------------------------------------------------------ the space (no Optuna)
@pytest.mark.parametrize("space, words", [
    ({"level": (2, 5)}, ["unknown parameter 'level'", "did you mean", "levels"]),
    ({"minimum_levels": 2}, ["unknown parameter 'minimum_levels'", "pair", "levels"]),
    ({"learning_rate": (0.1, 0.001)}, ["space['learning_rate']", "empty", "0.1 > high 0.001"]),
    ({"activation": []}, ["space['activation']", "empty"]),
    ({"levels": (1, 4)}, ["space['levels']", "low must be >= 2"]),
    ({"p_lateral_connection": (0.5, 1.5)}, ["space['p_lateral_connection']", "<= 1.0"]),
    ({"learning_rate": (0.0, 0.1)}, ["space['learning_rate']", "> 0.0"]),
    ({"predecessor_level_connection_affinity_factor_first": (0.0, 5.0)}, ["log-scale", "low > 0"]),
    ({"levels": ["a", "b"]}, ["space['levels']", "not options"]),
    ({"units_per_level": Fixed((3, 2))}, ["space['units_per_level']", "minimum 3"]),
    ({"predecessor_level_connection_affinity_factor_main_rounding_rule": ["round"]},
     ["one of 'ceil', 'floor'", "'round'"]),
    ({"batch_size": 2.5}, ["space['batch_size']", "whole number"]),
    ({"scaled_target_std": (0.0, 10.0)}, ["space['scaled_target_std']", "> 0.0"]),
    ({"batch_norm_momentum": (0.5, 1.5)}, ["space['batch_norm_momentum']", "<= 1.0"]),
])
def test_a_bad_space_is_refused_naming_the_entry(space, words):
    with pytest.raises(ValueError) as error:
        SearchSpace(space)
    for word in words:
        assert word in str(error.value)


def test_pairs_are_valid_by_construction_and_known_settings_map_back():
    space = SearchSpace({"levels": (2, 9), "skip_connection_depth": (1, 3),
                         "activation": Choice("elu", "gelu"), "batch_size": 32,
                         "scaled_target_std": (1.0, 1000.0), "batch_norm_momentum": 0.9})
    assert "scaled_target_std" not in SearchSpace().tuned(), "opt-in: tuned only when named"
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(200):
        trial = study.ask()
        arguments = space.sample(trial)
        for name in ("levels", "units_per_level", "neurons_per_unit", "skip_connection_depth"):
            low, high = arguments[f"minimum_{name}"], arguments[f"maximum_{name}"]
            bounds = space.to_dict()[name]
            assert bounds["low"] <= low <= high <= bounds["high"]
        assert arguments["batch_size"] == 32 and arguments["activation"] in ("elu", "gelu")
        assert 1.0 <= arguments["scaled_target_std"] <= 1000.0
        assert arguments["batch_norm_momentum"] == 0.9
        assert space.arguments_of(space.params_of(arguments)) == arguments
        study.tell(trial, 0.0)
    assert SearchSpace(space.to_dict()) == space, "the JSON form reads back as the same space"
    with pytest.raises(ValueError, match="fixed at 32"):
        space.params_of({**arguments, "batch_size": 64})


def test_the_readme_start_point_is_moved_into_the_space_or_left_to_the_sampler():
    params, left = SearchSpace().params_near(README_SETTINGS)
    assert left == [] and SearchSpace().arguments_of(params) == README_SETTINGS, \
        "the default space holds the README's settings exactly"
    space = SearchSpace({"levels": (3, 5), "neurons_per_unit": Fixed((2, 2)),
                         "batch_size": Choice(32, 64), "activation": ["relu", "gelu"],
                         "learning_rate": Range(0.001, 0.01)})
    params, left = space.params_near(README_SETTINGS)
    assert sorted(left) == ["activation", "batch_size"]
    assert "minimum_neurons_per_unit" not in params, "a fixed dimension keeps its value"
    assert (params["minimum_levels"], params["levels_width"]) == (3, 2), "(2, 7) -> (3, 5)"
    assert params["learning_rate"] == 0.01 and params["p_lateral_connection"] == 0.19668


def test_a_space_around_known_settings_spans_a_factor_each_way_and_holds_them():
    space = SearchSpace.around(README_SETTINGS, factor=2)
    bounds = space.to_dict()
    assert bounds["learning_rate"] == {"low": 0.0332, "high": 0.1328, "log": True}
    assert (bounds["batch_size"]["low"], bounds["batch_size"]["high"]) == (46, 186), \
        "93 / 2 and 93 * 2, whole numbers rounded outwards"
    assert (bounds["gate_after_n_lateral_connections"]["low"],
            bounds["gate_after_n_lateral_connections"]["high"]) == (1, 6)
    assert (bounds["levels"]["low"], bounds["levels"]["high"]) == (2, 7), "the pair itself"
    assert bounds["activation"] == {"choices": ["elu", "relu", "gelu"]}, "options as default"
    assert space.arguments_of(space.params_of(README_SETTINGS)) == README_SETTINGS
    near = SearchSpace.around({**README_SETTINGS, "p_lateral_connection": 0.8},
                              space={"activation": "elu"})
    assert near.to_dict()["p_lateral_connection"]["high"] == 1.0, "clipped to what it accepts"
    assert "activation" not in near.tuned()
    partial = SearchSpace.around({"learning_rate": 0.01}, factor=10)
    assert partial.to_dict()["learning_rate"] == {"low": 0.001, "high": 0.1, "log": True}
    assert partial.to_dict()["batch_size"] == SearchSpace().to_dict()["batch_size"]
    zero = SearchSpace.around({**README_SETTINGS,
                               "predecessor_level_connection_affinity_factor_main": 0.0})
    assert zero.to_dict()["predecessor_level_connection_affinity_factor_main"] == \
        {"low": 0.0, "high": 0.0, "log": False}, "a 0 accepted by the space is kept, linear"
    for bad, words in (({"factor": 1}, ["factor", "> 1"]),
                       ({"factor": 1e308}, ["factor 1e+308 is too large", "beyond any number"]),
                       ({"settings": {"learning_rate": -0.1}}, ["learning_rate", "> 0.0"]),
                       ({"settings": {"minimum_levels": 3, "maximum_levels": 1.5}},
                        ["levels", "whole number"])):
        with pytest.raises(ValueError) as error:
            SearchSpace.around(**{"settings": README_SETTINGS, **bad})
        assert all(word in str(error.value) for word in words), str(error.value)


def test_the_readme_settings_are_those_of_the_readme_example():
    sys.path.insert(0, str(Path(__file__).parent.parent / "examples"))
    try:
        import ames_regression
    finally:
        sys.path.pop(0)
    example = ames_regression.readme_search_arguments(3)
    assert README_SETTINGS == {name: example[name] for name in README_SETTINGS}


# ------------------------------------------------------------------ bad input before any work
def test_bad_arguments_storage_and_studies_are_refused_before_any_training(tmp_path):
    project = tmp_path / "meta"
    with pytest.raises(ValueError, match="learning_rate is set by the space"):
        MetaSearch(project, TINY, **inner(learning_rate=0.01))
    with pytest.raises(ValueError, match="meta_trial_number cannot be given"):
        MetaSearch(project, TINY, **inner(meta_trial_number=3))
    with pytest.raises(ValueError, match="unknown parameter 'lr'"):
        MetaSearch(project, {"lr": (0.1, 0.2)}, **inner())
    with pytest.raises(ValueError, match=r"storage: cannot open 'sqlite:////nonexistent/"):
        MetaSearch(project, TINY, storage="sqlite:////nonexistent/dir/study.db", **inner())
    with pytest.raises(ValueError, match=r"storage: cannot open 'postgresql\+psycopg://bob:\*\*\*@"):
        MetaSearch(project, TINY, storage="postgresql+psycopg://bob:secret@127.0.0.1:1/db",
                   **inner())
    with pytest.raises(ValueError, match="storage must be None"):
        MetaSearch(project, TINY, storage="study.db", **inner())
    for memory in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ValueError, match="storage: .* in-memory SQLite database"):
            MetaSearch(project, TINY, storage=memory, **inner())
    with pytest.raises(ValueError, match="sampler must be one of 'tpe', 'random' or an Optuna"):
        MetaSearch(project, TINY, sampler=3, **inner())
    with pytest.raises(ValueError, match="pruner must be one of .* or an Optuna pruner"):
        MetaSearch(project, TINY, pruner=optuna.samplers.RandomSampler(), **inner())
    assert not project.exists() or not list(project.glob("meta_trial_*"))

    MetaSearch(project, TINY, n_meta_trials=1, **inner())  # creates the study, trains nothing
    with pytest.raises(StudyManifestError, match=r"space\.learning_rate"):
        MetaSearch(project, {**TINY, "learning_rate": Range(0.001, 0.1)}, **inner())
    with pytest.raises(StudyManifestError, match="created to minimize.*would maximize"):
        MetaSearch(project, TINY, **inner(direction="maximize"))
    with pytest.raises(StudyManifestError, match=r"inner\.epochs: 1 -> 2") as refused:
        MetaSearch(project, TINY, **inner(epochs=2))
    assert refused.value.changed == ["inner.epochs"]
    with pytest.raises(ValueError, match="study_name: the project .* holds the meta-trials of "
                                         "study 'meta'; run study 'other' in a project of its"):
        MetaSearch(project, TINY, study_name="other", **inner(epochs=2))
    assert not list(project.glob("meta_trial_*")), "nothing was trained"
    assert optuna.get_all_study_names(studies.absolute_url("sqlite:///" + str(
        project / "meta_study.db"))) == ["meta"], "no second study was created"


def test_a_relative_sqlite_storage_is_kept_absolute_for_show_from_another_folder(
        tmp_path, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    meta = MetaSearch("proj", TINY, n_meta_trials=1, storage="sqlite:///study.db", **inner())
    meta.run()
    stored = json.loads((tmp_path / "work" / "proj" / "meta_search.json").read_text())
    assert stored["storage"] == f"sqlite:///{tmp_path / 'work' / 'study.db'}"
    monkeypatch.chdir(tmp_path)
    assert len(load_meta_results(tmp_path / "work" / "proj")) == 1
    assert not (tmp_path / "study.db").exists(), "no stray database where show ran"


def test_a_study_from_before_a_setting_existed_continues_with_that_settings_old_value(tmp_path):
    """A study whose stored inner manifest lacks a setting added since (here
    ``standardize_features``, ``batch_norm_momentum`` and ``scaled_target_std``) is read as
    holding the behaviour it had, as a single search's project is: refused, naming the old
    value, when the meta-search asks for another, and continued when it asks for that one."""
    project = tmp_path / "meta"
    meta = MetaSearch(project, TINY, n_meta_trials=1, **inner())
    stored = meta.study.user_attrs[studies.MANIFEST_KEY]
    old = dict(stored, inner={k: v for k, v in stored["inner"].items()
                              if k not in ("standardize_features", "batch_norm_momentum",
                                           "scaled_target_std")})
    meta.study.set_user_attr(studies.MANIFEST_KEY, old)
    with pytest.raises(StudyManifestError,
                       match=r"inner\.standardize_features: False \(absent: implied\) -> True; "
                             r"inner\.batch_norm_momentum: 0\.99 \(absent: implied\) -> 0\.9; "
                             r"inner\.scaled_target_std: 1\.0 \(absent: implied\) -> 'auto'\."):
        MetaSearch(project, TINY, **inner())
    with pytest.raises(StudyManifestError,
                       match=r"inner\.scaled_target_std: 1\.0 \(absent: implied\) -> 10\.0"):
        MetaSearch(project, TINY, **inner(standardize_features=False, batch_norm_momentum=0.99,
                                          scaled_target_std=10.0))
    resumed = MetaSearch(project, TINY, **inner(standardize_features=False,
                                                batch_norm_momentum=0.99, scaled_target_std=1.0))
    assert resumed.study.user_attrs[studies.MANIFEST_KEY] == old, "the stored manifest is kept"
    assert not list(project.glob("meta_trial_*")), "nothing was trained"


@pytest.mark.parametrize("start_from, words", [
    ("best", ["start_from must be 'readme', None", "'best'"]),
    (3, ["start_from must be", "int"]),
    ({"learnig_rate": 0.01}, ["start_from[0]", "'learnig_rate'", "not arguments"]),
    ([{"learning_rate": 0.05}, {"learning_rate": 0.5}],
     ["start_from[1]", "learning_rate 0.5", "outside the space's range"]),
    ({"batch_size": 64}, ["start_from[0]", "batch_size is fixed at 16"]),
    ({"minimum_neurons_per_unit": 1}, ["start_from[0]", "needs both"]),
])
def test_bad_start_points_are_refused_before_any_work(tmp_path, start_from, words):
    with pytest.raises(ValueError) as error:
        MetaSearch(tmp_path / "meta", TINY, start_from=start_from, **inner())
    for word in words:
        assert word in str(error.value)
    assert not (tmp_path / "meta").exists(), "no study was created"


def test_the_cli_refuses_a_bad_space_file_in_one_line(csv_file, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"learning_rate": {"low": 0.1, "high": 0.01}}))
    code = cli.main(["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "p"),
                     "--space", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "space['learning_rate']" in err and "empty" in err
    code = cli.main(["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "p"),
                     "--min-levels", "5", "--max-levels", "3"])
    assert code == 2 and "space['levels']" in capsys.readouterr().err
    assert not list((tmp_path / "p").glob("meta_trial_*"))


# ------------------------------------------------------------------ pruning, results
@pytest.fixture(scope="module")
def pruned_meta(tmp_path_factory):
    """Two enqueued meta-trials of three inner trials: a good one, then a hopeless one
    (learning rate 1e-6: it cannot move off its start in one epoch)."""
    project = tmp_path_factory.mktemp("pruning") / "meta"
    meta = MetaSearch(project, {**TINY, "learning_rate": Range(1e-7, 0.1)}, n_meta_trials=2,
                      pruner=optuna.pruners.MedianPruner(n_startup_trials=1, n_warmup_steps=0),
                      **inner(number_of_architecture_moities_to_try=3, epochs=3))
    point = dict(minimum_levels=2, maximum_levels=2, minimum_units_per_level=1,
                 maximum_units_per_level=1, minimum_neurons_per_unit=2,
                 maximum_neurons_per_unit=2, minimum_skip_connection_depth=1,
                 maximum_skip_connection_depth=1, batch_size=16, activation="elu",
                 num_lateral_connection_tries_per_unit=0)
    for learning_rate in (0.1, 1e-7):
        meta.enqueue({**point, "learning_rate": learning_rate})
    rows = []
    meta.run(on_meta_trial_end=rows.append)
    return meta, rows


def test_the_pruner_stops_a_hopeless_meta_trial_after_its_first_inner_trial(pruned_meta):
    meta, rows = pruned_meta
    assert [(r["meta_trial"], r["state"]) for r in rows] == [(0, "complete"), (1, "pruned")]
    board = meta.results_summary()
    assert board.set_index("meta_trial").loc[1, "inner_trials"] == 1
    assert board.set_index("meta_trial").loc[0, "inner_trials"] == 3
    oracle = pd.read_csv(meta.root / "meta_trial_0001" / "oracle.csv")
    assert set(oracle["trial_number"]) == {0}, "the pruned meta-trial's search stopped"
    assert board["state"].tolist() == ["complete", "pruned"]


def test_best_settings_json_is_accepted_by_the_search_as_is(pruned_meta, tmp_path):
    meta, _ = pruned_meta
    settings = json.loads((meta.root / "best_settings.json").read_text())
    assert settings["learning_rate"] == pytest.approx(0.1)
    assert settings["number_of_architecture_moities_to_try"] == 3
    x, y = tiny_data()
    search = SimpleCerebrosRandomSearch(**settings, training_data=[x], labels=[y],
                                        project_name=str(tmp_path / "again"), verbose=0)
    assert search.learning_rate == pytest.approx(0.1) and search.levels == (2, 2)
    board = pd.read_csv(meta.root / "meta_results.csv")
    assert list(board["meta_trial"]) == [0, 1] and "learning_rate" in board.columns


def test_show_prints_a_meta_search_and_plots_it(pruned_meta, capsys):
    meta, _ = pruned_meta
    assert cli.main(["show", str(meta.root)]) == 0
    out = capsys.readouterr().out
    assert "meta-trials of study" in out and "pruned" in out and "best_settings.json" in out
    assert (meta.root / "meta_progress.png").stat().st_size > 10_000
    assert len(load_meta_results(meta.root)) == 2


def test_the_report_of_a_meta_search_shows_its_study_then_the_best_search(pruned_meta,
                                                                          tmp_path):
    from browser import DevTools, require_browser

    meta, _ = pruned_meta
    assert cli.main(["report", str(meta.root), "--output", str(tmp_path / "meta.html")]) == 0
    browser = DevTools(require_browser(), tmp_path / "profile")
    try:
        browser.open((tmp_path / "meta.html").as_uri())
        rows = browser.evaluate("""Array.from(document.querySelectorAll('#study-table tbody tr'))
            .map(r => [r.cells[0].dataset.sort, r.cells[1].dataset.sort])""")
        assert rows == [["0.0", "complete"], ["1.0", "pruned"]]
        sections = browser.evaluate(
            "Array.from(document.querySelectorAll('section')).map(s => s.id)")
        assert sections[:2] == ["study", "best-settings"]
        assert "inner-leaderboard" in sections and "inner-graphs" in sections
        inner_rows = browser.evaluate(
            "document.querySelectorAll('#inner-leaderboard tbody tr').length")
        assert inner_rows == 3, "the best meta-trial (0) ran 3 inner trials"
        assert browser.evaluate("document.querySelector('#study img.plot').naturalWidth") > 0
        assert browser.console_errors() == []
        assert all(u.split(":", 1)[0] in ("file", "data", "about")
                   for u in browser.requested_urls())
    finally:
        browser.close()


def test_a_new_study_started_from_the_readme_settings_tries_them_first_and_once(tmp_path):
    meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=2, start_from="readme", **inner())
    meta.run()
    again = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=3, start_from="readme", **inner())
    again.run()
    board = again.results_summary().set_index("meta_trial").sort_index()
    assert board["origin"].tolist() == ["start point", "sampled", "sampled"]
    first = board.loc[0]
    assert (first["learning_rate"], first["activation"]) == (0.0664, "elu")
    assert (first["minimum_neurons_per_unit"], first["maximum_neurons_per_unit"]) == (1, 2), \
        "the README's (1, 4) moved into the space's (1, 2)"
    assert first["num_lateral_connection_tries_per_unit"] == 2
    assert first["predecessor_level_connection_affinity_factor_first"] == 15.0313
    assert board.loc[1, "learning_rate"] != 0.0664
    assert len(again.study.get_trials()) == 3, "the rerun enqueued no second start point"


def test_start_points_beyond_the_budget_wait_for_a_larger_one(tmp_path):
    points = [{"learning_rate": rate} for rate in (0.011, 0.022, 0.033)]
    for budget, expected in ((1, [0.011]), (2, [0.011, 0.022]), (3, [0.011, 0.022, 0.033])):
        meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=budget, start_from=points,
                          **inner())
        meta.run()
        board = meta.results_summary()
        done = board[board["state"] == "complete"]
        assert sorted(done["learning_rate"]) == expected, board.to_string()
        assert set(done["origin"]) == {"start point"}
    assert meta.run() == meta.best_value(), "a spent budget runs nothing more"
    assert len(meta.results_summary()) == 3


def test_a_time_budget_that_ends_in_the_last_inner_trial_completes_its_meta_trial(tmp_path):
    meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=2, timeout_s=0.5, **inner())
    assert meta.run() is not None, "the finished inner search counts"
    board = meta.results_summary()
    assert board[["meta_trial", "state", "inner_trials", "attempts"]].values.tolist() == \
        [[0, "complete", 1, 1]], "completed, not released; the time was up for meta-trial 1"
    assert (tmp_path / "meta" / "best_settings.json").is_file()


def test_an_inner_trial_budget_below_one_architecture_is_refused_before_any_work(tmp_path):
    with pytest.raises(ValueError, match=r"max_inner_trials \(2\) is less than one "
                                         r"architecture's tries.*=3"):
        MetaSearch(tmp_path / "meta", TINY, max_inner_trials=2,
                   **inner(number_of_tries_per_architecture_moity=3))
    assert not (tmp_path / "meta").exists()


def test_drawn_sizes_that_cannot_evolve_run_one_generation_a_fixed_space_is_refused(tmp_path):
    point = {"minimum_neurons_per_unit": 1, "maximum_neurons_per_unit": 1}
    meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=1, start_from=point,
                      **inner(number_of_architecture_moities_to_try=2, number_of_generations=2))
    meta.run()
    board = meta.results_summary()
    assert board[["state", "inner_trials"]].values.tolist() == [["complete", 2]]
    stored = json.loads((tmp_path / "meta" / "meta_trial_0000" / "search_config.json")
                        .read_text())
    assert stored["number_of_generations"] == 1, "one level of one unit of one neuron"
    fixed = {**TINY, "neurons_per_unit": Fixed((1, 1))}
    with pytest.raises(ValueError, match="number_of_generations=2 needs a mutation"):
        MetaSearch(tmp_path / "fixed", fixed, n_meta_trials=1,
                   **inner(number_of_architecture_moities_to_try=2, number_of_generations=2))


def test_tpe_starts_up_at_random_for_a_quarter_of_the_meta_trials_the_budgets_allow(tmp_path):
    def startup(**budget):
        # Project names holding URL syntax: the default SQLite study must land inside them.
        project = tmp_path / f"{budget} ?#%"
        meta = MetaSearch(project, TINY, **budget,
                          **inner(number_of_architecture_moities_to_try=2))
        assert (project / "meta_study.db").is_file() and len(list(tmp_path.rglob("*.db"))) == \
            len(list(tmp_path.iterdir())), "one study per project, in the project"
        return meta._sampler(0)._n_startup_trials

    assert startup(n_meta_trials=100) == 10
    assert startup(n_meta_trials=100, max_inner_trials=40) == 5, "20 meta-trials of 2"
    assert startup(n_meta_trials=12, max_inner_trials=1000) == 3
    assert startup(n_meta_trials=100, max_inner_trials=10) == 2


def test_a_start_point_enqueued_twice_by_racing_machines_runs_once(tmp_path, pruned_meta):
    best = json.loads((pruned_meta[0].root / "best_settings.json").read_text())
    meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=2, start_from=best, **inner())
    assert len(meta.study.get_trials()) == 1, "best_settings.json as a start point"
    # A second machine that found the study empty at the same moment enqueued it too:
    meta.study.enqueue_trial(meta.start_points[0], user_attrs={studies.START_POINT: 0})
    meta.run()
    board = meta.results_summary()
    assert board["origin"].tolist().count("start point") == 1 and len(board) == 2
    assert set(board["state"]) == {"complete"}
    assert board.set_index("origin").loc["start point", "learning_rate"] == pytest.approx(0.1)
    duplicate = meta.study.get_trials()[1]
    assert duplicate.user_attrs[studies.RELEASED] == "start point already enqueued"
    assert sorted(p.name for p in meta.root.glob("meta_trial_*")) == ["meta_trial_0000",
                                                                    "meta_trial_0002"]


def test_the_cli_takes_a_start_point_file_or_the_readme_settings(csv_file, tmp_path, capsys):
    bad = tmp_path / "start.json"
    bad.write_text(json.dumps({"learning_rate": 7.0}))
    code = cli.main(["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "p"),
                     "--space", str(csv_file.parent / "space.json"), "--start-from", str(bad)])
    err = capsys.readouterr().err
    assert code == 2 and "start_from[0]" in err and "learning_rate 7.0" in err
    code = cli.main(["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "p"),
                     "--start-from", str(tmp_path / "missing.json")])
    assert code == 2 and "--start-from: cannot read" in capsys.readouterr().err
    assert not list((tmp_path / "p").glob("meta_trial_*"))
    code = cli.main(["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "q"),
                     "--space", str(csv_file.parent / "space.json"), "--epochs", "1",
                     "--trials", "1", "--meta-trials", "1", "--start-from", "readme"])
    assert code == 0 and "start point" in capsys.readouterr().out
    assert load_meta_results(tmp_path / "q")["learning_rate"].tolist() == [0.0664]


def test_the_cli_tunes_around_a_settings_file_and_refuses_a_rerun_with_another_factor(
        csv_file, tmp_path, capsys):
    settings = tmp_path / "best_settings.json"  # as a study writes it: other arguments too
    settings.write_text(json.dumps({**README_SETTINGS, "learning_rate": 0.04, "batch_size": 20,
                                    "input_shapes": [[3]], "epochs": 30}))
    tiny = tmp_path / "tiny.json"
    tiny.write_text(json.dumps({name: TINY_JSON[name] for name in
                                ("levels", "units_per_level", "skip_connection_depth")}))
    command = ["tune", str(csv_file), "--target", "y", "--project", str(tmp_path / "p"),
               "--space", str(tiny), "--space-around", str(settings), "--epochs", "1",
               "--trials", "1", "--meta-trials", "2"]
    assert cli.main([*command, "--around-factor", "1.5"]) == 0
    board = load_meta_results(tmp_path / "p")
    assert len(board) == 2 and board["learning_rate"].between(0.04 / 1.5, 0.04 * 1.5).all()
    assert board["batch_size"].between(13, 30).all()
    assert "minimum_levels" not in board, "--space entries override: levels fixed, not tuned"
    capsys.readouterr()
    assert cli.main([*command, "--around-factor", "3"]) == 2
    err = capsys.readouterr().err
    assert "space.learning_rate.low" in err and "--around-factor" in err, err
    assert len(load_meta_results(tmp_path / "p")) == 2, "no meta-trial started"
    (tmp_path / "bad.json").write_text(json.dumps({"learning_rate": -1}))
    for extra, words in ((["--around-factor", "1"], ["--around-factor", "a number > 1"]),
                         (["--around-factor", "3"], ["--around-factor: give --space-around"]),
                         (["--space-around", str(tmp_path / "no.json")],
                          ["--space-around: cannot read"]),
                         (["--space-around", str(tmp_path / "bad.json")],
                          ["--space-around", "learning_rate", "> 0.0"])):
        assert cli.main(["tune", str(csv_file), "--target", "y", "--project",
                         str(tmp_path / "q"), *extra]) == 2
        err = capsys.readouterr().err
        assert all(word in err for word in words), err
    assert not (tmp_path / "q").exists(), "refused before any work"


def test_a_meta_trial_stopped_by_the_wall_time_budget_resumes_in_its_directory(tmp_path):
    arguments = inner(number_of_architecture_moities_to_try=3)
    first = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=1, timeout_s=0.5,
                       start_from="readme", **arguments)
    assert first.run() is None, "stopped after its first inner trial, nothing completed"
    oracle = tmp_path / "meta" / "meta_trial_0000" / "oracle.csv"
    started = pd.read_csv(oracle)["started_at"].tolist()
    assert len(started) == 1
    board = first.results_summary()
    assert board["state"].tolist() == ["waiting"] and board["attempts"].tolist() == [2]

    second = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=1, **arguments)
    assert second.run() is not None
    board = second.results_summary()
    assert board[["meta_trial", "state", "inner_trials", "attempts", "origin"]].values.tolist() \
        == [[0, "complete", 3, 2, "start point"]], "the resumed start point is still one"
    rows = pd.read_csv(oracle)
    assert sorted(rows["trial_number"]) == [0, 1, 2] and rows["started_at"].iloc[0] == started[0]


def test_the_inner_trial_budget_is_spent_to_the_last_trial(tmp_path):
    """Meta-trials of 2 inner trials (2 generations) under ``max_inner_trials=5``: two full
    ones, then one of the 1 trial left (1 generation), then nothing; not 4 trials."""
    arguments = inner(number_of_architecture_moities_to_try=2, number_of_generations=2)
    space = {**TINY, "neurons_per_unit": Fixed((1, 4))}  # room for the children's mutations
    meta = MetaSearch(tmp_path / "meta", space, n_meta_trials=10, max_inner_trials=5,
                      sampler="random", pruner="none", **arguments)
    meta.run()
    board = meta.results_summary().sort_values("meta_trial")
    assert board[["meta_trial", "state", "inner_trials"]].values.tolist() == [
        [0, "complete", 2], [1, "complete", 2], [2, "complete", 1]]
    last = pd.read_csv(tmp_path / "meta" / "meta_trial_0002" / "oracle.csv")
    assert sorted(set(last["trial_number"])) == [0]
    assert json.loads((tmp_path / "meta" / "meta_trial_0002" / "search_config.json")
                      .read_text())["number_of_generations"] == 1
    again = MetaSearch(tmp_path / "meta", space, n_meta_trials=10, max_inner_trials=5,
                       sampler="random", pruner="none", **arguments)
    again.run()
    assert len(again.results_summary()) == 3, "the budget is spent"


def test_a_shortened_meta_trial_keeps_its_budget_when_retried(tmp_path):
    """The budget left when a meta-trial was first claimed stays its budget on a retry,
    even if the other meta-trials used less in the meantime."""
    meta = MetaSearch(tmp_path / "meta", TINY, n_meta_trials=10, max_inner_trials=3,
                      sampler="random", pruner="none",
                      **inner(number_of_architecture_moities_to_try=2))
    first = studies.claim(meta.study, 10, 2, 3)
    second = studies.claim(meta.study, 10, 2, 3)
    assert studies.INNER_BUDGET not in first.user_attrs
    assert second.user_attrs[studies.INNER_BUDGET] == 1, "3 - 2 running"
    studies.release(meta.study, second, "interrupted")
    first.set_user_attr(studies.INNER_TRIALS, 0)
    meta.study.tell(first, state=optuna.trial.TrialState.PRUNED)
    retry = studies.claim(meta.study, 10, 2, 3)
    assert studies.meta_number(retry) == studies.meta_number(second)
    assert retry.user_attrs[studies.INNER_BUDGET] == 1, "not the 2 that would fit now"
    third = studies.claim(meta.study, 10, 2, 3)
    assert third is not None and studies.INNER_BUDGET not in third.user_attrs, \
        "0 + 1 used of 3: a full meta-trial of 2 fits"


def test_help_and_show_of_a_meta_project_load_neither_tensorflow_nor_optuna_needlessly(
        pruned_meta, tmp_path):
    meta, _ = pruned_meta
    code = ("import sys, cerebros_cli\n"
            "sys.argv = ['cerebros', *sys.argv[1:]]\n"
            "try:\n    code = cerebros_cli.main()\n"
            "except SystemExit as exit:\n    code = exit.code\n"
            "print('LOADED', sorted(m for m in ('tensorflow', 'keras', 'optuna') "
            "if m in sys.modules))\n")
    clean = {k: v for k, v in os.environ.items() if k != "CEREBROS_LAZY_IMPORT"}
    helped = subprocess.run([sys.executable, "-c", code, "--help"], cwd=tmp_path, env=clean,
                            capture_output=True, text=True, timeout=300)
    assert "tune" in helped.stdout and "LOADED []" in helped.stdout, helped.stderr[-2000:]
    shown = subprocess.run([sys.executable, "-c", code, "show", str(meta.root), "--no-plots"],
                           cwd=tmp_path, env=clean, capture_output=True, text=True, timeout=300)
    assert "pruned" in shown.stdout and "LOADED ['optuna']" in shown.stdout, shown.stderr[-2000:]


def test_processes_creating_one_new_sqlite_study_at_once_all_open_it(tmp_path):
    code = ("import sys; from cerebros.meta.study import open_storage; "
            "open_storage(sys.argv[1]); print('opened')")
    url = f"sqlite:///{tmp_path / 'new.db'}"
    lazy = {**os.environ, "CEREBROS_LAZY_IMPORT": "1"}
    processes = [subprocess.Popen([sys.executable, "-c", code, url], env=lazy, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0 and "opened" in out, err[-2000:]


# ------------------------------------------------------------------ processes
def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 400) -> None:
    deadline = time.time() + timeout
    while not (path.is_file() and path.stat().st_size > 0):
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.time() < deadline, f"{path} never appeared"
        time.sleep(0.2)


def _kill_when_written(command: list[str], cwd: Path, oracle: Path) -> pd.DataFrame:
    """Run ``command``, SIGKILL it once ``oracle`` has a row; return that oracle's rows."""
    process = subprocess.Popen(command, cwd=cwd, env=env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    _wait_for(oracle, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return pd.read_csv(oracle)


@pytest.mark.slow
def test_a_sigkilled_tune_resumes_its_meta_trial_and_a_larger_budget_continues(csv_file,
                                                                             tmp_path):
    project = tmp_path / "tune"
    command = tune_command(csv_file, project, "--trials", "3", "--meta-trials", "1")
    oracle = project / "meta_trial_0000" / "oracle.csv"
    first = _kill_when_written(command, tmp_path, oracle)
    assert len(set(first["trial_number"])) < 3, "killed mid-way"

    done = subprocess.run(tune_command(csv_file, project, "--trials", "3", "--meta-trials", "2"),
                          cwd=tmp_path, env=env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    board = load_meta_results(project).set_index("meta_trial")
    # A meta-trial is numbered by its first attempt: the retry of 0 took Optuna trial 1.
    assert sorted(board.index) == [0, 2] and set(board["state"]) == {"complete"}
    assert board.loc[0, "attempts"] == 2 and board.loc[2, "attempts"] == 1
    assert board.loc[0, "inner_trials"] == 3
    oracle_rows = pd.read_csv(oracle)
    assert sorted(oracle_rows["trial_number"]) == [0, 1, 2], "no inner trial lost or repeated"
    kept = oracle_rows[oracle_rows["trial_number"].isin(first["trial_number"])]
    assert kept["started_at"].tolist() == first["started_at"].tolist(), \
        "the inner trials finished before the kill were not run again"
    assert sorted(p.name for p in project.glob("meta_trial_*")) == ["meta_trial_0000",
                                                                  "meta_trial_0002"]
    assert "best settings" in done.stdout and (project / "best_settings.json").is_file()

    command = tune_command(csv_file, project, "--trials", "3", "--meta-trials", "3")
    command[command.index("--epochs") + 1] = "2"
    refused = subprocess.run(command, cwd=tmp_path, env=env(), capture_output=True, text=True,
                             timeout=300)
    assert refused.returncode == 2, refused.stderr[-3000:]
    [line] = [line for line in refused.stderr.splitlines() if line.startswith("cerebros: error:")]
    assert "inner.epochs: 1 -> 2 (--epochs)" in line and "--study" in line, line
    assert sorted(p.name for p in project.glob("meta_trial_*")) == ["meta_trial_0000",
                                                                  "meta_trial_0002"], \
        "the refused run started no meta-trial"


@pytest.mark.slow
def test_a_sigkilled_shortened_meta_trial_resumes_with_its_own_budget(csv_file, tmp_path):
    project = tmp_path / "tune"
    command = tune_command(csv_file, project, "--trials", "3", "--meta-trials", "3",
                           "--max-inner-trials", "5")  # 3, then the 2 left
    oracle = project / "meta_trial_0001" / "oracle.csv"
    first = _kill_when_written(command, tmp_path, oracle)
    assert len(set(first["trial_number"])) < 2, "killed mid-way through the shortened one"

    done = subprocess.run(command, cwd=tmp_path, env=env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    board = load_meta_results(project).set_index("meta_trial")
    assert sorted(board.index) == [0, 1] and set(board["state"]) == {"complete"}
    assert board.loc[1, "attempts"] == 2, "the killed attempt was resumed, not replaced"
    assert board["inner_trials"].tolist() == [3, 2], "the retry kept its shortened budget"
    assert sorted(pd.read_csv(oracle)["trial_number"]) == [0, 1]


SUSPENDABLE = """
import logging, sys
logging.basicConfig(level=logging.WARNING)
sys.path.insert(0, {tests!r})
from test_meta import TINY, inner
from cerebros.meta import MetaSearch
meta = MetaSearch(sys.argv[1], TINY, n_meta_trials=1, heartbeat_s=0.5, grace_s=2.0,
                  **inner(number_of_architecture_moities_to_try=3))
meta.run(on_meta_trial_end=lambda row: print(row["state"], flush=True))
"""


@pytest.mark.slow
def test_a_process_suspended_past_the_grace_time_keeps_its_meta_trial(tmp_path):
    """A is stopped (SIGSTOP, as Ctrl-Z or a sleeping laptop would) past ``grace_s`` while B
    opens the study: B releases A's attempt and finds A's inner search still held, so it
    leaves the meta-trial to A and stops; A continues, finds its attempt released, resumes
    the retry, and no inner trial is lost, repeated or counted as a failure."""
    code = SUSPENDABLE.format(tests=str(Path(__file__).parent))
    command = [sys.executable, "-c", code, str(tmp_path / "meta")]
    a = subprocess.Popen(command, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    oracle = tmp_path / "meta" / "meta_trial_0000" / "oracle.csv"
    _wait_for(oracle, a)
    a.send_signal(signal.SIGSTOP)
    try:
        time.sleep(3)  # past grace_s without a heartbeat
        b = subprocess.run(command, env=env(), capture_output=True, text=True, timeout=300)
    finally:
        a.send_signal(signal.SIGCONT)
    assert b.returncode == 0, b.stderr[-3000:]
    assert "held by" in b.stderr and "left to that process" in b.stderr, b.stderr[-3000:]
    out, err = a.communicate(timeout=300)
    assert a.returncode == 0, err[-3000:]
    assert out.split() == ["released", "complete"], out
    board = load_meta_results(tmp_path / "meta")
    assert board[["meta_trial", "state", "inner_trials"]].values.tolist() == \
        [[0, "complete", 3]]
    assert sorted(pd.read_csv(oracle)["trial_number"]) == [0, 1, 2]


@pytest.mark.slow
def test_two_tune_processes_share_one_study_without_duplicates_or_losses(csv_file, tmp_path):
    project = tmp_path / "shared"
    command = tune_command(csv_file, project, "--trials", "1", "--meta-trials", "4",
                           "--start-from", "readme")
    # The first command also starts a worker process of its own (--workers 2): three
    # processes on one study; a worker's lines are not printed.
    processes = [subprocess.Popen(command + extra, cwd=tmp_path, env=env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for extra in (["--workers", "2"], [])]
    outputs = [p.communicate(timeout=600) for p in processes]
    for process, (out, err) in zip(processes, outputs):
        assert process.returncode == 0, err[-3000:]
    ran = [{int(line.split()[1].rstrip(":")) for line in out.splitlines()
            if line.startswith("meta-trial ")} for out, _ in outputs]
    assert ran[0].isdisjoint(ran[1]) and ran[0] | ran[1] <= {0, 1, 2, 3}
    assert all(ran), "both commands ran meta-trials"
    board = load_meta_results(project)
    assert sorted(board["meta_trial"]) == [0, 1, 2, 3] and set(board["state"]) == {"complete"}
    owners = {t.user_attrs[studies.OWNER]["pid"] for t in optuna.load_study(
        study_name="shared", storage=f"sqlite:///{project / 'meta_study.db'}").trials}
    assert processes[1].pid in owners and len(owners) >= 2
    assert board["origin"].tolist().count("start point") == 1, "both opened a new study"
    for number in range(4):
        rows = pd.read_csv(project / f"meta_trial_{number:04d}" / "oracle.csv")
        assert rows["trial_number"].tolist() == [0]
    assert len(list(project.glob("meta_trial_*"))) == 4


# ------------------------------------------------------------------ PostgreSQL
def _postgres_bindir() -> Path | None:
    try:
        found = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        bindir = Path(found.stdout.strip())
        if found.returncode == 0 and (bindir / "initdb").is_file():
            return bindir
    except OSError:
        pass
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name)
                        if Path(p).parent.parent.name.isdigit() else 0)
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """A PostgreSQL server of its own on 127.0.0.1, run as the postgres user when this is
    root (PostgreSQL refuses to run as root), stopped afterwards."""
    bindir = _postgres_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed; CI installs Debian's postgresql package "
                        "(.ci/run) and must run this test")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="cerebros-pg-"))
    prefix = []
    if os.geteuid() == 0:
        import pwd

        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data, sockets, port = base / "data", base / "sockets", _free_port()
    subprocess.run([*prefix, "mkdir", str(sockets)], check=True)
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U",
                    "postgres", "--no-sync"], check=True, capture_output=True)
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"),
                    "-w", "-t", "60", "-o",
                    f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_a_meta_search_on_a_real_postgresql_server(postgres_url, tmp_path):
    meta = MetaSearch(tmp_path / "pg", TINY, n_meta_trials=1, storage=postgres_url,
                      study_name="cerebros-test", **inner())
    meta.run()
    assert not (tmp_path / "pg" / "meta_study.db").exists(), "the study lives in PostgreSQL"
    again = MetaSearch(tmp_path / "elsewhere", TINY, n_meta_trials=2, storage=postgres_url,
                       study_name="cerebros-test", **inner())
    again.run()
    assert [p.name for p in (tmp_path / "elsewhere").glob("meta_trial_*")] == ["meta_trial_0001"], \
        "a second machine (another project folder) continues the same study"
    board = load_meta_results(tmp_path / "pg")
    assert sorted(board["meta_trial"]) == [0, 1] and set(board["state"]) == {"complete"}
    with pytest.raises(StudyManifestError, match="inner.epochs"):
        MetaSearch(tmp_path / "third", TINY, storage=postgres_url, study_name="cerebros-test",
                   **inner(epochs=2))
