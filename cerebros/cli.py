"""The ``cerebros`` command line: search a CSV file, tune the search, show a project's
results, draw a trial, write a report page.

Five subcommands (``cerebros <command> --help`` describes each):

``search``
    Read a CSV file, use its numeric columns as features and one column as the target, run
    a random architecture search and print the leaderboard and the best model's path.
``tune``
    The same data and options, but a meta-search (:mod:`cerebros.meta`): Optuna tunes the
    search's own settings over many searches, and the best settings are written as JSON.
``show``
    Print the leaderboard of an existing project folder (a search's or a meta-search's) and
    write its plots.
``graph``
    Write the interactive HTML drawing of one trial's network.
``report``
    Write one self-contained HTML page about a search: leaderboard, plots, networks,
    generations, failed trials and settings.

Unlike the library, this module configures logging (``-v`` for INFO, ``-vv`` for DEBUG) and
writes its results to stdout.  Errors become one line on stderr, ``cerebros: error: ...``,
and exit code 2 (``--debug`` shows the traceback instead); an interrupt exits with 130.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import re
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

if TYPE_CHECKING:
    import pandas as pd

    from cerebros.meta.space import SearchSpace

# Quiets TensorFlow's C++ start-up messages in every process this command starts; it takes
# effect in this process only if TensorFlow has not been imported yet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__all__ = ["main", "build_parser", "CLASSES_FILE", "DEFAULT_PROJECTS_DIR", "MAX_AUTO_CLASSES"]

logger = logging.getLogger(__name__)

CLASSES_FILE = "classes.json"
DEFAULT_PROJECTS_DIR = Path("cerebros-projects")
MAX_AUTO_CLASSES = 20
"""``--task auto`` treats an integer target with at most this many distinct values as classes."""

_EXIT_ERROR = 2
_EXIT_INTERRUPTED = 130
_EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, as a shell reports a command killed by it
_LOG_FORMAT = "%(name)s: %(levelname)s: %(message)s"
_LEADERBOARD_COLUMNS = ("trial_number", "subtrial_number", "status", "best_epoch", "epochs_run",
                        "levels", "units", "n_params", "wall_time_s")
_SHORT_NAMES = {"trial_number": "trial", "subtrial_number": "subtrial"}


class CommandError(ValueError):
    """A problem with the command's arguments or input files, reported in one line."""


# ------------------------------------------------------------------------------ parsing
def _bounded_int(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number of at least ``minimum`` (and at most ``maximum``)."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum or (maximum is not None and value > maximum):
            bounds = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
            raise argparse.ArgumentTypeError(f"expected a whole number {bounds}, got {text!r}")
        return value

    return parse


def _float_where(accept: Callable[[float], bool], expected: str) -> Callable[[str], float]:
    """An argparse type: a number for which ``accept`` is true (``expected`` describes it)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if math.isnan(value) or not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}")
        return value

    return parse


_positive_float = _float_where(lambda v: 0 < v < math.inf, "a number > 0")
_finite_float = _float_where(math.isfinite, "a finite number")
_fraction = _float_where(lambda v: 0 <= v < 1, "a number in [0, 1)")
_non_negative_float = _float_where(lambda v: 0 <= v < math.inf, "a number >= 0")
_above_one = _float_where(lambda v: 1 < v < math.inf, "a number > 1")
_clip_quantile = _float_where(lambda v: 0 <= v <= 0.25, "a number in [0, 0.25]")


def _clip_predictions(text: str) -> float | None:
    """``--clip-predictions``: "none" or a number >= 0."""
    return None if text.lower() == "none" else _non_negative_float(text)


def _clip_features(text: str) -> float | None:
    """``--clip-features``: "none" or a quantile in [0, 0.25]."""
    return None if text.lower() == "none" else _clip_quantile(text)


def _target_std(text: str) -> float | str | None:
    """``--target-std``: "none", "auto" or a number > 0."""
    if text.lower() in ("none", "auto"):
        return None if text.lower() == "none" else "auto"
    return _positive_float(text)


_PASSED_WHEN_GIVEN = (
    ("--target-std", "scaled_target_std", _target_std, "S|auto|none",
     "spread of the targets a regression network learns: auto (the library's default) max(1, "
     "7.5 x learning rate x optimizer steps of the training budget); a number S rescales them "
     "to standard deviation S (1: standardized); none centres them only, in the target's own "
     "units (needs a learning rate near the README's 0.0664)"),
    ("--clip-predictions", "clip_predictions", _clip_predictions, "M|none",
     "bound a regression network's predictions, outside training, to the target's training "
     "range widened by M times its width on each side (0, the library's default: the range "
     "itself); none: unbounded"),
    ("--clip-features", "clip_features", _clip_features, "Q|none",
     "clip every input column, inside the network, to its [Q, 1 - Q] quantiles of the "
     "training rows (0.001, the library's default; 0: their min and max); none: no clipping "
     "(the original)"),
)
"""Options that reach the search only when given (else the library's default applies): the
flag, the search argument it sets, its type, metavar and help."""


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The search arguments of the :data:`_PASSED_WHEN_GIVEN` options given in ``args``."""
    dests = ((flag[2:].replace("-", "_"), name) for flag, name, *_ in _PASSED_WHEN_GIVEN)
    return {name: getattr(args, dest) for dest, name in dests if dest in args}


_OPTIONS_OF_MANIFEST_KEY = {
    "input_widths": "the CSV's feature columns",
    "output_widths": "--task, or the target's classes",
    "direction": "--task", "metric_to_rank_by": "--task", "final_activation": "--task",
    "loss": "--task", "metrics": "--task",
    "levels": "--min-levels/--max-levels", "units_per_level": "--min-units/--max-units",
    "neurons_per_unit": "--min-neurons/--max-neurons",
    "number_of_architecture_moities_to_try": "--trials",
    "number_of_tries_per_architecture_moity": "--tries-per-architecture",
    "number_of_generations": "--generations", "inherit_weights": "--inherit-weights",
    "seed": "--seed", "learning_rate": "--learning-rate", "batch_size": "--batch-size",
    "epochs": "--epochs", "patience": "--patience",
    "data_fingerprint": "the CSV's rows, --seed, --validation-split, --no-shuffle or --fillna",
    "target_spread": "--target-std, --learning-rate, --batch-size or --epochs",
    **{name: flag for flag, name, *_ in _PASSED_WHEN_GIVEN},
}
"""The command-line options (or inputs) behind each key of a search's manifest that the
``search`` command sets, named when a rerun's differ from a project's."""


_OPTIONS_OF_STUDY_SECTION = {
    "space": "--space, --space-around, --around-factor, --batch-size, --learning-rate, "
             "--min-levels/--max-levels, --min-units/--max-units or --min-neurons/--max-neurons",
    "direction": "--task", "metric_to_rank_by": "--task"}
"""The same for the top-level keys of a meta-search's study manifest (``inner.<key>`` is a
key of every meta-trial's search manifest)."""


_FLAG_OF_ARGUMENT = {
    **{name: flag for name, flag in _OPTIONS_OF_MANIFEST_KEY.items()
       if "_" in name and flag.startswith("--") and " " not in flag and "/" not in flag
       and flag != "--task"},  # names, not words ("loss", "seed") a message may use
    **{f"{end}_{name}": f"--{end[:3]}-{noun}" for end in ("minimum", "maximum")
       for name, noun in (("levels", "levels"), ("units_per_level", "units"),
                          ("neurons_per_unit", "neurons"))},
    "validation_split": "--validation-split",
}
"""The command-line option that sets each search argument (with an underscore in its name,
so that no plain word of a message is taken for one) that one option sets alone."""


def _in_command_line_terms(message: str) -> str:
    """A library error message with the search arguments named as the options that set them
    (``number_of_generations=1`` -> ``--generations=1``)."""
    return re.sub(r"\b(" + "|".join(map(re.escape, _FLAG_OF_ARGUMENT)) + r")\b",
                  lambda match: _FLAG_OF_ARGUMENT[match.group(1)], message)


def _options_behind(key: str) -> str | None:
    """The command-line options behind a (dotted) manifest key, None if unknown."""
    section, _, rest = key.partition(".")
    if section in _OPTIONS_OF_STUDY_SECTION:
        return _OPTIONS_OF_STUDY_SECTION[section]
    return _OPTIONS_OF_MANIFEST_KEY.get(rest if section == "inner" else key)


def _mismatch_message(what: str, changed: list[str], changes: list[str], way_out: str) -> str:
    """A project's or a study's refused rerun in the command line's terms: each change with
    the options behind it (named once after a run of changes that share them)."""
    options = [_options_behind(key) for key in changed] + [None]
    shown = [change if options[i] is None or options[i] == options[i + 1]
             else f"{change} ({options[i]})" for i, change in enumerate(changes)]
    return (f"{what} was started with other options: " + "; ".join(shown)
            + f". Rerun with the values it was started with (left of each ->) to continue it, "
            f"{way_out}.")


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows an option's default, unless it is "not given" (None, off, or a counter's 0)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        unset = action.default is None or action.default is False
        if unset or "--verbose" in action.option_strings:
            return action.help
        return super()._get_help_string(action)


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0,
                        help="log progress: -v for INFO messages (and a progress bar for "
                             "search), -vv for DEBUG messages (and Keras' per-epoch output)")
    common.add_argument("--debug", action="store_true",
                        help="show the full traceback of an error instead of one line")
    return common


