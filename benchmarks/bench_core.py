"""Core costs of one large Cerebros network: planning, materializing, compiling, training.

The network is the original benchmark's: 10 hidden levels of 10 DenseUnits each (neurons
drawn from 1..25 with a fixed generator), one input unit of width 38 and one output, wired
with ``first=19.613``, ``main=0.5518``, ``p_lateral=0.36014``, 11 lateral tries per unit and
at most 34 consecutive laterals (other wiring arguments at their defaults).

Measured in one process; compared variants are interleaved, in an order that alternates
from one repeat to the next (A B C, C B A, …), so none of them always runs last:

* ``plan()`` alone (pure Python), median of ``--plan-repeats``;
* plan + materialize with fused units, with unfused units, and a reference: bare Keras
  creating 101 BatchNormalization + Dense pairs on Inputs; the three interleaved, median of
  ``--repeats``;
* compile + first epoch and a steady epoch (median of ``--epochs`` more epochs) of the
  unfused model, the fused model, and the fused model with TensorFlow's Grappler graph
  optimizer off (as in a search's trials), ``jit_compile=False``, on synthetic data
  (1900 × 38 training rows, batch 93, ``steps_per_execution=32`` as in a search): in each of
  ``--rounds`` rounds the three are built and compiled in the round's order, then take turns
  epoch by epoch, the order alternating; ``--xla`` adds one fused run with XLA after them;
* the TensorFlow ops of one traced train step (graph nodes, function library included);
* the growth of plan and materialize with size: 20×20, 35×35 and 50×50 levels × units,
  with the number of connections and the time per connection.

Run: ``python benchmarks/bench_core.py`` (about 5 minutes on 2 shared cores).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (alternating, markdown_table, median_time, print_header,  # noqa: E402
                     quiet_tensorflow, setup_logging, timed)

quiet_tensorflow()

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from cerebros import NeuralNetworkFuture  # noqa: E402
from cerebros.spec import NetworkSpec  # noqa: E402
from cerebros.tf_state import graph_optimizer  # noqa: E402

logger = logging.getLogger("bench_core")

INPUT_WIDTH = 38
WIRING = dict(predecessor_level_connection_affinity_factor_first=19.613,
              predecessor_level_connection_affinity_factor_main=0.5518,
              p_lateral_connection=0.36014, num_lateral_connection_tries_per_unit=11,
              max_consecutive_lateral_connections=34)
SPEC_SEED = 12345
GRAPPLER_OFF = "fused, Grappler off (as in a search)"
WIRING_SEED = 8675309


def grid_spec(levels: int, units: int, seed: int = SPEC_SEED) -> dict:
    """``levels`` hidden levels of ``units`` DenseUnits, neurons drawn from 1..25."""
    rng = np.random.default_rng(seed)
    hidden = [tuple(int(w) for w in rng.integers(1, 26, size=units)) for _ in range(levels)]
    return NetworkSpec(((INPUT_WIDTH,), *hidden, (1,))).to_original()


def future(spec: dict, fused: bool = True, jit_compile=False) -> NeuralNetworkFuture:
    return NeuralNetworkFuture(input_shapes=[(INPUT_WIDTH,)], output_shapes=[1],
                               neural_network_spec=spec, seed=WIRING_SEED, fused_units=fused,
                               jit_compile=jit_compile, steps_per_execution=32, **WIRING)


def reset() -> None:
    keras.backend.clear_session(free_memory=True)
    gc.collect()


def bare_keras_pairs(n: int = 101, width: int = 10) -> None:
    """Reference: ``n`` BatchNormalization + Dense pairs, each on its own Input."""
    for _ in range(n):
        x = keras.Input(shape=(INPUT_WIDTH,))
        keras.layers.Dense(width)(keras.layers.BatchNormalization()(x))


def count_train_step_ops(model: keras.Model, x: np.ndarray, y: np.ndarray) -> int:
    """Graph nodes of one traced ``train_step`` (forward, gradients, optimizer update),
    counting the nodes of every function in the graph's library too."""
    spec_x = tf.TensorSpec((None, x.shape[1]), tf.float32)
    spec_y = tf.TensorSpec((None, y.shape[1]), tf.float32)
    step = tf.function(lambda a, b: model.train_step((a, b)))
    graph_def = step.get_concrete_function(spec_x, spec_y).graph.as_graph_def()
    return len(graph_def.node) + sum(len(f.node_def) for f in graph_def.library.function)


