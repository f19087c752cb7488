"""One self-contained HTML page about a search: ``cerebros report PROJECT``.

The page shows the leaderboard (sortable by clicking a column's heading), the search's
progress and the best trials' learning curves, the networks of the best few trials, the
generations of an evolutionary search, the failed trials with their errors, and the search's
settings (its manifest, ``search_config.json``).

Everything is inlined: the plots are PNG ``data:`` URIs, the networks are drawn by the
vis-network script bundled with the installed pyvis, and the sorting is a few lines of plain
JavaScript, so the page opens offline and asks for no other file.  Every text taken from the
project (errors, settings, names) is HTML-escaped.

The page is a list of :class:`Section` objects, each built by a function of the project's
:class:`ReportData`; :data:`DEFAULT_SECTIONS` are the sections above.  A meta-search adds its
own (for example a study's trials) by passing ``sections=(study_section,
*DEFAULT_SECTIONS)`` to :func:`report_html` or :func:`write_report`.

Nothing here imports TensorFlow or Keras; the plots need matplotlib (``pip install
'cerebros[plots]'``) and are left out, with a note, without it.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from cerebros.checks import check_int
from cerebros.project import ENSEMBLE_INFO_NAME, ORACLE_NAME, ProjectDir, write_bytes_atomic
from cerebros.results import load_results

__all__ = ["Section", "ReportData", "SectionBuilder", "DEFAULT_SECTIONS", "REPORT_NAME",
           "report_html", "write_report", "leaderboard_section", "plots_section",
           "graphs_section", "generations_section", "failures_section", "settings_section",
           "study_section"]

logger = logging.getLogger(__name__)

REPORT_NAME = "report.html"
"""The report's file name inside the project folder, unless another path is given."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 1em 3em;
       color: #222; }