def _add_data_options(parser: argparse.ArgumentParser) -> None:
    """The input file, the target and how the rows are read and split (search and tune)."""
    parser.add_argument("csv", type=Path, help="the CSV file, with a header row")
    parser.add_argument("--target", required=True, help="the column to predict")
    parser.add_argument("--project", type=Path, default=None,
                        help="the project folder for oracle, models and plots "
                             "(default: cerebros-projects/<name of the CSV file>)")
    parser.add_argument("--task", choices=("auto", "regression", "classification"),
                        default="auto",
                        help="what to predict; auto picks classification for a non-numeric "
                             f"target or an integer one with at most {MAX_AUTO_CLASSES} "
                             "distinct values, otherwise regression")
    parser.add_argument("--fillna", type=_finite_float, default=None, metavar="VALUE",
                        help="fill missing feature values with VALUE (by default missing "
                             "values are an error)")
    parser.add_argument("--no-shuffle", action="store_true",
                        help="keep the file's row order, so the last rows validate (e.g. for "
                             "time series)")
    parser.add_argument("--validation-split", type=_fraction, default=0.35, metavar="F",
                        help="fraction of the rows held out for validation, in [0, 1)")
    parser.add_argument("--seed", type=_bounded_int(0, 2**32 - 1), default=8675309, metavar="S",
                        help="seed of the shuffle, the sampled architectures and the weights")


def _add_budget_options(parser: argparse.ArgumentParser) -> None:
    """A search's trials and epochs (for tune: those of every meta-trial's search)."""
    parser.add_argument("--trials", type=_bounded_int(1), default=5, metavar="N",
                        help="number of architectures (moieties) to sample")
    parser.add_argument("--tries-per-architecture", type=_bounded_int(1), default=1, metavar="N",
                        help="wirings tried of each sampled architecture")
    parser.add_argument("--generations", type=_bounded_int(1), default=1, metavar="G",
                        help="split the trials into G generations; later ones breed mutations "
                             "of the best earlier trials (1: plain random search)")
    parser.add_argument("--inherit-weights", action="store_true",
                        help="the units a bred child shares with its parent start from the "
                             "parent's trained weights (default: fresh weights)")
    for flag, _, kind, metavar, text in _PASSED_WHEN_GIVEN:
        parser.add_argument(flag, type=kind, default=argparse.SUPPRESS, metavar=metavar,
                            help=text)
    parser.add_argument("--epochs", type=_bounded_int(1), default=20, metavar="E",
                        help="most epochs per trial")
    parser.add_argument("--patience", type=_bounded_int(0), default=7, metavar="P",
                        help="stop a trial after P epochs without improvement of the ranking "
                             "metric (0: never stop early)")


