"""The first prediction of a saved trial model: its compile config's ``steps_per_execution``.

Trials train with ``steps_per_execution=32`` (the search's default).  Keras runs training
and evaluation as a loop inside one graph, but ``Model.predict`` traces that many copies
of the whole network into one graph, so a loaded model whose saved compile config says 32
pays for tracing 32 networks on its first ``predict``.  Since commit 738102e the search
keeps the setting out of the saved config (it trains with it all the same).

This runs the README's Ames search for 2 trials of 2 epochs, takes its best saved model
(saved as the search now saves it, ``steps_per_execution`` 1 in its config) and a copy
whose ``config.json`` says 32 (exactly what the search saved before), and times, for each,
loading and the first and second ``model.predict`` on the 1,026 validation rows, beside
:func:`cerebros.predict`, which calls the model directly and traces nothing.  Every repeat
loads fresh models, in an order that alternates from one repeat to the next.

Run: ``python benchmarks/bench_predict.py [--repeats 3]`` (about 2 minutes).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "examples"))

from _common import alternating, markdown_table, print_header, quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import ames_regression as ames  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

import cerebros  # noqa: E402


def with_steps_per_execution(source: Path, target: Path, steps: int) -> None:
    """Copy the ``.keras`` archive ``source`` to ``target`` with its compile config's
    ``steps_per_execution`` set to ``steps``."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "config.json":
                config = json.loads(data)
                config["compile_config"]["steps_per_execution"] = steps
                data = json.dumps(config).encode()
            new.writestr(item, data)


def saved_steps(path: Path) -> int:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["compile_config"]["steps_per_execution"]


def measure(path: Path, x: np.ndarray, how: str) -> dict[str, float]:
    start = time.perf_counter()
    model = keras.models.load_model(path)
    loaded = time.perf_counter()
    predict = ((lambda: model.predict(x, verbose=0)) if how == "model.predict"
               else (lambda: cerebros.predict(model, x)))
    first = predict()
    first_done = time.perf_counter()
    second = predict()
    second_done = time.perf_counter()
    assert np.allclose(np.asarray(first), np.asarray(second))
    return {"load": loaded - start, "first": first_done - loaded,
            "second": second_done - first_done, "prediction": np.asarray(first).ravel()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print_header("The first prediction of a saved trial model")
    x, y = ames.ames_features(ames.load_ames())
    with tempfile.TemporaryDirectory() as tmp:
        search = ames.build_search(x, y, str(Path(tmp) / "project"), trials=2, epochs=2,
                                   seed=8675309, verbose=0)
        search.run_random_search()
        new = Path(search.best_model_path)
        old = Path(tmp) / "steps32.keras"
        with_steps_per_execution(new, old, 32)
        x_val = np.asarray(search.data.x_val[0])
        cases = {f"saved with steps_per_execution {saved_steps(new)} (now), model.predict":
                 (new, "model.predict"),
                 f"saved with steps_per_execution {saved_steps(old)} (before), model.predict":
                 (old, "model.predict"),
                 "saved now, cerebros.predict": (new, "cerebros.predict")}
        times: dict[str, list[dict[str, float]]] = {name: [] for name in cases}
        for repeat in range(args.repeats):
            for name in alternating(list(cases), repeat):
                path, how = cases[name]
                times[name].append(measure(path, x_val, how))
                print(f"{name}: first predict {times[name][-1]['first']:.2f} s", flush=True)
    reference = times[next(iter(cases))][0]["prediction"]
    for name, runs in times.items():
        assert all(np.allclose(run["prediction"], reference, rtol=1e-4) for run in runs), name
    print(f"\nThe best of 2 trials of the README search (Ames, {x_val.shape[0]} validation rows, "
          f"{x_val.shape[1]} features); medians of {args.repeats} repeats, each on freshly "
          "loaded models; all predictions agree.\n")
    rows = [[name, f"{statistics.median(r['load'] for r in runs):.2f}",
             f"{statistics.median(r['first'] for r in runs):.2f}",
             f"{statistics.median(r['second'] for r in runs):.3f}"]
            for name, runs in times.items()]
    print(markdown_table(["model and call", "load s", "first predict s", "second predict s"],
                         rows))
    now, before = (statistics.median(r["first"] for r in times[name]) for name in list(cases)[:2])
    print(f"\nfirst model.predict, before / now: {before / now:.1f} ×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
