"""Multi-start minimisation of the Eq. 4 objective: the 4,500-point grid, run together.

All starts take L-BFGS steps at once (:mod:`xlplan.fit.lbfgs`, one vectorised
numpy pass per step, blocks of starts on threads), only the best
``KEEP_AFTER_FIRST`` are carried on after ``FIRST_ITERATIONS`` steps and the
best ``KEEP_TO_CONVERGENCE`` after ``SECOND_ITERATIONS`` more; those run to
convergence and the best distinct end points are polished with
``scipy.optimize.minimize(method="L-BFGS-B")`` to a tight tolerance. The tests
check on real data that this reaches the optimum of running every start to
convergence.
"""

import itertools
import os

import numpy as np
from scipy.optimize import minimize

from ..engine.errors import InvalidTypeError, InvalidValueError
from ..engine.parallel import map_blocks
from .lbfgs import BatchState, batch_lbfgs
from .objective import LOG_PARAMETER_NAMES, objective_and_gradient

__all__ = ["HOFFMANN_AXES", "hoffmann_grid", "check_grid", "make_objective", "search",
           "distinct", "BATCH_MAX_ITER", "BATCH_FTOL", "BATCH_GTOL"]

HOFFMANN_AXES = {  # Hoffmann et al. 2022, D.2: 6 * 6 * 5 * 5 * 5 = 4,500 starts
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}
FIRST_ITERATIONS = 3        # batched L-BFGS steps every start takes
KEEP_AFTER_FIRST = 256      # starts carried on after those steps (ranked by objective)
SECOND_ITERATIONS = 20
KEEP_TO_CONVERGENCE = 32    # starts run to convergence; also used for the diagnostics
BATCH_MAX_ITER = 3000
BATCH_FTOL = 1e-10          # relative decrease per step at which a batched start stops
BATCH_GTOL = 1e-12
POLISH_COUNT = 4            # distinct end points polished with scipy
POLISH_OPTIONS = {"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20000, "maxfun": 40000}
POLISH_RESTARTS = 5         # L-BFGS-B restarted (fresh memory) while it still gains
POLISH_GAIN = 1e-13         # relative decrease below which a restart is not repeated
DISTINCT_LOG = 0.1          # end points differing by more than this in a, b or e ...
DISTINCT_EXPONENT = 0.01    # ... or this in alpha or beta are different optima
BLOCK_ELEMENTS = 65536      # starts x runs evaluated per numpy pass (fits in cache)
MAX_THREADS = 4             # threads evaluating blocks of starts in parallel


def hoffmann_grid(axes=None):
    """Starting points (S, 5) in log space (a, b, e, alpha, beta), the product of ``axes``."""
    axes = HOFFMANN_AXES if axes is None else axes
    return np.array(list(itertools.product(*(axes[k] for k in LOG_PARAMETER_NAMES))), float)


def make_objective(runs, delta, weights=None):
    """``fun(x, ids=None) -> (f, g)`` on these runs.

    Row ``i`` of a batch is weighted by ``weights[ids[i]]`` (bootstrap draw counts).
    """
    log_n, log_d, log_loss = np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)
    block = max(1, BLOCK_ELEMENTS // len(log_n))

    def one(x, ids):
        w = None if weights is None else weights[ids]
        return objective_and_gradient(x, log_n, log_d, log_loss, delta, w)

    def fun(x, ids=None):
        if x.ndim == 1 or len(x) <= block:
            return one(x, ids)
        # numpy releases the GIL inside each array pass; one thread in Pyodide
        parts = map_blocks(
            lambda i: one(x[i:i + block], None if ids is None else ids[i:i + block]),
            range(0, len(x), block), min(MAX_THREADS, os.cpu_count() or 1), "xlplan-fit")
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return fun


def _best_rows(f, count):
    order = np.argsort(f, kind="stable")
    return order[:count]


def distinct(x, y):
    """True when two log-space points are different optima, not the same one twice."""
    gap = np.abs(np.asarray(x) - np.asarray(y))
    return bool(gap[:3].max() > DISTINCT_LOG or gap[3:].max() > DISTINCT_EXPONENT)


def _polish(fun, x0):
    """scipy's L-BFGS-B to a tight tolerance, restarted while it still decreases f.

    In the flat valleys of a poorly identified fit L-BFGS-B can stop (line search
    failure) well before the floor; a restart with fresh memory carries on.
    """
    x, f = np.asarray(x0, dtype=np.float64), float(fun(np.asarray(x0, dtype=np.float64))[0])
    for _ in range(POLISH_RESTARTS):
        result = minimize(fun, x, jac=True, method="L-BFGS-B", options=POLISH_OPTIONS)
        gained = f - float(result.fun)
        if gained > 0:
            x, f = result.x, float(result.fun)
        if gained <= POLISH_GAIN * abs(f):
            break
    return x, f


def search(fun, starts, polish_count=POLISH_COUNT):
    """Minimise ``fun`` from every start; return (ends, values, n_pruned, n_converged).

    ``ends`` (sorted best first) are the end points of the starts carried to
    convergence, the best ``polish_count`` distinct ones polished with scipy.
    """
    state = BatchState.start(fun, starts)
    schedule = ((FIRST_ITERATIONS, KEEP_AFTER_FIRST), (SECOND_ITERATIONS, KEEP_TO_CONVERGENCE),
                (BATCH_MAX_ITER, None))
    for iterations, keep in schedule:
        batch_lbfgs(fun, state, iterations, BATCH_FTOL, BATCH_GTOL)
        if keep is not None and len(state.f) > keep:
            state.take(_best_rows(state.f, keep))
    ends, values = state.x.copy(), state.f.copy()
    picked = []
    for i in _best_rows(values, len(values)):
        if len(picked) == polish_count:
            break
        if all(distinct(ends[i], ends[j]) for j in picked):
            picked.append(i)
    for i in picked:
        x, f = _polish(fun, ends[i])
        if f <= values[i]:
            ends[i], values[i] = x, f
    order = _best_rows(values, len(values))
    return ends[order], values[order], len(starts) - len(values), int(state.converged.sum())


def check_grid(grid):
    if grid is None:
        return hoffmann_grid()
    if isinstance(grid, dict):
        missing = [k for k in LOG_PARAMETER_NAMES if k not in grid]
        if missing:
            raise InvalidTypeError(f"grid is missing axes {', '.join(missing)}: give values "
                                   f"for each of {', '.join(LOG_PARAMETER_NAMES)}",
                                   argument="grid", value=None)
        grid = hoffmann_grid({k: np.atleast_1d(grid[k]).tolist() for k in LOG_PARAMETER_NAMES})
    starts = np.asarray(grid, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != 5 or not len(starts):
        raise InvalidTypeError(f"grid must have shape (starts, 5) for (a, b, e, alpha, beta); "
                               f"got {starts.shape}", argument="grid", value=None)
    if not np.isfinite(starts).all():
        raise InvalidValueError("grid has non-finite starting points", argument="grid",
                                value=None)
    return starts
