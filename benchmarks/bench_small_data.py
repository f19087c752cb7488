"""Small data at the command line's settings: standardized targets against
``--target-std auto``.

The check that reverted ``scaled_target_std="auto"`` as the default when it meant 15,000 x
the learning rate (a spread of 75 here), and condition (e) of the rules since (today's
"auto" gives 1 here, as standardized targets do): 300 rows of a linear target (``price = 30,000 a + 10,000 b + 180,000 + noise``, a third column of noise),
``cerebros search --trials 2`` at the command line's defaults (learning rate 0.005, batch
200, so one optimizer step per epoch), 5 and 20 epochs, each spread.  Prints the best val
RMSE of each run beside the labels' standard deviation.  Run::

    python benchmarks/bench_small_data.py [--epochs 5 20] [--spreads 1 auto]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _common import markdown_table, print_header, quiet_tensorflow  # noqa: E402

BEST = re.compile(r"best val_root_mean_squared_error: ([0-9.]+)")


def write_csv(path: Path) -> float:
    """The 300-row data set; returns the labels' standard deviation."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    y = x[:, 0] * 30000 + x[:, 1] * 10000 + 180000 + rng.normal(size=300) * 5000
    pd.DataFrame(dict(a=x[:, 0], b=x[:, 1], c=x[:, 2], price=y)).to_csv(path, index=False)
    return float(np.std(y))


def best_val(csv: Path, project: Path, epochs: int, spread: str, extra: list[str]) -> float:
    """One ``cerebros search`` in a fresh process, as a user runs it; its best val RMSE."""
    run = subprocess.run([sys.executable, "-m", "cerebros", "search", str(csv), "--target",
                          "price", "--project", str(project), "--trials", "2", "--epochs",
                          str(epochs), "--target-std", spread, *extra],
                         capture_output=True, text=True, check=True)
    return float(BEST.search(run.stdout).group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, nargs="+", default=[5, 20])
    parser.add_argument("--spreads", nargs="+", default=["1", "auto"])
    parser.add_argument("--clip-predictions", default=None, metavar="M|none",
                        help="also pass --clip-predictions M to every search")
    parser.add_argument("--clip-features", default=None, metavar="Q|none",
                        help="also pass --clip-features Q to every search")
    args = parser.parse_args()
    extra = [word for option in ("clip_predictions", "clip_features")
             if getattr(args, option) is not None
             for word in ("--" + option.replace("_", "-"), getattr(args, option))]
    quiet_tensorflow()
    print_header("Small data at the command line's settings")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "d.csv"
        std = write_csv(csv)
        for spread in args.spreads:
            cells = [" ".join([f"--target-std {spread}", *extra])]
            for epochs in args.epochs:
                value = best_val(csv, Path(tmp) / f"p_{spread}_{epochs}", epochs, spread, extra)
                cells.append(f"${value:,.0f}")
            rows.append(cells)
    print(f"labels' standard deviation: ${std:,.0f}")
    print()
    print(markdown_table(["best val RMSE", *(f"{e} epochs" for e in args.epochs)], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
