"""The one root-finder of xlplan: training tokens of the cheapest model of a given loss.

Problem (Sardana et al. 2024, Eq. 3 and 6, both of this form): minimise

    N * (D + r)    subject to    E + A / N**alpha + B / D**beta = loss,

where D is training tokens and r >= 0 is the lifetime inference cost expressed in
training tokens (r = D_inf / 3 for FLOPs: 2 N D_inf = 6 N (D_inf / 3)).

The first-order condition (Eq. 11-12) eliminates N:

    A / N**alpha = (beta B / alpha) D**-beta (1 + r / D)                     (FOC)
    (loss - E) = c1 D**-beta + c2 D**-(beta + 1),
        c1 = B (alpha + beta) / alpha,   c2 = beta B r / alpha.

With k = c2 / c1 = beta r / (alpha + beta), q = k / D and s = log q, this
becomes a one-parameter equation in s:

    phi(s) = beta s + log(1 + e**s) = m,   m = log((loss - E) / c1) + beta log k.

phi is increasing (slope between beta and beta + 1) and convex, so the root is
unique and Newton's method converges from any start: after the first step every
iterate lies right of the root and decreases monotonically to it. We start at
an upper bound of the root and stop when a step is below a few ulps of s.
With r = 0 the root is at s = -inf and D is the Chinchilla optimum, handled
analytically.
"""

import math

import numpy as np

from .errors import ConvergenceError

__all__ = ["solve_tokens", "MAX_ITERATIONS", "STEP_TOLERANCE"]

MAX_ITERATIONS = 60
# Stop when |step| <= STEP_TOLERANCE * max(1, |s|): a few ulps, i.e. machine precision
# in log D (D = k e**-s, so an absolute error in s is a relative error in D).
STEP_TOLERANCE = 8 * np.finfo(np.float64).eps
# Iterations run on the whole array before the first convergence check; from the
# upper-bound start, all (loss, demand) pairs of the useful range converge in at most
# this many (see tests), so the common case pays for no masking at all.
VECTOR_SWEEPS = 6


def _start(m, beta):
    """Upper bound of the root of phi(s) = m, using phi(s) >= beta s + max(s, 0)."""
    return m / (beta + 1.0) if m > 0 else m / beta


def _scalar_root(m, beta):
    s = _start(m, beta)
    for iteration in range(1, MAX_ITERATIONS + 1):
        if s > 0:  # log(1 + e**s) = s + log1p(e**-s), keeping exp from overflowing
            e = math.exp(-s)
            sigma = 1.0 / (1.0 + e)
            step = (beta * s + s + math.log1p(e) - m) / (beta + sigma)
        else:
            e = math.exp(s)
            step = (beta * s + math.log1p(e) - m) / (beta + e / (1.0 + e))
        s -= step
        if abs(step) <= STEP_TOLERANCE * max(1.0, abs(s)):
            return s, iteration
    raise ConvergenceError(
        f"tokens solver did not converge in {MAX_ITERATIONS} iterations "
        f"(last log-ratio {s!r}, last step {step!r})")


def _newton_sweep(s, m, beta):
    """One Newton step of phi(s) = m on arrays; returns (new s, step)."""
    e = np.exp(-np.abs(s))
    softplus = np.maximum(s, 0.0) + np.log1p(e)
    sigma = np.where(s > 0, 1.0, e) / (1.0 + e)
    step = (beta * s + softplus - m) / (beta + sigma)
    return s - step, step


def _vector_root(m, beta):
    start = np.where(m > 0, m / (beta + 1.0), m / beta)
    s = start
    for _ in range(VECTOR_SWEEPS):
        s, step = _newton_sweep(s, m, beta)
    iterations = np.full(s.shape, VECTOR_SWEEPS)
    todo = ~(np.abs(step) <= STEP_TOLERANCE * np.maximum(1.0, np.abs(s))) & np.isfinite(m)
    sweeps = VECTOR_SWEEPS
    while todo.any():
        if sweeps >= MAX_ITERATIONS:
            first = np.flatnonzero(todo)[0]
            raise ConvergenceError(
                f"tokens solver did not converge in {MAX_ITERATIONS} iterations for "
                f"{int(todo.sum())} element(s) (first at flat index {first}, last "
                f"log-ratio {s.flat[first]!r})")
        s_todo, step = _newton_sweep(s[todo], m[todo], beta)
        s[todo] = s_todo
        sweeps += 1
        iterations[todo] = sweeps
        done = np.abs(step) <= STEP_TOLERANCE * np.maximum(1.0, np.abs(s_todo))
        todo[np.flatnonzero(todo)[done]] = False
    return s, iterations


def solve_tokens(law, gap, r):
    """Training tokens D* and parameters N* minimising N (D + r) at loss E + gap.

    Parameters
    ----------
    law : ScalingLaw
    gap : float or ndarray
        Target loss minus E (nats), > 0 (NaN elements give NaN).
    r : float or ndarray
        Lifetime inference cost in training-token equivalents (tokens), >= 0.

    Returns
    -------
    tokens, params : float or ndarray
        Optimal training tokens D* and parameter count N* (broadcast shape).
    iterations : int or ndarray
        Newton iterations used (0 where r = 0: analytic).
    """
    A, B, alpha, beta = law.A, law.B, law.alpha, law.beta
    c1 = B * (alpha + beta) / alpha
    k_factor = beta / (alpha + beta)
    if isinstance(gap, float) and isinstance(r, float):
        if r == 0.0 or not (math.isfinite(gap) and math.isfinite(r)):
            D, iterations = (c1 / gap) ** (1.0 / beta), 0
        else:
            k = k_factor * r
            s, iterations = _scalar_root(math.log(gap / c1) + beta * math.log(k), beta)
            D = k * math.exp(-s)
    else:
        gap, r = np.broadcast_arrays(np.asarray(gap, dtype=np.float64),
                                     np.asarray(r, dtype=np.float64))
        k = k_factor * r
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.log(gap / c1) + beta * np.log(k)
            s, iterations = _vector_root(np.where(r > 0, m, 0.0), beta)
            D = np.where(r > 0, k * np.exp(-s), (c1 / gap) ** (1.0 / beta))
        iterations = np.where(r > 0, iterations, 0)
        if D.ndim == 0:
            D, iterations = float(D), int(iterations)
    N = (A * alpha / (beta * B) * D ** beta / (1.0 + r / D)) ** (1.0 / alpha)
    return D, N, iterations
