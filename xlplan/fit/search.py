"""Multi-start minimisation of the Eq. 4 objective from the 4,500-point grid.

All starts take ``FIRST_ITERATIONS`` batched L-BFGS steps together
(:mod:`xlplan.fit.lbfgs`: one vectorised numpy pass per step, blocks of starts
on threads) and are ranked by their objective. Then, in rounds of growing size
(``ROUNDS``), the next best-ranked starts run to convergence, the best distinct
end points are polished with Newton's method (:mod:`xlplan.fit.newton`), and
the search stops once the best optimum has been **confirmed**: reached from at
least ``CONFIRMATIONS`` starts. Otherwise the last round runs every remaining
start, so an unconfirmed optimum always ends in the exhaustive search: a
better optimum is never skipped silently. The recorded test set
(``tests/data/fit_optima.json``) checks this search against running every start
to convergence.

Every point stays inside the box of **valid laws** (:func:`bounds`): the
exponents alpha and beta in [``EXPONENT_MIN``, ``EXPONENT_MAX``], and A, B, E
positive (log space) and at least ``TERM_FLOOR`` times the lowest loss, below
which a term changes no prediction in double precision: a log-coefficient at
its floor is that term set to 0, so "E = 0" (no irreducible loss) is a valid
answer that the search reaches instead of running off to log E = -inf.
"""

import itertools
import os
from dataclasses import dataclass

import numpy as np

from ..engine import laws
from ..engine.errors import InvalidTypeError, InvalidValueError
from ..engine.parallel import map_blocks
from .lbfgs import BatchState, batch_lbfgs
from .newton import newton_polish
from .objective import LOG_PARAMETER_NAMES, objective_and_gradient, objective_gradient_hessian
from .profile import line_starts, profile_starts, revival_starts

__all__ = [
    "HOFFMANN_AXES",
    "hoffmann_grid",
    "check_grid",
    "Objective",
    "make_objective",
    "search",
    "exhaustive_search",
    "SearchResult",
    "distinct",
    "bounds",
    "EXPONENT_MIN",
    "EXPONENT_MAX",
    "TERM_FLOOR",
    "BATCH_MAX_ITER",
    "BATCH_FTOL",
    "BATCH_GTOL",
]

HOFFMANN_AXES = {  # Hoffmann et al. 2022, D.2: 6 * 6 * 5 * 5 * 5 = 4,500 starts
    "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
    "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
    "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
}
# The exponents of a valid law (xlplan.engine.laws checks the same range).
EXPONENT_MIN, EXPONENT_MAX = laws.EXPONENT_MIN, laws.EXPONENT_MAX
TERM_FLOOR = 1e-18  # A, B, E below this times the lowest loss are 0 in float64
FIRST_ITERATIONS = 3  # batched L-BFGS steps every start takes before the ranking
ROUNDS = (64, 512, None)  # cumulative starts run to convergence per round (None: all)
CONFIRMATIONS = 3  # starts that must reach the best optimum to stop early
MAX_REVIVALS = 3  # restarts near the best point per round (see _revive)
REVIVAL_MAX_ITER = 400  # L-BFGS steps of those restarts: they find basins, Newton
# polishes the best (a few crawl for 3,000 steps otherwise)
BATCH_MAX_ITER = 3000
BATCH_FTOL = 1e-10  # relative decrease per step at which a batched start stops
BATCH_GTOL = 1e-12
POLISH_COUNT = 4  # end points polished per round, of each kind (see _polish)
SAME_OPTIMUM = 1e-9  # relative objective gap within which two ends confirm each other
SAME_ABSOLUTE = 1e-26  # ... or absolute (exact data: objectives of rounding size)
EXHAUSTIVE_POLISH = 20  # ... and in the exhaustive search
DISTINCT_LOG = 0.1  # end points differing by more than this in a, b or e ...
DISTINCT_EXPONENT = 0.01  # ... or this in alpha or beta are different optima
BLOCK_ELEMENTS = 65536  # starts x runs evaluated per numpy pass (fits in cache)
MAX_THREADS = 4  # threads evaluating blocks of starts in parallel


@dataclass(frozen=True, eq=False)
class SearchResult:
    """End points of the search, best first, and what it took.

    Attributes
    ----------
    ends : ndarray, shape (m, 5)
        End points of the starts run to convergence (the best few polished).
    values : ndarray, shape (m,)
        Their objectives, ascending.
    n_starts : int
    n_run : int
        Starts run to convergence (the rest stopped after the first steps).
    n_converged : int
        Of those, how many met the convergence tolerance.
    confirmations : int
        Starts whose end point is the best optimum (not a distinct one).
    exhaustive : bool
        True when every start was run to convergence.
    """

    ends: np.ndarray
    values: np.ndarray
    n_starts: int
    n_run: int
    n_converged: int
    confirmations: int
    exhaustive: bool


