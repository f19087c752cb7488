"""One epoch of the 10 × 10 benchmark network on a GPU, with jit_compile on and off.

Prepared for the lent GPU machine, whose image has JAX and PyTorch but no TensorFlow (and
TensorFlow's wheel is larger than what can be carried there), so it runs Keras 3 on its JAX
backend: ``KERAS_BACKEND=jax python benchmarks/bench_gpu.py``.  It loads only the modules it
needs (spec, config, wiring, layers, materialize), without the package ``__init__``, so
nothing but Keras has to be carried.  It also runs on the CPU with any Keras backend.

Prints the command, the device and a markdown table: compile + first epoch, and the median
of the following epochs, for jit_compile=True and jit_compile=False, in one run.
"""

import argparse
import importlib.util
import sys
import time
import types
from pathlib import Path

import numpy as np


def load_planning_and_materialize():
    """Import cerebros' planning and materialize modules without the package __init__."""
    root = Path(__file__).resolve().parent.parent / "cerebros"
    package = types.ModuleType("cerebros")
    package.__path__ = [str(root)]
    sys.modules["cerebros"] = package
    for name in ("decay", "units", "units.units", "spec", "config", "wiring", "layers", "materialize"):
        spec = importlib.util.spec_from_file_location(
            f"cerebros.{name}", root / (name.replace(".", "/") + (".py" if name != "units" else "/__init__.py")))
        module = importlib.util.module_from_spec(spec)
        sys.modules[f"cerebros.{name}"] = module
        spec.loader.exec_module(module)
    return sys.modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="epochs per setting (first + steady)")
    parser.add_argument("--rows", type=int, default=1900, help="training rows (batch 93)")
    args = parser.parse_args()
    modules = load_planning_and_materialize()
    import keras

    spec_mod, config_mod = modules["cerebros.spec"], modules["cerebros.config"]
    wiring_mod, mat_mod = modules["cerebros.wiring"], modules["cerebros.materialize"]
    rng = np.random.default_rng(0)
    spec = spec_mod.NetworkSpec(((38,), *[tuple(rng.integers(1, 26, 10).tolist()) for _ in range(10)], (1,)))
    config = config_mod.WiringConfig(
        predecessor_level_connection_affinity_factor_first=19.613,
        predecessor_level_connection_affinity_factor_main=0.5518, p_lateral_connection=0.36014,
        num_lateral_connection_tries_per_unit=11, max_consecutive_lateral_connections=34)
    plan = wiring_mod.plan_wiring(spec, config, np.random.default_rng(1))
    x = rng.normal(size=(args.rows, 38)).astype("float32")
    y = x[:, :3].sum(1, keepdims=True)
    print(f"command: KERAS_BACKEND={keras.backend.backend()} python {' '.join(sys.argv)}")
    if keras.backend.backend() == "jax":
        import jax

        print("device:", jax.devices())
    print(f"network: {sum(len(l) for l in plan.widths[1:])} units, {len(plan.connections)} connections")
    print("| jit_compile | compile + first epoch (s) | steady epoch (s, median) |")
    print("|---|---|---|")
    for jit in (True, False):
        keras.backend.clear_session()
        model = mat_mod.materialize(plan, mat_mod.ModelOptions(seed=1))
        model.compile(optimizer=keras.optimizers.AdamW(0.005, weight_decay=0.004), loss="mse",
                      jit_compile=jit)
        model.optimizer.build(model.trainable_variables)
        start = time.perf_counter()
        model.fit(x, y, batch_size=93, epochs=1, verbose=0)
        first = time.perf_counter() - start
        steady = []
        for _ in range(args.epochs - 1):
            start = time.perf_counter()
            model.fit(x, y, batch_size=93, epochs=1, verbose=0)
            steady.append(time.perf_counter() - start)
        print(f"| {jit} | {first:.2f} | {np.median(steady):.3f} |", flush=True)


if __name__ == "__main__":
    main()
