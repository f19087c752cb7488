"""The ``cerebros`` command line, run as ``python -m cerebros`` on tiny CSV files.

Searches are tiny (a few trials of two epochs on small networks); the error paths that
need no training call :func:`cerebros.cli.main` in this process, which is the same code the
console script runs.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cerebros import cli

TINY = ["--epochs", "2", "--max-levels", "3", "--max-units", "2", "--max-neurons", "4",
        "--batch-size", "32"]


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cerebros", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("cerebros: error:")]


def make_table(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    table = pd.DataFrame({"x1": rng.normal(size=rows), "x2": rng.normal(size=rows),
                          "x3": rng.integers(0, 5, rows),
                          "name": [f"row {i}" for i in range(rows)]})
    table["price"] = 3 * table.x1 - 2 * table.x2 + table.x3 + rng.normal(scale=0.1, size=rows)
    return table


def search_config(project: Path) -> dict:
    return json.loads((project / "search_config.json").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def restore_cerebros_logger():
    """main() configures the ``cerebros`` logger; keep that out of the other test files."""
    package_logger = logging.getLogger("cerebros")
    level, handlers = package_logger.level, list(package_logger.handlers)
    yield
    package_logger.setLevel(level)
    package_logger.handlers[:] = handlers


@pytest.fixture(scope="module")
def regression_project(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    work = tmp_path_factory.mktemp("regression")
    make_table().to_csv(work / "houses.csv", index=False)
    done = run_cli("search", "houses.csv", "--target", "price", "--project", "proj",
                   "--trials", "2", *TINY, cwd=work)
    return work / "proj", done


# ---------------------------------------------------------------------------- help
def test_module_help_lists_the_commands_without_loading_tensorflow(tmp_path):
    """``python -m cerebros`` is as light as the ``cerebros`` command: ``-X importtime``
    lists every module the process imports, and neither TensorFlow nor Keras is among them
    (the package's own import loaded them before ``__main__`` ran)."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "cerebros", "--help"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    for command in ("search", "show", "graph"):
        assert command in done.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]
    assert "cerebros.cli" in imported
    assert not [m for m in imported if m.split(".")[0] in ("tensorflow", "keras")]


@pytest.mark.parametrize("command, options", [
    ("search", ["--target", "--project", "--trials", "--tries-per-architecture", "--epochs",
                "--seed", "--patience", "--batch-size", "--learning-rate",
                "--validation-split", "--min-levels", "--max-neurons", "--task", "--backend",
                "--workers", "--overwrite", "--top", "--fillna", "--verbose", "--debug",
                "--generations", "--inherit-weights", "--target-std"]),
    ("show", ["--top", "--no-plots"]),
    ("graph", ["--trial", "--subtrial", "--output"]),
])
def test_command_help_describes_every_option(command, options, capsys):
    assert cli.main([command, "--help"]) == 0
    text = capsys.readouterr().out
    for option in options:
        assert option in text
    # Every option has a help text: no option line stands alone without a description.
    parser = cli.build_parser()
    subparser = parser._subparsers._group_actions[0].choices[command]
    assert all(action.help for action in subparser._actions)


@pytest.mark.parametrize("flags, inherit", [([], False), (["--inherit-weights"], True)])
def test_inherit_weights_turns_weight_inheritance_on(flags, inherit):
    args = cli.build_parser().parse_args(["search", "data.csv", "--target", "y", *flags])
    target = pd.Series([1.0, 2.5, 3.0, 4.5])
    arguments = cli._search_arguments(args, target.to_frame("x"), target,
                                      cli._choose_task(target, "auto"))
    assert arguments["inherit_weights"] is inherit


