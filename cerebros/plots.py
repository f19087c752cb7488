"""Static plots of a search: progress over trials, learning curves of the best trials, and
the generations of an evolutionary search.

matplotlib is an optional dependency (``pip install 'cerebros[plots]'``), imported only when a
plot is drawn.  Figures are built with ``matplotlib.figure.Figure`` and rendered by the Agg
canvas, so no display, GUI backend or pyplot state is involved; the returned figures display
inline in Jupyter and are freed like any other object.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cerebros.checks import check_bool, check_direction, check_int
from cerebros.project import write_bytes_atomic
from cerebros.ranking import history_columns
from cerebros.results import load_history, load_results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["plot_search_progress", "plot_learning_curves", "plot_generations", "write_plots",
           "figure_png", "plot_meta_progress", "SEARCH_PROGRESS_FILE", "LEARNING_CURVES_FILE",
           "GENERATIONS_FILE", "META_PROGRESS_FILE"]

logger = logging.getLogger(__name__)

SEARCH_PROGRESS_FILE = "search_progress.png"
LEARNING_CURVES_FILE = "learning_curves.png"
GENERATIONS_FILE = "generations.png"
META_PROGRESS_FILE = "meta_progress.png"


def _new_figure(**kwargs: Any) -> "Figure":
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError("cerebros plots need matplotlib; install it with "
                          "pip install 'cerebros[plots]'") from error
    return Figure(**kwargs)


def figure_png(figure: "Figure", dpi: int = 100) -> bytes:
    """Render a figure of this module as PNG bytes (e.g. to inline it in a web page).

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        A figure returned by one of the ``plot_*`` functions.
    dpi : int, default 100
        Pixels per inch: the 8 x 5 inch figures become 800 x 500 pixels at 100.

    Returns
    -------
    bytes
        The PNG file's content.
    """
    check_int("dpi", dpi, 1)
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=dpi)
    return image.getvalue()


def _save(figure: "Figure", path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image = io.BytesIO()
    figure.savefig(image, format=path.suffix.lstrip(".").lower() or "png", dpi=100)
    write_bytes_atomic(path, image.getvalue())
    logger.info("wrote %s", path)
    return path


LOG_SCALE_RATIO = 10.0
"""A plot's y axis is logarithmic when its positive values span more than this factor."""


def _scale_y(axes: Any, values: Any) -> None:
    """Make the y axis logarithmic when ``values`` are all positive and span more than
    :data:`LOG_SCALE_RATIO` (a few diverged trials would otherwise flatten all others)."""
    values = pd.Series(values, dtype="float64").dropna()
    if len(values) and values.min() > 0 and values.max() / values.min() > LOG_SCALE_RATIO:
        axes.set_yscale("log")
        axes.set_ylabel(f"{axes.get_ylabel()} (log scale)")


def _leaderboard(frame_or_project_dir: pd.DataFrame | str | os.PathLike[str],
                 metric: str | None, direction: str | None) -> tuple[pd.DataFrame, str, str]:
    if not isinstance(frame_or_project_dir, pd.DataFrame):
        board = load_results(frame_or_project_dir, metric, direction)
        return board, board.attrs["metric"], board.attrs["direction"]
    board = frame_or_project_dir
    metric = metric or board.attrs.get("metric")
    direction = direction or board.attrs.get("direction")
    if metric is None or metric not in board.columns:
        raise ValueError(f"metric must be a column of the leaderboard, one of "
                         f"{list(board.columns)}; got {metric!r}.")
    return board, metric, check_direction(direction)


