"""Bootstrap confidence intervals for fitted law coefficients (Besiroglu et al. 2024).

Resample the runs with replacement, refit, and take percentiles of each
coefficient over the refits. Each refit starts from the distinct end points
the full-data grid fit converged to (its local optima), and resamples are
refitted together: a resample is a vector of draw counts, used as weights in
the objective, so one batched L-BFGS run serves ``CHUNK`` resamples. Pass
``grid`` to restart every refit from another set of points.
"""

from dataclasses import dataclass

import numpy as np

from ..engine.args import gate
from ..engine.constants import DEFAULT_DELTA
from ..engine.laws import COEFFICIENT_NAMES
from . import search
from .args import (
    BOOTSTRAP_LEVEL,
    DELTA,
    GRID,
    LEVEL,
    MAX_RESAMPLES,
    MAX_TOKENS_PER_PARAM,
    N_RESAMPLES,
    RUNS,
    SEED,
)
from .law import fit_law, select_runs
from .lbfgs import BatchState, batch_lbfgs

__all__ = ["BootstrapResult", "bootstrap_law", "MAX_RESAMPLES"]

CHUNK = 50  # resamples refitted together in one batched L-BFGS run


@dataclass(frozen=True, eq=False)
class BootstrapResult:
    """Coefficients refitted on resampled runs.

    Attributes
    ----------
    fit : FitResult
        The fit on all runs (its ``law`` is the point estimate).
    samples : ndarray, shape (n_resamples, 5)
        (A, B, E, alpha, beta) of each refit.
    level : float
        Confidence level of ``intervals``.
    intervals : dict
        Coefficient name -> (low, high) percentile interval.
    """

    fit: object
    samples: np.ndarray
    level: float
    intervals: dict

    @property
    def law(self):
        return self.fit.law


@gate(RUNS, N_RESAMPLES, SEED, LEVEL, MAX_TOKENS_PER_PARAM, DELTA, GRID)
def bootstrap_law(
    runs,
    n_resamples,
    *,
    seed=0,
    progress=None,
    level=BOOTSTRAP_LEVEL,
    max_tokens_per_param=None,
    delta=DEFAULT_DELTA,
    grid=None,
):
    """Percentile confidence intervals of (A, B, E, alpha, beta) by resampling runs.

    Parameters
    ----------
    runs : Runs or anything :func:`xlplan.fit.runs.load_runs` accepts
    n_resamples : int
        Number of refits (2 to 100,000; 1,000 is usual).
    seed : int
        Seed of the resampling (``numpy.random.default_rng``); same seed, same result.
    progress : callable, optional
        Called as ``progress(done, total)`` after each refit.
    level : float
        Confidence level in (0, 1).
    max_tokens_per_param, delta :
        As for :func:`xlplan.fit.law.fit_law`.
    grid : optional
        Starting points of every refit; default: the full fit's distinct end points.

    Returns
    -------
    BootstrapResult

    Raises
    ------
    XlplanError
        One error naming every bad argument (``positions_by_argument``).
    """
    full = fit_law.kernel(runs, max_tokens_per_param=max_tokens_per_param, delta=delta, grid=grid)
    used, _ = select_runs.kernel(runs, max_tokens_per_param)
    starts = grid if grid is not None else _distinct_ends(full.end_points)
    rng = np.random.default_rng(seed)
    samples = np.empty((n_resamples, 5))
    for first in range(0, n_resamples, CHUNK):
        count = min(CHUNK, n_resamples - first)
        samples[first : first + count] = _refit_chunk(used, full.delta, starts, rng, count)
        if progress is not None:
            progress(first + count, n_resamples)
    tail = 50 * (1 - level)
    low, high = np.percentile(samples, [tail, 100 - tail], axis=0)
    intervals = {
        key: (float(lo), float(hi))
        for key, lo, hi in zip(COEFFICIENT_NAMES, low, high, strict=True)
    }
    return BootstrapResult(full, samples, level, intervals)


def _refit_chunk(used, delta, starts, rng, count):
    """Refit ``count`` resamples at once: each is a vector of draw counts used as weights."""
    n = len(used)
    draws = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(count)])
    k = len(starts)
    weights = np.repeat(draws.astype(float), k, axis=0)
    fun = search.make_objective(used, delta, weights=weights)
    state = BatchState.start(fun, np.tile(starts, (count, 1)), fun.lower, fun.upper)
    batch_lbfgs(fun, state, search.BATCH_MAX_ITER, search.BATCH_FTOL, search.BATCH_GTOL)
    best = state.f.reshape(count, k).argmin(axis=1)
    x = state.x.reshape(count, k, 5)[np.arange(count), best]
    return np.column_stack([np.exp(x[:, :3]), x[:, 3:]])


def _distinct_ends(ends):
    picked = []
    for x in ends:
        if all(search.distinct(x, y) for y in picked):
            picked.append(x)
    return np.array(picked)
