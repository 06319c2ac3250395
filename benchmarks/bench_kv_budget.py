"""Speed of KV-aware budget buys, against a per-scenario scipy minimisation.

    python benchmarks/bench_kv_budget.py [--scenarios 10000] [--baseline-scenarios 200]

Random (dollars, requests, context) scenarios on an H100 at batch 32 (fp8 weights and
cache). Measures, in this process:
  * xlplan: kv_best_for_budget on all scenarios in one vectorised call;
  * baseline: per scenario, scipy.optimize.brentq for N_max (where serving alone spends
    the budget), then scipy.optimize.minimize_scalar (bounded, xatol 1e-10) on the loss
    along the budget over log N in (log N_max - 25, log N_max), the serving dollars
    evaluated with the same engine function, on a subset (time per scenario scaled up).
Prints the time per scenario of each, their ratio and the largest relative gap of the
two minimum losses (the baseline's minus ours, over ours: positive where scipy is worse).
"""

import argparse
import math

import numpy as np
from scipy.optimize import brentq, minimize_scalar
from timing import best_time

from xlplan.engine.deploy.kv_budget import kv_best_for_budget
from xlplan.engine.deploy.kv_sizing import kv_request_cost
from xlplan.engine.hardware import get_hardware
from xlplan.engine.laws import get_law

HARDWARE, BATCH = "h100", 32


def scenarios(count, seed=24):
    rng = np.random.default_rng(seed)
    return (
        10 ** rng.uniform(5, 9, count),
        10 ** rng.uniform(6, 12, count),
        rng.uniform(512, 32768, count),
    )


def scipy_minimum(law, hw, dollars, requests, context):
    k_train = 6 * hw.train_cost_per_flop

    def serving(x):
        n = math.exp(x)
        return float(
            kv_request_cost(n, hw, requests, 70.0, 215.0, BATCH, context, hw.bytes_per_weight, 1.0)
        )

    top = brentq(lambda x: math.log(serving(x)) - math.log(dollars), -20.0, 60.0, xtol=1e-13)

    def loss(x):
        n = math.exp(x)
        tokens = (dollars - serving(x)) / (k_train * n)
        return law.plain_loss(n, tokens) if tokens > 0 else math.inf

    found = minimize_scalar(
        loss, bounds=(top - 25.0, top - 1e-12), method="bounded", options={"xatol": 1e-10}
    )
    return found.fun


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--baseline-scenarios", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    law, hw = get_law("chinchilla"), get_hardware(HARDWARE)
    dollars, requests, context = scenarios(args.scenarios)

    def ours_call():
        return kv_best_for_budget(
            dollars, requests, hardware=HARDWARE, batch=BATCH, context=context
        )

    ours = best_time(ours_call, args.repeats)
    plan = ours_call()
    m = min(args.baseline_scenarios, args.scenarios)
    minima = []
    baseline = best_time(
        lambda: minima.__setitem__(
            slice(None),
            [scipy_minimum(law, hw, dollars[i], requests[i], context[i]) for i in range(m)],
        ),
        1,
    )
    gap = (np.array(minima) - plan.loss[:m]) / plan.loss[:m]
    per_ours, per_scipy = ours / args.scenarios, baseline / m
    print(
        f"xlplan, {args.scenarios:,} scenarios in one call: {ours:.3f} s "
        f"({per_ours * 1e6:.1f} us per scenario)"
    )
    print(
        f"scipy brentq + minimize_scalar, {m} scenarios one by one: {baseline:.3f} s "
        f"({per_scipy * 1e6:.1f} us per scenario)"
    )
    print(f"ratio (scipy / xlplan, per scenario): {per_scipy / per_ours:.0f}x")
    print(f"largest (scipy - xlplan) / xlplan loss: {gap.max():.2e}; smallest: {gap.min():.2e}")


if __name__ == "__main__":
    main()
