"""Fused vs unfused units on the same planned networks, in one run.

A Cerebros unit is ``Concatenate(copies) → BatchNormalization → Dense``; with
``fused_units=True`` (the default) it is one :class:`cerebros.layers.FusedDenseUnit` that
normalizes each distinct input once and folds the copies' weights together.  Here the
same plans are materialized both ways and trained on the same data:

(a) networks sampled by the README's Ames search (``SimpleCerebrosRandomSearch(...)
    task(i, 0).network_record()`` with the README arguments, for ``--ames-networks``
    moieties), trained on the honest Ames training rows (1904 × 36, batch 93);
(b) with ``--grid``, the 10 levels × 10 units network of ``bench_core.py`` (whose own
    run compares it fused and unfused already), trained on synthetic 1900 × 38 rows,
    batch 93.

For each: materialize, compile + first epoch, and the median of ``--epochs`` steady
epochs, ``jit_compile=False``, ``steps_per_execution=32`` (as in a search).  A warm-up fit
of a tiny network comes first, so neither side pays the process's start-up costs.  Each
network is measured in ``--rounds`` rounds whose build order alternates (unfused then
fused, fused then unfused, …); in each round the two models then take turns epoch by epoch
for the steady epochs, the order alternating too, so that the shared machine's changing
load hits both alike and neither always runs last.  Figures are medians over the rounds.

Run: ``python benchmarks/bench_fused.py`` (about 1–2 minutes on 2 shared cores).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import (alternating, markdown_table, print_header, quiet_tensorflow,  # noqa: E402
                     setup_logging)

quiet_tensorflow()

import numpy as np  # noqa: E402

import ames_regression as ames  # noqa: E402
import bench_core  # noqa: E402

logger = logging.getLogger("bench_fused")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ames-networks", type=int, default=3,
                        help="how many README-sampled networks (moieties 0..N-1)")
    parser.add_argument("--epochs", type=int, default=5, help="steady epochs timed (median)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="rounds per network, the build order alternating (even: each "
                             "order as often)")
    parser.add_argument("--grid", action="store_true",
                        help="also the 10 × 10 network (bench_core.py compares it already)")
    args = parser.parse_args(argv)
    setup_logging()
    print_header("bench_fused: fused vs unfused units on the same plans")

    x_df, y_s = ames.ames_features(ames.load_ames())
    search = ames.build_search(x_df, y_s, tempfile.mkdtemp(prefix="cerebros_bench_fused_"),
                               verbose=0)
    ames_x, ames_y = search.data.x_train[0], search.data.y_train[0]
    networks = []
    for moiety in range(args.ames_networks):
        plan = search.task(moiety, 0).network_record()
        networks.append((f"Ames README moiety {moiety}", plan, ames_x, ames_y, search.learning_rate))
    if args.grid:
        grid = bench_core.future(bench_core.grid_spec(10, 10))
        rng = np.random.default_rng(0)
        gx = rng.normal(size=(1900, bench_core.INPUT_WIDTH)).astype("float32")
        gy = (gx @ rng.normal(size=(bench_core.INPUT_WIDTH, 1))).astype("float32")
        networks.append(("10 levels × 10 units", grid.to_dict(), gx, gy, 0.005))

    bench_core.warm_up(np.zeros((1900, bench_core.INPUT_WIDTH), "float32"),
                       np.zeros((1900, 1), "float32"))
    rows, ratios = [], []
    for name, plan, x, y, lr in networks:
        n_conn = len(plan["connections"])
        records = {"unfused": [], "fused": []}
        for round_ in range(args.rounds):
            bench_core.reset()
            entries = {kind: bench_core.start_training(plan, kind == "fused", x, y,
                                                       learning_rate=lr)
                       for kind in alternating(list(records), round_)}
            bench_core.interleaved_steady_epochs(entries, x, y, args.epochs)
            for kind in records:
                records[kind].append(bench_core.finish(entries[kind], x, y, count_ops=False))
            del entries
        unfused, fused = (bench_core.median_record(records[kind]) for kind in ("unfused", "fused"))
        logger.info("%s: unfused %s fused %s", name, unfused, fused)
        levels = len(plan["levels"]) - 1
        units = sum(len(level) for level in plan["levels"][1:])
        rows.append((name, f"{levels} / {units} / {n_conn}", f"{fused['params']:,}",
                     f"{unfused['layers']} → {fused['layers']}",
                     f"{unfused['build_s']:.2f}", f"{fused['build_s']:.2f}",
                     f"{unfused['first_s']:.2f}", f"{fused['first_s']:.2f}",
                     f"{unfused['first_s'] / fused['first_s']:.2f}",
                     f"{unfused['steady_s']:.3f}", f"{fused['steady_s']:.3f}",
                     f"{unfused['steady_s'] / fused['steady_s']:.2f}"))
        ratios.append((unfused["first_s"] / fused["first_s"], unfused["steady_s"] / fused["steady_s"]))

    print(f"jit_compile=False, steps_per_execution=32, batch 93; {args.rounds} round(s) per "
          f"network, build order alternating (unfused first in even rounds, fused first in odd "
          f"ones), the steady epochs interleaved with alternating order; figures are medians "
          f"over the rounds, a steady epoch the median of {args.epochs} per round; ratios are "
          f"unfused / fused (> 1: fused is faster).")
    print()
    print(markdown_table(("network", "levels / units / connections", "parameters",
                          "Keras layers unfused → fused", "materialize s unfused",
                          "materialize s fused", "compile + 1st epoch s unfused",
                          "compile + 1st epoch s fused", "ratio", "steady epoch s unfused",
                          "steady epoch s fused", "ratio"), rows))
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
