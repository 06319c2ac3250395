"""Speed of BEST_FOR_FLOPS on (budget, demand) pairs, against a bounded scalar minimiser.

    python benchmarks/bench_budget.py [--pairs 1000000] [--baseline-pairs 2000]

Measures on the same random pairs (budgets 1e18-1e28 FLOPs, demand 1e8-1e16 tokens):
  * the vectorised solve of all pairs in one call (target < 1 s for a million);
  * a single scalar call, as Excel makes once per cell;
  * the baseline: scipy.optimize.minimize_scalar(method="bounded") on the loss along
    the budget in log N, one call per pair, timed on a sample and extrapolated to all
    pairs (said so in the output).
Prints the ratio and the largest disagreement in N. Best of several repeats (shared machine).
"""

import argparse
import math

import numpy as np
from scipy.optimize import minimize_scalar
from timing import best_time

from xlplan.engine.laws import get_law
from xlplan.engine.money.budget import best_for_flops


def bounded_params(law, flops, demand):
    """The loss along 6 N D + 2 N T = C minimised over log N by scipy's bounded Brent."""

    def loss(x):
        n = math.exp(x)
        d = (flops - 2.0 * n * demand) / (6.0 * n)
        return law.E + law.A / n**law.alpha + law.B / d**law.beta

    top = math.log(flops / (2.0 * demand))
    result = minimize_scalar(
        loss, bounds=(top - 60.0, top - 1e-12), method="bounded", options={"xatol": 1e-10}
    )
    return math.exp(result.x)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--baseline-pairs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    law = get_law("chinchilla")
    rng = np.random.default_rng(0)
    flops = 10 ** rng.uniform(18, 28, args.pairs)
    demand = 10 ** rng.uniform(8, 16, args.pairs)

    vector = best_time(lambda: best_for_flops(flops, demand), args.repeats)
    c0, t0 = float(flops[0]), float(demand[0])
    calls = 2000
    scalar = best_time(lambda: [best_for_flops(c0, t0) for _ in range(calls)], args.repeats) / calls

    sample = range(args.baseline_pairs)
    baseline = (
        best_time(
            lambda: [bounded_params(law, flops[i], demand[i]) for i in sample],
            max(1, args.repeats // 2),
        )
        / args.baseline_pairs
    )
    ours = best_for_flops(flops[: args.baseline_pairs], demand[: args.baseline_pairs]).params
    theirs = np.array([bounded_params(law, flops[i], demand[i]) for i in sample])
    agreement = np.max(np.abs(theirs / ours - 1))

    print(
        f"vectorised: {args.pairs:,} (budget, demand) pairs in {vector * 1e3:.1f} ms "
        f"(target < 1000 ms)"
    )
    print(f"scalar call: {scalar * 1e6:.1f} us")
    print(
        f"baseline minimize_scalar(bounded) per pair: {baseline * 1e6:.1f} us, timed on "
        f"{args.baseline_pairs:,} pairs; extrapolated to {args.pairs:,}: "
        f"{baseline * args.pairs:.1f} s"
    )
    print(f"ratio baseline / vectorised, per pair: {baseline * args.pairs / vector:,.0f}x")
    print(
        f"largest relative difference in N, baseline vs xlplan: {agreement:.1e} "
        "(the baseline's xatol is 1e-10 in log N)"
    )


if __name__ == "__main__":
    main()