def hoffmann_grid(axes=None):
    """Starting points (S, 5) in log space (a, b, e, alpha, beta), the product of ``axes``."""
    axes = HOFFMANN_AXES if axes is None else axes
    return np.array(list(itertools.product(*(axes[k] for k in LOG_PARAMETER_NAMES))), float)


def bounds(runs):
    """(lower, upper), each shape (5,): the box of valid laws in log space for these runs."""
    floor = float(np.log(np.min(runs.loss)) + np.log(TERM_FLOOR))
    return (
        np.array([floor, floor, floor, EXPONENT_MIN, EXPONENT_MIN]),
        np.array([np.inf, np.inf, np.inf, EXPONENT_MAX, EXPONENT_MAX]),
    )


class Objective:
    """The Eq. 4 objective on one set of runs, in the form the search calls it.

    ``fun(x, ids=None) -> (f, g)`` for a point ``x`` (5,) or a batch (S, 5); row
    ``i`` of a batch is weighted by ``weights[ids[i]]`` (bootstrap draw counts).
    Large batches are split into blocks evaluated on threads.

    Attributes
    ----------
    lower, upper : ndarray, shape (5,)
        The box of valid laws for these runs (:func:`bounds`).
    """

    def __init__(self, runs, delta, weights=None):
        self._logs = (np.log(runs.params), np.log(runs.tokens), np.log(runs.loss))
        self._delta, self._weights = delta, weights
        self._block = max(1, BLOCK_ELEMENTS // len(self._logs[0]))
        self.lower, self.upper = bounds(runs)

    def __call__(self, x, ids=None):
        if x.ndim == 1 or len(x) <= self._block:
            return self._one(x, ids)
        block = self._block
        # numpy releases the GIL inside each array pass; one thread in Pyodide
        parts = map_blocks(
            lambda i: self._one(x[i : i + block], None if ids is None else ids[i : i + block]),
            range(0, len(x), block),
            min(MAX_THREADS, os.cpu_count() or 1),
            "xlplan-fit",
        )
        return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])

    def _one(self, x, ids):
        w = None if self._weights is None else self._weights[ids]
        return objective_and_gradient(x, *self._logs, self._delta, w)

    def fgh(self, x):
        """(f, g, H) at one point ``x`` (unweighted): what Newton's polish needs."""
        return objective_gradient_hessian(x, *self._logs, self._delta)

    def profile_starts(self):
        """Starting points from the profile of the exponents (:mod:`xlplan.fit.profile`)."""
        return profile_starts(*self._logs, self.lower[:3])

    def revival_starts(self, x):
        """Restarts near ``x``: each switched-off term back on, each exponent over its grid."""
        return np.concatenate(
            [
                revival_starts(x, *self._logs, self.lower[:3]),
                line_starts(x, *self._logs, self.lower[:3]),
            ]
        )


def make_objective(runs, delta, weights=None):
    """The :class:`Objective` of these runs: ``fun(x, ids=None) -> (f, g)``, ``fun.fgh(x)``,
    and the search's box ``fun.lower``, ``fun.upper``."""
    return Objective(runs, delta, weights)


def distinct(x, y):
    """True when two log-space points are different optima, not the same one twice."""
    gap = np.abs(np.asarray(x) - np.asarray(y))
    return bool(gap[:3].max() > DISTINCT_LOG or gap[3:].max() > DISTINCT_EXPONENT)


def _polish(fun, ends, values, polished, count):
    """Newton-polish, in place, up to ``count`` unpolished end points of each kind:
    the best distinct ones (other optima) and the best by objective (the same
    optimum reached again, to confirm it)."""
    order = [int(i) for i in np.argsort(values, kind="stable")]
    picked = []
    for i in order:
        if len(picked) == count:
            break
        if all(distinct(ends[i], ends[j]) for j in picked):
            picked.append(i)
    picked += [i for i in order if i not in polished][:count]
    for i in dict.fromkeys(picked):
        if i in polished:
            continue
        x, f, _ = newton_polish(fun.fgh, ends[i], fun.lower, fun.upper)
        if f <= values[i]:
            ends[i], values[i] = x, f
        polished.add(i)


def _confirmations(values, polished):
    """Polished end points whose objective is the best (to ``SAME_OPTIMUM`` relative).

    Only polished ones count: unpolished ends stopped along one flat valley
    agree with each other to 1e-10 while all lying above its floor.
    """
    limit = values.min() * (1 + SAME_OPTIMUM) + SAME_ABSOLUTE
    return sum(values[i] <= limit for i in polished)


def _sorted_result(ends, values, polished, n_starts, n_converged, exhaustive):
    order = np.argsort(values, kind="stable")
    return SearchResult(
        ends[order],
        values[order],
        n_starts,
        len(values),
        n_converged,
        _confirmations(values, polished),
        exhaustive,
    )


