"""How often does a found network extrapolate wildly for a single test row?

Medians over seeds hide a model that is good on most rows and absurd on one.  This runs the
README's search on ``bench_quality.py``'s Ames split (the first 75 % of the rows searched,
the last 25 % test) at ``bench_meta.py``'s budget (12 trials of at most 48 epochs, 3
generations) for each seed and each target spread, and scores *every* completed trial's
model on the test rows: its test RMSE and its largest single error.  Prints one row per
model and, per spread, the median test RMSE, the number of models with some error above
``--threshold`` and the largest error.  ``--clip-predictions M|none`` runs the searches
with ``clip_predictions=M`` (predictions bounded to the training labels' range widened by M
times its width; none: unbounded; default: the library's, 0).  Run::

    python benchmarks/bench_tails.py [--spreads auto 1] [--seeds 8675309 8675310 ...]
                                     [--clip-predictions M|none]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

from bench_meta import readme_arguments  # noqa: E402
from bench_quality import DATASETS  # noqa: E402


def spread_value(text: str) -> float | str:
    return text if text == "auto" else float(text)


def trial_models(spread: str, seed: int, trials: int, epochs: int, workdir: Path, split,
                 clip_predictions: float | None = None):
    """(trial, val RMSE, test RMSE, largest test error, is the best) for each completed trial."""
    import keras

    from cerebros import SimpleCerebrosRandomSearch

    x_train, y_train, x_test, y_test = split
    arguments = readme_arguments(x_train.shape[1], epochs)
    arguments.update(seed=seed, number_of_architecture_moities_to_try=trials,
                     number_of_generations=min(3, trials), scaled_target_std=spread_value(spread),
                     clip_predictions=clip_predictions)
    search = SimpleCerebrosRandomSearch(training_data=[x_train], labels=[y_train], verbose=0,
                                        project_name=str(workdir / f"{spread}_{seed}"),
                                        **arguments)
    search.run_random_search()
    board = search.results_summary(top=trials)
    best = Path(search.best_model_path).resolve()
    for _, row in board[board["status"] == "completed"].iterrows():
        model = keras.models.load_model(row["model_path"])
        errors = model.predict(x_test.to_numpy("float32"), verbose=0)[:, 0] - y_test.to_numpy()
        yield (int(row["trial_number"]), float(row["val_root_mean_squared_error"]),
               float(np.sqrt(np.mean(errors ** 2))), float(np.abs(errors).max()),
               Path(row["model_path"]).resolve() == best)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spreads", nargs="+", default=["auto", "1"],
                        help='scaled_target_std values ("auto" or a number)')
    parser.add_argument("--seeds", type=int, nargs="+",
                        default=[8675309 + i for i in range(5)])
    parser.add_argument("--trials", type=int, default=12)
    parser.add_argument("--epochs", type=int, default=48)
    parser.add_argument("--threshold", type=float, default=300_000.0)
    parser.add_argument("--clip-predictions", default="0", metavar="M|none")
    args = parser.parse_args()
    print_header("Every trial's largest test error, README search on the Ames split")
    split = DATASETS["ames"]()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for spread in args.spreads:  # interleaved seed by seed
                for trial, val, test, worst, best in trial_models(
                        spread, seed, args.trials, args.epochs, Path(tmp), split,
                        None if args.clip_predictions == "none"
                        else float(args.clip_predictions)):
                    rows.append([spread, seed, trial, f"{val:,.0f}", f"{test:,.0f}",
                                 f"{worst:,.0f}", "yes" if best else ""])
                    print(f"spread {spread} seed {seed} trial {trial}: test RMSE {test:,.0f}, "
                          f"largest error {worst:,.0f}", flush=True)
    print()
    print(markdown_table(["spread", "seed", "trial", "val RMSE", "test RMSE",
                          "largest test error", "best by val"], rows))
    print()
    for spread in args.spreads:
        mine = [r for r in rows if r[0] == spread]
        tests = [float(r[4].replace(",", "")) for r in mine]
        worst = [float(r[5].replace(",", "")) for r in mine]
        print(f"spread {spread}: {len(mine)} models, median test RMSE {statistics.median(tests):,.0f}; "
              f"{sum(w > args.threshold for w in worst)} with an error above "
              f"{args.threshold:,.0f} (largest {max(worst):,.0f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