def _add_space_options(parser: argparse.ArgumentParser, tune: bool) -> None:
    """The settings a meta-search tunes.  For search they set the search; for tune a given
    one fixes (batch size, learning rate) or bounds (levels, units, neurons) what the
    meta-trials draw, and an absent one keeps the space's default."""
    fixes = " (default: tuned; giving it fixes it for every meta-trial)"
    parser.add_argument("--batch-size", type=_bounded_int(1), default=None if tune else 200,
                        metavar="B", help="training batch size" + (fixes if tune else ""))
    parser.add_argument("--learning-rate", type=_positive_float, default=None if tune else 0.005,
                        metavar="LR", help="learning rate of the AdamW optimizer"
                                           + (fixes if tune else ""))
    for noun, counted, fewest, most in (
            ("levels", "dense levels per network, the output level included", 2, 7),
            ("units", "units per level", 1, 4), ("neurons", "neurons per unit", 1, 4)):
        for bound, word, default in (("min", "fewest", fewest), ("max", "most", most)):
            text = f"{word} {counted}"
            if tune:
                text += f" that a meta-trial may draw (default: the space's, {default})"
            parser.add_argument(f"--{bound}-{noun}", type=_bounded_int(1),
                                default=None if tune else default, metavar="N", help=text)


def _add_tune_options(parser: argparse.ArgumentParser) -> None:
    """The meta-search's own options."""
    parser.add_argument("--meta-trials", type=_bounded_int(1), default=20, metavar="N",
                        help="meta-trials of the study in all (over every process and run: "
                             "rerun with a larger N to continue it)")
    parser.add_argument("--storage", default=None, metavar="URL",
                        help="SQLAlchemy URL of the study's database, shared by every process "
                             "that runs this meta-search, e.g. postgresql+psycopg://user@host/db "
                             "(default: meta_study.db in the project folder)")
    parser.add_argument("--study", default=None, metavar="NAME",
                        help="the study's name (default: the project folder's name)")
    parser.add_argument("--workers", type=_bounded_int(1), default=1, metavar="N",
                        help="meta-trials run at once, each in its own process on this machine "
                             "(more machines: run the same command there with one --storage)")
    parser.add_argument("--space", type=Path, default=None, metavar="JSON",
                        help="a JSON file of the ranges to tune, e.g. {\"learning_rate\": "
                             "{\"low\": 0.001, \"high\": 0.1}, \"activation\": {\"choices\": "
                             "[\"elu\", \"relu\"]}, \"batch_size\": 64} (see the README)")
    parser.add_argument("--space-around", default="none", metavar="none|readme|JSON",
                        help="tune around known settings, the original README's tuned ones or "
                             "a JSON file of settings (e.g. an earlier study's "
                             "best_settings.json): each number of the space spans value / F to "
                             "value * F (--around-factor), each min/max pair the settings' own; "
                             "--space entries override")
    parser.add_argument("--around-factor", type=_above_one, default=None, metavar="F",
                        help="F of --space-around, above 1 (default: 2)")
    parser.add_argument("--start-from", default="none", metavar="none|readme|JSON",
                        help="settings a new study tries first: none (default), the original "
                             "README's tuned settings, or a JSON file of settings (an object, "
                             "e.g. an earlier study's best_settings.json, or a list of them)")
    parser.add_argument("--max-inner-trials", type=_bounded_int(1), default=None, metavar="N",
                        help="also a budget of inner trials over the study (running "
                             "meta-trials count with their budget); the last meta-trial gets "
                             "what is left when that is less than --trials")
    parser.add_argument("--timeout", type=_positive_float, default=None, metavar="SECONDS",
                        help="wall time of this run: no meta-trial starts after it, the running "
                             "one stops at its next trial and resumes on the next run")
    parser.add_argument("--pruner", choices=("median", "halving", "none"), default="median",
                        help="how hopeless meta-trials are stopped early")
    parser.add_argument("--sampler", choices=("tpe", "random"), default="tpe",
                        help="how meta-trials' settings are drawn")
    parser.add_argument("--meta-seed", type=_bounded_int(0), default=0, metavar="S",
                        help="seed of the sampler")
    parser.add_argument("--top", type=_bounded_int(1), default=10, metavar="N",
                        help="rows of the leaderboard to print")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``cerebros`` command and its subcommands.

    Returns
    -------
    argparse.ArgumentParser
        Parses ``search``, ``tune``, ``show``, ``graph`` and ``report`` arguments; the chosen
        command's function
        is in the ``command`` attribute of the parsed namespace.
    """
    formatter = _HelpFormatter
    parser = argparse.ArgumentParser(
        prog="cerebros", formatter_class=formatter,
        description="Neural architecture search with Cerebros: search a CSV file for a good "
                    "network, then inspect the results.",
        epilog="Run 'cerebros <command> --help' for the options of a command.")
    commands = parser.add_subparsers(title="commands", dest="command_name", metavar="<command>",
                                     required=True)
    common = _common_options()

    search = commands.add_parser(
        "search", parents=[common], formatter_class=formatter,
        help="search architectures for predicting one column of a CSV file",
        description="Search Cerebros architectures that predict --target from the numeric "
                    "columns of a CSV file (other columns are dropped, with a warning). The "
                    "rows are shuffled with --seed, the last --validation-split of them "
                    "validate, and every trial is recorded in the project folder, so an "
                    "interrupted search resumes when run again with the same arguments.")
    _add_data_options(search)
    _add_budget_options(search)
    _add_space_options(search, tune=False)
    search.add_argument("--backend", choices=("inline", "process", "ray"), default="inline",
                        help="where trials run: in this process, in a process pool, or on Ray")
    search.add_argument("--workers", type=_bounded_int(1), default=None, metavar="N",
                        help="trials run at once by the process and ray backends "
                             "(default: the backend's choice)")
    search.add_argument("--ensemble", type=_bounded_int(0), default=5, metavar="K",
                        help="after the search, average the best K trials' models into "
                             "ensemble.keras (greedy selection on the validation rows; 0: none)")
    search.add_argument("--overwrite", action="store_true",
                        help="discard an earlier search in the project folder instead of "
                             "resuming it")
    search.add_argument("--top", type=_bounded_int(1), default=10, metavar="N",
                        help="rows of the leaderboard to print")
    search.set_defaults(command=_search)

    tune = commands.add_parser(
        "tune", parents=[common], formatter_class=formatter,
        help="tune the search's own settings with Optuna (a meta-search)",
        description="Run a meta-search: every meta-trial is one search (with the --trials, "
                    "--epochs, ... given here) whose settings Optuna draws from a space of "
                    "level, unit and neuron ranges, wiring settings, activation, learning rate "
                    "and batch size; hopeless meta-trials are pruned after some of their "
                    "trials. The study lives in a database (--storage) that several processes "
                    "and machines can share, and an interrupted meta-search resumes when run "
                    "again. Writes best_settings.json (arguments of SimpleCerebrosRandomSearch) "
                    "and meta_results.csv into the project folder. Needs Optuna: pip install "
                    "'cerebros[tune]'.")
    _add_data_options(tune)
    _add_budget_options(tune)
    _add_space_options(tune, tune=True)
    _add_tune_options(tune)
    tune.set_defaults(command=_tune)

    show = commands.add_parser(
        "show", parents=[common], formatter_class=formatter,
        help="print the leaderboard of a project and write its plots",
        description="Print the leaderboard of a search's project folder and write "
                    "search_progress.png and learning_curves.png into it, and "
                    "generations.png for a search of several generations; for a meta-search's "
                    "project (cerebros tune), the leaderboard of its meta-trials and "
                    "meta_progress.png (plots need matplotlib: pip install 'cerebros[plots]').")
    show.add_argument("project", type=Path, help="the project folder of a search")
    show.add_argument("--top", type=_bounded_int(1), default=10, metavar="N",
                      help="rows of the leaderboard to print")
    show.add_argument("--no-plots", action="store_true", help="only print the leaderboard")
    show.add_argument("--storage", default=None, metavar="URL",
                      help="for a meta-search whose database URL holds a password: the URL")
    show.set_defaults(command=_show)

    graph = commands.add_parser(
        "graph", parents=[common], formatter_class=formatter,
        help="write the interactive HTML drawing of one trial's network",
        description="Draw the saved wiring plan of one trial as a self-contained HTML page.")
    graph.add_argument("project", type=Path, help="the project folder of a search")
    graph.add_argument("--trial", type=_bounded_int(0), required=True, metavar="N",
                       help="the trial (architecture) number, as in the leaderboard")
    graph.add_argument("--subtrial", type=_bounded_int(0), default=0, metavar="N",
                       help="the subtrial (wiring try) number")
    graph.add_argument("--output", type=Path, default=None, metavar="PATH",
                       help="where to write the page (default: model_graphs/<trial>.html in "
                            "the project folder)")
    graph.set_defaults(command=_graph)

    report = commands.add_parser(
        "report", parents=[common], formatter_class=formatter,
        help="write one self-contained HTML page about a search or a meta-search",
        description="Write one HTML page about a search's project folder: the sortable "
                    "leaderboard, the progress and learning-curve plots, the networks of the "
                    "best trials, the generations, the failed trials with their errors and "
                    "the search's settings; for a meta-search's project (cerebros tune), its "
                    "study (meta-trials, progress, best settings) and then the best "
                    "meta-trial's search. Everything is inlined: the page opens offline "
                    "(plots need matplotlib: pip install 'cerebros[plots]').")
    report.add_argument("project", type=Path,
                        help="the project folder of a search or of a meta-search")
    report.add_argument("--output", type=Path, default=None, metavar="PATH",
                        help="where to write the page (default: report.html in the project "
                             "folder)")
    report.add_argument("--graphs", type=_bounded_int(0), default=3, metavar="N",
                        help="draw the networks of the best N trials (0: none)")
    report.add_argument("--storage", default=None, metavar="URL",
                        help="for a meta-search whose database URL holds a password: the URL")
    report.set_defaults(command=_report)
    return parser


# ------------------------------------------------------------------------------ data
@dataclass(frozen=True)
class _Task:
    """How the target is learned: loss, metrics, ranking and output layer."""

    kind: str
    output_width: int
    final_activation: str | None
    loss: str
    metrics: list[Any]
    metric_to_rank_by: str
    direction: str
    classes: list[Any] | None = None


def _read_table(csv: Path, target: str, fillna: float | None,
                shuffle_seed: int | None) -> tuple["pd.DataFrame", "pd.Series"]:
    """The numeric feature columns and the target column of ``csv``."""
    import pandas as pd

    if not csv.is_file():
        problem = "is a directory" if csv.is_dir() else "does not exist"
        raise CommandError(f"csv: {str(csv)!r} {problem}; pass the path of a CSV file.")
    try:
        table = pd.read_csv(csv)
    except pd.errors.EmptyDataError:
        raise CommandError(f"csv: {str(csv)!r} is empty; it needs a header row and data "
                           "rows.") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CommandError(f"csv: {str(csv)!r} could not be read as CSV ({error}).") from None
    if target not in table.columns:
        raise CommandError(f"--target: {str(csv)!r} has no column {target!r}; available columns: "
                           f"{', '.join(map(str, table.columns))}.")
    if len(table) == 0:
        raise CommandError(f"csv: {str(csv)!r} has a header but no data rows.")
    missing_target = int(table[target].isna().sum())
    if missing_target:
        raise CommandError(f"--target: column {target!r} is missing in {missing_target} of "
                           f"{len(table)} rows; drop those rows from the CSV file first.")
    if shuffle_seed is not None:
        table = table.sample(frac=1.0, random_state=shuffle_seed).reset_index(drop=True)
    candidates = table.drop(columns=[target])
    saved_index = [str(c) for c in candidates.columns if str(c).startswith("Unnamed: ")]
    if saved_index:
        logger.warning("column(s) %s look like a saved row index (DataFrame.to_csv without "
                       "index=False); they are used as features unless dropped from the CSV",
                       ", ".join(saved_index))
    features = candidates.select_dtypes(include=["number", "bool"])
    dropped = [str(c) for c in candidates.columns if c not in features.columns]
    if dropped:
        logger.warning("dropped %d non-numeric column(s), encode them as numbers to use them: %s",
                       len(dropped), ", ".join(dropped))
    if features.shape[1] == 0:
        raise CommandError(f"csv: {str(csv)!r} has no numeric column besides the target "
                           f"{target!r}; the features must be numbers.")
    if fillna is not None:
        features = features.fillna(fillna)
    else:
        counts = features.isna().sum()
        counts = counts[counts > 0]
        if len(counts):
            listed = ", ".join(f"{name!r} ({count})" for name, count in counts.items())
            raise CommandError(f"csv: missing feature values in column(s) {listed}; pass "
                               "--fillna VALUE to fill them, or clean the CSV file.")
    copies = [str(c) for c in features.columns if _same_values(features[c], table[target])]
    if copies:
        raise CommandError(f"csv: column(s) {', '.join(map(repr, copies))} equal the target "
                           f"{target!r} in every row (label leakage: a model would copy them "
                           "and learn nothing); drop them from the CSV file.")
    logger.info("%d rows, %d feature columns: %s", len(features), features.shape[1],
                ", ".join(map(str, features.columns)))
    return features, table[target]


def _same_values(feature: "pd.Series", target: "pd.Series") -> bool:
    """Whether a numeric feature equals the target (as numbers) in every row."""
    import pandas as pd

    numbers = pd.to_numeric(target, errors="coerce")
    return bool(numbers.notna().all()
                and (feature.astype("float64") == numbers.astype("float64")).all())


def _choose_task(target: "pd.Series", requested: str, validation: bool = True) -> _Task:
    """Loss, metrics, output layer and ranking for ``target`` and the ``--task`` choice.

    Trials are ranked by the validation metric, or by the training metric when there are no
    validation rows (``validation=False``).
    """
    import keras
    import pandas as pd

    prefix = "val_" if validation else ""
    numeric = pd.api.types.is_numeric_dtype(target) and not pd.api.types.is_bool_dtype(target)
    kind = requested
    if kind == "auto":
        _refuse_numbers_with_stray_text(target)
        few_integers = (pd.api.types.is_integer_dtype(target)
                        and target.nunique() <= MAX_AUTO_CLASSES)
        kind = "classification" if not numeric or few_integers else "regression"
        logger.info("--task auto chose %s for target %r", kind, target.name)
    if kind == "regression":
        if not numeric:
            raise CommandError(f"--task regression needs a numeric target; column "
                               f"{target.name!r} has dtype {target.dtype}. Use --task "
                               "classification or auto.")
        return _Task("regression", 1, None, "mse",
                     [keras.metrics.RootMeanSquaredError(name="root_mean_squared_error")],
                     f"{prefix}root_mean_squared_error", "minimize")
    classes = pd.Categorical(target).categories.tolist()
    if len(classes) < 2:
        raise CommandError(f"--target: column {target.name!r} has a single value "
                           f"({classes[0]!r}); classification needs at least 2 classes.")
    if len(classes) == 2:
        return _Task("classification", 1, "sigmoid", "binary_crossentropy",
                     [keras.metrics.BinaryAccuracy(name="accuracy")], f"{prefix}accuracy",
                     "maximize", classes)
    return _Task("classification", len(classes), "softmax", "sparse_categorical_crossentropy",
                 [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
                 f"{prefix}accuracy", "maximize", classes)


def _refuse_numbers_with_stray_text(target: "pd.Series") -> None:
    """``--task auto`` would learn a target of numbers with a few text cells (``?``,
    ``n/a``) as hundreds of classes; refuse it, naming the cells."""
    import pandas as pd

    if pd.api.types.is_numeric_dtype(target) or pd.api.types.is_bool_dtype(target):
        return
    numbers = pd.to_numeric(target, errors="coerce")
    text = target[numbers.isna()]
    if numbers.notna().mean() < 0.9 or target.nunique() <= MAX_AUTO_CLASSES:
        return
    shown = ", ".join(f"{value!r} (row {index})" for index, value in text.head(3).items())
    raise CommandError(f"--target: column {target.name!r} holds numbers except in {len(text)} "
                       f"row(s): {shown}; fix or drop those rows for a regression, or pass "
                       f"--task classification to learn its {target.nunique()} values as "
                       "classes.")


def _class_codes(target: "pd.Series", classes: list[Any]) -> Any:
    """The target as integer class ids ``0..k-1`` in the order of ``classes``."""
    import pandas as pd

    return pd.Categorical(target, categories=classes).codes.astype("int64")


def _json_value(value: Any) -> Any:
    """A class label as a JSON value (numpy scalars become Python numbers)."""
    return value.item() if hasattr(value, "item") else value


def _classes_mapping(target: str, task: _Task) -> dict[str, Any] | None:
    """The content of ``classes.json``: the target's name and the class of each output index."""
    if task.classes is None:
        return None
    return {"target": target, "classes": [_json_value(c) for c in task.classes]}