def _ranked(f, n_grid):
    """Start rows in the order they are run: the grid's and the profile's best alternate."""
    grid = np.argsort(f[:n_grid], kind="stable")
    extra = n_grid + np.argsort(f[n_grid:], kind="stable")
    both = min(len(grid), len(extra))
    head = np.column_stack([grid[:both], extra[:both]]).ravel()
    return np.concatenate([head, grid[both:], extra[both:]])


def _run(fun, state, ends, values, max_iter=BATCH_MAX_ITER):
    """Run ``state``'s starts to convergence (or ``max_iter`` steps); return ends and
    values with theirs appended, and how many converged."""
    batch_lbfgs(fun, state, max_iter, BATCH_FTOL, BATCH_GTOL)
    return (
        np.concatenate([ends, state.x]),
        np.concatenate([values, state.f]),
        int(state.converged.sum()),
    )


def _revive(fun, ends, values, polished):
    """Restart near the best point: each switched-off term back on, and each exponent
    over its whole grid (see :func:`xlplan.fit.profile.revival_starts` and
    :func:`~xlplan.fit.profile.line_starts`)."""
    best = ends[int(np.argmin(values))]
    starts = fun.revival_starts(best)
    if not len(starts):
        return ends, values, 0, False
    state = BatchState.start(fun, starts, fun.lower, fun.upper)
    ends, values, converged = _run(fun, state, ends, values, REVIVAL_MAX_ITER)
    _polish(fun, ends, values, polished, POLISH_COUNT)
    return ends, values, converged, True


def search(fun, starts, extra=None, rounds=ROUNDS, confirmations=CONFIRMATIONS, revive=True):
    """Minimise ``fun`` from the starts, round by round until the optimum is confirmed.

    ``fun`` comes from :func:`make_objective`; ``extra`` are more starting
    points (the profile starts of :mod:`xlplan.fit.profile`), ranked apart
    from ``starts`` and run alternately with them. With ``revive``, after each
    round the best point is restarted with each term replaced (see
    :func:`_revive`), up to ``MAX_REVIVALS`` times while that finds a new best.
    Returns a :class:`SearchResult`.
    """
    everything = starts if extra is None else np.concatenate([starts, extra])
    state = BatchState.start(fun, everything, fun.lower, fun.upper)
    batch_lbfgs(fun, state, FIRST_ITERATIONS, BATCH_FTOL, BATCH_GTOL)
    order = _ranked(state.f, len(starts))
    ends, values, polished = np.empty((0, 5)), np.empty(0), set()
    done, n_converged, revived = 0, 0, []
    for size in rounds:
        size = len(order) if size is None else min(size, len(order))
        if size <= done:
            continue
        ends, values, converged = _run(fun, state.subset(order[done:size]), ends, values)
        n_converged += converged
        done = size
        _polish(fun, ends, values, polished, POLISH_COUNT)
        for _ in range(MAX_REVIVALS if revive else 0):  # again while it finds a new best
            best = ends[np.argmin(values)]
            if any(not distinct(best, r) for r in revived):
                break
            revived.append(best.copy())
            ends, values, converged, _ = _revive(fun, ends, values, polished)
            n_converged += converged
        if _confirmations(values, polished) >= confirmations:
            break
    return _sorted_result(
        ends,
        values,
        polished,
        len(everything) + len(values) - done,
        n_converged,
        done == len(order),
    )


def exhaustive_search(fun, starts, polish_count=EXHAUSTIVE_POLISH):
    """Every start run to convergence, the best ``polish_count`` distinct ends polished."""
    state = BatchState.start(fun, starts, fun.lower, fun.upper)
    batch_lbfgs(fun, state, BATCH_MAX_ITER, BATCH_FTOL, BATCH_GTOL)
    ends, values, polished = state.x.copy(), state.f.copy(), set()
    _polish(fun, ends, values, polished, polish_count)
    return _sorted_result(ends, values, polished, len(starts), int(state.converged.sum()), True)


def check_grid(grid):
    if grid is None:
        return hoffmann_grid()
    if isinstance(grid, dict):
        missing = [k for k in LOG_PARAMETER_NAMES if k not in grid]
        if missing:
            raise InvalidTypeError(
                f"grid is missing axes {', '.join(missing)}: give values "
                f"for each of {', '.join(LOG_PARAMETER_NAMES)}",
                argument="grid",
                value=None,
            )
        grid = hoffmann_grid({k: np.atleast_1d(grid[k]).tolist() for k in LOG_PARAMETER_NAMES})
    starts = np.asarray(grid, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != 5 or not len(starts):
        raise InvalidTypeError(
            f"grid must have shape (starts, 5) for (a, b, e, alpha, beta); got {starts.shape}",
            argument="grid",
            value=None,
        )
    if not np.isfinite(starts).all():
        raise InvalidValueError("grid has non-finite starting points", argument="grid", value=None)
    return starts
