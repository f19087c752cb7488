"""``cerebros report``: the page of a real tiny search, opened in headless Chromium.

One module-scoped search (3 trials of 2 epochs on 60 rows, 2 generations) has one trial
that fails with an error full of HTML; the page is written once and opened once.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from browser import DevTools, require_browser
from cerebros import cli
from cerebros.report import REPORT_NAME, report_html, write_report
from cerebros.results import load_results
from cerebros.search import SimpleCerebrosRandomSearch
from cerebros.spec import DenseUnit
from test_cli import _loads_tensorflow, restore_cerebros_logger  # noqa: F401 (autouse)
from trial_callbacks import FailTrialWith

METRIC = "val_root_mean_squared_error"
ERROR = '<script>window.pwned = 1</script> & "quoted" <b>bold</b>'
FAILED_TRIAL = 1


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, 0] - 2 * x[:, 1]).astype("float32")
    root = tmp_path_factory.mktemp("report") / "houses"
    SimpleCerebrosRandomSearch(
        unit_type=DenseUnit, input_shapes=[(4,)], output_shapes=[1], training_data=[x],
        labels=[y], validation_split=0.25, direction="minimize", metric_to_rank_by=METRIC,
        minimum_levels=2, maximum_levels=3, minimum_units_per_level=1,
        maximum_units_per_level=3, minimum_neurons_per_unit=1, maximum_neurons_per_unit=3,
        number_of_architecture_moities_to_try=3, number_of_tries_per_architecture_moity=1,
        number_of_generations=2, epochs=2, patience=None, learning_rate=0.01, batch_size=32,
        seed=1, callbacks=[FailTrialWith(FAILED_TRIAL, ERROR)], project_name=str(root),
        verbose=0).run_random_search()
    return root


@pytest.fixture(scope="module")
def board(project):
    board = load_results(project)
    # What the page must show: 2 completed trials, 1 failed, 2 generations.
    assert sorted(board["status"]) == ["completed", "completed", "failed"]
    assert board["generation"].nunique() == 2
    return board


@pytest.fixture(scope="module")
def report(project, tmp_path_factory) -> Path:
    return write_report(project, tmp_path_factory.mktemp("out") / "report.html")


@pytest.fixture(scope="module")
def page(report, tmp_path_factory):
    browser = DevTools(require_browser(), tmp_path_factory.mktemp("browser") / "profile")
    try:
        browser.open(report.as_uri())
        # vis-network draws on the next animation frames; wait for them.
        browser.evaluate("new Promise(done => setTimeout(done, 500))")
        yield browser
    finally:
        browser.close()


def column(page, heading: str) -> list[str]:
    """The data-sort keys of a leaderboard column, in the rows' current order."""
    return page.evaluate(f"""(() => {{
        var headings = Array.from(document.querySelectorAll('#leaderboard-table th'));
        var index = headings.findIndex(h => h.textContent === {json.dumps(heading)});
        return Array.from(document.querySelectorAll('#leaderboard-table tbody tr'))
            .map(row => row.cells[index].dataset.sort);
    }})()""")


def click(page, heading: str) -> None:
    page.evaluate(f"""Array.from(document.querySelectorAll('#leaderboard-table th'))
        .find(h => h.textContent === {json.dumps(heading)}).click()""")


# ---------------------------------------------------------------- in the browser
def test_the_page_renders_one_leaderboard_row_per_trial(page, board):
    rows = page.evaluate("document.querySelectorAll('#leaderboard-table tbody tr').length")
    assert rows == len(board) == 3
    assert [int(float(t)) for t in column(page, "trial")] == board["trial_number"].tolist()
    assert [int(float(t)) for t in column(page, "attempt")] == board["attempt"].tolist()
    assert page.evaluate("document.title") == "Cerebros report: houses"
    sections = page.evaluate("Array.from(document.querySelectorAll('section')).map(s => s.id)")
    assert sections == ["leaderboard", "plots", "graphs", "generations", "failures", "settings"]


