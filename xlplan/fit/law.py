"""Fitting L(N, D) = E + A / N**alpha + B / D**beta to training runs (Eq. 4).

The method of Hoffmann et al. 2022 (Appendix D.2) as used by Sardana et al.
2024 (Section 5): log-space coefficients, log-sum-exp prediction, the **sum**
of Huber losses (delta = 1e-3) of the log residuals, L-BFGS with analytic
gradients from every point of a 4,500-point grid, best end point wins.

The starts run together (:mod:`xlplan.fit.search`), plus one start per
exponent pair of a fine grid (:mod:`xlplan.fit.profile`); the search stops once
its best optimum has been reached from several starts, or else runs every start.

A **valid** law here has A, B, E > 0 and exponents alpha, beta in [0.01, 5]
(:data:`xlplan.fit.search.EXPONENT_MIN`, ``EXPONENT_MAX``). The search keeps to
that box rather than discarding points outside it, so the answer is the best
valid law. A, B or E may sit at a floor of 1e-18 times the lowest loss: that
term is then 0 to double precision (for E: no irreducible loss), and a warning says so.
"""

from dataclasses import dataclass, field

import numpy as np

from ..engine.args import gate
from ..engine.constants import DEFAULT_DELTA
from ..engine.errors import PLACEHOLDER, InvalidValueError
from ..engine.laws import ScalingLaw
from .args import DELTA, GRID, MAX_TOKENS_PER_PARAM, RUNS
from .objective import log_prediction
from .runs import MIN_RUNS
from .search import CONFIRMATIONS, distinct, hoffmann_grid, make_objective, search

__all__ = ["FitResult", "fit_law", "select_runs", "check_delta", "hoffmann_grid", "SAME_OBJECTIVE"]

SAME_OBJECTIVE = 0.01  # rival end points within 1% of the best objective are "nearly as good"


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
    n_confirmed : int
        Polished end points that reached the best objective (to 1e-9 relative).
    exhaustive : bool
        True when every start was run to convergence (the best optimum was not
        confirmed sooner).
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
    n_confirmed: int = 0
    exhaustive: bool = False


def _law_from(x, name, source):
    coefficients = (np.exp(x[0]), np.exp(x[1]), np.exp(x[2]), x[3], x[4])
    try:
        return ScalingLaw(*coefficients, name=name, source=source)
    except InvalidValueError as error:
        raise InvalidValueError(
            f"the best fit is not a valid law ({error.template}): these runs do not pin down the "
            "coefficients; add runs over a wider range of sizes and token counts",
            argument=error.argument,
            value=error.value,
        ) from None


def _warnings(x, law, result, starts, runs, floor):
    ends, values = result.ends, result.values
    notes = []
    lowest = float(runs.loss.min())
    for key, k in (("A", 0), ("B", 1)):
        if x[k] <= floor[k]:
            notes.append(
                f"{key}={np.exp(x[k]):.3g} is at its floor: that term of the law is "
                "0 to double precision and its exponent is not identified"
            )
    if 0.1 * lowest > law.E:
        notes.append(
            f"E={law.E:.3g} nats is near 0 (under a tenth of the lowest loss "
            f"{lowest:.3g}): the irreducible loss is not identified by these runs"
        )
    if lowest <= law.E:
        notes.append(
            f"E={law.E:.3g} nats is at or above the lowest loss observed "
            f"({lowest:.3g}): the fit cannot reproduce the best runs"
        )
    top = starts[:, 3:].max()
    for key in ("alpha", "beta"):
        value = getattr(law, key)
        if value < 0.02 or value > top:
            notes.append(
                f"{key}={value:.3g} is at the edge of plausibility (outside "
                f"0.02 to {top:g}, the largest exponent in the starting grid)"
            )
    for key, k in (("A", 0), ("B", 1)):
        if x[k] > starts[:, k].max() + 5:
            notes.append(
                f"{key}={np.exp(x[k]):.3g} is far beyond the starting grid "
                f"(log {key}={x[k]:.3g} > {starts[:, k].max():g})"
            )
    rivals = [
        i
        for i in range(1, len(values))
        if values[i] <= values[0] * (1 + SAME_OBJECTIVE) and distinct(ends[i], ends[0])
    ]
    if rivals:
        r = ends[rivals[0]]
        notes.append(
            f"{len(rivals)} start(s) ended at very different coefficients with an objective "
            f"within {SAME_OBJECTIVE:.0%} of the best (e.g. A={np.exp(r[0]):.4g}, "
            f"B={np.exp(r[1]):.4g}, E={np.exp(r[2]):.4g}, alpha={r[3]:.4g}, beta={r[4]:.4g}): "
            "the coefficients are poorly identified by these runs"
        )
    if result.confirmations < CONFIRMATIONS:
        notes.append(
            f"the best objective was reached from only {result.confirmations} of "
            f"{result.n_starts} starts, after running every start to convergence"
        )
    return tuple(notes)


