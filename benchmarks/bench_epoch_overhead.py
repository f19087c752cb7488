"""The README search inline, before and after trimming what each epoch and trial paid for
besides training.

A profile of the README search (seed 8675309, inline, 7 trials, 159 epochs) showed three
costs that are not training:

* **Validation pipeline.** Given arrays, Keras builds a ``tf.data`` pipeline made to shuffle
  (a permutation, batched indices, a parallel gather) and starts it anew, twice, on each
  validation pass: about 17 ms each time.  The search now hands Keras the validation rows
  as a plain pipeline of the same batches in the same order.
* **Training pipeline.** Not told the number of steps per epoch, Keras prepares each
  epoch's pass at the end of the previous epoch, then prepares another and drops the
  first.  The search now passes ``steps_per_epoch`` (one pass over the training rows), and
  Keras uses the prepared one.  The batches are the same.
* **Garbage collections.** Each trial collects garbage after clearing its session; inline,
  every collection walked everything TensorFlow and Keras hold (about 0.3 s, 3 per
  trial).  The inline executor now keeps the objects alive when the search starts out of
  collections until it ends (``gc.freeze``), as worker processes already did.

``before`` runs the search with the three changes undone (the library's functions swapped
back for what the code did before), ``now`` as the library is; each run in a fresh
process, the order alternating from run to run, with wall and CPU seconds (CPU time, all
threads, is less disturbed by other jobs on a shared machine).  All oracles of a seed
must agree to the last digit (every epoch's loss and validation scores), so the results
are the same and only the time differs.

Run: ``python benchmarks/bench_epoch_overhead.py [--seeds 8675309 8675310 8675311]
[--repeats 2]`` (about 12 min).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import alternating, markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import ames_regression as ames  # noqa: E402
import pandas as pd  # noqa: E402

MODES = ("before", "now")


def undo_changes() -> None:
    """Swap the library's three changes back for what the code did before them."""
    from cerebros import executors, trial

    trial._validation_batches = lambda x_val, y_val, batch_size: (trial._bare(x_val),
                                                                  trial._bare(y_val))
    trial._steps_per_epoch = lambda data, training: None
    executors.freeze_heap = lambda: None


def one_search(mode: str, seed: int, oracle_copy: Path) -> None:
    """Run the README search once in this process and print its wall and CPU seconds (all
    threads) as JSON."""
    if mode == "before":
        undo_changes()
    x, y = ames.ames_features(ames.load_ames())
    with tempfile.TemporaryDirectory() as tmp:
        search = ames.build_search(x, y, str(Path(tmp) / "project"), seed=seed, verbose=0)
        start, cpu = time.perf_counter(), time.process_time()
        best = search.run_random_search()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        oracle = Path(search.project.root) / "oracle.csv"
        frame = pd.read_csv(oracle)
        columns = [c for c in frame.columns if c == "loss" or c.startswith("val_")]
        frame[["trial_number", "epoch", *columns]].to_csv(oracle_copy, index=False)
    print(json.dumps({"wall": wall, "cpu": cpu, "best": best, "epochs": len(frame)}),
          flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[8675309, 8675310, 8675311])
    parser.add_argument("--repeats", type=int, default=2, help="runs of each code per seed")
    parser.add_argument("--one", nargs=3, metavar=("MODE", "SEED", "ORACLE_COPY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_search(args.one[0], int(args.one[1]), Path(args.one[2]))
        return 0
    print_header("The README search inline: what each epoch and trial paid besides training")
    rows, runs = [], []
    with tempfile.TemporaryDirectory() as tmp:
        oracles: dict[tuple[int, str], list[bytes]] = {}
        for i, (seed, repeat) in enumerate((s, r) for s in args.seeds
                                           for r in range(args.repeats)):
            for mode in alternating(list(MODES), i):
                copy = Path(tmp) / f"{mode}{seed}-{repeat}.csv"
                out = subprocess.run([sys.executable, __file__, "--one", mode, str(seed),
                                      str(copy)], check=True, capture_output=True,
                                     text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                oracles.setdefault((seed, mode), []).append(copy.read_bytes())
                runs.append(dict(result, seed=seed, mode=mode))
                rows.append([seed, repeat + 1, mode, f"{result['wall']:.1f}",
                             f"{result['cpu']:.1f}", result["epochs"],
                             f"${result['best']:,.2f}"])
                print(f"seed {seed} repeat {repeat + 1} {mode}: {result['wall']:.1f} s wall, "
                      f"{result['cpu']:.1f} s CPU", flush=True)
        for seed in args.seeds:
            copies = oracles[(seed, "before")] + oracles[(seed, "now")]
            assert len(set(copies)) == 1, f"seed {seed}: the oracles differ"
    print(f"\nThe README search (Ames, 7 trials, inline), each run in a fresh process, "
          f"{args.repeats} repeats per seed, the order alternating from run to run; for every "
          "seed all oracles agree to the last digit (every epoch's loss and validation "
          "scores).\n")
    print(markdown_table(["seed", "repeat", "code", "wall s", "CPU s (all threads)", "epochs",
                          "best val RMSE"], rows))

    def median(what: str, mode: str, seed: int | None = None) -> float:
        return statistics.median(run[what] for run in runs
                                 if run["mode"] == mode and seed in (None, run["seed"]))

    print()
    for what, label in (("wall", "wall"), ("cpu", "CPU")):
        ratios = [median(what, "before", seed) / median(what, "now", seed)
                  for seed in args.seeds]
        print(f"{label}: median of all runs before {median(what, 'before'):.1f} s, now "
              f"{median(what, 'now'):.1f} s; before / now by seed (medians of its repeats): "
              + ", ".join(f"{r:.2f}×" for r in ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
