"""Resident memory over 30 small trials of an inline search: does it stay flat?

A :class:`~cerebros.SimpleCerebrosRandomSearch` of 30 moieties of tiny networks (2–3
levels, 1–3 units of 1–4 neurons), 2 epochs each, on synthetic data (2000 × 10, linear
target plus noise), runs inline in this process.  A Keras callback passed with
``callbacks=[...]`` (so every trial's ``fit`` gets it) appends the process's VmRSS at each
trial's ``on_train_end``: the end of that trial's training, with its model still alive and
before the search clears the Keras session.  Growth is reported from trial 2 to trial 30
(trial 1 also pays TensorFlow's one-off start-up allocations).

For contrast the same 30 planned networks are built and fitted in a naive loop that never
calls ``keras.backend.clear_session()`` (what the original library did), measured the same
way.  Each of the two runs in its own fresh Python process, started by this script, so
neither starts from memory the other left (memory, unlike time, does not depend on which
runs first).

Run: ``python benchmarks/bench_memory.py`` (about 1–3 minutes).
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import rss_at_train_end, markdown_table, print_header, quiet_tensorflow, rss_mb, setup_logging  # noqa: E402

quiet_tensorflow()

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


VARIANTS = ("search", "naive")


def measure(variant: str, trials: int, epochs: int, workdir: Path) -> dict:
    """One variant in this process: the search, or the naive loop over its planned networks."""
    x, y = synthetic()
    callback = rss_at_train_end()
    search = SimpleCerebrosRandomSearch(
        input_shapes=[(x.shape[1],)], output_shapes=[1], training_data=[x], labels=[y],
        validation_split=0.2, minimum_levels=2, maximum_levels=3, minimum_units_per_level=1,
        maximum_units_per_level=3, minimum_neurons_per_unit=1, maximum_neurons_per_unit=4,
        number_of_architecture_moities_to_try=trials, epochs=epochs, patience=None,
        learning_rate=0.01, batch_size=100, seed=1234, project_name=str(workdir / "memory"),
        overwrite=True, verbose=0, callbacks=[callback])
    before = rss_mb()
    started = time.perf_counter()
    if variant == "search":
        search.run_random_search()
        rss = callback.rss
    else:
        rss = naive_loop(search, x, y, epochs)
    return {"variant": variant, "rss": rss, "wall_s": time.perf_counter() - started,
            "before": before, "after": rss_mb()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--no-naive", action="store_true", help="skip the naive-loop contrast")
    parser.add_argument("--workdir", default=None, help="project directory parent")
    parser.add_argument("--variant", choices=VARIANTS, default=None,
                        help="measure one variant in this process and print it as JSON "
                             "(what the parent run starts each child with)")
    args = parser.parse_args(argv)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cerebros_bench_memory_"))
    if args.variant:
        result = measure(args.variant, args.trials, args.epochs, workdir / args.variant)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    setup_logging()
    print_header("bench_memory: resident memory per trial of an inline search")
    results = {}
    for variant in VARIANTS[:1] if args.no_naive else VARIANTS:
        command = [sys.executable, __file__, "--variant", variant, "--trials", str(args.trials),
                   "--epochs", str(args.epochs), "--workdir", str(workdir)]
        logger.info("running %s", " ".join(command))
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        line = [row for row in done.stdout.splitlines() if row.startswith("RESULT ")][-1]
        results[variant] = json.loads(line[len("RESULT "):])
    search, naive = results["search"], results.get("naive", {}).get("rss", [])
    print(f"{args.trials} trials, {args.epochs} epochs each, 2000 × 10 synthetic rows "
          f"(validation_split 0.2), batch 100. Each variant ran in its own fresh Python "
          f"process (one after the other: {', '.join(results)}), so neither starts from "
          f"memory the other left. Search wall time {search['wall_s']:.1f} s; RSS before the "
          f"search {search['before']:.0f} MiB, after it {search['after']:.0f} MiB.")
    print()
    headers = ["trial", "search: RSS MiB at train end"]
    if naive:
        headers.append("naive loop without clear_session: RSS MiB")
    rows = []
    for i, value in enumerate(search["rss"]):
        row = [i + 1, f"{value:.0f}"]
        if naive:
            row.append(f"{naive[i]:.0f}" if i < len(naive) else "")
        rows.append(row)
    summary = ["growth trial 2 → last", f"{growth(search['rss']):+.1f}%"]
    if naive:
        summary.append(f"{growth(naive):+.1f}%")
    rows.append(summary)
    print(markdown_table(headers, rows))
    print()
    met = abs(growth(search["rss"])) <= 20
    print(markdown_table(("aim", "measured", "met"),
                         [("search memory flat: ≤ 20% growth from trial 2 to last",
                           f"{growth(search['rss']):+.1f}%", met)]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