def warm_up(x, y) -> None:
    """Fit a tiny network once, so that the first measured fit does not also pay for
    TensorFlow's and Keras' one-off start-up work."""
    reset()
    net = future(grid_spec(2, 2))
    net.materialize()
    net.compile_neural_network().fit(x, y, epochs=1, batch_size=93, verbose=0)
    reset()


def start_training(plan_dict: dict, fused: bool, x, y, jit_compile=False,
                   learning_rate: float = 0.005, grappler: bool = True) -> dict:
    """Materialize a stored plan fused or unfused, then compile and fit one epoch; the
    model is kept for :func:`interleaved_steady_epochs`.  ``grappler=False`` runs this and
    the model's later epochs with TensorFlow's Grappler optimizer off (as a search does)."""
    scope = (lambda: contextlib.nullcontext()) if grappler else (lambda: graph_optimizer(False))
    with scope():
        net = NeuralNetworkFuture.from_dict(plan_dict, fused_units=fused,
                                            jit_compile=jit_compile, steps_per_execution=32,
                                            learning_rate=learning_rate)
        build_s, model = timed(net.materialize)

        def first():
            net.compile_neural_network()
            model.fit(x, y, epochs=1, batch_size=93, verbose=0, shuffle=True)

        first_s, _ = timed(first)
    return {"model": model, "build_s": build_s, "first_s": first_s, "steady_all": [],
            "params": model.count_params(), "layers": len(model.layers), "scope": scope}


def interleaved_steady_epochs(entries: dict, x, y, epochs: int) -> None:
    """Time ``epochs`` single epochs of every entry's model, taking turns in an order that
    alternates (A B, B A, A B, ...) so that the machine's changing load hits every model
    alike and none always goes last."""
    for epoch in range(epochs):
        for name in alternating(list(entries), epoch):
            entry = entries[name]
            with entry["scope"]():
                entry["steady_all"].append(timed(lambda: entry["model"].fit(
                    x, y, epochs=1, batch_size=93, verbose=0, shuffle=True))[0])
    for entry in entries.values():
        entry["steady_s"] = statistics.median(entry["steady_all"])


