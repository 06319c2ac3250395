"""Time the full 4,500-start grid fit against a per-start baseline like the paper's script.

Run from the repository root: ``python benchmarks/bench_fit.py [--baseline-starts 5]``.

The baseline is what the paper's public fitting code does: Eq. 4 evaluated
row by row in Python, minimised with ``scipy.optimize.minimize(method="L-BFGS-B")``
and numerical (finite-difference) gradients, one start at a time. It is timed
on a few starts spread over the grid and extrapolated to all 4,500.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

from xlplan.engine.constants import DEFAULT_DELTA
from xlplan.engine.laws import LAW_PRESETS
from xlplan.fit.law import fit_law, hoffmann_grid
from xlplan.fit.runs import load_runs

ROOT = Path(__file__).resolve().parent.parent
GADRE = ROOT / "tests" / "data" / "gadre_overtraining_104runs.csv"
DELTA = DEFAULT_DELTA


def row_by_row_objective(x, table):
    """The baseline objective: a Python loop over runs, as in the paper's script."""
    a, b, e, alpha, beta = x
    total = 0.0
    for n, d, loss in table:
        pred = logsumexp([a - alpha * math.log(n), b - beta * math.log(d), e])
        total += huber(DELTA, pred - math.log(loss))
    return total


def synthetic(count, seed=0):
    rng = np.random.default_rng(seed)
    law = LAW_PRESETS["chinchilla"]
    n = np.exp(rng.uniform(math.log(1e7), math.log(1e10), count))
    d = n * np.exp(rng.uniform(math.log(5), math.log(1000), count))
    loss = (law.E + law.A / n ** law.alpha + law.B / d ** law.beta) * np.exp(
        rng.normal(0, 0.01, count))
    return load_runs(np.column_stack([n, d, loss]))


def datasets():
    frame = pd.read_csv(GADRE)
    yield "Gadre c4_original", load_runs(frame[frame.dataset == "c4_original"],
                                         loss_col="loss_c4_val")
    yield "Gadre, all 3 datasets", load_runs(frame, loss_col="loss_c4_val")
    yield "synthetic (chinchilla + 1% noise)", synthetic(300)


def time_fast(runs, repeats=3):
    best, fit = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        fit = fit_law(runs)
        best = min(best, time.perf_counter() - start)
    return best, fit


def time_baseline(runs, starts):
    table = np.column_stack([runs.params, runs.tokens, runs.loss])
    start = time.perf_counter()
    values = [minimize(row_by_row_objective, x0, args=(table,), method="L-BFGS-B").fun
              for x0 in starts]
    return (time.perf_counter() - start) / len(starts), min(values)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-starts", type=int, default=5)
    args = parser.parse_args(argv)
    grid = hoffmann_grid()
    sample = grid[np.linspace(0, len(grid) - 1, args.baseline_starts).round().astype(int)]
    print(f"{'runs':<36}{'n':>5}{'grid fit (s)':>14}{'baseline/start (s)':>20}"
          f"{'baseline x4500 (s)':>20}{'ratio':>9}")
    for label, runs in datasets():
        fast, fit = time_fast(runs)
        per_start, _ = time_baseline(runs, sample)
        total = per_start * len(grid)
        print(f"{label:<36}{len(runs):>5}{fast:>14.3f}{per_start:>20.2f}{total:>20.0f}"
              f"{total / fast:>9.0f}")
        print(f"{'':<36}best objective {fit.objective:.6g}, {fit.n_pruned} of "
              f"{fit.n_starts} starts dropped early, {fit.n_converged} run to convergence")


if __name__ == "__main__":
    main()
