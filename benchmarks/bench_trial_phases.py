"""Where a trial's time goes, before and after the lean-trial work, in one run.

For networks sampled by the original README search on the honest Ames data, each trial is
run phase by phase — plan, materialize, compile, first epoch (tracing + graph optimization
+ training), the following epochs, save, record in the oracle — under three settings:

* ``original-like``: what the original did: unfused Concatenate→BatchNormalization→Dense
  blocks, per-variable AdamW whose slot variables are created inside the first traced step,
  forced XLA (``jit_compile=True``), one step per call;
* ``lean + XLA``: the settings below but with XLA forced, to see when XLA pays;
* ``lean + Grappler``: the settings below but with TensorFlow's Grappler graph optimizer
  left on, to see what switching it off (``graph_optimization=False``) saves;
* ``lean`` (the search's defaults): fused units, FlatAdamW built eagerly, Keras deciding XLA
  (off on CPU), 32 steps per call, Grappler off during the trial.

Every trial trains a fixed number of epochs (no early stopping) so the settings do the same
work.  The settings run in the order above for even-numbered networks and in the reverse
order for odd-numbered ones (use an even ``--networks``), so none of them always runs last.  Run: ``python benchmarks/bench_trial_phases.py [--networks 2 --epochs 20]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import alternating, markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import keras  # noqa: E402

import ames_regression as ames  # noqa: E402
from cerebros.materialize import materialize  # noqa: E402
from cerebros.compilation import build_optimizer  # noqa: E402
from cerebros.oracle import Oracle, TrialRecord, now_iso  # noqa: E402
from cerebros.tf_state import graph_optimizer  # noqa: E402

SETTINGS = {
    "original-like": dict(fused=False, flat=False, prebuild=False, jit=True, steps=1,
                          grappler=True),
    "lean + XLA": dict(fused=True, flat=True, prebuild=True, jit=True, steps=32,
                       grappler=False),
    "lean + Grappler": dict(fused=True, flat=True, prebuild=True, jit="auto", steps=32,
                            grappler=True),
    "lean": dict(fused=True, flat=True, prebuild=True, jit="auto", steps=32, grappler=False),
}


def run_trial(search, data, setting, epochs, workdir, index):
    """Run one trial phase by phase; return ({phase: seconds}, best val RMSE)."""
    keras.backend.clear_session(free_memory=True)
    keras.utils.set_random_seed(index)
    times = {}
    start = time.perf_counter()
    task = search.task(index, 0)  # samples the spec and plans the wiring
    times["plan"] = time.perf_counter() - start
    options = dataclasses.replace(task.options, fused_units=setting["fused"])
    start = time.perf_counter()
    model = materialize(task.plan, options, name="phases")
    times["materialize"] = time.perf_counter() - start
    start = time.perf_counter()
    optimizer = build_optimizer(0.0664) if setting["flat"] else keras.optimizers.AdamW(
        0.0664, weight_decay=0.004)
    model.compile(optimizer=optimizer, loss="mse",
                  metrics=[keras.metrics.RootMeanSquaredError()], jit_compile=setting["jit"],
                  steps_per_execution=setting["steps"])
    if setting["prebuild"]:
        model.optimizer.build(model.trainable_variables)
    times["compile"] = time.perf_counter() - start
    fit = dict(x=data.x_train[0], y=data.y_train[0], batch_size=93, verbose=0,
               validation_data=(data.x_val[0], data.y_val[0]))
    start = time.perf_counter()
    history = model.fit(epochs=1, **fit).history
    times["first epoch"] = time.perf_counter() - start
    start = time.perf_counter()
    rest = model.fit(epochs=epochs - 1, **fit).history
    times[f"epochs 2-{epochs}"] = time.perf_counter() - start
    start = time.perf_counter()
    model.save(workdir / f"m{index}.keras")
    times["save"] = time.perf_counter() - start
    start = time.perf_counter()
    merged = {k: history[k] + rest[k] for k in history}
    Oracle(workdir).record(TrialRecord(
        trial_number=index, subtrial_number=0, model_name="m", status="completed",
        started_at=now_iso(), ended_at=now_iso(), wall_time_s=0.0,
        n_params=model.count_params(), error="", history=merged))
    times["record"] = time.perf_counter() - start
    return times, min(merged["val_root_mean_squared_error"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=2, help="sampled networks to time")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per trial")
    args = parser.parse_args()
    print_header("Split of a trial's time, before and after")
    x, y = ames.ames_features(ames.load_ames())
    with tempfile.TemporaryDirectory() as tmp:
        search = ames.build_search(x, y, str(Path(tmp) / "project"), trials=args.networks,
                                   epochs=args.epochs)
        totals = {name: {} for name in SETTINGS}
        for moiety in range(args.networks):
            plan = search.plan(moiety, 0)
            print(f"network {moiety}: {plan.widths[1:-1]}, "
                  f"{len(plan.connections)} connections", flush=True)
            for name in alternating(list(SETTINGS), moiety):
                setting = SETTINGS[name]
                workdir = Path(tmp) / f"{name}-{moiety}".replace(" ", "_").replace("+", "")
                workdir.mkdir()
                with graph_optimizer(setting["grappler"]):
                    times, best = run_trial(search, search.data, setting, args.epochs, workdir,
                                            moiety)
                for phase, seconds in times.items():
                    totals[name][phase] = totals[name].get(phase, 0.0) + seconds
                print(f"  {name}: total {sum(times.values()):.1f} s, best val RMSE {best:,.0f}",
                      flush=True)
    phases = list(next(iter(totals.values())))
    rows = [[phase, *(f"{totals[name][phase] / args.networks:.2f}" for name in SETTINGS)]
            for phase in phases]
    sums = {name: sum(totals[name].values()) / args.networks for name in SETTINGS}
    rows.append(["**total**", *(f"**{sums[name]:.2f}**" for name in SETTINGS)])
    print()
    print(f"Mean seconds per trial over {args.networks} sampled networks, {args.epochs} epochs "
          f"(settings in the order of the columns for networks 0, 2, …, reversed for 1, 3, …):")
    print(markdown_table(["phase", *SETTINGS], rows))
    base = sums["original-like"]
    print()
    print(", ".join(f"{name}: {base / sums[name]:.1f}× faster than original-like"
                    for name in SETTINGS if name != "original-like"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
