"""Does a meta-search beat the README's settings at the same number of trained networks?

For each data set (Ames, and Windsor house prices ``Ecdat/Housing`` or scikit-learn's diabetes
data, split into search and test rows by ``bench_quality.py``'s loaders) and each seed, two
searches get the same budget of inner trials, ``M × K`` (default 5 × 7 = 35):

* ``README settings``: one ``SimpleCerebrosRandomSearch`` with the README's arguments
  (``examples/ames_regression.py``) and ``M × K`` trials;
* ``meta-search``: :class:`cerebros.meta.MetaSearch` over the default space, every meta-trial
  a search with the README's other arguments and ``K`` trials, budget
  ``max_inner_trials = M × K`` (so pruned meta-trials leave room for more meta-trials; at most
  ``M × K`` meta-trials), median pruner, TPE sampler, every meta-trial drawn;
* ``meta-search from the README settings``: the same with ``start_from="readme"`` (its
  first meta-trial uses the README's settings).

Both pick their best network by the validation RMSE (the last 35 % of the search rows), so
the selection pressure is the same; the test rows are used once, at the end, on the best
model of each (for the meta-search: the best trial of its best completed meta-trial).
Reported per seed and as medians: best val RMSE, test RMSE, inner trials trained, wall time.
Run::

    python benchmarks/bench_meta.py [--seeds 0 1 2 3 4] [--datasets ames housing] [--meta-trials 5]
                                    [--inner-trials 7] [--epochs 96] [--variants ...]
    python benchmarks/bench_meta.py --quick      # a smoke run: 2 × 2 trials, 2 epochs, 1 seed

It prints markdown tables and writes ``benchmarks/out/meta.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import ames_regression as ames  # noqa: E402
from bench_quality import DATASETS, SEED_BASE, rmse  # noqa: E402


VARIANTS: dict[str, dict[str, Any] | None] = {
    "README settings": None,  # one search, not a meta-search
    "meta-search": {},  # MetaSearch's defaults
    "meta-search from the README settings": {"start_from": "readme"},
    "meta-search around the README settings": {"around_readme": True},
}
"""The compared searches: MetaSearch's options for each meta-search variant
(``around_readme``: the space ``SearchSpace.around(README_SETTINGS)``, not the default)."""


def readme_arguments(n_features: int, epochs: int | None) -> dict[str, Any]:
    arguments = ames.readme_search_arguments(n_features)
    arguments.pop("model_graphs")
    arguments.pop("meta_trial_number")
    if epochs is not None:
        arguments["epochs"] = epochs
    return arguments


def test_rmse(model_path: str, x_test: pd.DataFrame, y_test: pd.Series) -> float:
    import keras

    model = keras.models.load_model(model_path)
    return rmse(model.predict(x_test.to_numpy("float32"), verbose=0), y_test)


def run_readme(split, seed: int, budget: int, epochs: int | None, workdir: Path) -> dict:
    from cerebros import SimpleCerebrosRandomSearch

    x_train, y_train, x_test, y_test = split
    arguments = readme_arguments(x_train.shape[1], epochs)
    arguments.update(seed=seed, number_of_architecture_moities_to_try=budget,
                     number_of_generations=min(arguments["number_of_generations"], budget))
    search = SimpleCerebrosRandomSearch(training_data=[x_train], labels=[y_train], verbose=0,
                                        project_name=str(workdir / "readme"), **arguments)
    started = time.perf_counter()
    best_val = search.run_random_search()
    return {"best_val": best_val, "test": test_rmse(search.best_model_path, x_test, y_test),
            "inner_trials": budget, "meta_trials": None,
            "wall_s": time.perf_counter() - started}


def run_meta(split, seed: int, meta_trials: int, inner_trials: int, epochs: int | None,
             workdir: Path, options: dict[str, Any]) -> dict:
    from cerebros.meta import README_SETTINGS, MetaSearch, SearchSpace
    from cerebros.results import load_results

    x_train, y_train, x_test, y_test = split
    arguments = readme_arguments(x_train.shape[1], epochs)
    options = dict(options)
    space = SearchSpace.around(README_SETTINGS) if options.pop("around_readme", False) \
        else SearchSpace()  # the default space; the README's values of its arguments go
    for name in space.arguments():
        arguments.pop(name, None)
    arguments.update(seed=seed, number_of_architecture_moities_to_try=inner_trials,
                     number_of_generations=min(arguments["number_of_generations"], inner_trials))
    budget = meta_trials * inner_trials
    meta = MetaSearch(workdir / "meta", space, n_meta_trials=budget, max_inner_trials=budget,
                      meta_seed=seed, training_data=[x_train], labels=[y_train], **options,
                      **arguments)
    started = time.perf_counter()
    best_val = meta.run()
    wall = time.perf_counter() - started
    board = meta.results_summary()
    best = board[board["state"] == "complete"].iloc[0]
    inner = load_results(workdir / "meta" / f"meta_trial_{int(best['meta_trial']):04d}")
    model_path = inner[(inner["status"] == "completed")].iloc[0]["model_path"]
    return {"best_val": best_val, "test": test_rmse(model_path, x_test, y_test),
            "inner_trials": int(board["inner_trials"].sum()), "meta_trials": len(board),
            "pruned": int((board["state"] == "pruned").sum()), "wall_s": wall,
            "best_settings": meta.best_settings()}


def _k(value: float) -> str:
    return f"{value / 1000:,.1f}k" if abs(value) >= 1000 else f"{value:,.2f}"


def report(rows: list[dict]) -> None:
    frame = pd.DataFrame(rows)
    for name, group in frame.groupby("dataset", sort=False):
        print(f"## {name}")
        print()
        table = []
        for variant, rows_v in group.groupby("variant", sort=False):
            rows_v = rows_v.sort_values("seed")
            cells = [variant, len(rows_v)]
            for column in ("best_val", "test"):
                values = rows_v[column].tolist()
                cells += [" · ".join(_k(v) for v in values), _k(statistics.median(values))]
            cells.append(" · ".join(str(int(v)) for v in rows_v["inner_trials"]))
            meta = rows_v["meta_trials"].dropna()
            cells.append(" · ".join(str(int(v)) for v in meta) if len(meta) else "-")
            cells.append(f"{statistics.median(rows_v['wall_s']):.0f}")
            table.append(cells)
        print(markdown_table(
            ["variant", "seeds", "best val RMSE per seed", "median", "test RMSE per seed",
             "median", "inner trials", "meta-trials", "wall s (median)"], table))
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help=f"offsets added to {SEED_BASE}")
    parser.add_argument("--datasets", nargs="+", default=["ames", "housing"],
                        choices=list(DATASETS))
    parser.add_argument("--meta-trials", type=int, default=5, help="M")
    parser.add_argument("--inner-trials", type=int, default=7, help="K")
    parser.add_argument("--epochs", type=int, default=None, help="default: the README's 96")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="which searches to run (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 meta-trials x 2 trials, 2 epochs, the first seed")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "meta.json")
    args = parser.parse_args()
    if args.quick:
        args.meta_trials, args.inner_trials, args.epochs = 2, 2, 2
        args.seeds = args.seeds[:1]
    print_header("Meta-search vs the README settings at the same number of inner trials")
    print(f"budget: {args.meta_trials} x {args.inner_trials} = "
          f"{args.meta_trials * args.inner_trials} inner trials per search; epochs "
          f"{args.epochs or 'README (96)'}")
    print()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            split = DATASETS[name]()
            print(f"{name}: {len(split[0])} search rows, {len(split[2])} test rows, "
                  f"{split[0].shape[1]} features", flush=True)
            for i, offset in enumerate(args.seeds):
                seed = SEED_BASE + offset
                order = args.variants[i % len(args.variants):] + \
                    args.variants[:i % len(args.variants)]  # rotate who goes first
                for variant in order:
                    workdir = Path(tmp) / f"{name}_{seed}_{len(rows)}"
                    if variant == "README settings":
                        row = run_readme(split, seed, args.meta_trials * args.inner_trials,
                                         args.epochs, workdir)
                    else:
                        row = run_meta(split, seed, args.meta_trials, args.inner_trials,
                                       args.epochs, workdir, VARIANTS[variant])
                    row.update(dataset=name, variant=variant, seed=seed)
                    rows.append(row)
                    print(json.dumps(row, default=str), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "arguments": vars(args)}, indent=1,
                                   default=str))
    print()
    report(rows)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