def finish(entry: dict, x, y, count_ops: bool = True) -> dict:
    """Trace one train_step on its own (time and op count), then drop the model."""
    if count_ops:
        with entry["scope"]():
            entry["trace_s"], entry["ops"] = timed(
                lambda: count_train_step_ops(entry["model"], x, y))
    else:
        entry["trace_s"] = entry["ops"] = float("nan")
    entry.pop("model")
    entry.pop("scope")
    return entry


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan-repeats", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=4,
                        help="repeats of plan+materialize (even: each order as often)")
    parser.add_argument("--epochs", type=int, default=4,
                        help="steady epochs timed per model and round (median)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="compile+train rounds, the build order alternating (medians)")
    parser.add_argument("--xla", action="store_true", help="also time one fused run with XLA")
    parser.add_argument("--no-grappler-row", action="store_true",
                        help="skip the fused model with TensorFlow's Grappler optimizer off")
    parser.add_argument("--sizes", default="20,35,50",
                        help="comma-separated N for the N-levels × N-units growth table")
    args = parser.parse_args(argv)
    setup_logging()
    print_header("bench_core: plan, materialize, compile and train one large network")

    spec = grid_spec(10, 10)
    rows = []

    # plan alone: a fresh future each time (construction untimed).
    holder = {}
    plan_s, _ = median_time(lambda: holder["f"].plan(), args.plan_repeats,
                            setup=lambda: holder.update(f=future(spec)))
    plan = holder["f"].plan()
    counts = plan.counts()
    n_connections = len(plan.connections)
    logger.info("10x10 plan: %d connections %s", n_connections, counts)
    rows.append(("plan() alone", plan_s, f"median of {args.plan_repeats}"))

    builds = {"fused": lambda: future(spec, True).materialize(),
              "unfused": lambda: future(spec, False).materialize(),
              "bare": bare_keras_pairs}
    build_times: dict[str, list[float]] = {name: [] for name in builds}
    for repeat in range(args.repeats):
        for name in alternating(list(builds), repeat):
            reset()
            build_times[name].append(timed(builds[name])[0])
    reset()
    for name in ("fused", "unfused"):
        times = build_times[name]
        rows.append((f"plan + materialize ({name})", statistics.median(times),
                     f"median of {args.repeats}: " + ", ".join(f"{t:.2f}" for t in times)))
    bare_s = statistics.median(build_times["bare"])
    rows.append(("bare Keras: 101 BatchNormalization + Dense pairs (reference)", bare_s,
                 f"median of {args.repeats}: " + ", ".join(f"{t:.2f}" for t in build_times["bare"])))

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1900, INPUT_WIDTH)).astype("float32")
    y = (x @ rng.normal(size=(INPUT_WIDTH, 1))).astype("float32")
    plan_dict = holder["f"].to_dict()
    warm_up(x, y)
    # Grappler is a process-wide switch, read when a function first runs: the Grappler-off
    # model is built, compiled, trained and traced inside graph_optimizer(False), so it can
    # take its turn among the others.
    variants = {"unfused": dict(fused=False), "fused": dict(fused=True)}
    if not args.no_grappler_row:
        variants[GRAPPLER_OFF] = dict(fused=True, grappler=False)
    runs: dict[str, list[dict]] = {name: [] for name in variants}
    orders = []
    for round_ in range(args.rounds):
        reset()
        order = alternating(list(variants), round_)
        orders.append(order)
        entries = {name: start_training(plan_dict, x=x, y=y, **variants[name]) for name in order}
        interleaved_steady_epochs(entries, x, y, args.epochs)
        for name in order:
            runs[name].append(finish(entries[name], x, y))
            logger.info("round %d %s: %s", round_, name, runs[name][-1])
        del entries
    trained = {name: median_record(records) for name, records in runs.items()}
    if args.xla:
        reset()
        entry = start_training(plan_dict, True, x, y, jit_compile=True)
        interleaved_steady_epochs({"x": entry}, x, y, max(2, args.epochs // 2))
        trained["fused, XLA (own steady epochs)"] = finish(entry, x, y, count_ops=False)
        logger.info("fused XLA: %s", trained["fused, XLA (own steady epochs)"])
    reset()

    print(f"## 10 levels × 10 units ({n_connections} connections: {counts['vertical']} "
          f"vertical, {counts['lateral']} lateral, {counts['gated']} gated; "
          f"{trained['fused']['params']:,} parameters)")
    print()
    print(markdown_table(("stage", "seconds", "note"), rows))
    print()
    train_rows = []
    for name, r in trained.items():
        train_rows.append((name, r["layers"], r["build_s"], r["first_s"], r["steady_s"],
                           r["trace_s"], r["ops"]))
    print("Training on 1900 × 38 synthetic rows, batch 93 (21 steps/epoch), "
          f"steps_per_execution=32, jit_compile=False unless noted; after a warm-up fit of a "
          f"tiny network; medians over {args.rounds} round(s) and {args.epochs} steady epochs "
          f"per model and round. Build order of the rounds: "
          + "; ".join(", ".join(order) for order in orders)
          + ". In each round the models then take turns epoch by epoch, the order alternating. "
          "'materialize s' is materializing the stored plan in those rounds. "
          "'trace' is tracing one train_step into a "
          "tf.function graph on its own (Python-side cost, part of the first epoch):")
    print()
    print(markdown_table(("units", "Keras layers", "materialize s", "compile + first epoch s",
                          "steady epoch s (median)", "trace one train_step s",
                          "TF ops in one train step"), train_rows))
    print()
    f, u = trained["fused"], trained["unfused"]
    ratio_rows = [
        ("plan + materialize, unfused / fused",
         rows[2][1] / rows[1][1]),
        ("compile + first epoch, unfused / fused", u["first_s"] / f["first_s"]),
        ("steady epoch, unfused / fused", u["steady_s"] / f["steady_s"]),
        ("TF ops, unfused / fused", u["ops"] / f["ops"]),
        ("plan + materialize (fused) / bare Keras 101 BN+Dense", rows[1][1] / bare_s),
    ]
    if GRAPPLER_OFF in trained:
        g = trained[GRAPPLER_OFF]
        ratio_rows += [("compile + first epoch, Grappler off / on (fused)", g["first_s"] / f["first_s"]),
                       ("steady epoch, Grappler off / on (fused)", g["steady_s"] / f["steady_s"])]
    if "fused, XLA (own steady epochs)" in trained:
        ratio_rows.append(("compile + first epoch, XLA / no XLA (fused)",
                           trained["fused, XLA (own steady epochs)"]["first_s"] / f["first_s"]))
    print(markdown_table(("ratio", "value"), ratio_rows))
    print()

    growth = []
    for n in [int(s) for s in args.sizes.split(",") if s]:
        reset()
        big = grid_spec(n, n)
        net = future(big)
        plan_s, plan_n = timed(net.plan)
        conns = len(plan_n.connections)
        mat_s, model = timed(net.materialize)
        layers = len(model.layers)
        del model, net
        reset()
        growth.append((f"{n} × {n}", conns, plan_s, mat_s, 1e6 * plan_s / conns,
                       1e6 * mat_s / conns, layers))
        logger.info("%dx%d: %d connections, plan %.2fs, materialize %.2fs", n, n, conns, plan_s,
                    mat_s)
    print("Growth with size (fused units; one run each):")
    print()
    print(markdown_table(("levels × units", "connections", "plan s", "materialize s",
                          "plan µs/connection", "materialize µs/connection", "Keras layers"),
                         growth))
    print()
    aims = [("plan() < 50 ms", f"{plan_s_10(rows):.3f} s", plan_s_10(rows) < 0.05),
            ("plan + materialize (fused) < 2.5 s", f"{rows[1][1]:.2f} s", rows[1][1] < 2.5),
            ("compile + first epoch < 30 s (unfused)", f"{u['first_s']:.1f} s", u["first_s"] < 30),
            ("compile + first epoch < 15 s (fused)", f"{f['first_s']:.1f} s", f["first_s"] < 15),
            ("compile + first epoch, fused no slower than unfused",
             f"{f['first_s']:.1f} s vs {u['first_s']:.1f} s", f["first_s"] <= u["first_s"])]
    if GRAPPLER_OFF in trained:
        g = trained[GRAPPLER_OFF]
        aims.append(("compile + first epoch < 15 s (fused, Grappler off as in a search)",
                     f"{g['first_s']:.1f} s", g["first_s"] < 15))
    for label, _, plan_n_s, mat_n_s, *_ in growth:
        if label == "50 × 50":
            total = plan_n_s + mat_n_s
            aims.append(("plan + materialize 50 × 50 < 5 s", f"{total:.1f} s", total < 5))
    print(markdown_table(("aim", "measured", "met"), aims))
    return 0


def median_record(records: list[dict]) -> dict:
    """Per-key median of several train_timings results."""
    merged = dict(records[0])
    for key in ("build_s", "first_s", "steady_s", "trace_s"):
        merged[key] = statistics.median(r[key] for r in records)
    return merged


def plan_s_10(rows) -> float:
    return rows[0][1]


if __name__ == "__main__":
    sys.exit(main())