def plot_search_progress(frame_or_project_dir: pd.DataFrame | str | os.PathLike[str],
                         metric: str | None = None, direction: str | None = None,
                         path: str | os.PathLike[str] | None = None) -> "Figure":
    """Plot each trial's best metric value and the best value found so far.

    Parameters
    ----------
    frame_or_project_dir : pandas.DataFrame or str or path-like
        A leaderboard from :func:`~cerebros.results.load_results`, or a project folder (the
        leaderboard is then loaded from it).
    metric, direction : str, optional
        What to plot and which way is better; default to the leaderboard's ``attrs`` (set by
        ``load_results``) or the project's search config.
    path : str or path-like, optional
        Where to save the image.  When a project folder is given, defaults to
        ``search_progress.png`` inside it; for a DataFrame nothing is saved unless ``path`` is
        given.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: a scatter of the trials' values and a step line of the best so far.

    Raises
    ------
    ValueError
        If the metric or direction cannot be determined or is invalid.
    ImportError
        If matplotlib is not installed.
    """
    board, metric, direction = _leaderboard(frame_or_project_dir, metric, direction)
    ordered = board.sort_values(["trial_number", "subtrial_number"], kind="stable")
    scored = ordered[ordered[metric].notna()]
    best = scored[metric].cummin() if direction == "minimize" else scored[metric].cummax()
    n_failed = int((ordered["status"] == "failed").sum())

    figure = _new_figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    axes.scatter(scored["trial_number"], scored[metric], s=25, alpha=0.7,
                 label="trial (best epoch)")
    axes.step(scored["trial_number"], best, where="post", color="black", label="best so far")
    axes.set_xlabel("trial number")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(metric)
    _scale_y(axes, scored[metric])
    axes.set_title(f"Search progress: {len(ordered)} trials, {n_failed} failed "
                   f"({'lower' if direction == 'minimize' else 'higher'} is better)")
    axes.grid(alpha=0.3)
    axes.legend()

    if path is None and not isinstance(frame_or_project_dir, pd.DataFrame):
        path = Path(frame_or_project_dir) / SEARCH_PROGRESS_FILE
    if path is not None:
        _save(figure, Path(path))
    return figure


def _curve_columns(metric: str, available: list[str]) -> list[tuple[str, str]]:
    train = metric[len("val_"):] if metric.startswith("val_") else metric
    pairs = [(train, "train"), (f"val_{train}", "val")]
    return [(column, role) for column, role in pairs if column in available]


def plot_learning_curves(project_dir: str | os.PathLike[str], top: int = 3,
                         metric: str | None = None, direction: str | None = None,
                         path: str | os.PathLike[str] | None = None,
                         save: bool = True) -> "Figure":
    """Plot the per-epoch curves (train dashed, validation solid) of the best trials.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder.
    top : int, default 3
        How many of the best completed trials to draw.
    metric, direction : str, optional
        The metric to rank and draw (its train and ``val_`` variants are drawn where the
        oracle has them) and which way is better; default to the search config's.
    path : str or path-like, optional
        Where to save the image; defaults to ``learning_curves.png`` in ``project_dir``.
    save : bool, default True
        False: only return the figure, write nothing.

    Returns
    -------
    matplotlib.figure.Figure
        One axes with, per trial, one line for each of the train and validation curves that
        the oracle holds.

    Raises
    ------
    ValueError
        If ``project_dir`` has no oracle, the metric or direction is invalid, or ``top`` is
        not a positive integer.
    ImportError
        If matplotlib is not installed.
    """
    check_int("top", top, 1)
    check_bool("save", save)
    board = load_results(project_dir, metric, direction)
    metric = board.attrs["metric"]
    best = board[(board["status"] == "completed") & board[metric].notna()].head(top)
    history = load_history(project_dir)
    curves = _curve_columns(metric, history_columns(history))

    figure = _new_figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(best))]
    for color, trial in zip(colors, best.itertuples(index=False)):
        rows = history[(history["trial_number"] == trial.trial_number)
                       & (history["subtrial_number"] == trial.subtrial_number)]
        rows = rows.sort_values("epoch", kind="stable")
        name = f"trial {trial.trial_number}.{trial.subtrial_number}"
        for column, role in curves:
            present = rows[rows[column].notna()]
            if len(present):
                axes.plot(present["epoch"], present[column], color=color,
                          linestyle="-" if role == "val" else "--", marker=".",
                          label=f"{name} {role}")
    axes.set_xlabel("epoch (0-based)")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(" / ".join(column for column, _ in curves) or metric)
    _scale_y(axes, [y for line in axes.lines for y in line.get_ydata()])
    axes.set_title(f"Learning curves of the best {len(best)} trial(s) by {metric}\n"
                   "(train dashed, validation solid)")
    axes.grid(alpha=0.3)
    if axes.lines:
        axes.legend(fontsize="small")
    else:
        axes.text(0.5, 0.5, "no completed trials", ha="center", va="center",
                  transform=axes.transAxes)

    if save:
        _save(figure, Path(path) if path is not None else Path(project_dir) / LEARNING_CURVES_FILE)
    return figure


def _spread(count: int, width: float = 0.5) -> list[float]:
    """``count`` offsets evenly spread over ``width``, centred on 0."""
    if count < 2:
        return [0.0] * count
    return [width * (i / (count - 1) - 0.5) for i in range(count)]


