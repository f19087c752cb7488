"""Regenerate the README's pictures from a real search: ``python assets/make_assets.py``.

It runs a small Cerebros search on the Ames housing data (the README's search arguments via
``examples/ames_regression.py``: 9 architectures in 3 generations of at most 20 epochs, on
the first 75 % of the rows; a few minutes on 2 CPU cores) and writes into this folder:

``network.png``
    the interactive graph of one of the search's networks (of the completed trials with
    plain and gated lateral connections, the one with the fewest drawn connections, so
    that it stays readable), screenshotted in headless Chromium;
``search_progress.png``, ``learning_curves.png``, ``generations.png``
    the plots of :mod:`cerebros.plots`.

Each picture must be a PNG under 300 KB; the script fails otherwise.  It needs the
``examples`` and ``plots`` extras (``pip install -e ".[examples,plots]"``) and a Chromium
or Chrome on PATH; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent
sys.path.insert(0, str(ASSETS.parent / "examples"))

from ames_regression import TEST_FRACTION, ames_features, build_search, load_ames  # noqa: E402

MAX_BYTES = 300_000
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def run_search(project: Path, trials: int, epochs: int):
    """The README's search on the Ames search rows, with ``trials`` moieties in 3
    generations; returns its leaderboard."""
    from cerebros.results import load_results

    x_all, y_all = ames_features(load_ames())
    cut = int(len(x_all) * (1 - TEST_FRACTION))
    search = build_search(x_all.iloc[:cut], y_all.iloc[:cut], str(project), trials=trials,
                          epochs=epochs, verbose=0)
    search.run_random_search()
    return load_results(project)


def pick_network(board) -> tuple[int, int]:
    """Of the completed trials with plain and gated lateral connections, the one with the
    fewest drawn connections (the best of those on a tie)."""
    shown = board[(board["status"] == "completed") & (board["connections_gated"] > 0)
                  & (board["connections_lateral"] > board["connections_gated"])]
    if shown.empty:
        raise SystemExit("no completed trial has both plain and gated lateral connections; "
                         "rerun with more --trials")
    drawn = shown["connections_vertical"] + shown["connections_lateral"]
    chosen = shown.loc[drawn.sort_values(kind="stable").index[0]]
    print(f"network.png: trial {chosen['trial_number']}.{chosen['subtrial_number']}, "
          f"{int(drawn.min())} connections, {int(chosen['connections_gated'])} gated")
    return int(chosen["trial_number"]), int(chosen["subtrial_number"])


def screenshot(page: Path, image: Path, width: int = 1100, height: int = 880) -> None:
    """A PNG of ``page`` as headless Chromium draws it."""
    browser = next((found for name in BROWSERS if (found := shutil.which(name))), None)
    if browser is None:
        raise SystemExit(f"no Chromium or Chrome on PATH (looked for {', '.join(BROWSERS)})")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-first-run", "--disable-background-networking",
                        "--hide-scrollbars", f"--user-data-dir={profile}",
                        f"--window-size={width},{height}", "--virtual-time-budget=5000",
                        f"--screenshot={image}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


def check_size(image: Path) -> None:
    size = image.stat().st_size
    if not image.read_bytes().startswith(b"\x89PNG") or size >= MAX_BYTES:
        raise SystemExit(f"{image.name}: {size:,} bytes; each picture must be a PNG under "
                         f"{MAX_BYTES:,} bytes")
    print(f"{image.relative_to(ASSETS.parent)}: {size / 1000:.0f} KB")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=9, help="architectures to try")
    parser.add_argument("--epochs", type=int, default=20, help="most epochs per trial")
    parser.add_argument("--project", type=Path, default=None,
                        help="keep the search in this folder (resumed if it holds the same "
                             "search) instead of a temporary one")
    args = parser.parse_args()
    from cerebros.plots import plot_generations, plot_learning_curves, plot_search_progress
    from cerebros.viz import plan_graph_from_project

    with tempfile.TemporaryDirectory() as work:
        project = args.project or Path(work) / "ames"
        board = run_search(project, args.trials, args.epochs)
        trial, subtrial = pick_network(board)
        page = plan_graph_from_project(project, trial, subtrial, path=Path(work) / "graph.html")
        screenshot(page, ASSETS / "network.png")
        plot_search_progress(board, path=ASSETS / "search_progress.png")
        plot_learning_curves(project, top=3, path=ASSETS / "learning_curves.png")
        plot_generations(board, path=ASSETS / "generations.png")
    for name in ("network.png", "search_progress.png", "learning_curves.png", "generations.png"):
        check_size(ASSETS / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
