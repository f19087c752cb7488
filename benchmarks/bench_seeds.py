"""How much the README search's best val RMSE depends on its seed.

A 7-trial random search is a small sample of architectures, so its best score varies with
the seed.  This runs the README's Ames search (honest data, its arguments, early stopping
with patience 7, inline) once per seed and prints each best val RMSE beside the
mean-predictor baseline, with the median.  Run: ``python benchmarks/bench_seeds.py
[--seeds 8675309 1 2 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import ames_regression as ames  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[8675309, 1, 2, 3])
    args = parser.parse_args()
    print_header("Best val RMSE of the README search, by seed")
    x, y = ames.ames_features(ames.load_ames())
    rows, bests = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            search = ames.build_search(x, y, str(Path(tmp) / f"seed{seed}"), seed=seed, verbose=0)
            start = time.perf_counter()
            best = search.run_random_search()
            bests.append(best)
            rows.append([seed, f"${best:,.0f}", f"${ames.mean_baseline_rmse(search):,.0f}",
                         f"{time.perf_counter() - start:.1f}"])
            print(f"seed {seed}: best val RMSE ${best:,.0f}", flush=True)
    print()
    print(markdown_table(["seed", "best val RMSE", "mean predictor", "wall s"], rows))
    print()
    print(f"median over {len(bests)} seeds: ${statistics.median(bests):,.0f}; "
          f"range ${min(bests):,.0f}–${max(bests):,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