def plot_generations(frame_or_project_dir: pd.DataFrame | str | os.PathLike[str],
                     metric: str | None = None, direction: str | None = None,
                     path: str | os.PathLike[str] | None = None) -> "Figure":
    """Plot each generation's trials, their parents, and the best value per generation.

    Trials are dots above their generation (spread sideways in trial order); a grey line
    joins each bred trial to the parent it was mutated from; a black line marks each
    generation's best and a dashed one the best found up to that generation.

    Parameters
    ----------
    frame_or_project_dir : pandas.DataFrame or str or path-like
        A leaderboard from :func:`~cerebros.results.load_results` (with its ``generation``,
        ``parent_trial`` and ``parent_subtrial`` columns), or a project folder.
    metric, direction : str, optional
        As for :func:`plot_search_progress`.
    path : str or path-like, optional
        Where to save the image.  When a project folder is given, defaults to
        ``generations.png`` inside it; for a DataFrame nothing is saved unless ``path`` is
        given.

    Returns
    -------
    matplotlib.figure.Figure
        One axes: one scatter per generation, one line per parent link, the per-generation
        best and the best so far.  Trials of an oracle without generations count as
        generation 0.

    Raises
    ------
    ValueError
        If the metric or direction cannot be determined or is invalid, or the leaderboard
        has no ``generation`` column.
    ImportError
        If matplotlib is not installed.
    """
    board, metric, direction = _leaderboard(frame_or_project_dir, metric, direction)
    if "generation" not in board.columns:
        raise ValueError(f"frame_or_project_dir must have a 'generation' column (as "
                         f"load_results gives it); got columns {list(board.columns)}.")
    ordered = board.sort_values(["trial_number", "subtrial_number"], kind="stable")
    scored = ordered[ordered[metric].notna()].assign(
        generation=ordered["generation"].fillna(0).astype(int))
    generations = sorted(scored["generation"].unique())
    figure = _new_figure(figsize=(8, 5), layout="constrained")
    axes = figure.add_subplot()
    position: dict[tuple[int, int], tuple[float, float]] = {}
    for index, generation in enumerate(generations):
        rows = scored[scored["generation"] == generation]
        xs = [generation + offset for offset in _spread(len(rows))]
        axes.scatter(xs, rows[metric], s=30, color=f"C{index % 10}", zorder=3,
                     label=f"generation {generation} ({len(rows)} trials)")
        position.update(zip(zip(rows["trial_number"], rows["subtrial_number"]),
                            zip(xs, rows[metric])))
    for row in scored.itertuples(index=False):
        parent = (row.parent_trial, row.parent_subtrial)
        if not pd.isna(row.parent_trial) and (int(parent[0]), int(parent[1])) in position:
            (x0, y0) = position[(int(parent[0]), int(parent[1]))]
            (x1, y1) = position[(row.trial_number, row.subtrial_number)]
            axes.plot([x0, x1], [y0, y1], color="0.75", linewidth=0.8, zorder=1)
    by_generation = scored.groupby("generation")[metric]
    best = by_generation.min() if direction == "minimize" else by_generation.max()
    so_far = best.cummin() if direction == "minimize" else best.cummax()
    if len(best):
        axes.plot(best.index, best.values, color="black", marker="o", zorder=2,
                  label="best of the generation")
        axes.plot(so_far.index, so_far.values, color="black", linestyle="--", zorder=2,
                  label="best so far")
    axes.set_xlabel("generation")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_ylabel(metric)
    _scale_y(axes, scored[metric])
    axes.set_title(f"Generations: {len(generations)} generation(s), {len(scored)} scored trials "
                   f"({'lower' if direction == 'minimize' else 'higher'} is better)\n"
                   "grey lines join each bred trial to its parent")
    axes.grid(alpha=0.3)
    if len(best):
        axes.legend(fontsize="small")
    if path is None and not isinstance(frame_or_project_dir, pd.DataFrame):
        path = Path(frame_or_project_dir) / GENERATIONS_FILE
    if path is not None:
        _save(figure, Path(path))
    return figure


