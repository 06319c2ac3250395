"""The fit search as it was before issue 18, kept as the benchmark's baseline.

Every start takes 3 batched L-BFGS steps, the best 256 take 20 more, the best
32 run to convergence and the best 4 distinct end points are polished with
scipy's L-BFGS-B (40,000 evaluations at most, restarted while it gains). No
bounds: an end point may be an invalid law. It missed the exhaustive optimum
on many generated problems (``bench_fit.py`` counts them).
"""

import numpy as np
from scipy.optimize import minimize

from xlplan.fit.lbfgs import BatchState, batch_lbfgs
from xlplan.fit.search import BATCH_FTOL, BATCH_GTOL, BATCH_MAX_ITER, distinct

FIRST_ITERATIONS, KEEP_AFTER_FIRST = 3, 256
SECOND_ITERATIONS, KEEP_TO_CONVERGENCE = 20, 32
POLISH_COUNT = 4
POLISH_OPTIONS = {"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20000, "maxfun": 40000}
POLISH_RESTARTS, POLISH_GAIN = 5, 1e-13


def _polish(fun, x0):
    x, f = np.asarray(x0, dtype=np.float64), float(fun(np.asarray(x0, dtype=np.float64))[0])
    for _ in range(POLISH_RESTARTS):
        result = minimize(fun, x, jac=True, method="L-BFGS-B", options=POLISH_OPTIONS)
        gained = f - float(result.fun)
        if gained > 0:
            x, f = result.x, float(result.fun)
        if gained <= POLISH_GAIN * abs(f):
            break
    return x, f


def pruned_search(fun, starts):
    """(best x, best objective) of the old pruned search."""
    state = BatchState.start(fun, starts)
    schedule = (
        (FIRST_ITERATIONS, KEEP_AFTER_FIRST),
        (SECOND_ITERATIONS, KEEP_TO_CONVERGENCE),
        (BATCH_MAX_ITER, None),
    )
    for iterations, keep in schedule:
        batch_lbfgs(fun, state, iterations, BATCH_FTOL, BATCH_GTOL)
        if keep is not None and len(state.f) > keep:
            state.take(np.argsort(state.f, kind="stable")[:keep])
    ends, values = state.x.copy(), state.f.copy()
    picked = []
    for i in np.argsort(values, kind="stable"):
        if len(picked) == POLISH_COUNT:
            break
        if all(distinct(ends[i], ends[j]) for j in picked):
            picked.append(i)
    for i in picked:
        x, f = _polish(fun, ends[i])
        if f <= values[i]:
            ends[i], values[i] = x, f
    best = int(np.argmin(values))
    return ends[best], float(values[best])
