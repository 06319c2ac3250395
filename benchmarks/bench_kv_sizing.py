"""Speed of KV-aware cost-optimal sizing, against a per-scenario scipy minimisation.

    python benchmarks/bench_kv_sizing.py [--scenarios 10000] [--baseline-scenarios 200]

Random (loss, requests, context) scenarios on an H100 at batch 32 (fp8 weights and
cache). Measures, in this process:
  * xlplan: kv_cost_optimal on all scenarios in one vectorised call;
  * baseline: per scenario, scipy.optimize.minimize_scalar (bounded, xatol 1e-10) on
    the same lifetime cost over log N in (log N_min, log N_chin], the cost evaluated
    with the same engine functions, on a subset (time per scenario scaled up).
Prints the time per scenario of each, their ratio and the largest relative gap of the
two minima (the baseline's minus ours, over ours: positive where scipy is worse).

Then the KV-aware Excel cells (COST_OPT_KV, COST_OPT_PV_KV, BEST_FOR_BUDGET_KV), one
float per argument as Excel passes them: time per cell on the float path
(:mod:`xlplan.engine.deploy.kv_scalar`) and on the array path (the same cell with the
float path switched off), timed round after round under the same load, and their ratio
(target < 300 us and >= 20x); the two paths' answers must be equal.
"""

import argparse
import contextlib
import math

import numpy as np
from scipy.optimize import minimize_scalar
from timing import best_time

from xlplan import udfs
from xlplan.engine.deploy import kv_scalar
from xlplan.engine.deploy.kv_sizing import kv_cost_optimal, kv_request_cost
from xlplan.engine.hardware import get_hardware
from xlplan.engine.laws import get_law
from xlplan.engine.paper.solver import chinchilla_point

HARDWARE, BATCH = "h100", 32
# One cell of each KV-aware sizing function, on ordinary inputs (context 4,096 tokens).
KV_CELLS = {
    "COST_OPT_KV": (2.1, 1e9, 4096.0),
    "COST_OPT_PV_KV": (2.1, [[1e8] * 12], 4096.0),
    "BEST_FOR_BUDGET_KV": (1e6, 1e9, 4096.0),
}
KV_CELL_TARGET_US, KV_CELL_TARGET_RATIO = 300.0, 20.0


def scenarios(count, seed=24):
    rng = np.random.default_rng(seed)
    return (
        rng.uniform(1.9, 2.6, count),
        10 ** rng.uniform(6, 12, count),
        rng.uniform(512, 32768, count),
    )


def scipy_minimum(law, hw, loss, requests, context):
    gap = loss - law.E
    n_min = (law.A / gap) ** (1 / law.alpha)
    _, n_chin = chinchilla_point(law, gap)

    def cost(x):
        n = math.exp(x)
        tokens = (law.B / (gap - law.A / n**law.alpha)) ** (1 / law.beta)
        inference = kv_request_cost(
            n, hw, requests, 70.0, 215.0, BATCH, context, hw.bytes_per_weight, 1.0
        )
        return 6 * hw.train_cost_per_flop * n * tokens + float(inference)

    found = minimize_scalar(
        cost,
        bounds=(math.log(n_min) + 1e-12, math.log(n_chin)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return found.fun


@contextlib.contextmanager
def array_path():
    """The cells' searches on the array path: the float path switched off."""
    saved = kv_scalar.cost_search, kv_scalar.budget_search
    kv_scalar.cost_search = kv_scalar.budget_search = lambda *args: None
    try:
        yield
    finally:
        kv_scalar.cost_search, kv_scalar.budget_search = saved


def kv_cell_times(repeats, calls=200, array_calls=20):
    """Seconds per cell of each KV cell, float path and array path, best round of each."""
    times = {}
    for name, args in KV_CELLS.items():
        function = getattr(udfs, name)
        value = function(*args)
        with array_path():
            if function(*args) != value:
                raise SystemExit(f"{name}{args}: the float path gave {value}, the array path not")
        ours = theirs = math.inf
        for _ in range(repeats):
            with array_path():
                theirs = min(
                    theirs,
                    best_time(lambda f=function, a=args: [f(*a) for _ in range(array_calls)], 1)
                    / array_calls,
                )
            ours = min(
                ours, best_time(lambda f=function, a=args: [f(*a) for _ in range(calls)], 1) / calls
            )
        times[name] = ours, theirs
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=10_000)
    parser.add_argument("--baseline-scenarios", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    law, hw = get_law("chinchilla"), get_hardware(HARDWARE)
    loss, requests, context = scenarios(args.scenarios)
    ours = best_time(
        lambda: kv_cost_optimal(loss, requests, hardware=HARDWARE, batch=BATCH, context=context),
        args.repeats,
    )
    plan = kv_cost_optimal(loss, requests, hardware=HARDWARE, batch=BATCH, context=context)
    m = min(args.baseline_scenarios, args.scenarios)
    minima = []
    baseline = best_time(
        lambda: minima.__setitem__(
            slice(None),
            [scipy_minimum(law, hw, loss[i], requests[i], context[i]) for i in range(m)],
        ),
        1,
    )
    gap = (np.array(minima) - plan.optimal.total[:m]) / plan.optimal.total[:m]
    per_ours, per_scipy = ours / args.scenarios, baseline / m
    print(
        f"xlplan, {args.scenarios:,} scenarios in one call: {ours:.3f} s "
        f"({per_ours * 1e6:.1f} us per scenario)"
    )
    print(
        f"scipy minimize_scalar, {m} scenarios one by one: {baseline:.3f} s "
        f"({per_scipy * 1e6:.1f} us per scenario)"
    )
    print(f"ratio (scipy / xlplan, per scenario): {per_scipy / per_ours:.0f}x")
    print(f"largest (scipy - xlplan) / xlplan minimum: {gap.max():.2e}; smallest: {gap.min():.2e}")
    print(
        f"KV-aware Excel cells (one float per argument; target < {KV_CELL_TARGET_US:g} us and "
        f">= {KV_CELL_TARGET_RATIO:g}x the array path's time per cell, same answers):"
    )
    for name, (seconds, beside) in kv_cell_times(args.repeats).items():
        ratio = beside / seconds
        verdict = "ok" if ratio >= KV_CELL_TARGET_RATIO else "MISSED"
        print(
            f"  {name:<20} {seconds * 1e6:6.0f} us  {ratio:5.1f}x  (array path beside it "
            f"{beside * 1e6:.0f} us)  {verdict}"
        )


if __name__ == "__main__":
    main()
