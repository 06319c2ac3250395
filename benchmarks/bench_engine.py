"""Speed of the compute-optimal solver, against the paper's approach, in one process.

    python benchmarks/bench_engine.py [--pairs 1000000] [--baseline-pairs 2000]

Measures on the same random (loss, demand) pairs:
  * the vectorised solve of all pairs in one call (target >= 5 million solves/s);
  * a single scalar call, as Excel makes once per cell (target < 30 us);
  * the baseline: one scipy.optimize.newton call per pair from D = 1e8 with no
    derivative (the paper's public code), on a subsample, reported per solve;
  * one cell of every Excel function that sizes a plan, called as Excel calls it
    (one float per argument), per call and as a ratio to the baseline (target
    < 15 us and >= 30x).
Prints the ratios. Best of several repeats, because the machine is shared.
"""

import argparse
import math
import warnings

import numpy as np
from scipy.optimize import newton
from timing import best_time

import xlplan
from xlplan import udfs

# One cell of each Excel function that sizes a plan, on ordinary inputs.
CELLS = {
    "OPT_PARAMS": (2.1, 1e12),
    "CHINCHILLA_OPT": (2.1,),
    "COST_OPT": (2.1, 1e9),
    "COST_OPT_PV": (2.1, [[1e8] * 12]),
    "BEST_FOR_FLOPS": (1e23, 2e12),
    "BEST_FOR_BUDGET": (1e6, 1e9),
    "LOSS_AT_BUDGET": (7e9, 1e23, 2e12),
    "ROBUST_OPT": (2.1, [[1e8, 1e9, 1e10]]),
    "BREAKEVEN_REQUESTS": (2.1, 0.5, 1.5),
}
CELL_TARGET_US = 15.0
CELL_TARGET_RATIO = 30.0


def cell_times(baseline_call, repeats, calls=2000, baseline_calls=100):
    """Seconds per call of each function in CELLS, and of the baseline measured beside it.

    The machine is shared and its load drifts: each function is timed right after a
    slice of the baseline, round after round, and each keeps its best round, so a
    ratio compares two timings taken under the same load.
    """
    times = {}
    for name, args in CELLS.items():
        function = getattr(udfs, name)
        value = function(*args)
        if isinstance(value, str):  # a CellError: the benchmark's inputs must be valid
            raise SystemExit(f"{name}{args} gave {value}")
        ours = theirs = math.inf
        for _ in range(repeats):
            theirs = min(
                theirs,
                best_time(lambda: [baseline_call(i) for i in range(baseline_calls)], 1)
                / baseline_calls,
            )
            ours = min(
                ours, best_time(lambda f=function, a=args: [f(*a) for _ in range(calls)], 1) / calls
            )
        times[name] = ours, theirs
    return times


def paper_style_tokens(law, loss, demand):
    """Eq. 12 solved as the paper's public code does: secant from D = 1e8."""
    b, e, alpha, beta = law.B, law.E, law.alpha, law.beta

    def foc(d):
        return (
            (e - loss)
            + (beta * b / alpha + b) * d**-beta
            + demand * beta * b / (3 * alpha) * d ** (-beta - 1)
        )

    with warnings.catch_warnings():  # its "Tolerance reached" warnings: counted, not printed
        warnings.simplefilter("ignore", RuntimeWarning)
        root, result = newton(foc, 1e8, full_output=True, disp=False)
    return root if result.converged else math.nan


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--baseline-pairs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    law = xlplan.get_law("chinchilla")
    rng = np.random.default_rng(0)
    loss = rng.uniform(1.8, 3.0, args.pairs)
    demand = 10 ** rng.uniform(9, 15, args.pairs)

    vector = best_time(lambda: xlplan.compute_optimal(loss, demand), args.repeats)
    rate = args.pairs / vector

    scalar_loss, scalar_demand = float(loss[0]), float(demand[0])
    calls = 20000
    scalar = (
        best_time(
            lambda: [xlplan.compute_optimal(scalar_loss, scalar_demand) for _ in range(calls)],
            args.repeats,
        )
        / calls
    )

    sample = range(args.baseline_pairs)
    baseline = (
        best_time(
            lambda: [paper_style_tokens(law, loss[i], demand[i]) for i in sample],
            max(1, args.repeats // 2),
        )
        / args.baseline_pairs
    )
    ours = xlplan.compute_optimal(loss[: args.baseline_pairs], demand[: args.baseline_pairs])
    theirs = np.array([paper_style_tokens(law, loss[i], demand[i]) for i in sample])
    failed = np.isnan(theirs)
    agreement = np.max(np.abs(theirs[~failed] / ours.optimal.tokens[~failed] - 1))

    print(
        f"vectorised: {args.pairs:,} solves in {vector * 1e3:.1f} ms = "
        f"{rate / 1e6:.2f} million solves/s (target >= 5)"
    )
    print(f"scalar call: {scalar * 1e6:.1f} us (target < 30)")
    print(f"baseline scipy.optimize.newton per pair: {baseline * 1e6:.1f} us per solve")
    print(f"ratio baseline / vectorised per solve: {baseline * rate:,.0f}x")
    print(f"ratio baseline / scalar call: {baseline / scalar:.1f}x")
    print(
        f"baseline failed to converge on {failed.sum()} of {failed.size} pairs; "
        f"xlplan converged on all"
    )
    print(f"largest relative difference in tokens where the baseline converged: {agreement:.1e}")
    print(
        f"Excel cells (one float per argument; target < {CELL_TARGET_US:g} us and "
        f">= {CELL_TARGET_RATIO:g}x the baseline per solve):"
    )

    def baseline_call(i):
        return paper_style_tokens(law, loss[i], demand[i])

    for name, (seconds, beside) in cell_times(baseline_call, args.repeats).items():
        ratio = beside / seconds
        # The ratio is the verdict: on a shared machine the microseconds follow the load
        # (the baseline beside each function shows how loaded the machine was).
        print(
            f"  {name:<20} {seconds * 1e6:6.1f} us  {ratio:5.1f}x  (baseline beside it "
            f"{beside * 1e6:.0f} us)  {'ok' if ratio >= CELL_TARGET_RATIO else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
