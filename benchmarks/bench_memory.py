"""Resident memory over 30 small trials of an inline search: does it stay flat?

A :class:`~cerebros.SimpleCerebrosRandomSearch` of 30 moieties of tiny networks (2–3
levels, 1–3 units of 1–4 neurons), 2 epochs each, on synthetic data (2000 × 10, linear
target plus noise), runs inline in this process.  A Keras callback passed with
``callbacks=[...]`` (so every trial's ``fit`` gets it) appends the process's VmRSS at each
trial's ``on_train_end``: the end of that trial's training, with its model still alive and
before the search clears the Keras session.  Growth is reported from trial 2 to trial 30
(trial 1 also pays TensorFlow's one-off start-up allocations).

For contrast the same 30 planned networks are then built and fitted in a naive loop that
never calls ``keras.backend.clear_session()`` (what the original library did), measured the
same way.  It runs second, in the same process, so it starts from the memory the search
left; compare the growth percentages, not the absolute values.

Run: ``python benchmarks/bench_memory.py`` (about 1–3 minutes).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rss_at_train_end, markdown_table, print_header, quiet_tensorflow, rss_mb, setup_logging  # noqa: E402

quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402

from cerebros import NeuralNetworkFuture, SimpleCerebrosRandomSearch  # noqa: E402

logger = logging.getLogger("bench_memory")


def synthetic(rows: int = 2000, width: int = 10, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, width)).astype("float32")
    y = (x @ rng.normal(size=(width, 1)) + 0.1 * rng.normal(size=(rows, 1))).astype("float32")
    return x, y


def growth(values: list[float]) -> float:
    return 100.0 * (values[-1] - values[1]) / values[1] if len(values) >= 3 else float("nan")


def naive_loop(search: SimpleCerebrosRandomSearch, x, y, epochs: int) -> list[float]:
    """The same planned networks, fitted without ever clearing the Keras session."""
    callback = rss_at_train_end()
    for task in search.tasks():
        future = NeuralNetworkFuture.from_dict(task.network_record(), learning_rate=0.01,
                                               steps_per_execution=32)
        future.materialize()
        model = future.compile_neural_network()
        model.fit(x, y, epochs=epochs, batch_size=100, verbose=0, callbacks=[callback])
    return callback.rss


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive-loop contrast")
    parser.add_argument("--workdir", default=None, help="project directory parent")
    args = parser.parse_args(argv)
    setup_logging()
    print_header("bench_memory: resident memory per trial of an inline search")
    x, y = synthetic()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cerebros_bench_memory_"))
    callback = rss_at_train_end()
    search = SimpleCerebrosRandomSearch(
        input_shapes=[(x.shape[1],)], output_shapes=[1], training_data=[x], labels=[y],
        validation_split=0.2, minimum_levels=2, maximum_levels=3, minimum_units_per_level=1,
        maximum_units_per_level=3, minimum_neurons_per_unit=1, maximum_neurons_per_unit=4,
        number_of_architecture_moities_to_try=args.trials, epochs=args.epochs, patience=None,
        learning_rate=0.01, batch_size=100, seed=1234, project_name=str(workdir / "memory"),
        overwrite=True, verbose=0, callbacks=[callback])
    before = rss_mb()
    started = time.perf_counter()
    search.run_random_search()
    wall = time.perf_counter() - started
    after = rss_mb()
    naive = [] if args.no_naive else naive_loop(search, x, y, args.epochs)

    print(f"{args.trials} trials, {args.epochs} epochs each, 2000 × 10 synthetic rows "
          f"(validation_split 0.2), batch 100; search wall time {wall:.1f} s; RSS before the "
          f"search {before:.0f} MiB, after it {after:.0f} MiB.")
    print()
    headers = ["trial", "search: RSS MiB at train end"]
    if naive:
        headers.append("naive loop without clear_session: RSS MiB")
    rows = []
    for i, value in enumerate(callback.rss):
        row = [i + 1, f"{value:.0f}"]
        if naive:
            row.append(f"{naive[i]:.0f}" if i < len(naive) else "")
        rows.append(row)
    summary = ["growth trial 2 → last", f"{growth(callback.rss):+.1f}%"]
    if naive:
        summary.append(f"{growth(naive):+.1f}%")
    rows.append(summary)
    print(markdown_table(headers, rows))
    print()
    met = abs(growth(callback.rss)) <= 20
    print(markdown_table(("aim", "measured", "met"),
                         [("search memory flat: ≤ 20% growth from trial 2 to last",
                           f"{growth(callback.rss):+.1f}%", met)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
