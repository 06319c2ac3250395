"""Fitting L(N, D) = E + A / N**alpha + B / D**beta to training runs (Eq. 4).

The method of Hoffmann et al. 2022 (Appendix D.2) as used by Sardana et al.
2024 (Section 5): log-space coefficients, log-sum-exp prediction, the **sum**
of Huber losses (delta = 1e-3) of the log residuals, L-BFGS with analytic
gradients from every point of a 4,500-point grid, best end point wins.

Speed comes from running the starts together (:mod:`xlplan.batch_lbfgs`):
all 4,500 take a few L-BFGS steps in one vectorised pass per step, only the
best ``KEEP_AFTER_FIRST`` are carried on, the best ``KEEP_TO_CONVERGENCE`` are
run to convergence, and the best distinct end points are polished with
``scipy.optimize.minimize(method="L-BFGS-B")`` to a tight tolerance. The tests
check that this reaches the same optimum as running every start to convergence.
"""

import functools
import itertools
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from ._validate import is_scalar
from .batch_lbfgs import BatchState, batch_lbfgs
from .errors import InvalidTypeError, InvalidValueError
from .fit_objective import LOG_PARAMETER_NAMES, log_prediction, objective_and_gradient
from .laws import ScalingLaw
from .runs import MIN_RUNS, Runs, load_runs

__all__ = ["FitResult", "fit_law", "hoffmann_grid", "HOFFMANN_AXES", "DEFAULT_DELTA"]

DEFAULT_DELTA = 1e-3
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
SAME_OBJECTIVE = 0.01       # ... and are "nearly as good" within 1% of the best objective
BLOCK_ELEMENTS = 65536      # starts x runs evaluated per numpy pass (fits in cache)
MAX_THREADS = 4             # threads evaluating blocks of starts in parallel


def hoffmann_grid(axes=None):
    """Starting points (S, 5) in log space (a, b, e, alpha, beta), the product of ``axes``."""
    axes = HOFFMANN_AXES if axes is None else axes
    return np.array(list(itertools.product(*(axes[k] for k in LOG_PARAMETER_NAMES))), float)


@dataclass(frozen=True, eq=False)
class FitResult:
    """A fitted law and how it was found.

    Attributes
    ----------
    law : ScalingLaw
        The fitted coefficients; every engine function accepts the result itself.
    x : ndarray
        Log-space coefficients (a, b, e, alpha, beta) = (log A, log B, log E, alpha, beta).
    objective : float
        Sum over the runs used of Huber_delta(log residual).
    delta : float
    n_used : int
        Runs in the fit.
    n_skipped : int
        Rows of the source skipped as blank or non-numeric (see ``skipped_rows``).
    n_excluded : int
        Runs left out by ``max_tokens_per_param``.
    residuals : ndarray
        log(predicted loss) - log(loss) of each run used (natural log).
    warnings : tuple of str
        Plain-English signs of a poorly identified fit.
    n_starts, n_pruned, n_converged : int
        Starting points, starts dropped early for a poor objective, and starts
        carried to the end that met the convergence tolerance.
    """

    law: ScalingLaw
    x: np.ndarray
    objective: float
    delta: float
    n_used: int
    n_skipped: int
    n_excluded: int
    residuals: np.ndarray
    warnings: tuple
    n_starts: int
    n_pruned: int
    n_converged: int
    skipped_rows: tuple = ()
    max_tokens_per_param: float = None
    end_points: np.ndarray = field(default=None, repr=False)


@functools.lru_cache(maxsize=1)
def _pool():
    """Threads for blocks of starts: numpy releases the GIL inside each array pass."""
    return ThreadPoolExecutor(max_workers=min(MAX_THREADS, os.cpu_count() or 1))