@pytest.mark.parametrize("command", ["search", "tune"])
@pytest.mark.parametrize("key, flags, expected", [
    ("scaled_target_std", [], "absent"), ("scaled_target_std", ["--target-std", "none"], None),
    ("scaled_target_std", ["--target-std", "1000"], 1000.0),
    ("scaled_target_std", ["--target-std", "Auto"], "auto"),
    ("clip_predictions", [], "absent"), ("clip_predictions", ["--clip-predictions", "None"], None),
    ("clip_predictions", ["--clip-predictions", "0"], 0.0),
    ("clip_predictions", ["--clip-predictions", "0.25"], 0.25),
    ("clip_features", [], "absent"), ("clip_features", ["--clip-features", "NONE"], None),
    ("clip_features", ["--clip-features", "0"], 0.0),
    ("clip_features", ["--clip-features", "0.01"], 0.01)])
def test_scaling_options_are_passed_only_when_given(command, key, flags, expected):
    args = cli.build_parser().parse_args([command, "data.csv", "--target", "y", *flags])
    target = pd.Series([1.0, 2.5, 3.0, 4.5])
    arguments = cli._search_arguments(args, target.to_frame("x"), target,
                                      cli._choose_task(target, "auto"))
    assert arguments.get(key, "absent") == expected


@pytest.mark.parametrize("flag, value, message", [
    ("--target-std", "0", "expected a number > 0, got '0'"),
    ("--clip-predictions", "-1", "expected a number >= 0, got '-1'"),
    ("--clip-features", "0.3", "expected a number in [0, 0.25], got '0.3'")])
