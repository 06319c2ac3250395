"""Speed of PV-optimal sizing under a launch deadline, against a per-scenario loop.

    python benchmarks/bench_launch.py [--scenarios 10000] [--months 36]

Each scenario has its own target loss, launch ramp, deadline (60-400 days), H100 cluster
(the fewest GPUs that reach its loss in time, times 1 to 20, so both bindings occur),
discount rate (5-30%) and price change (-40% to +10% a year). Measures one vectorised
call of ``cost_optimal_launch`` against the baseline, a Python loop calling it once per
scenario; checks both give the same models and prints the ratio. Best of several
repeats, because the machine is shared.
"""

import argparse
import math
import time

import numpy as np

from xlplan.engine.deploy.training import gpus_for_deadline
from xlplan.engine.money.launch import cost_optimal_launch
from xlplan.engine.money.schedule import demand_ramp
from xlplan.engine.paper.chinchilla import chinchilla_from_loss


def best_time(function, repeats):
    best, result = math.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def scenarios(count, months, seed=0):
    rng = np.random.default_rng(seed)
    losses = rng.uniform(1.9, 2.6, count)
    first = 10 ** rng.uniform(6, 9, count)
    ramps = demand_ramp(
        first, rng.uniform(0.0, 0.4, count), months, first * 10 ** rng.uniform(0, 2.5, count)
    )
    deadlines = rng.uniform(60, 400, count)
    chin = chinchilla_from_loss(losses)
    fewest = gpus_for_deadline(chin.params, chin.tokens, deadlines, "h100").gpus
    gpus = np.ceil(fewest * rng.uniform(1, 20, count))
    return (
        losses,
        ramps,
        deadlines,
        gpus,
        rng.uniform(0.05, 0.3, count),
        rng.uniform(-0.4, 0.1, count),
    )


def call(args):
    return cost_optimal_launch(*args, hardware="h100")


def loop(args):
    return [call(tuple(a[k] for a in args)) for k in range(len(args[0]))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    data = scenarios(args.scenarios, args.months)
    scalars = tuple([float(v) for v in a] if a.ndim == 1 else list(a) for a in data)
    vector, plan = best_time(lambda: call(data), args.repeats)
    baseline, plans = best_time(lambda: loop(scalars), 2)
    params = np.array([p.params for p in plans])
    worst = float(np.max(np.abs(plan.params / params - 1)))
    deadline = float(np.mean(plan.binding == "deadline"))
    print(f"{args.scenarios:,} scenarios x {args.months} months, sizing under a launch deadline")
    print(f"  vectorised, one call: {vector * 1e3:8.1f} ms   (deadline binds in {deadline:.0%})")
    print(
        f"  per-scenario loop:    {baseline * 1e3:8.1f} ms   "
        f"({baseline / args.scenarios * 1e6:.0f} us per scenario)"
    )
    print(f"  ratio:                {baseline / vector:8.0f}x")
    print(f"  largest relative difference in params between the two: {worst:.1e}")


if __name__ == "__main__":
    main()