def write_plots(project_dir: str | os.PathLike[str], metric: str | None = None,
                direction: str | None = None) -> list[Path]:
    """Write ``search_progress.png`` and ``learning_curves.png`` into ``project_dir``, and
    ``generations.png`` when the search ran more than one generation.

    Parameters
    ----------
    project_dir : str or path-like
        The search's project folder.
    metric, direction : str, optional
        Passed to both plots; default to the search config's.

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    project = Path(project_dir)
    board = load_results(project, metric, direction)
    progress = project / SEARCH_PROGRESS_FILE
    curves = project / LEARNING_CURVES_FILE
    plot_search_progress(board, path=progress)
    plot_learning_curves(project, metric=metric, direction=direction, path=curves)
    if board["generation"].nunique() < 2:
        return [progress, curves]
    plot_generations(board, path=project / GENERATIONS_FILE)
    return [progress, curves, project / GENERATIONS_FILE]


def plot_meta_progress(frame_or_project_dir: pd.DataFrame | str | os.PathLike[str],
                       path: str | os.PathLike[str] | None = None,
                       storage: str | None = None) -> "Figure":
    """Plot a meta-search's study: each meta-trial's value and the best so far (left), and
    each meta-trial's best value after each of its inner trials, as reported to the pruner
    (right; pruned meta-trials dashed, they end early).

    Parameters
    ----------
    frame_or_project_dir : pandas.DataFrame or str or path-like
        A leaderboard from :func:`cerebros.meta.load_meta_results` (or
        ``MetaSearch.results_summary``), or a meta-search's project folder.
    path : str or path-like, optional
        Where to save the image.  For a project folder, defaults to ``meta_progress.png``
        inside it; for a DataFrame nothing is saved unless ``path`` is given.
    storage : str, optional
        The study's URL, for a project whose URL holds a password.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes, as described above.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    """
    if isinstance(frame_or_project_dir, pd.DataFrame):
        board = frame_or_project_dir
    else:
        from cerebros.meta.results import load_meta_results

        board = load_meta_results(frame_or_project_dir, storage=storage)
    metric, direction = board.attrs["metric"], board.attrs["direction"]
    curves = board.attrs.get("curves", {})
    ordered = board.sort_values("meta_trial", kind="stable")
    scored = ordered[ordered[metric].notna() & ordered["state"].isin(["complete", "pruned"])]
    complete = scored[scored["state"] == "complete"]
    pruned = scored[scored["state"] == "pruned"]

    figure = _new_figure(figsize=(12, 5), layout="constrained")
    left, right = figure.subplots(1, 2)
    left.scatter(complete["meta_trial"], complete[metric], s=30, label="complete")
    left.scatter(pruned["meta_trial"], pruned[metric], s=30, marker="x", color="C3",
                 label="pruned (best when stopped)")
    if len(complete):
        best = complete[metric].cummin() if direction == "minimize" else complete[metric].cummax()
        left.step(complete["meta_trial"], best, where="post", color="black",
                  label="best complete so far")
    left.set_xlabel("meta-trial")
    left.xaxis.get_major_locator().set_params(integer=True)
    left.set_ylabel(metric)
    counts = ordered["state"].value_counts()
    left.set_title(f"Meta-search: {len(ordered)} meta-trials, {counts.get('complete', 0)} "
                   f"complete, {counts.get('pruned', 0)} pruned "
                   f"({'lower' if direction == 'minimize' else 'higher'} is better)")
    left.grid(alpha=0.3)
    if len(scored):
        left.legend(fontsize="small")

    states = dict(zip(ordered["meta_trial"], ordered["state"]))
    for i, (number, curve) in enumerate(sorted(curves.items())):
        if not curve or number not in states:
            continue
        steps, values = zip(*curve)
        right.plot(steps, values, marker=".", color=f"C{i % 10}",
                   linestyle="--" if states[number] == "pruned" else "-",
                   label=f"{number} ({states[number]})")
    right.set_xlabel("inner trials run")
    right.xaxis.get_major_locator().set_params(integer=True)
    right.set_ylabel(f"best {metric} so far")
    right.set_title("Each meta-trial's search, as reported to the pruner")
    right.grid(alpha=0.3)
    if right.lines and len(right.lines) <= 20:
        right.legend(fontsize="small", title="meta-trial")
    elif not right.lines:
        right.text(0.5, 0.5, "no inner trial reported yet", ha="center", va="center",
                   transform=right.transAxes)

    if path is None and not isinstance(frame_or_project_dir, pd.DataFrame):
        path = Path(frame_or_project_dir) / META_PROGRESS_FILE
    if path is not None:
        _save(figure, Path(path))
    return figure
