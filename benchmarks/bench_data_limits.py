"""Speed of sizing with a unique-token cap, against a per-scenario scipy search, in one process.

    python benchmarks/bench_data_limits.py [--scenarios 100000] [--baseline-scenarios 200]

Measures on the same random (loss, demand, unique tokens) scenarios, all with the
cap binding (U below the uncapped optimum's tokens). One xlplan call per scenario
solves two problems: the optimal model and the Chinchilla-style one under the cap.
  * the vectorised capped solve of all scenarios in one call;
  * a single scalar call, as Excel makes once per cell;
  * the baseline: per scenario, scipy.optimize.minimize_scalar (bounded) on
    log(N (D + r)) over log D, N from the loss as in the engine: the obvious
    way to solve the problem with scipy. It solves the optimal model only.
Prints the ratios and the largest disagreement of the objective. Best of several
repeats, because the machine is shared.
"""

import argparse
import math
import warnings

import numpy as np
from scipy.optimize import minimize_scalar
from timing import best_time

import xlplan
from xlplan.engine.data.capped import capped_params
from xlplan.engine.data.data_limits import RepetitionWarning, loss_floor


def scipy_objective(law, loss, r, unique):
    """min over log D of N (D + r) by a bounded scalar search (xatol 1e-10 in log D)."""
    gap = np.array([loss - law.E])
    cap = np.array([unique])

    def objective(x):
        params = capped_params(law, gap, np.exp(np.array([x])), cap)[0]
        return math.log(params * (math.exp(x) + r)) if np.isfinite(params) else 1e300

    found = minimize_scalar(
        objective,
        bounds=(math.log(1e8), math.log(1e17)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return math.exp(found.fun)


def scenarios(count, seed=0):
    rng = np.random.default_rng(seed)
    unique = 10 ** rng.uniform(10, 13, count)
    floor = loss_floor(unique)
    loss = floor + rng.uniform(0.02, 0.8, count)
    demand = 10 ** rng.uniform(9, 14, count)
    free = xlplan.compute_optimal(loss, demand)
    binding = free.optimal.tokens > unique
    return loss[binding], demand[binding], unique[binding]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=100_000)
    parser.add_argument("--baseline-scenarios", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore", RepetitionWarning)

    law = xlplan.get_law("chinchilla")
    loss, demand, unique = scenarios(args.scenarios)
    n = loss.size
    vector = best_time(
        lambda: xlplan.compute_optimal(loss, demand, unique_tokens=unique), args.repeats
    )
    uncapped = best_time(lambda: xlplan.compute_optimal(loss, demand), args.repeats)
    one = (float(loss[0]), float(demand[0]), float(unique[0]))
    calls = 500
    scalar = (
        best_time(
            lambda: [
                xlplan.compute_optimal(one[0], one[1], unique_tokens=one[2]) for _ in range(calls)
            ],
            args.repeats,
        )
        / calls
    )

    m = min(args.baseline_scenarios, n)
    baseline = (
        best_time(
            lambda: [scipy_objective(law, loss[i], demand[i] / 3, unique[i]) for i in range(m)], 1
        )
        / m
    )
    ours = xlplan.compute_optimal(loss[:m], demand[:m], unique_tokens=unique[:m])
    ours_objective = ours.optimal.params * (ours.optimal.tokens + demand[:m] / 3)
    theirs = np.array([scipy_objective(law, loss[i], demand[i] / 3, unique[i]) for i in range(m)])
    worse = np.max(ours_objective / theirs - 1)

    print(
        f"capped, vectorised: {n:,} binding scenarios in {vector * 1e3:.0f} ms = "
        f"{n / vector / 1e3:.0f} thousand scenarios/s ({vector / uncapped:.0f}x the uncapped "
        f"solve of the same scenarios, {uncapped * 1e3:.1f} ms)"
    )
    print(f"capped, scalar call (both models): {scalar * 1e6:.0f} us")
    print(
        f"baseline scipy minimize_scalar per scenario (optimal model only): {baseline * 1e6:.0f} us"
    )
    print(f"ratio baseline / vectorised per scenario: {baseline * n / vector:,.0f}x")
    print(f"ratio baseline / scalar call: {baseline / scalar:.1f}x")
    print(
        f"objective vs baseline: ours at most {worse:+.1e} relative above it "
        f"(negative: ours is lower)"
    )


if __name__ == "__main__":
    main()
