"""Time the full 4,500-start grid fit against a per-start baseline like the paper's script.

Run from the repository root: ``python benchmarks/bench_fit.py [--baseline-starts 5]
[--problems 200] [--exhaustive-sample 10]``.

Three parts. (1) The grid fit against the paper's approach, below. (2) The
Table 1 subsets of the paper's 47 runs (issue 10: <= 500 tokens/param took
9-12 s), old pruned search against the new search. (3) The recorded set of
generated problems (``tests/data/fit_optima.json``): the old pruned search
(``pruned_search.py``), the new search and the exhaustive one (every start run
to convergence; timed on a sample, its optima read from the record), with the
number of problems whose exhaustive optimum each search missed (1e-9 relative).

The baseline is what the paper's public fitting code does: Eq. 4 evaluated
row by row in Python, minimised with ``scipy.optimize.minimize(method="L-BFGS-B")``
and numerical (finite-difference) gradients, one start at a time. It is timed
on a few starts spread over the grid and extrapolated to all 4,500.
"""

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
from pruned_search import pruned_search
from scipy.optimize import minimize
from scipy.special import huber, logsumexp

from xlplan.engine.constants import DEFAULT_DELTA
from xlplan.engine.laws import LAW_PRESETS
from xlplan.fit.law import fit_law, hoffmann_grid, select_runs
from xlplan.fit.runs import load_runs
from xlplan.fit.search import exhaustive_search, make_objective, search
from xlplan.fit.synthetic import make_problem

ROOT = Path(__file__).resolve().parent.parent
GADRE = ROOT / "tests" / "data" / "gadre_overtraining_104runs.csv"
SARDANA = ROOT / "tests" / "data" / "sardana_mpt_47runs.csv"
RECORDED = ROOT / "tests" / "data" / "fit_optima.json"
DELTA = DEFAULT_DELTA
MISS = 1e-9  # relative objective above the exhaustive optimum that counts as a miss


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
    loss = (law.E + law.A / n**law.alpha + law.B / d**law.beta) * np.exp(rng.normal(0, 0.01, count))
    return load_runs(np.column_stack([n, d, loss]))


def datasets():
    frame = pd.read_csv(GADRE)
    yield (
        "Gadre c4_original",
        load_runs(frame[frame.dataset == "c4_original"], loss_col="loss_c4_val"),
    )
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
    values = [
        minimize(row_by_row_objective, x0, args=(table,), method="L-BFGS-B").fun for x0 in starts
    ]
    return (time.perf_counter() - start) / len(starts), min(values)


def timed(function, *args):
    start = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - start, out


def table1():
    """Old pruned search and the new one on the paper's Table 1 subsets."""
    print(
        f"\n{'Table 1 subset (47 runs)':<28}{'n':>4}{'old (s)':>10}{'new (s)':>10}"
        f"{'old objective':>16}{'new objective':>16}"
    )
    grid = hoffmann_grid()
    for cut in (100, 250, 500, None):
        runs, _ = select_runs(load_runs(SARDANA), cut)
        fun = make_objective(runs, DELTA)
        t_old, (_, f_old) = timed(pruned_search, fun, grid)
        t_new, new = timed(lambda fun=fun: search(fun, grid, fun.profile_starts()))
        label = "all runs" if cut is None else f"<= {cut} tokens/param"
        print(
            f"{label:<28}{len(runs):>4}{t_old:>10.2f}{t_new:>10.2f}{f_old:>16.10g}"
            f"{new.values[0]:>16.10g}"
        )


def recorded_set(count, sample):
    """Old, new and exhaustive search on the recorded problems; misses of each."""
    data = json.loads(RECORDED.read_text())
    problems = data["problems"][:count]
    grid = hoffmann_grid()
    times = {"old": [], "new": [], "exhaustive": []}
    misses = {"old": [], "new": []}
    for k, record in enumerate(problems):
        fun = make_objective(make_problem(record["index"], data["seed"]).runs, data["delta"])
        limit = record["objective"] * (1 + MISS)
        t, (_, f_old) = timed(pruned_search, fun, grid)
        times["old"].append(t)
        if f_old > limit:
            misses["old"].append((record["index"], f_old / record["objective"] - 1))
        t, new = timed(lambda fun=fun: search(fun, grid, fun.profile_starts()))
        times["new"].append(t)
        if new.values[0] > limit:
            misses["new"].append((record["index"], new.values[0] / record["objective"] - 1))
        if k < sample:
            times["exhaustive"].append(timed(exhaustive_search, fun, grid)[0])
    print(
        f"\nrecorded set: {len(problems)} problems, 8-300 runs "
        f"(exhaustive timed on the first {min(sample, len(problems))})"
    )
    print(f"{'search':<12}{'median (s)':>12}{'max (s)':>10}{'total (s)':>11}{'misses':>8}")
    for name, values in times.items():
        missed = "-" if name == "exhaustive" else str(len(misses[name]))
        print(
            f"{name:<12}{np.median(values):>12.3f}{max(values):>10.3f}"
            f"{sum(values):>11.1f}{missed:>8}"
        )
    gaps = sorted(gap for _, gap in misses["old"])
    if gaps:
        print(
            f"old search misses: {len(gaps)} of {len(problems)}, objective above the "
            f"optimum by {gaps[0]:.1e} to {gaps[-1]:.1e} (median {np.median(gaps):.1e})"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-starts", type=int, default=5)
    parser.add_argument("--problems", type=int, default=200)
    parser.add_argument("--exhaustive-sample", type=int, default=10)
    args = parser.parse_args(argv)
    grid = hoffmann_grid()
    sample = grid[np.linspace(0, len(grid) - 1, args.baseline_starts).round().astype(int)]
    print(
        f"{'runs':<36}{'n':>5}{'grid fit (s)':>14}{'baseline/start (s)':>20}"
        f"{'baseline x4500 (s)':>20}{'ratio':>9}"
    )
    for label, runs in datasets():
        fast, fit = time_fast(runs)
        per_start, _ = time_baseline(runs, sample)
        total = per_start * len(grid)
        print(
            f"{label:<36}{len(runs):>5}{fast:>14.3f}{per_start:>20.2f}{total:>20.0f}"
            f"{total / fast:>9.0f}"
        )
        print(
            f"{'':<36}best objective {fit.objective:.6g}, {fit.n_pruned} of "
            f"{fit.n_starts} starts dropped early, {fit.n_converged} run to convergence"
        )
    table1()
    recorded_set(args.problems, args.exhaustive_sample)


if __name__ == "__main__":
    main()
