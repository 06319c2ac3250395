"""Time ROBUST_OPT and PLAN_INTERVAL against the obvious baselines, in the same process.

Run from the repository root: ``python benchmarks/bench_ranges.py [--baseline-resamples 10]``.

* ``ROBUST_OPT`` over 5 demand scenarios (the Excel function, closed form) against
  a grid of 10,000 training-token counts D along the loss constraint, taking the
  grid point with the least worst-case regret over the scenarios.
* ``PLAN_INTERVAL`` with 200 resamples on the 104 runs of Gadre et al. (every
  refit starts from the full fit's distinct optima, 50 resamples at a time)
  against refitting each resample from the full 4,500-start grid with
  ``fit_law``; the baseline is timed on ``--baseline-resamples`` resamples and
  extrapolated to 200.
"""

import argparse
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import xlplan
from xlplan import udfs
from xlplan.excel import risk_functions
from xlplan.fit.law import fit_law
from xlplan.fit.runs import load_runs

ROOT = Path(__file__).resolve().parent.parent
GADRE = ROOT / "tests" / "data" / "gadre_overtraining_104runs.csv"
LOSS, SCENARIOS, HARDWARE = 2.1, [5e8, 2e9, 7e9, 3e10, 1e11], "paper-a100"
GRID_POINTS = 10_000
RESAMPLES, INF_TOKENS, TARGET = 200, 1e13, 2.0


def grid_robust(loss, scenarios, hardware=None, law=None):
    """Baseline: the least worst-case regret over 10,000 values of D on the constraint."""
    law = xlplan.get_law(law)
    best = xlplan.cost_optimal(loss, np.asarray(scenarios), hardware=hardware, law=law).optimal
    chinchilla = xlplan.chinchilla_from_loss(loss, law)
    # D from just above the smallest feasible count to 1,000x the Chinchilla tokens
    smallest = (law.B / (loss - law.E)) ** (1 / law.beta)
    tokens = np.geomspace(smallest * 1.0001, 1000 * chinchilla.tokens, GRID_POINTS)
    params = (law.A / (loss - law.E - law.B / tokens**law.beta)) ** (1 / law.alpha)
    cost = xlplan.lifetime_cost(
        params[:, None], tokens[:, None], np.asarray(scenarios)[None], hardware=hardware
    ).total
    worst = (cost - best.total[None, :]).max(axis=1)
    i = int(np.argmin(worst))
    return params[i], tokens[i], worst[i]


def per_call(function, repeats=7, number=200):
    """Median over ``repeats`` of the mean time of ``number`` calls, seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            function()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def bench_robust():
    row = [SCENARIOS]
    ours = per_call(lambda: udfs.ROBUST_OPT(LOSS, row, None, None, HARDWARE))
    base = per_call(lambda: grid_robust(LOSS, SCENARIOS, HARDWARE), number=20)
    params, tokens, regret = udfs.ROBUST_OPT(LOSS, row, None, None, HARDWARE)[0]
    g_params, _, g_regret = grid_robust(LOSS, SCENARIOS, HARDWARE)
    print(
        f"ROBUST_OPT, {len(SCENARIOS)} scenarios: {ours * 1e3:.3f} ms per call "
        f"(target < 5 ms); grid of {GRID_POINTS:,} D: {base * 1e3:.2f} ms per call; "
        f"ratio {base / ours:.0f}x"
    )
    print(
        f"  robust plan {params:.6g} params, {tokens:.6g} tokens, worst regret ${regret:,.0f};"
        f" grid {g_params:.6g} params (off by {abs(g_params / params - 1):.1e}), "
        f"worst regret ${g_regret:,.0f} ({g_regret / regret - 1:+.1e})"
    )


def bench_interval(baseline_resamples):
    frame = pd.read_csv(GADRE)
    runs = load_runs(frame, loss_col="loss_c4_val")
    rows = [["params", "tokens", "loss"]] + frame[
        ["params", "tokens", "loss_c4_val"]
    ].values.tolist()
    times = []
    for _ in range(3):
        risk_functions._interval.cache_clear()
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = udfs.PLAN_INTERVAL(rows, TARGET, INF_TOKENS, None, RESAMPLES, 0)
        times.append(time.perf_counter() - start)
    ours = min(times)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(baseline_resamples):
        pick = rng.integers(0, len(runs), len(runs))
        fit_law(np.column_stack([runs.params[pick], runs.tokens[pick], runs.loss[pick]]))
    each = (time.perf_counter() - start) / baseline_resamples
    print(
        f"PLAN_INTERVAL, {RESAMPLES} resamples on {len(runs)} runs: {ours:.2f} s "
        f"(best of 3, cold cache; target < 10 s); full 4,500-start grid refit: "
        f"{each:.3f} s per resample x {RESAMPLES} = {each * RESAMPLES:.1f} s "
        f"(timed on {baseline_resamples}, extrapolated); ratio {each * RESAMPLES / ours:.0f}x"
    )
    labels = ("low", "median", "high")
    for label, (params, tokens, flops) in zip(labels, result, strict=True):
        print(f"  {label:>6}: {params:.3e} params, {tokens:.3e} tokens, {flops:.3e} FLOPs")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-resamples", type=int, default=10)
    args = parser.parse_args(argv)
    bench_robust()
    bench_interval(args.baseline_resamples)


if __name__ == "__main__":
    main()
