"""Speed of present-value-optimal sizing over monthly schedules, against a per-scenario loop.

    python benchmarks/bench_schedule.py [--scenarios 10000] [--months 120]

Each scenario has its own target loss, launch ramp (first month, growth, peak),
discount rate (5-20%) and price change (-40% to +10% a year). Measures:
  * one vectorised call of ``cost_optimal_pv`` on the (scenarios, months) array
    (target < 0.1 s for 10,000 x 120);
  * the baseline: a Python loop calling it once per scenario (scalar path).
Checks both give the same models and prints the ratio. Best of several repeats,
because the machine is shared.
"""

import argparse
import math
import time

import numpy as np

from xlplan.engine.money.schedule import cost_optimal_pv, demand_ramp


def best_time(function, repeats):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def scenarios(count, months, seed=0):
    rng = np.random.default_rng(seed)
    first = 10 ** rng.uniform(5, 8, count)
    ramps = demand_ramp(
        first, rng.uniform(0.0, 0.4, count), months, first * 10 ** rng.uniform(0, 2.5, count)
    )
    return (
        rng.uniform(1.9, 2.6, count),
        ramps,
        rng.uniform(0.05, 0.2, count),
        rng.uniform(-0.4, 0.1, count),
    )


def loop(losses, ramps, discount, change):
    return np.array(
        [
            cost_optimal_pv(
                float(losses[k]), ramps[k], float(discount[k]), float(change[k])
            ).optimal.params
            for k in range(len(losses))
        ]
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=120)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    losses, ramps, discount, change = scenarios(args.scenarios, args.months)
    vector, plan = best_time(lambda: cost_optimal_pv(losses, ramps, discount, change), args.repeats)
    baseline, params = best_time(lambda: loop(losses, ramps, discount, change), 2)
    worst = float(np.max(np.abs(plan.optimal.params / params - 1)))
    print(f"{args.scenarios:,} scenarios x {args.months} months, PV-optimal sizing")
    print(f"  vectorised, one call: {vector * 1e3:8.1f} ms   (target < 100 ms)")
    print(
        f"  per-scenario loop:    {baseline * 1e3:8.1f} ms   "
        f"({baseline / args.scenarios * 1e6:.0f} us per scenario)"
    )
    print(f"  ratio:                {baseline / vector:8.0f}x")
    print(f"  largest relative difference in params between the two: {worst:.1e}")


if __name__ == "__main__":
    main()