def test_a_bad_scaling_option_is_an_argparse_error(capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_info:
        cli.build_parser().parse_args(["search", "data.csv", "--target", "y", flag, value])
    assert exit_info.value.code == 2
    assert f"{flag}: {message}" in capsys.readouterr().err


# ---------------------------------------------------------------------------- search
def test_regression_search_end_to_end(regression_project):
    project, done = regression_project
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "val_root_mean_squared_error" in done.stdout
    assert "regression" in done.stdout
    board_rows = [line for line in done.stdout.splitlines() if "completed" in line]
    assert len(board_rows) == 2
    assert (project / "oracle.csv").is_file()
    models = sorted((project / "models").glob("*.keras"))
    assert len(models) == 2
    best = next(line for line in done.stdout.splitlines() if line.startswith("best model: "))
    assert (project.parent / best.removeprefix("best model: ")).is_file()
    config = search_config(project)
    # x1, x2, x3 only: the target and the text column are not features.
    assert config["input_widths"] == [3] and config["output_widths"] == [1]
    assert config["loss"] == "'mse'" and "RootMeanSquaredError" in config["metrics"]
    assert (config["metric_to_rank_by"], config["direction"]) == (
        "val_root_mean_squared_error", "minimize")
    assert "name" in done.stderr and "non-numeric" in done.stderr
    assert not (project / "classes.json").exists()


def test_rerun_with_other_options_names_them_and_the_way_out(regression_project):
    """A second search on the project with another --clip-features and --epochs is refused
    before any training, in the command line's terms: the options, --project, --overwrite."""
    project, done = regression_project
    assert done.returncode == 0, done.stderr
    before = (project / "oracle.csv").read_bytes()
    again = run_cli("search", "houses.csv", "--target", "price", "--project", "proj",
                    "--trials", "2", *TINY[:1], "3", *TINY[2:], "--clip-features", "none",
                    cwd=project.parent)
    assert again.returncode == 2, again.stderr
    [line] = error_lines(again.stderr)
    assert "epochs: 2 -> 3 (--epochs)" in line
    assert "clip_features: 0.001 -> None (--clip-features)" in line
    assert "--project" in line and "--overwrite" in line
    assert "overwrite=True" not in line and "project_name" not in line
    assert (project / "oracle.csv").read_bytes() == before


def test_every_option_named_in_a_mismatch_exists(tmp_path):
    """Each manifest key the command line explains is one a search from the command line
    writes, and each option it names is one the search command takes."""
    from cerebros import SimpleCerebrosRandomSearch
    from cerebros.project import ProjectDir, ProjectMismatchError

    parser = cli.build_parser()
    args = parser.parse_args(["search", "data.csv", "--target", "y"])
    target = pd.Series(np.linspace(0.0, 1.0, 40), name="y")
    search = SimpleCerebrosRandomSearch(
        **cli._search_arguments(args, (target ** 2).to_frame("x"), target,
                                cli._choose_task(target, "auto")),
        project_name=str(tmp_path / "p"))
    manifest = search.manifest()
    assert set(cli._OPTIONS_OF_MANIFEST_KEY) <= set(manifest)
    [commands] = [action for action in parser._actions
                  if isinstance(action, argparse._SubParsersAction)]
    search_options = {option for action in commands.choices["search"]._actions
                      for option in action.option_strings}
    named = set(re.findall(r"--[a-z-]+", " ".join(cli._OPTIONS_OF_MANIFEST_KEY.values())))
    assert named <= search_options
    tune = {option for action in commands.choices["tune"]._actions
            for option in action.option_strings}
    named = set(re.findall(r"--[a-z-]+", " ".join(cli._OPTIONS_OF_STUDY_SECTION.values())))
    assert named <= tune, named - tune
    ProjectDir(tmp_path / "q").check_or_write_manifest(manifest, overwrite=False)
    with pytest.raises(ProjectMismatchError) as mismatch:
        ProjectDir(tmp_path / "q").check_or_write_manifest(
            {**manifest, "seed": 1, "format_version": 0}, overwrite=False)
    assert mismatch.value.changed == ["format_version", "seed"]
    message = cli._mismatch_message("the project", mismatch.value.changed,
                                    mismatch.value.changes, "or not")
    assert "seed: 8675309 -> 1 (--seed)" in message
    assert "format_version: " in message and "(--" not in message.split("seed:")[0]


def test_binary_classification_uses_sigmoid_and_binary_accuracy(tmp_path):
    table = make_table()
    table["label"] = np.where(table.x1 + table.x2 > 0, "yes", "no")
    table.drop(columns="price").to_csv(tmp_path / "deals.csv", index=False)
    done = run_cli("search", "deals.csv", "--target", "label", "--trials", "1", *TINY,
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    project = tmp_path / "cerebros-projects" / "deals"  # the default project folder
    config = search_config(project)
    assert config["output_widths"] == [1] and config["final_activation"] == "sigmoid"
    assert config["loss"] == "'binary_crossentropy'"
    assert "BinaryAccuracy" in config["metrics"] and "'name': 'accuracy'" in config["metrics"]
    assert (config["metric_to_rank_by"], config["direction"]) == ("val_accuracy", "maximize")
    assert "val_accuracy" in done.stdout and "2 classes" in done.stdout
    classes = json.loads((project / "classes.json").read_text(encoding="utf-8"))
    assert classes == {"target": "label", "classes": ["no", "yes"]}
    assert "the one output is the probability of 'yes'; below 0.5 the class is 'no'" \
        in done.stdout, "not an output index: an argmax of one column is always 0"


def test_three_classes_use_softmax_and_sparse_labels(tmp_path):
    table = make_table()
    table["species"] = np.select([table.x1 > 0.5, table.x1 < -0.5], ["setosa", "virginica"],
                                 "versicolor")
    table.loc[[3, 17], "x2"] = np.nan
    table.drop(columns="price").to_csv(tmp_path / "flowers.csv", index=False)
    done = run_cli("search", "flowers.csv", "--target", "species", "--project", "proj",
                   "--fillna", "0", "--trials", "1", *TINY, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    config = search_config(tmp_path / "proj")
    assert "(output index -> class)" in done.stdout
    assert config["output_widths"] == [3] and config["final_activation"] == "softmax"
    assert config["loss"] == "'sparse_categorical_crossentropy'"
    assert "SparseCategoricalAccuracy" in config["metrics"]
    assert config["metric_to_rank_by"] == "val_accuracy"
    assert "val_accuracy" in done.stdout and "3 classes" in done.stdout
    assert re.search(r"ensemble: .*ensemble.keras \(1 models\): validation RMSE", done.stdout)
    classes = json.loads((tmp_path / "proj" / "classes.json").read_text(encoding="utf-8"))
    assert classes["classes"] == ["setosa", "versicolor", "virginica"]


@pytest.mark.parametrize("values, task, expected", [
    ([0, 1, 2] * 10, "auto", ("classification", 3, "softmax")),
    (list(range(30)), "auto", ("regression", 1, None)),
    ([0.5, 1.5, 2.5] * 10, "auto", ("regression", 1, None)),
    ([True, False] * 15, "auto", ("classification", 1, "sigmoid")),
    (["a", "b"] * 15, "auto", ("classification", 1, "sigmoid")),
    ([0, 1, 2] * 10, "regression", ("regression", 1, None)),
    (list(range(30)), "classification", ("classification", 30, "softmax")),
])
def test_task_choice(values, task, expected):
    chosen = cli._choose_task(pd.Series(values, name="y"), task)
    assert (chosen.kind, chosen.output_width, chosen.final_activation) == expected


def test_without_validation_rows_trials_rank_by_the_training_metric():
    regression = cli._choose_task(pd.Series([0.5, 1.5, 2.5], name="y"), "auto", validation=False)
    classes = cli._choose_task(pd.Series(["a", "b", "c"], name="y"), "auto", validation=False)
    assert regression.metric_to_rank_by == "root_mean_squared_error"
    assert classes.metric_to_rank_by == "accuracy"


# ---------------------------------------------------------------------------- show, graph
def test_show_prints_the_leaderboard_and_writes_plots(regression_project):
    project, _ = regression_project
    done = run_cli("show", project.name, "--top", "1", cwd=project.parent)
    assert done.returncode == 0, done.stderr
    assert "val_root_mean_squared_error" in done.stdout
    assert re.search(r"ensemble: .*ensemble.keras \(\d+ models\): validation RMSE [\d.e+]+ vs "
                     r"best single model [\d.e+]+", done.stdout)
    assert len([line for line in done.stdout.splitlines() if "completed" in line]) == 1
    plots = [Path(line.removeprefix("plot: ")) for line in done.stdout.splitlines()
             if line.startswith("plot: ")]
    assert {p.name for p in plots} == {"search_progress.png", "learning_curves.png"}
    for plot in plots:
        assert (project.parent / plot).read_bytes().startswith(b"\x89PNG")


def test_show_without_matplotlib_still_prints_the_leaderboard(regression_project, capsys,
                                                             monkeypatch):
    project, _ = regression_project
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    assert cli.main(["show", str(project)]) == 0
    out, err = capsys.readouterr()
    assert "val_root_mean_squared_error" in out and "plot:" not in out
    assert len(err.strip().splitlines()) == 1 and "matplotlib is not installed" in err


def test_graph_writes_html(regression_project):
    project, _ = regression_project
    done = run_cli("graph", project.name, "--trial", "1", "--output", "net.html",
                   cwd=project.parent)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "graph: net.html"
    page = (project.parent / "net.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<html") and "vis.DataSet" in page


# ---------------------------------------------------------------------------- errors
def test_missing_csv_is_one_line_and_exit_2(tmp_path):
    done = run_cli("search", "missing.csv", "--target", "price", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert error_lines(done.stderr) == [
        "cerebros: error: csv: 'missing.csv' does not exist; pass the path of a CSV file."]


def write_csv(directory: Path, table: pd.DataFrame) -> str:
    path = directory / "data.csv"
    table.to_csv(path, index=False)
    return str(path)


def test_log_records_go_to_the_stderr_of_each_call(tmp_path, monkeypatch):
    """A notebook or a test replaces sys.stderr between calls: the second call's warning
    must reach the second stream, not the first (closed) one."""
    table = make_table(rows=40)
    table.loc[5, "x2"] = np.nan
    argv = ["search", write_csv(tmp_path, table), "--target", "price"]
    for _ in range(2):
        stream = io.StringIO()
        monkeypatch.setattr(sys, "stderr", stream)
        assert cli.main(argv) == 2
        text = stream.getvalue()
        stream.close()
        assert "dropped 1 non-numeric column(s)" in text and "Logging error" not in text, text


@pytest.mark.parametrize("case", ["unknown target", "nan feature", "nan target",
                                  "one class", "show bad dir", "graph bad trial",
                                  "min above max", "bad fraction"])
def test_errors_are_one_line_with_exit_2(case, tmp_path, capsys):
    table = make_table(rows=40)
    if case == "unknown target":
        argv = ["search", write_csv(tmp_path, table), "--target", "cost"]
        expected = ["no column 'cost'", "x1, x2, x3, name, price"]
    elif case == "nan feature":
        table.loc[5, "x2"] = np.nan
        argv = ["search", write_csv(tmp_path, table), "--target", "price"]
        expected = ["'x2' (1)", "--fillna"]
    elif case == "nan target":
        table.loc[5, "price"] = np.nan
        argv = ["search", write_csv(tmp_path, table), "--target", "price"]
        expected = ["'price' is missing in 1 of 40 rows"]
    elif case == "one class":
        table["kind"] = "same"
        argv = ["search", write_csv(tmp_path, table), "--target", "kind"]
        expected = ["at least 2 classes"]
    elif case == "show bad dir":
        argv = ["show", str(tmp_path / "nowhere")]
        expected = ["is not a directory"]
    elif case == "graph bad trial":
        argv = ["graph", str(tmp_path), "--trial", "3"]
        expected = ["no saved plan for trial=3"]
    elif case == "min above max":  # raised by the library, reported in the options' names
        argv = ["search", write_csv(tmp_path, table), "--target", "price", "--min-levels", "4",
                "--max-levels", "3"]
        expected = ["--min-levels must be <= --max-levels"]
    else:
        argv = ["search", write_csv(tmp_path, table), "--target", "price",
                "--validation-split", "1.5"]
        expected = ["--validation-split", "[0, 1)"]
    code = cli.main(argv)
    err = capsys.readouterr().err
    assert code == 2
    assert "Traceback" not in err
    if case == "bad fraction":  # argparse's own usage error
        assert "usage:" in err
    else:
        assert len(error_lines(err)) == 1 and err.strip().splitlines()[-1].startswith(
            "cerebros: error:")
    for part in expected:
        assert part in err


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        cli.main(["search", str(tmp_path / "missing.csv"), "--target", "y", "--debug"])


def test_interrupt_exits_130(tmp_path, capsys, monkeypatch):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_show", interrupted)
    assert cli.main(["show", str(tmp_path)]) == 130
    assert capsys.readouterr().err.strip() == "cerebros: interrupted"


def _loads_tensorflow(*argv: str, cwd: Path) -> tuple[subprocess.CompletedProcess, bool]:
    """Run the console command's entry point in a fresh process; say whether it imported
    TensorFlow (or Keras)."""
    code = ("import sys, cerebros_cli\n"
            f"sys.argv = ['cerebros', *{list(argv)!r}]\n"
            "try:\n    code = cerebros_cli.main()\nexcept SystemExit as exit:\n    code = exit.code\n"
            "print('HEAVY', any(m in sys.modules for m in ('tensorflow', 'keras')))\n"
            "sys.exit(code)\n")
    env = {k: v for k, v in os.environ.items() if k != "CEREBROS_LAZY_IMPORT"}
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          timeout=300, env=env)
    return done, "HEAVY True" in done.stdout


def test_help_and_show_do_not_load_tensorflow(regression_project, tmp_path):
    done, heavy = _loads_tensorflow("--help", cwd=tmp_path)
    assert done.returncode == 0 and "search" in done.stdout and not heavy, done.stderr[-2000:]
    project, _ = regression_project
    done, heavy = _loads_tensorflow("show", str(project), "--no-plots", cwd=tmp_path)
    assert done.returncode == 0 and "completed" in done.stdout, done.stderr[-2000:]
    assert not heavy
    done, heavy = _loads_tensorflow("search", "missing.csv", "--target", "y", cwd=tmp_path)
    assert done.returncode == 2  # a search needs TensorFlow; a bad file fails before it


def test_the_console_script_is_installed_for_the_lazy_entry_point():
    script = Path(sys.executable).parent / "cerebros"
    assert script.is_file(), "pip install -e . installs the cerebros command"
    assert "cerebros_cli" in script.read_text()


def test_the_ensemble_line_skips_a_member_without_a_score(tmp_path, capsys):
    (tmp_path / "ensemble.json").write_text(json.dumps(
        {"members": ["a", "b"], "rows": "validation", "val_score": 1.5,
         "member_val_scores": [float("nan"), 2.0]}))
    cli._print_ensemble(tmp_path)
    assert "RMSE 1.5 vs best single model 2\n" in capsys.readouterr().out


def test_a_feature_copying_a_class_target_of_other_numbers_is_refused(tmp_path, capsys):
    table = make_table()
    table["rating"] = table.x3 + 1  # classes 1..5: their codes 0..4 no longer equal the copy
    table["rating_copy"] = table.rating
    code = cli.main(["search", write_csv(tmp_path, table.drop(columns="price")), "--target",
                     "rating", "--project", str(tmp_path / "p"), "--trials", "1", *TINY])
    assert code == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "column(s) 'rating_copy' equal the target 'rating' in every row" in line, line
    assert not (tmp_path / "p").exists(), "refused before any work"


def test_a_numeric_target_with_a_stray_text_cell_is_refused_naming_it(tmp_path, capsys):
    table = make_table().astype({"price": object})
    table.loc[17, "price"] = "?"
    code = cli.main(["search", write_csv(tmp_path, table), "--target", "price", "--project",
                     str(tmp_path / "p"), "--trials", "1", *TINY])
    assert code == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "holds numbers except in 1 row(s): '?' (row " in line and "--task classification" \
        in line, line
    assert not (tmp_path / "p").exists()


def test_library_errors_name_the_options_that_set_the_arguments(tmp_path, capsys):
    path = write_csv(tmp_path, make_table())
    assert cli.main(["search", path, "--target", "price", "--project", str(tmp_path / "p"),
                     "--trials", "1", "--generations", "3", *TINY]) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "--generations must be" in line and "number_of_generations" not in line, line
    assert cli.main(["search", path, "--target", "price", "--seed", str(2**32)]) == 2
    assert "--seed: expected a whole number in [0, 4294967295]" in capsys.readouterr().err


def test_show_into_a_pipe_closed_early_stops_quietly(regression_project):
    project, done = regression_project
    assert done.returncode == 0, done.stderr
    shell = subprocess.run(f"'{sys.executable}' -m cerebros show '{project}' --no-plots | "
                           "head -c 10 > /dev/null; echo \"${PIPESTATUS[0]}\"",
                           shell=True, executable="/bin/bash", capture_output=True, text=True,
                           timeout=300)
    assert shell.stdout.strip() in ("0", "141"), shell.stdout
    assert "error" not in shell.stderr.lower(), shell.stderr[-2000:]


def test_workers_without_a_parallel_backend_are_refused_and_a_saved_index_is_warned_of(
        tmp_path, capsys):
    table = make_table()
    path = tmp_path / "indexed.csv"
    table.to_csv(path)  # index=True: an "Unnamed: 0" column of row numbers
    assert cli.main(["search", str(path), "--target", "price", "--workers", "2",
                     "--project", str(tmp_path / "p")]) == 2
    [line] = error_lines(capsys.readouterr().err)
    assert "--workers: the inline backend runs one trial at a time" in line, line
    assert not (tmp_path / "p").exists()
    assert cli.main(["search", str(path), "--target", "price", "--project", str(tmp_path / "q"),
                     "--trials", "1", *TINY]) == 0
    assert "Unnamed: 0 look like a saved row index" in capsys.readouterr().err
    assert (tmp_path / "q" / "oracle.csv").is_file(), "a warning, the search still runs"
