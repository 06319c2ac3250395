"""Speed of the compute-optimal solver, against the paper's approach, in one process.

    python benchmarks/bench_engine.py [--pairs 1000000] [--baseline-pairs 2000]

Measures on the same random (loss, demand) pairs:
  * the vectorised solve of all pairs in one call (target >= 5 million solves/s);
  * a single scalar call, as Excel makes once per cell (target < 30 us);
  * the baseline: one scipy.optimize.newton call per pair from D = 1e8 with no
    derivative (the paper's public code), on a subsample, reported per solve.
Prints the ratios. Best of several repeats, because the machine is shared.
"""

import argparse
import math
import warnings

import numpy as np
from scipy.optimize import newton
from timing import best_time

import xlplan


def paper_style_tokens(law, loss, demand):
    """Eq. 12 solved as the paper's public code does: secant from D = 1e8."""
    b, e, alpha, beta = law.B, law.E, law.alpha, law.beta

    def foc(d):
        return (e - loss) + (beta * b / alpha + b) * d ** -beta + demand * beta * b / (
            3 * alpha) * d ** (-beta - 1)

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
    scalar = best_time(lambda: [xlplan.compute_optimal(scalar_loss, scalar_demand)
                                for _ in range(calls)], args.repeats) / calls

    sample = range(args.baseline_pairs)
    baseline = best_time(lambda: [paper_style_tokens(law, loss[i], demand[i]) for i in sample],
                         max(1, args.repeats // 2)) / args.baseline_pairs
    ours = xlplan.compute_optimal(loss[:args.baseline_pairs], demand[:args.baseline_pairs])
    theirs = np.array([paper_style_tokens(law, loss[i], demand[i]) for i in sample])
    failed = np.isnan(theirs)
    agreement = np.max(np.abs(theirs[~failed] / ours.optimal.tokens[~failed] - 1))

    print(f"vectorised: {args.pairs:,} solves in {vector * 1e3:.1f} ms = "
          f"{rate / 1e6:.2f} million solves/s (target >= 5)")
    print(f"scalar call: {scalar * 1e6:.1f} us (target < 30)")
    print(f"baseline scipy.optimize.newton per pair: {baseline * 1e6:.1f} us per solve")
    print(f"ratio baseline / vectorised per solve: {baseline * rate:,.0f}x")
    print(f"ratio baseline / scalar call: {baseline / scalar:.1f}x")
    print(f"baseline failed to converge on {failed.sum()} of {failed.size} pairs; "
          f"xlplan converged on all")
    print(f"largest relative difference in tokens where the baseline converged: "
          f"{agreement:.1e}")


if __name__ == "__main__":
    main()