def test_plots_and_networks_are_drawn(page, board):
    images = page.evaluate("""Array.from(document.images).map(
        img => [img.complete, img.naturalWidth, img.naturalHeight, img.src.slice(0, 22)])""")
    # progress and learning curves, then the generations plot
    assert images == [[True, 800, 500, "data:image/png;base64,"]] * 3
    completed = int((board["status"] == "completed").sum())
    drawn = page.evaluate("""Array.from(document.querySelectorAll('div.cerebros-graph canvas'))
        .map(canvas => {
            var px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
            var ink = 0;
            for (var i = 0; i < px.length; i += 4) {
                if (px[i + 3] > 128 && (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200)) ink++;
            }
            return ink;
        })""")
    assert len(drawn) == completed == 2
    assert all(ink > 2000 for ink in drawn), drawn


def test_no_console_errors_and_no_network_requests(page, report):
    assert page.console_errors() == []
    urls = page.requested_urls()
    assert urls[0] == report.as_uri()
    assert all(url.split(":", 1)[0] in ("file", "data", "about") for url in urls), urls
    assert [url for url in urls if url.startswith("file:")] == [report.as_uri()]


def test_the_failed_trials_error_shows_as_text_and_never_runs(page):
    shown = page.evaluate("document.querySelector('#failures pre.error').textContent")
    assert shown == f"RuntimeError: {ERROR}"
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("document.querySelectorAll('#failures script, #failures b').length") == 0


def test_clicking_a_heading_sorts_the_leaderboard(page, board):
    values = board[METRIC].tolist()  # best first: ascending, the failed trial (NaN) last
    assert column(page, METRIC)[-1] == ""
    click(page, METRIC)
    ascending = column(page, METRIC)
    assert [float(v) for v in ascending[:-1]] == sorted(v for v in values if not math.isnan(v))
    assert ascending[-1] == ""  # empty values stay last
    click(page, METRIC)
    descending = column(page, METRIC)
    assert [float(v) for v in descending[:-1]] == sorted(
        (v for v in values if not math.isnan(v)), reverse=True)
    assert descending[-1] == ""
    assert page.evaluate(f"""Array.from(document.querySelectorAll('#leaderboard-table th'))
        .find(h => h.textContent === {json.dumps(METRIC)}).getAttribute('aria-sort')""") \
        == "descending"
    click(page, "trial")
    assert [float(t) for t in column(page, "trial")] == [0.0, 1.0, 2.0]
    click(page, "status")
    assert column(page, "status") == ["completed", "completed", "failed"]
    click(page, "status")
    assert column(page, "status") == ["failed", "completed", "completed"]


# ---------------------------------------------------------------- the HTML itself
def test_text_from_the_project_is_escaped(project, tmp_path):
    odd = tmp_path / 'a<b>&"c'
    shutil.copytree(project, odd)
    text = report_html(odd)
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt; &amp; &quot;quoted&quot;" in text
    assert "window.pwned = 1</script>" not in text and "<b>bold" not in text
    assert "<title>Cerebros report: a&lt;b&gt;&amp;&quot;c</title>" in text
    # The graphs' JSON sits in <script> elements: no "<" can end them early.
    for data in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', text, re.S):
        assert "<" not in data
        assert json.loads(data)["nodes"]


def test_without_graphs_there_is_no_network_script(project, report):
    text = report_html(project, graphs=0)
    assert "vis.Network" not in text and 'id="graphs"' not in text
    assert 'id="leaderboard"' in text and len(text) < report.stat().st_size / 2


def test_the_default_path_is_inside_the_project(project):
    path = write_report(project)
    assert path == project / REPORT_NAME and path.read_text(encoding="utf-8").startswith(
        "<!DOCTYPE html>")
    path.unlink()


