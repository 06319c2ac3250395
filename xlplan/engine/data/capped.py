"""The cheapest model of a given loss when only U unique tokens exist.

Problem: minimise N (D + r) subject to the data-constrained loss of
:mod:`.data_limits` equal to the target, for r >= 0 the lifetime inference cost
in training-token equivalents (as in :mod:`.solver`) and U unique tokens.

The constraint has no closed form like the paper's Eq. 12, so we solve a
bracketed 1-D problem in x = log D. For each D the parameter count follows in
closed form: the loss fixes N' (A / N'**alpha = gap - B / D'**beta), and N' is a
monotone function of N, inverted analytically (N = U_N (1 + R_N) with
R_N = -R_N* log(1 - (N' / U_N - 1) / R_N*)). The objective's slope in log D,

    g(x) = dlog N / dlog D + D / (D + r),

is -inf where no N reaches the loss at that D (too little effective data) and
tends to 1 as D grows (D' saturates); its zero is the optimum. We bracket it by
stepping outwards from the uncapped optimum and find it by the Illinois variant
of regula falsi (:func:`xlplan.engine.roots.illinois`), bisecting whenever the
slope is infinite, until the bracket is narrower than :data:`X_TOLERANCE` in log D.
Failure is a ConvergenceError.
"""

import numpy as np

from .. import roots
from ..errors import ConvergenceError
from .data_limits import optimal_params_for_tokens, repetition_constants

__all__ = ["solve_capped", "capped_slope", "capped_params", "X_TOLERANCE", "MAX_ITERATIONS"]

# Width of the final bracket in log D and the iteration limit: the kernel's
# (engine.roots gives the reasons), under the names tests patch; read at call time.
X_TOLERANCE = roots.X_TOLERANCE
MAX_ITERATIONS = roots.MAX_ITERATIONS
# Bracket search: steps of a factor 10 in D, at most this many each way.
BRACKET_STEP = np.log(10.0)
MAX_BRACKET_STEPS = 60


def _terms(law, gap, tokens, unique):
    """Parameters N needed at each D, and dlog N / dlog D; NaN/inf where unreachable."""
    alpha, beta = law.alpha, law.beta
    r_d, r_n = repetition_constants(law)
    used = np.minimum(unique, tokens)
    excess = tokens / used - 1.0
    eff_tokens = used + used * r_d * -np.expm1(-excess / r_d)
    dlog_eff_tokens = tokens * np.exp(-excess / r_d) / eff_tokens
    data_term = law.B * eff_tokens**-beta
    param_gap = gap - data_term  # what A / N'**alpha must equal
    with np.errstate(divide="ignore", invalid="ignore"):
        eff_params = (law.A / param_gap) ** (1.0 / alpha)
        dlog_eff_params = -beta * data_term / (alpha * param_gap) * dlog_eff_tokens
        feed = optimal_params_for_tokens(law, used)  # U_N once N exceeds it
        dlog_feed = np.where(tokens < unique, beta / alpha, 0.0)
        ratio = eff_params / feed  # h = N' / U_N
        surplus = -r_n * np.log1p(-(ratio - 1.0) / r_n)  # R_N, inverting h
        binding = ratio > 1.0
        params = np.where(binding, feed * (1.0 + surplus), eff_params)
        # dlog N = dlog U_N + (dlog N' - dlog U_N) h / (t h'(t)), t = 1 + R_N
        slope_h = 1.0 - (ratio - 1.0) / r_n  # h'(t) = exp(-R_N / R_N*)
        dlog_params = np.where(
            binding,
            dlog_feed + (dlog_eff_params - dlog_feed) * ratio / ((1.0 + surplus) * slope_h),
            dlog_eff_params,
        )
        reachable = (param_gap > 0) & (ratio < 1.0 + r_n)
    return np.where(reachable, params, np.inf), np.where(reachable, dlog_params, -np.inf)


def capped_params(law, gap, tokens, unique):
    """Parameters needed to reach loss E + gap with ``tokens`` from ``unique`` (inf if none)."""
    return _terms(law, gap, tokens, unique)[0]


def capped_slope(law, gap, r, x, unique):
    """g(x) = dlog(N (D + r)) / dlog D at D = exp(x): negative left of the optimum."""
    tokens = np.exp(x)
    return _terms(law, gap, tokens, unique)[1] + tokens / (tokens + r)


def _bracket(law, gap, r, unique, start):
    """[low, high] in log D with slope(low) < 0 < slope(high), stepping out from ``start``."""
    low, high = start - BRACKET_STEP, start + BRACKET_STEP
    for _ in range(MAX_BRACKET_STEPS):
        f_low = capped_slope(law, gap, r, low, unique)
        f_high = capped_slope(law, gap, r, high, unique)
        bad_low, bad_high = ~(f_low < 0), ~(f_high > 0)
        if not (bad_low.any() or bad_high.any()):
            return low, high, f_low, f_high
        low = np.where(bad_low, low - BRACKET_STEP, low)
        high = np.where(bad_high, high + BRACKET_STEP, high)
    first = gap[bad_low | bad_high][0]
    raise ConvergenceError(
        f"capped tokens solver found no bracket in {MAX_BRACKET_STEPS} "
        f"steps of 10x (first bad element: loss gap {first!r})"
    )


def solve_capped(law, gap, r, unique, start_tokens):
    """Training tokens D* and parameters N* minimising N (D + r) with U unique tokens.

    Parameters
    ----------
    law : ScalingLaw
    gap : ndarray
        Target loss minus E (nats), finite and above the floor of
        :func:`~.data_limits.loss_floor` minus E.
    r : ndarray
        Lifetime inference cost in training-token equivalents (tokens), >= 0.
    unique : ndarray
        Unique tokens available, > 0.
    start_tokens : ndarray
        Where the bracket search starts, e.g. the uncapped optimum (tokens).

    Returns
    -------
    tokens, params : ndarray
    iterations : ndarray of int
        Regula falsi iterations after the bracket was found.
    """
    gap, r, unique, start = (
        np.asarray(v, dtype=np.float64) for v in np.broadcast_arrays(gap, r, unique, start_tokens)
    )
    x_start = np.log(np.minimum(start, unique))
    low, high, f_low, f_high = _bracket(law, gap, r, unique, x_start)
    shape = gap.shape

    def slope(x, gap, r, unique):
        return capped_slope(law, gap, r, x, unique)

    found = roots.illinois(
        slope,
        low.ravel(),
        high.ravel(),
        f_low.ravel(),
        f_high.ravel(),
        (gap.ravel(), r.ravel(), unique.ravel()),
        xtol=X_TOLERANCE,
        max_iterations=MAX_ITERATIONS,
    )
    roots.check(found, "capped tokens solver", "x = log D")
    tokens = np.exp(found.root.reshape(shape))
    return tokens, capped_params(law, gap, tokens, unique), found.iterations.reshape(shape)