def _objective(runs, delta, weights=None):
    """``fun(x, ids=None) -> (f, g)`` on these runs; row ``i`` of a batch uses ``weights[ids[i]]``."""
    log_n, log_d, log_loss = np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)
    block = max(1, BLOCK_ELEMENTS // len(log_n))

    def one(x, ids):
        w = None if weights is None else weights[ids]
        return objective_and_gradient(x, log_n, log_d, log_loss, delta, w)

    def fun(x, ids=None):
        if x.ndim == 1 or len(x) <= block:
            return one(x, ids)
        parts = list(_pool().map(
            lambda i: one(x[i:i + block], None if ids is None else ids[i:i + block]),
            range(0, len(x), block)))
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
    return fun


def _best_rows(f, count):
    order = np.argsort(f, kind="stable")
    return order[:count]


def _distinct(x, y):
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
        if all(_distinct(ends[i], ends[j]) for j in picked):
            picked.append(i)
    for i in picked:
        x, f = _polish(fun, ends[i])
        if f <= values[i]:
            ends[i], values[i] = x, f
    order = _best_rows(values, len(values))
    return ends[order], values[order], len(starts) - len(values), int(state.converged.sum())


def _check_grid(grid):
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


def _law_from(x, name, source):
    coefficients = (np.exp(x[0]), np.exp(x[1]), np.exp(x[2]), x[3], x[4])
    try:
        return ScalingLaw(*coefficients, name=name, source=source)
    except InvalidValueError as error:
        raise InvalidValueError(
            f"the best fit is not a valid law ({error}): these runs do not pin down the "
            "coefficients; add runs over a wider range of sizes and token counts",
            argument=error.argument, value=error.value) from None


def _warnings(x, law, ends, values, starts, runs):
    notes = []
    lowest = float(runs.loss.min())
    if law.E < 0.1 * lowest:
        notes.append(f"E={law.E:.3g} nats is near 0 (under a tenth of the lowest loss "
                     f"{lowest:.3g}): the irreducible loss is not identified by these runs")
    if law.E >= lowest:
        notes.append(f"E={law.E:.3g} nats is at or above the lowest loss observed "
                     f"({lowest:.3g}): the fit cannot reproduce the best runs")
    top = starts[:, 3:].max()
    for key in ("alpha", "beta"):
        value = getattr(law, key)
        if value < 0.02 or value > top:
            notes.append(f"{key}={value:.3g} is at the edge of plausibility (outside "
                         f"0.02 to {top:g}, the largest exponent in the starting grid)")
    for key, k in (("A", 0), ("B", 1)):
        if x[k] > starts[:, k].max() + 5:
            notes.append(f"{key}={np.exp(x[k]):.3g} is far beyond the starting grid "
                         f"(log {key}={x[k]:.3g} > {starts[:, k].max():g})")
    rivals = [i for i in range(1, len(values))
              if values[i] <= values[0] * (1 + SAME_OBJECTIVE) and _distinct(ends[i], ends[0])]
    if rivals:
        r = ends[rivals[0]]
        notes.append(
            f"{len(rivals)} start(s) ended at very different coefficients with an objective "
            f"within {SAME_OBJECTIVE:.0%} of the best (e.g. A={np.exp(r[0]):.4g}, "
            f"B={np.exp(r[1]):.4g}, E={np.exp(r[2]):.4g}, alpha={r[3]:.4g}, beta={r[4]:.4g}): "
            "the coefficients are poorly identified by these runs")
    return tuple(notes)


def select_runs(runs, max_tokens_per_param=None):
    """The runs to fit (a :class:`Runs`), and how many the tokens/param cut-off excluded."""
    runs = runs if isinstance(runs, Runs) else load_runs(runs)
    if max_tokens_per_param is None:
        return runs, 0
    if not is_scalar(max_tokens_per_param):
        raise InvalidTypeError(f"max_tokens_per_param={max_tokens_per_param!r} must be a "
                               "number", argument="max_tokens_per_param",
                               value=max_tokens_per_param)
    cut = float(max_tokens_per_param)
    if not cut > 0:
        raise InvalidValueError(f"max_tokens_per_param={cut:g} is out of range: it must be "
                                "a number > 0", argument="max_tokens_per_param", value=cut)
    keep = runs.tokens_per_param <= cut
    if keep.sum() < MIN_RUNS:
        raise InvalidValueError(
            f"max_tokens_per_param={cut:g} leaves {int(keep.sum())} of {len(runs)} runs: "
            f"fitting 5 coefficients needs at least {MIN_RUNS}",
            argument="max_tokens_per_param", value=cut)
    return runs.subset(keep), int((~keep).sum())


def check_delta(delta):
    if not is_scalar(delta):
        raise InvalidTypeError(f"delta={delta!r} must be a number", argument="delta",
                               value=delta)
    if not (np.isfinite(delta) and delta > 0):
        raise InvalidValueError(f"delta={delta:g} is out of range: it must be a finite "
                                "number > 0", argument="delta", value=delta)
    return float(delta)


def fit_law(runs, *, max_tokens_per_param=None, delta=DEFAULT_DELTA, grid=None, name="fitted"):
    """Fit the five coefficients of L(N, D) = E + A / N**alpha + B / D**beta (Eq. 4).

    Parameters
    ----------
    runs : Runs or anything :func:`xlplan.runs.load_runs` accepts
        Parameters N, training tokens D and final loss (nats) of each run.
    max_tokens_per_param : float, optional
        Fit only runs with D / N at most this (Table 1 uses 100, 250, 500).
    delta : float
        Huber threshold on log-loss residuals (default 1e-3, as in the paper).
    grid : dict or array_like, optional
        Starting points: a dict of axis values for a, b, e, alpha, beta, or an
        (S, 5) array of points. Default: Hoffmann's 4,500-point grid.
    name : str
        Name of the fitted law.

    Returns
    -------
    FitResult

    Examples
    --------
    >>> import numpy as np
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 3); D = N * np.tile([10, 40, 160], 4)
    >>> L = 1.7 + 400 / N**0.34 + 410 / D**0.28
    >>> fit = fit_law(np.column_stack([N, D, L]))
    >>> round(fit.law.alpha, 3), round(fit.law.beta, 3)
    (0.34, 0.28)
    """
    delta = check_delta(delta)
    base = runs if isinstance(runs, Runs) else load_runs(runs)
    used, n_excluded = select_runs(base, max_tokens_per_param)
    starts = _check_grid(grid)
    fun = _objective(used, delta)
    ends, values, n_pruned, n_converged = search(fun, starts)
    x = ends[0]
    cut = "" if max_tokens_per_param is None else f", <= {max_tokens_per_param:g} tokens/param"
    law = _law_from(x, name, f"fitted to {len(used)} runs (Eq. 4, delta={delta:g}{cut})")
    residuals = log_prediction(x, np.log(used.params), np.log(used.tokens)) - np.log(used.loss)
    return FitResult(law, x, float(values[0]), delta, len(used), len(base.skipped_rows),
                     n_excluded, residuals, _warnings(x, law, ends, values, starts, used),
                     len(starts), n_pruned, n_converged, base.skipped_rows,
                     max_tokens_per_param, ends)