@pytest.mark.parametrize("case, match", [
    ("missing", "is not a directory"),
    ("no oracle", "is not a Cerebros project"),
    ("not html", "ending in '.html'"),
    ("graphs", "graphs"),
])
def test_bad_input_is_refused_before_anything_is_written(project, tmp_path, case, match):
    target, graphs, source = tmp_path / "out" / "r.html", 3, project
    if case == "missing":
        source = tmp_path / "nowhere"
    elif case == "no oracle":
        source = tmp_path / "folder"
        source.mkdir()
        (source / "search_config.json").write_text("{}")
    elif case == "not html":
        target = tmp_path / "out" / "r.png"
    else:
        graphs = -1
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ValueError, match=match):
        write_report(source, target, graphs=graphs)
    assert sorted(tmp_path.rglob("*")) == before


def test_the_command_writes_the_page_without_loading_tensorflow(project, tmp_path):
    target = tmp_path / "page.html"
    done, heavy = _loads_tensorflow("report", str(project), "--output", str(target),
                                    cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[0] == f"report: {target}"
    assert not heavy
    assert "leaderboard-table" in target.read_text(encoding="utf-8")


def test_the_command_refuses_a_folder_that_is_no_project(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a search")
    assert cli.main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"cerebros: error: project_dir: {str(tmp_path)!r} is not a Cerebros project (it holds "
        "no oracle.csv and no meta_search.json); pass the project folder of a search or a "
        "meta-search (the --project of 'cerebros search' or 'cerebros tune')."]
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


# ---------------------------------------------------------------- the plots it inlines
def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_generations_plot_draws_each_generation_and_parent_links(project, board):
    pytest.importorskip("matplotlib")
    from cerebros.plots import figure_png, plot_generations

    figure = plot_generations(board)
    (axes,) = figure.axes
    scored = board[board[METRIC].notna()]
    per_generation = [len(c.get_offsets()) for c in axes.collections]
    assert per_generation == scored.groupby("generation").size().tolist() == [1, 1]
    labels = [line.get_label() for line in axes.lines]
    bred = scored["parent_trial"].notna().sum()
    assert labels.count("best of the generation") == 1 and labels.count("best so far") == 1
    assert len(labels) == bred + 2
    best = next(line for line in axes.lines if line.get_label() == "best of the generation")
    assert list(best.get_ydata()) == scored.groupby("generation")[METRIC].min().tolist()
    assert png_size(figure_png(figure)) == (800, 500)
    assert not (project / "generations.png").exists()  # a leaderboard: saved only on request


def test_write_plots_adds_the_generations_plot_and_curves_can_skip_saving(project, tmp_path):
    pytest.importorskip("matplotlib")
    from cerebros.plots import plot_learning_curves, write_plots

    copy = tmp_path / "copy"
    shutil.copytree(project, copy)
    before = sorted(copy.iterdir())
    figure = plot_learning_curves(copy, save=False)
    assert figure.axes[0].lines and sorted(copy.iterdir()) == before
    paths = write_plots(copy)
    assert [p.name for p in paths] == ["search_progress.png", "learning_curves.png",
                                       "generations.png"]
    assert all(png_size(p.read_bytes()) == (800, 500) for p in paths)


def test_report_help_describes_its_options(capsys):
    assert cli.main(["report", "--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--output", "--graphs", "--verbose", "--debug"):
        assert option in text


def test_plots_switch_to_a_log_scale_when_a_few_trials_diverged(board):
    pytest.importorskip("matplotlib")
    from cerebros.plots import LOG_SCALE_RATIO, plot_generations, plot_search_progress

    scored = board[board[METRIC].notna()]
    best = scored[METRIC].min()
    for plot in (plot_search_progress, plot_generations):
        assert plot(scored).axes[0].get_yscale() == "linear"
        diverged = scored.copy()
        diverged.loc[diverged.index[-1], METRIC] = best * LOG_SCALE_RATIO * 1.01
        axes = plot(diverged).axes[0]
        assert axes.get_yscale() == "log" and axes.get_ylabel() == f"{METRIC} (log scale)"


def test_without_matplotlib_the_page_says_how_to_get_the_plots(project, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    text = report_html(project, graphs=0)
    assert text.count("pip install 'cerebros[plots]'") == 2  # progress, generations
    assert "<img" not in text and 'id="leaderboard-table"' in text