@gate(RUNS, MAX_TOKENS_PER_PARAM)
def select_runs(runs, max_tokens_per_param=None):
    """The runs to fit (a :class:`Runs`), and how many the tokens/param cut-off excluded.

    A cut-off that leaves fewer than ``MIN_RUNS`` runs is an error naming it.
    """
    if max_tokens_per_param is None:
        return runs, 0
    cut = max_tokens_per_param
    keep = runs.tokens_per_param <= cut
    if keep.sum() < MIN_RUNS:
        raise InvalidValueError(
            f"{PLACEHOLDER}={cut:g} leaves {int(keep.sum())} of {len(runs)} runs: "
            f"fitting 5 coefficients needs at least {MIN_RUNS}",
            argument="max_tokens_per_param",
            value=cut,
        )
    return runs.subset(keep), int((~keep).sum())


def check_delta(delta):
    """``delta`` as a float, or an error naming it (the fitter's declaration of it)."""
    return DELTA.check(delta)


@gate(RUNS, MAX_TOKENS_PER_PARAM, DELTA, GRID)
def fit_law(runs, *, max_tokens_per_param=None, delta=DEFAULT_DELTA, grid=None, name="fitted"):
    """Fit the five coefficients of L(N, D) = E + A / N**alpha + B / D**beta (Eq. 4).

    Parameters
    ----------
    runs : Runs or anything :func:`xlplan.fit.runs.load_runs` accepts
        Parameters N, training tokens D and final loss (nats) of each run.
    max_tokens_per_param : float, optional
        Fit only runs with D / N at most this (Table 1 uses 100, 250, 500).
    delta : float
        Huber threshold on log-loss residuals (default 1e-3, as in the paper).
    grid : dict or array_like, optional
        Starting points: a dict of axis values for a, b, e, alpha, beta, or an
        (S, 5) array of points (used alone). Default: Hoffmann's 4,500-point
        grid plus one start per exponent pair of :mod:`xlplan.fit.profile`.
    name : str
        Name of the fitted law.

    Returns
    -------
    FitResult

    Raises
    ------
    XlplanError
        One error naming every bad argument (``positions_by_argument``), or a
        ``max_tokens_per_param`` that leaves fewer than 5 runs.

    Examples
    --------
    >>> import numpy as np
    >>> N = np.repeat([1e8, 3e8, 1e9, 3e9], 3); D = N * np.tile([10, 40, 160], 4)
    >>> L = 1.7 + 400 / N**0.34 + 410 / D**0.28
    >>> fit = fit_law(np.column_stack([N, D, L]))
    >>> round(fit.law.alpha, 3), round(fit.law.beta, 3)
    (0.34, 0.28)
    """
    used, n_excluded = select_runs.kernel(runs, max_tokens_per_param)
    default = grid is None
    starts = hoffmann_grid() if default else grid  # a grid of the caller's own is run as given
    fun = make_objective(used, delta)
    result = search(fun, starts, fun.profile_starts() if default else None, revive=default)
    x = result.ends[0]
    cut = "" if max_tokens_per_param is None else f", <= {max_tokens_per_param:g} tokens/param"
    law = _law_from(x, name, f"fitted to {len(used)} runs (Eq. 4, delta={delta:g}{cut})")
    residuals = log_prediction(x, np.log(used.params), np.log(used.tokens)) - np.log(used.loss)
    return FitResult(
        law,
        x,
        float(result.values[0]),
        delta,
        len(used),
        len(runs.skipped_rows),
        n_excluded,
        residuals,
        _warnings(x, law, result, starts, used, fun.lower),
        result.n_starts,
        result.n_starts - result.n_run,
        result.n_converged,
        runs.skipped_rows,
        max_tokens_per_param,
        result.ends,
        int(result.confirmations),
        result.exhaustive,
    )