h1 { margin-bottom: 0.2em; }
nav a { margin-right: 1em; }
section { margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
table.sortable th { cursor: pointer; user-select: none; white-space: nowrap; }
table.sortable th[aria-sort=ascending]::after { content: " \\25B2"; }
table.sortable th[aria-sort=descending]::after { content: " \\25BC"; }
tr.failed td { color: #a00; }
pre.error { background: #fff4f4; border-left: 3px solid #d62728; padding: 0.5em;
            white-space: pre-wrap; overflow-wrap: anywhere; }
div.scroll { overflow-x: auto; }
img.plot { max-width: 100%; height: auto; }
div.cerebros-graph { height: 600px; border: 1px solid #ddd; }
.note { color: #666; }
"""

# Sorts a table.sortable's body rows by the clicked column: numbers as numbers (data-type
# "number" on the heading), other values as text; empty cells last in both directions.
_SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach(function (table) {
  var headings = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(headings, function (heading, column) {
    heading.addEventListener("click", function () {
      var ascending = heading.getAttribute("aria-sort") !== "ascending";
      Array.prototype.forEach.call(headings, function (h) { h.removeAttribute("aria-sort"); });
      heading.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var numeric = heading.dataset.type === "number";
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].dataset.sort, y = b.cells[column].dataset.sort;
        if (x === "" || y === "") { return (x === "") - (y === ""); }
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_GRAPH_SCRIPT = """
document.querySelectorAll("div.cerebros-graph").forEach(function (container) {
  var data = JSON.parse(document.getElementById(container.dataset.source).textContent);
  new vis.Network(container, {nodes: new vis.DataSet(data.nodes),
                              edges: new vis.DataSet(data.edges)}, data.options);
});
"""


@dataclass(frozen=True)
class Section:
    """One section of the report page.

    Attributes
    ----------
    anchor : str
        The section's id (``#anchor`` links to it from the page's table of contents).
    title : str
        Its heading, as plain text (it is escaped).
    body : str
        Its content, as HTML; whoever builds it escapes every text it takes from data.
    style, script : str
        CSS for the page's head and JavaScript run at the end of the page, if the section
        needs them (each given once per section).
    """

    anchor: str
    title: str
    body: str
    style: str = ""
    script: str = ""


@dataclass(frozen=True)
class ReportData:
    """What the sections are built from, read once from a project folder.

    Attributes
    ----------
    project : pathlib.Path
        The project folder.
    board : pandas.DataFrame
        The whole leaderboard, from :func:`~cerebros.results.load_results`.
    manifest : dict
        The search's arguments (``search_config.json``; empty when there is none).
    ensemble : dict or None
        The content of ``ensemble.json``, when the search made an ensemble.
    graphs : int
        How many of the best trials' networks to draw.
    """

    project: Path
    board: pd.DataFrame
    manifest: dict[str, Any]
    ensemble: dict[str, Any] | None
    graphs: int

    @property
    def metric(self) -> str:
        """The metric the trials are ranked by."""
        return str(self.board.attrs["metric"])

    @property
    def direction(self) -> str:
        """``"minimize"`` or ``"maximize"``."""
        return str(self.board.attrs["direction"])

    @classmethod
    def from_project(cls, project_dir: str | os.PathLike[str], graphs: int = 3) -> "ReportData":
        """Read a project folder.

        Parameters
        ----------
        project_dir : str or path-like
            The project folder of a search (holding ``oracle.csv``).
        graphs : int, default 3
            How many of the best trials' networks to draw (0: none).

        Raises
        ------
        ValueError
            If ``project_dir`` is not the project folder of a search, or ``graphs`` is not
            a whole number >= 0.
        """
        check_int("graphs", graphs, 0)
        project = _check_project(project_dir)
        info = project / ENSEMBLE_INFO_NAME
        ensemble = json.loads(info.read_text(encoding="utf-8")) if info.is_file() else None
        return cls(project=project, board=load_results(project),
                   manifest=ProjectDir(project).read_manifest() or {}, ensemble=ensemble,
                   graphs=graphs)


SectionBuilder = Callable[[ReportData], "Section | None"]
"""A function building one section from the project's data (None: nothing to show)."""


def _check_project(project_dir: Any) -> Path:
    if not isinstance(project_dir, (str, os.PathLike)) or str(project_dir) == "":
        raise ValueError(f"project_dir must be the path of a search's project folder; got "
                         f"{project_dir!r}.")
    project = Path(project_dir)
    if not project.is_dir():
        raise ValueError(f"project_dir: {str(project)!r} is not a directory; pass the project "
                         "folder of a search (the --project of 'cerebros search').")
    if not (project / ORACLE_NAME).is_file() and not _is_meta(project):
        raise ValueError(f"project_dir: {str(project)!r} is not a Cerebros project (it holds "
                         f"no {ORACLE_NAME} and no meta_search.json); pass the project folder "
                         "of a search or a meta-search (the --project of 'cerebros search' or "
                         "'cerebros tune').")
    return project


def _is_meta(project: Path) -> bool:
    from cerebros.meta.results import is_meta_project

    return is_meta_project(project)


# ------------------------------------------------------------------------------ formatting
def _escape(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def _number(value: Any) -> str:
    if _missing(value):
        return "–"
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else f"{number:.6g}"


def _cell(text: str, sort: Any, numeric: bool = True) -> str:
    """A table cell showing ``text`` (already escaped) that sorts by ``sort``."""
    key = "" if _missing(sort) else (repr(float(sort)) if numeric else str(sort))
    css = "" if numeric else ' class="text"'
    return f'<td{css} data-sort="{_escape(key)}">{text}</td>'


def _trial_name(trial: Any, subtrial: Any) -> str:
    return f"{int(trial)}.{int(subtrial)}"


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _script_json(data: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` or ``<!--``)."""
    return json.dumps(data).replace("<", "\\u003c")


def _key_values(rows: Iterable[tuple[str, Any]]) -> str:
    cells = "".join(f'<tr><th class="text" scope="row">{_escape(key)}</th>'
                    f'<td class="text">{_escape(value)}</td></tr>' for key, value in rows)
    return f"<table>{cells}</table>"


# ------------------------------------------------------------------------------ sections
# (heading, leaderboard column, numeric); the metric's column is inserted after status.
_BOARD_COLUMNS = (
    ("trial", "trial_number", True), ("subtrial", "subtrial_number", True),
    ("status", "status", False), ("best epoch", "best_epoch", True),
    ("epochs run", "epochs_run", True), ("levels", "levels", True), ("units", "units", True),
    ("vertical", "connections_vertical", True), ("lateral", "connections_lateral", True),
    ("gated", "connections_gated", True), ("parameters", "n_params", True),
    ("wall time (s)", "wall_time_s", True), ("generation", "generation", True),
    ("attempt", "attempt", True),
)


def leaderboard_section(data: ReportData) -> Section:
    """The leaderboard: one row per trial, best first, sortable by any column."""
    board, metric = data.board, data.metric
    columns = list(_BOARD_COLUMNS)
    columns.insert(3, (metric, metric, True))
    headings = ['<th data-type="number" title="the search\'s ranking">rank</th>']
    headings += [f'<th data-type="number">{_escape(name)}</th>' if numeric
                 else f'<th data-type="text" class="text">{_escape(name)}</th>'
                 for name, _, numeric in columns]
    headings.append('<th data-type="text" class="text">parent</th>')
    rows = []
    for rank, row in enumerate(board.to_dict("records"), start=1):
        cells = [_cell(str(rank), rank)]
        for _, column, numeric in columns:
            value = row[column]
            shown = _number(value) if numeric else _escape(value)
            cells.append(_cell(shown, value, numeric))
        parent = ("" if _missing(row["parent_trial"])
                  else _trial_name(row["parent_trial"], row["parent_subtrial"]))
        cells.append(_cell(_escape(parent) or "–", parent, numeric=False))
        css = ' class="failed"' if row["status"] == "failed" else ""
        rows.append(f"<tr{css}>{''.join(cells)}</tr>")
    better = "lower" if data.direction == "minimize" else "higher"
    body = (f'<p>{len(board)} trials ranked by <code>{_escape(metric)}</code> ({better} is '
            'better); click a column\'s heading to sort by it.</p>'
            f'<div class="scroll"><table id="leaderboard-table" class="sortable"><thead><tr>'
            f'{"".join(headings)}</tr></thead><tbody>{"".join(rows)}</tbody></table></div>')
    return Section("leaderboard", "Leaderboard", body)


def _figure_uri(draw: Callable[[], Any]) -> str:
    from cerebros.plots import figure_png

    return _png_uri(figure_png(draw()))


def _image(uri: str, alt: str) -> str:
    return f'<p><img class="plot" alt="{_escape(alt)}" src="{uri}"></p>'


def _matplotlib_missing() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return True
    return False


_NO_MATPLOTLIB = ('<p class="note">The plots need matplotlib: <code>pip install '
                  '\'cerebros[plots]\'</code>.</p>')


def plots_section(data: ReportData) -> Section:
    """The search's progress over trials and the best trials' learning curves."""
    if _matplotlib_missing():
        return Section("plots", "Progress", _NO_MATPLOTLIB)
    from cerebros.plots import plot_learning_curves, plot_search_progress

    body = (_image(_figure_uri(lambda: plot_search_progress(data.board)),
                   "each trial's best value and the best so far, by trial number")
            + _image(_figure_uri(lambda: plot_learning_curves(data.project, save=False)),
                     "per-epoch training and validation curves of the best trials"))
    return Section("plots", "Progress", body)


def graphs_section(data: ReportData) -> Section | None:
    """The networks of the best few completed trials, drawn by vis-network."""
    if data.graphs == 0:
        return None
    from cerebros.viz import plan_graph_data, vis_network_resources

    board, project = data.board, ProjectDir(data.project)
    best = board[(board["status"] == "completed") & board[data.metric].notna()]
    parts = []
    for row in best.head(data.graphs).to_dict("records"):
        path = project.architecture_path(row["trial_number"], row["subtrial_number"])
        if not path.is_file():
            continue
        graph = plan_graph_data(json.loads(path.read_text(encoding="utf-8")))
        name = _trial_name(row["trial_number"], row["subtrial_number"])
        source = f"graph-data-{name.replace('.', '-')}"
        parts.append(f"<h3>trial {name}: <code>{_escape(data.metric)}</code> "
                     f"{_number(row[data.metric])}</h3>"
                     f'<script type="application/json" id="{source}">{_script_json(graph)}'
                     f'</script><div class="cerebros-graph" data-source="{source}"></div>')
    if not parts:
        return Section("graphs", "Networks of the best trials",
                       '<p class="note">No completed trial has a saved wiring plan.</p>')
    script, style = vis_network_resources()
    legend = ('<p>Green triangles are inputs, grey squares the concatenations feeding each unit, '
              'blue ellipses dense units and the red box the output. Solid grey edges are '
              'vertical (skip) connections, dashed cyan ones lateral connections and dashed '
              'orange ones gated lateral connections; a wider edge with "×n" was drawn n '
              'times. Drag to pan, scroll to zoom, hover for details.</p>')
    return Section("graphs", "Networks of the best trials", legend + "".join(parts),
                   style=style, script=script + _GRAPH_SCRIPT)


def generations_section(data: ReportData) -> Section | None:
    """Per generation: its trials, how many completed, its best and median; and the plot."""
    board, metric = data.board, data.metric
    generation = board["generation"]
    if generation.isna().all() or generation.nunique() < 2:
        return None
    rows = []
    for number, trials in board.groupby(generation.fillna(0).astype(int), sort=True):
        scored = trials[metric].dropna()
        best = scored.min() if data.direction == "minimize" else scored.max()
        bred = int(trials["parent_trial"].notna().sum())
        rows.append("<tr>" + "".join(f"<td>{value}</td>" for value in (
            number, len(trials), int((trials["status"] == "completed").sum()),
            int((trials["status"] == "failed").sum()), bred,
            _number(best if len(scored) else math.nan),
            _number(scored.median() if len(scored) else math.nan))) + "</tr>")
    headings = "".join(f"<th>{name}</th>" for name in (
        "generation", "trials", "completed", "failed", "bred from a parent",
        f"best {_escape(metric)}", f"median {_escape(metric)}"))
    body = f"<table><thead><tr>{headings}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    if _matplotlib_missing():
        return Section("generations", "Generations", body + _NO_MATPLOTLIB)
    from cerebros.plots import plot_generations

    body += _image(_figure_uri(lambda: plot_generations(data.board)),
                   "each generation's trials, their parents and the best per generation")
    return Section("generations", "Generations", body)


def failures_section(data: ReportData) -> Section | None:
    """The failed trials and their errors."""
    failed = data.board[data.board["status"] == "failed"]
    if failed.empty:
        return None
    parts = []
    for row in failed.to_dict("records"):
        error = "(no error recorded)" if _missing(row["error"]) else row["error"]
        parts.append(f"<h3>trial {_trial_name(row['trial_number'], row['subtrial_number'])}"
                     f'</h3><pre class="error">{_escape(error)}</pre>')
    return Section("failures", f"Failed trials ({len(failed)})", "".join(parts))


def _flatten(mapping: dict[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in mapping.items():
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value if isinstance(value, str) else json.dumps(value)


def settings_section(data: ReportData) -> Section:
    """The search's arguments as recorded in its manifest."""
    if not data.manifest:
        return Section("settings", "Settings",
                       '<p class="note">This project has no search_config.json.</p>')
    return Section("settings", "Settings", "<p>The arguments the search was started with "
                   "(<code>search_config.json</code>).</p>"
                   + _key_values(_flatten(data.manifest)))


DEFAULT_SECTIONS: tuple[SectionBuilder, ...] = (
    leaderboard_section, plots_section, graphs_section, generations_section,
    failures_section, settings_section)
"""The sections of a search's report, in page order."""


def _summary(data: ReportData) -> str:
    board, metric = data.board, data.metric
    counts = board["status"].value_counts()
    scored = board[(board["status"] == "completed") & board[metric].notna()]
    lines = [f"{len(board)} trials: {int(counts.get('completed', 0))} completed, "
             f"{int(counts.get('failed', 0))} failed."]
    if len(scored):
        best = scored.iloc[0]
        lines.append(f"Best: trial {_trial_name(best['trial_number'], best['subtrial_number'])}"
                     f", <code>{_escape(metric)}</code> {_number(best[metric])}.")
    if data.ensemble is not None and "val_score" in data.ensemble:
        lines.append(f"Ensemble of {len(data.ensemble.get('members', []))} models: "
                     f"{_escape(data.ensemble.get('rows', 'validation'))} score "
                     f"{_number(data.ensemble['val_score'])}.")
    return " ".join(lines)


def _page(title: str, summary: str, project: Path, built: Sequence[Section]) -> str:
    """The HTML document around the built sections."""
    nav = "".join(f'<a href="#{_escape(s.anchor)}">{_escape(s.title)}</a>' for s in built)
    body = "".join(f'<section id="{_escape(s.anchor)}"><h2>{_escape(s.title)}</h2>{s.body}'
                   "</section>" for s in built)
    styles = "".join(dict.fromkeys(f"<style>{s.style}</style>" for s in built if s.style))
    scripts = "".join(dict.fromkeys(f"<script>{s.script}</script>" for s in built if s.script))
    created = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    name = _escape(project.resolve().name)
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Cerebros report: {name}</title><style>{_STYLE}</style>{styles}</head>"
            f"<body><header><h1>{_escape(title)}: {name}</h1>"
            f'<p>{summary}</p><p class="note">Project folder '
            f"<code>{_escape(project.resolve())}</code>; report written {created}.</p>"
            f"<nav>{nav}</nav></header>{body}<script>{_SORT_SCRIPT}</script>{scripts}"
            "</body></html>\n")


def report_html(project_dir: str | os.PathLike[str], graphs: int = 3,
                sections: Sequence[SectionBuilder] = DEFAULT_SECTIONS,
                storage: str | None = None) -> str:
    """The report page of a search or a meta-search, as one self-contained HTML document.

    For a meta-search's project (``cerebros tune``) the page shows the study (the
    leaderboard of meta-trials, its progress plot, the best settings) followed by
    ``sections`` of the best completed meta-trial's inner search.

    Parameters
    ----------
    project_dir : str or path-like
        The project folder of a search (holding ``oracle.csv``) or of a meta-search
        (holding ``meta_search.json``).
    graphs : int, default 3
        How many of the best trials' networks to draw (0: none).
    sections : sequence of callables, default DEFAULT_SECTIONS
        The section builders, in page order; each takes the :class:`ReportData` and
        returns a :class:`Section`, or None to leave its section out.
    storage : str, optional
        A meta-search study's SQLAlchemy URL, when it holds a password (the project keeps
        it masked).

    Returns
    -------
    str
        The page.

    Raises
    ------
    ValueError
        If ``project_dir`` is not the project folder of a search or a meta-search, or
        ``graphs`` is not a whole number >= 0.
    """
    check_int("graphs", graphs, 0)
    project = _check_project(project_dir)
    if _is_meta(project):
        return _meta_report_html(project, graphs, sections, storage)
    data = ReportData.from_project(project, graphs)
    built = [section for section in (build(data) for build in sections) if section is not None]
    return _page("Cerebros search", _summary(data), project, built)


def _meta_report_html(project: Path, graphs: int, sections: Sequence[SectionBuilder],
                      storage: str | None) -> str:
    from cerebros.meta.metasearch import BEST_SETTINGS_NAME, inner_project_name
    from cerebros.meta.results import load_meta_results

    board = load_meta_results(project, storage=storage)
    metric = str(board.attrs["metric"])
    built = [study_section(board)]
    best_path = project / BEST_SETTINGS_NAME
    if best_path.is_file():
        settings = json.loads(best_path.read_text(encoding="utf-8"))
        built.append(Section("best-settings", "Best settings",
                             f"<p>From <code>{BEST_SETTINGS_NAME}</code>: "
                             "<code>SimpleCerebrosRandomSearch(**settings, training_data=…, "
                             "labels=…)</code> accepts them as they are.</p>"
                             + _key_values(_flatten(settings))))
    done = board[(board["state"] == "complete") & board[metric].notna()]
    counts = board["state"].value_counts()
    summary = (f"{len(board)} meta-trials: " + ", ".join(
        f"{int(n)} {_escape(state)}" for state, n in counts.items()) + ".")
    if len(done):
        best = int(done.iloc[0]["meta_trial"])
        inner = project / inner_project_name(best)
        summary += (f" Best: meta-trial {best}, <code>{_escape(metric)}</code> "
                    f"{_number(done.iloc[0][metric])}; its search is shown below the study.")
        if (inner / ORACLE_NAME).is_file():
            data = ReportData.from_project(inner, graphs)
            built += [Section(f"inner-{s.anchor}", f"Meta-trial {best}: {s.title}", s.body,
                              s.style, s.script)
                      for s in (build(data) for build in sections) if s is not None]
    return _page("Cerebros meta-search", summary, project, built)


def study_section(board: pd.DataFrame) -> Section:
    """A meta-search's study: one row per meta-trial (sortable) and the progress plot."""
    metric = str(board.attrs["metric"])
    columns = [c for c in board.columns if c not in ("trial", "error")]
    text_columns = {c for c in columns if not pd.api.types.is_numeric_dtype(board[c])}
    headings = "".join(f'<th data-type="text" class="text">{_escape(c)}</th>' if c in text_columns
                       else f'<th data-type="number">{_escape(c)}</th>' for c in columns)
    rows = []
    for row in board.to_dict("records"):
        cells = "".join(_cell(_escape(row[c]), row[c], numeric=False) if c in text_columns
                        else _cell(_number(row[c]), row[c]) for c in columns)
        rows.append(f"<tr>{cells}</tr>")
    better = "lower" if board.attrs["direction"] == "minimize" else "higher"
    body = (f"<p>{len(board)} meta-trials (each one search with the settings shown) ranked by "
            f"their search's best <code>{_escape(metric)}</code> ({better} is better).</p>"
            f'<div class="scroll"><table id="study-table" class="sortable"><thead><tr>'
            f"{headings}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
    failed = board[board["error"].notna()] if "error" in board.columns else board.iloc[0:0]
    for row in failed.to_dict("records"):
        body += (f"<h3>meta-trial {int(row['meta_trial'])}</h3>"
                 f'<pre class="error">{_escape(row["error"])}</pre>')
    if _matplotlib_missing():
        return Section("study", "Study", body + _NO_MATPLOTLIB)
    from cerebros.plots import plot_meta_progress

    body += _image(_figure_uri(lambda: plot_meta_progress(board)),
                   "each meta-trial's value, the best so far, and each meta-trial's curve")
    return Section("study", "Study", body)


def write_report(project_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None,
                 graphs: int = 3, sections: Sequence[SectionBuilder] = DEFAULT_SECTIONS,
                 storage: str | None = None) -> Path:
    """Write the report page of a search (see :func:`report_html`).

    Parameters
    ----------
    project_dir : str or path-like
        The project folder of a search.
    path : str or path-like, optional
        Where to write the page; must end in ``.html``.  Defaults to ``report.html`` in
        ``project_dir``.  Parent folders are created; the file is replaced atomically.
    graphs, sections, storage
        As for :func:`report_html`.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ValueError
        If ``project_dir`` is not the project folder of a search or a meta-search, ``path``
        does not end in ``.html`` or ``graphs`` is invalid; nothing is written then.
    """
    target = Path(path) if path is not None else _check_project(project_dir) / REPORT_NAME
    if target.suffix.lower() != ".html":
        raise ValueError(f"path: expected a file name ending in '.html', got {str(target)!r}.")
    page = report_html(project_dir, graphs, sections, storage)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(target, page.encode("utf-8"))
    logger.info("wrote the report %s (%d KB)", target, len(page) // 1024)
    return target
