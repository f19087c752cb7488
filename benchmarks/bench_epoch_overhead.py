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
process, the order alternating from seed to seed.  The two oracles must agree to the last
digit (every epoch's loss and validation scores), so the results are the same and only
the time differs.

Run: ``python benchmarks/bench_epoch_overhead.py [--seeds 8675309 8675310 8675311]`` (about 6 min).
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
    """Run the README search once in this process and print its wall time as JSON."""
    if mode == "before":
        undo_changes()
    x, y = ames.ames_features(ames.load_ames())
    with tempfile.TemporaryDirectory() as tmp:
        search = ames.build_search(x, y, str(Path(tmp) / "project"), seed=seed, verbose=0)
        start = time.perf_counter()
        best = search.run_random_search()
        wall = time.perf_counter() - start
        oracle = Path(search.project.root) / "oracle.csv"
        frame = pd.read_csv(oracle)
        columns = [c for c in frame.columns if c == "loss" or c.startswith("val_")]
        frame[["trial_number", "epoch", *columns]].to_csv(oracle_copy, index=False)
    print(json.dumps({"wall": wall, "best": best, "epochs": len(frame)}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[8675309, 8675310, 8675311])
    parser.add_argument("--one", nargs=3, metavar=("MODE", "SEED", "ORACLE_COPY"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one_search(args.one[0], int(args.one[1]), Path(args.one[2]))
        return 0
    print_header("The README search inline: what each epoch and trial paid besides training")
    rows, walls = [], {mode: [] for mode in MODES}
    with tempfile.TemporaryDirectory() as tmp:
        for i, seed in enumerate(args.seeds):
            oracles = {}
            for mode in alternating(list(MODES), i):
                oracles[mode] = Path(tmp) / f"{mode}{seed}.csv"
                out = subprocess.run([sys.executable, __file__, "--one", mode, str(seed),
                                      str(oracles[mode])], check=True, capture_output=True,
                                     text=True).stdout
                result = json.loads(out.strip().splitlines()[-1])
                walls[mode].append(result["wall"])
                rows.append([seed, mode, f"{result['wall']:.1f}", result["epochs"],
                             f"${result['best']:,.2f}"])
                print(f"seed {seed} {mode}: {result['wall']:.1f} s", flush=True)
            same = oracles["before"].read_bytes() == oracles["now"].read_bytes()
            assert same, f"seed {seed}: the oracles differ"
    print("\nThe README search (Ames, 7 trials, inline), each run in a fresh process; "
          "for every seed the two oracles agree to the last digit (every epoch's loss and "
          "validation scores).\n")
    print(markdown_table(["seed", "code", "wall s", "epochs", "best val RMSE"], rows))
    before, now = (statistics.median(walls[mode]) for mode in MODES)
    ratios = [b / n for b, n in zip(walls["before"], walls["now"])]
    print(f"\nmedian wall: before {before:.1f} s, now {now:.1f} s; before / now by seed: "
          + ", ".join(f"{r:.2f}×" for r in ratios))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