def _classes_line(project: Path, task: _Task) -> str:
    """Where the classes are, and how the model's output names them."""
    if task.output_width == 1:  # binary: one sigmoid output
        return (f"classes: {project / CLASSES_FILE} (the one output is the probability of "
                f"{task.classes[1]!r}; below 0.5 the class is {task.classes[0]!r})")
    return f"classes: {project / CLASSES_FILE} (output index -> class)"


def _check_classes_file(project: Path, mapping: dict[str, Any] | None, overwrite: bool) -> None:
    """Refuse to resume a search whose stored classes differ; forget them on overwrite."""
    path = project / CLASSES_FILE
    if overwrite:
        path.unlink(missing_ok=True)
        return
    if mapping is None or not path.is_file():
        return
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        stored = None
    if stored != mapping:
        raise CommandError(f"--project: {path} holds other classes than this search's "
                           f"({mapping['classes']}); use another --project, or --overwrite to "
                           "replace the earlier search.")


# ------------------------------------------------------------------------------ output
def _number(value: float) -> str:
    return f"{value:.6g}"


def _seconds(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _format_leaderboard(board: "pd.DataFrame") -> str:
    """The leaderboard as a plain-text table (the failed trials' errors below it)."""
    metric = board.attrs["metric"]
    columns = [c for c in _LEADERBOARD_COLUMNS if c in board.columns]
    columns.insert(columns.index("status") + 1, metric)
    if "attempt" in board.columns and (board["attempt"].fillna(1) > 1).any():
        columns.insert(columns.index("status") + 1, "attempt")  # a retried trial is 2
    shown = board[columns].rename(columns=_SHORT_NAMES)
    text = shown.to_string(index=False, na_rep="-", float_format=_number,
                           formatters={"wall_time_s": _seconds})
    failed = board[board["status"] == "failed"]
    for row in failed.itertuples(index=False):
        text += f"\ntrial {row.trial_number}/{row.subtrial_number} failed: {row.error}"
    return text


def _best_model_line(board: "pd.DataFrame") -> str | None:
    completed = board[(board["status"] == "completed") & board[board.attrs["metric"]].notna()]
    if completed.empty or not completed.iloc[0]["model_path"]:
        return None
    return f"best model: {completed.iloc[0]['model_path']}"


def _print_leaderboard(board: "pd.DataFrame") -> None:
    direction = "lower" if board.attrs["direction"] == "minimize" else "higher"
    print(f"leaderboard ({board.attrs['metric']}, {direction} is better):")
    print(_format_leaderboard(board))
    line = _best_model_line(board)
    if line is not None:
        print(line)


def _print_ensemble(project: Path) -> None:
    """The ensemble's validation score beside the best single model's, if there is one."""
    from cerebros.project import ENSEMBLE_INFO_NAME, ENSEMBLE_NAME

    path = Path(project) / ENSEMBLE_INFO_NAME
    if not path.is_file():
        return
    info = json.loads(path.read_text(encoding="utf-8"))
    print(f"ensemble: {Path(project) / ENSEMBLE_NAME} ({len(info['members'])} models): "
          f"{info['rows']} RMSE {_number(info['val_score'])} vs best single model "
          f"{_number(min((v for v in info['member_val_scores'] if v == v), default=math.nan))}")


# ------------------------------------------------------------------------------ commands
def _read_task(args: argparse.Namespace, default_project: Path
               ) -> tuple["pd.DataFrame", Any, _Task, Path]:
    """The features, the labels (class ids for classification), the task and the project
    folder of a search or tune command; prints what will be learned."""
    features, target = _read_table(args.csv, args.target, args.fillna,
                                   None if args.no_shuffle else args.seed)
    task = _choose_task(target, args.task, validation=args.validation_split > 0)
    labels = target if task.classes is None else _class_codes(target, task.classes)
    project = args.project if args.project is not None else default_project
    described = (f"{len(task.classes)} classes" if task.classes is not None
                 else f"target {args.target!r}")
    print(f"cerebros: {task.kind} ({described}) from {features.shape[1]} feature columns and "
          f"{len(features)} rows; project {project}")
    return features, labels, task, project


def _search_arguments(args: argparse.Namespace, features: "pd.DataFrame", labels: Any,
                      task: _Task) -> dict[str, Any]:
    """The SimpleCerebrosRandomSearch arguments shared by search and tune: the data, the
    task and the budget options."""
    return dict(
        input_shapes=[(features.shape[1],)], output_shapes=[task.output_width],
        training_data=[features], labels=[labels], validation_split=args.validation_split,
        direction=task.direction, metric_to_rank_by=task.metric_to_rank_by,
        final_activation=task.final_activation, loss=task.loss, metrics=task.metrics,
        number_of_architecture_moities_to_try=args.trials,
        number_of_tries_per_architecture_moity=args.tries_per_architecture,
        number_of_generations=args.generations, inherit_weights=args.inherit_weights,
        seed=args.seed, epochs=args.epochs, patience=args.patience,
        **_given(args))


def _search(args: argparse.Namespace) -> int:
    from cerebros.project import ProjectMismatchError, write_json_atomic
    from cerebros.search import SimpleCerebrosRandomSearch

    if args.workers is not None and args.backend == "inline":
        raise CommandError("--workers: the inline backend runs one trial at a time in this "
                           "process; add --backend process (or ray) to run trials at once.")
    features, labels, task, project = _read_task(args, DEFAULT_PROJECTS_DIR / args.csv.stem)
    progress = 2 if args.verbose >= 2 else int(args.verbose == 1 or sys.stdout.isatty())
    search = SimpleCerebrosRandomSearch(
        **_search_arguments(args, features, labels, task),
        minimum_levels=args.min_levels, maximum_levels=args.max_levels,
        minimum_units_per_level=args.min_units, maximum_units_per_level=args.max_units,
        minimum_neurons_per_unit=args.min_neurons, maximum_neurons_per_unit=args.max_neurons,
        learning_rate=args.learning_rate, batch_size=args.batch_size, project_name=str(project),
        backend=args.backend, n_workers=args.workers, overwrite=args.overwrite, verbose=progress)
    mapping = _classes_mapping(args.target, task)
    _check_classes_file(project, mapping, args.overwrite)
    try:
        best = search.run_random_search()
    except ProjectMismatchError as error:
        raise CommandError(_mismatch_message(
            f"the project {error.root}", error.changed, error.changes,
            "use another --project, or add --overwrite to start it afresh")) from None
    if mapping is not None:
        write_json_atomic(project / CLASSES_FILE, mapping)
    if args.ensemble:
        search.get_best_ensemble(top=args.ensemble)
    _print_leaderboard(search.results_summary(top=args.top))
    print(f"best {task.metric_to_rank_by}: {best:.6g}")
    _print_ensemble(project)
    if mapping is not None:
        print(_classes_line(project, task))
    return 0


def _json_file(option: str, value: str | Path, kinds: tuple[type, ...], what: str) -> Any:
    """The content of the JSON file given to ``option``, which must be one of ``kinds``."""
    try:
        content = json.loads(Path(value).read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandError(f"{option}: cannot read {str(value)!r} ({error.strerror}).") from None
    except json.JSONDecodeError as error:
        raise CommandError(f"{option}: {str(value)!r} is not valid JSON ({error}).") from None
    if not isinstance(content, kinds):
        raise CommandError(f"{option}: {str(value)!r} must hold {what}.")
    return content


def _tune_space(args: argparse.Namespace) -> "SearchSpace":
    """The meta-search's space: the --space file, around the --space-around settings if
    given, then the options that fix or bound."""
    from cerebros.meta.space import README_SETTINGS, SearchSpace

    space: dict[str, Any] = {}
    if args.space is not None:
        space = _json_file("--space", args.space, (dict,),
                           "a JSON object of dimension name to range, choices or value")
    if args.space_around == "none":
        if args.around_factor is not None:
            raise CommandError("--around-factor: give --space-around readme or a JSON file of "
                               "settings to tune around; without it there is no factor to use.")
        base = SearchSpace(space)
    else:
        settings = README_SETTINGS if args.space_around == "readme" else _json_file(
            "--space-around", args.space_around, (dict,),
            "a JSON object of settings, e.g. an earlier study's best_settings.json")
        try:
            around = SearchSpace.around(settings, args.around_factor or 2.0)
        except ValueError as error:
            raise CommandError(f"--space-around {args.space_around}: {error}") from None
        base = SearchSpace({**around.to_dict(), **space})
    bounds = base.to_dict()
    options: dict[str, Any] = {}
    for option, name in (("batch_size", "batch_size"), ("learning_rate", "learning_rate")):
        if getattr(args, option) is not None:
            options[name] = {"value": getattr(args, option)}
    for noun, name in (("levels", "levels"), ("units", "units_per_level"),
                       ("neurons", "neurons_per_unit")):
        low, high = getattr(args, f"min_{noun}"), getattr(args, f"max_{noun}")
        if low is None and high is None:
            continue
        current = bounds[name]
        current_low, current_high = (current["low"], current["high"]) if "low" in current \
            else current["value"]
        options[name] = {"low": current_low if low is None else low,
                         "high": current_high if high is None else high}
    return SearchSpace({**bounds, **options}) if options else base


def _start_from(value: str) -> Any:
    """``--start-from``: "readme", "none" or the content of a JSON file."""
    if value in ("readme", "none"):
        return None if value == "none" else value
    return _json_file("--start-from", value, (dict, list),
                      "a JSON object of settings or a list of them")


def _short_leaderboard(board: "pd.DataFrame") -> "pd.DataFrame":
    """The leaderboard's main columns, each pair of minimum/maximum columns as one "a-b"."""
    metric = board.attrs["metric"]
    shown = board[["meta_trial", "state", metric, "inner_trials", "attempts", "origin"]].copy()
    for name in ("levels", "units_per_level", "neurons_per_unit"):
        low, high = f"minimum_{name}", f"maximum_{name}"
        if low in board.columns:
            shown[name] = [f"{a}-{b}" if a == a and a is not None else "-"
                           for a, b in zip(board[low], board[high])]
    for name in ("activation", "learning_rate", "batch_size"):
        if name in board.columns:
            shown[name] = board[name]
    return shown.rename(columns={"meta_trial": "meta-trial", "inner_trials": "trials"})


def _print_meta_leaderboard(board: "pd.DataFrame", project: Path) -> None:
    from cerebros.meta.metasearch import BEST_SETTINGS_NAME, META_RESULTS_NAME

    metric = board.attrs["metric"]
    direction = "lower" if board.attrs["direction"] == "minimize" else "higher"
    print(f"meta-trials of study {board.attrs['study_name']!r} ({metric}, {direction} is "
          "better):")
    if board.empty:
        print("(none yet)")
    else:
        print(_short_leaderboard(board).to_string(index=False, na_rep="-", float_format=_number))
    for row in board[board["state"] == "failed"].itertuples(index=False):
        print(f"meta-trial {row.meta_trial} failed: {row.error}")
    print(f"all settings: {project / META_RESULTS_NAME}")
    best = project / BEST_SETTINGS_NAME
    if best.is_file():
        print(f"best settings: {best} (SimpleCerebrosRandomSearch(**settings, "
              "training_data=..., labels=...))")


def _meta_trial_line(row: dict[str, Any], metric: str) -> None:
    value = "-" if row["value"] is None else _number(row["value"])
    print(f"meta-trial {row['meta_trial']}: {row['state']} after {row['inner_trials']} "
          f"trial(s), {metric} {value}", flush=True)


def _start_workers(args: argparse.Namespace) -> list[Any]:
    """Start ``--workers`` - 1 more processes of this command on the same study."""
    import subprocess

    argv = [*args.argv, "--workers", "1", "--worker"]
    return [subprocess.Popen([sys.executable, "-m", "cerebros", *argv],
                             stdout=subprocess.DEVNULL) for _ in range(args.workers - 1)]


def _stop_workers(workers: list[Any], interrupt: bool) -> list[int]:
    import signal

    if interrupt:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGINT)
    return [worker.wait() for worker in workers]


def _tune(args: argparse.Namespace) -> int:
    from cerebros.meta import MetaSearch
    from cerebros.meta.study import StudyManifestError, mask_url
    from cerebros.project import write_json_atomic

    space = _tune_space(args)  # a bad space fails before the data is read
    start_from = _start_from(args.start_from)
    features, labels, task, project = _read_task(
        args, DEFAULT_PROJECTS_DIR / f"{args.csv.stem}-tune")
    try:
        meta = MetaSearch(
            project, space, n_meta_trials=args.meta_trials, storage=args.storage,
            study_name=args.study, sampler=args.sampler, pruner=args.pruner,
            meta_seed=args.meta_seed,
            max_inner_trials=args.max_inner_trials, timeout_s=args.timeout,
            start_from=start_from, **_search_arguments(args, features, labels, task),
            verbose=2 if args.verbose >= 2 else 0)
    except StudyManifestError as error:
        if not error.changed:
            raise
        raise CommandError(_mismatch_message(
            f"the study {args.study or Path(project).resolve().name!r}", error.changed,
            error.changes,
            "or use another --project (with a --study of its own if you gave one)")) from None
    mapping = _classes_mapping(args.target, task)
    _check_classes_file(project, mapping, overwrite=False)
    if mapping is not None:
        write_json_atomic(project / CLASSES_FILE, mapping)
    if not args.worker:
        print(f"cerebros: study {meta.study_name!r} in {mask_url(meta.storage_url)}: "
              f"up to {args.meta_trials} meta-trials of {meta.inner_budget} trial(s) each; "
              f"tuning {', '.join(meta.space.tuned()) or 'nothing'}", flush=True)
    workers = _start_workers(args) if args.workers > 1 else []
    try:
        meta.run(on_meta_trial_end=lambda row: _meta_trial_line(row, meta.metric))
    except BaseException:
        _stop_workers(workers, interrupt=True)
        raise
    codes = _stop_workers(workers, interrupt=False)
    if any(codes):
        print(f"cerebros: {sum(1 for c in codes if c)} worker process(es) failed (exit codes "
              f"{codes}); their meta-trials resume on the next run", file=sys.stderr)
    if args.worker:
        return 0
    meta.write_results()
    board = meta.results_summary()
    _print_meta_leaderboard(board.head(args.top), project)
    best = meta.best_value()
    if best is not None:
        print(f"best {meta.metric}: {best:.6g}")
    if mapping is not None:
        print(_classes_line(project, task))
    return 0 if not any(codes) else _EXIT_ERROR


def _check_project(project: Path) -> None:
    if not project.is_dir():
        raise CommandError(f"project: {str(project)!r} is not a directory; pass the project "
                           "folder of a search (the --project of 'cerebros search').")


def _show(args: argparse.Namespace) -> int:
    from cerebros.meta.results import is_meta_project
    from cerebros.results import load_results

    _check_project(args.project)
    if is_meta_project(args.project):
        return _show_meta(args)
    _print_leaderboard(load_results(args.project, top=args.top))
    _print_ensemble(args.project)
    if args.no_plots:
        return 0
    from cerebros.plots import write_plots

    try:
        paths = write_plots(args.project)
    except ImportError:
        print("cerebros: plots skipped: matplotlib is not installed "
              "(pip install 'cerebros[plots]')", file=sys.stderr)
        return 0
    for path in paths:
        print(f"plot: {path}")
    return 0


def _show_meta(args: argparse.Namespace) -> int:
    from cerebros.meta.results import load_meta_results

    board = load_meta_results(args.project, storage=args.storage)
    _print_meta_leaderboard(board.head(args.top), args.project)
    print(f"each meta-trial's search: {args.project}/meta_trial_<number> (cerebros show works "
          "there too)")
    if args.no_plots:
        return 0
    from cerebros.plots import META_PROGRESS_FILE, plot_meta_progress

    try:
        path = args.project / META_PROGRESS_FILE
        plot_meta_progress(board, path=path)
    except ImportError:
        print("cerebros: plots skipped: matplotlib is not installed "
              "(pip install 'cerebros[plots]')", file=sys.stderr)
        return 0
    print(f"plot: {path}")
    return 0


def _graph(args: argparse.Namespace) -> int:
    from cerebros.viz import plan_graph_from_project

    _check_project(args.project)
    path = plan_graph_from_project(args.project, args.trial, args.subtrial, path=args.output)
    print(f"graph: {path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from cerebros.report import write_report

    _check_project(args.project)
    path = write_report(args.project, path=args.output, graphs=args.graphs,
                        storage=args.storage)
    print(f"report: {path}")
    return 0


# ------------------------------------------------------------------------------ entry point
class _CurrentStderrHandler(logging.StreamHandler):
    """A stream handler that writes to whatever ``sys.stderr`` is when a record comes, not
    to the stream of the first call: a caller that replaces ``sys.stderr`` between calls
    of :func:`main` (a notebook cell, a test capturing output) never gets a stale one."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """Ignored: the stream is always the current ``sys.stderr``."""


def _configure_logging(verbosity: int) -> None:
    """Send the ``cerebros`` loggers' records to stderr at the chosen level."""
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    package_logger = logging.getLogger("cerebros")
    package_logger.setLevel(level)
    if not any(getattr(h, "_cerebros_cli", False) for h in package_logger.handlers):
        handler = _CurrentStderrHandler()
        handler.setFormatter(logging.Formatter(_LOG_FORMAT))
        handler._cerebros_cli = True  # type: ignore[attr-defined]
        package_logger.addHandler(handler)


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    if isinstance(error, (ValueError, OSError)):
        return text or type(error).__name__
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cerebros`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        The arguments after the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success, 2 on an error (bad arguments, unreadable input, a
        failed search), 130 when interrupted.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:  # --help, or argparse's own usage error
        code = exit_request.code
        return code if isinstance(code, int) else (0 if code is None else _EXIT_ERROR)
    _configure_logging(args.verbose)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        code = args.command(args)
        sys.stdout.flush()  # a reader that went away shows here, not at the interpreter's exit
        return code
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("cerebros: interrupted", file=sys.stderr)
        return _EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`cerebros show ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return _EXIT_BROKEN_PIPE
    except Exception as error:  # noqa: BLE001 - every failure becomes one line unless --debug
        if args.debug:
            raise
        expected = isinstance(error, (ValueError, OSError))
        hint = "" if expected else " (rerun with --debug for the traceback)"
        text = _one_line(error)
        if isinstance(error, ValueError) and not isinstance(error, CommandError) \
                and args.command is _search:  # tune's errors name its space's dimensions
            text = _in_command_line_terms(text)
        print(f"cerebros: error: {text}{hint}", file=sys.stderr)
        return _EXIT_ERROR
