"""The sizing solver: training tokens of the cheapest model of a given loss.

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
unique and Newton's method would converge from any start: after the first step
every iterate lies right of the root and decreases monotonically to it. We use
Halley's method (cubic convergence; phi'' is free given phi'), safeguarded by
clipping every iterate into a bracket of width at most log(2) / beta, start at
the bracket's upper end and stop when a step is below 1e-6 of s (error below
1e-18); the steps are :mod:`xlplan.engine.roots`' kernel, this module gives phi.
With r = 0 the root is at s = -inf and D is the Chinchilla optimum, handled
analytically.
"""

import contextlib
import math
import os
from dataclasses import dataclass
from functools import partial

import numpy as np

from .. import roots
from ..parallel import map_blocks

__all__ = ["SolverResult", "solve_tokens", "chinchilla_point", "MAX_ITERATIONS", "STEP_TOLERANCE"]

# The kernel's limit and step tolerance (engine.roots gives the reasons), under the
# names tests and callers use; read at call time, so patching them here takes effect.
MAX_ITERATIONS = roots.MAX_ITERATIONS
STEP_TOLERANCE = roots.STEP_TOLERANCE
# Halley's step tolerance suits phi: with phi1 >= beta, phi2 <= 1/4 and |phi3| <= 0.1,
# the constant C of the cubic error C delta**3 is at most 1.1 for every beta >= 0.13.
# Halley sweeps run on the whole array before the first convergence check, so the
# common case pays for no masking. Measured over loss E+0.01 to 4 and demand 1 to 1e16
# tokens (tests/test_sizing.py checks it): the chinchilla, hoffmann and epoch presets
# (beta >= 0.28) converge in 3 iterations everywhere, as does sardana-all (beta 0.24); the
# sardana-100/250/500 fits (beta 0.13-0.16, so a wider bracket) need a 4th for 4-6% of
# pairs, which the kernel's masked loop does. No preset needs a 5th.
VECTOR_SWEEPS = 3
_LOG2 = math.log(2.0)
# Elements per block of the array path: small enough that temporaries stay in cache.
CHUNK = 1 << 15
# Arrays of at least this many chunks are shared out over the machine's cores.
PARALLEL_CHUNKS = 4


def _scalar_root(m, beta):
    """Root s of phi(s) = m and the Halley steps taken, from the bracket's upper end.

    The bracket follows from beta s + max(s, 0) <= phi(s) <= that + log 2; it is
    written in line because this runs once per Excel cell.
    """
    low = m - _LOG2
    low = low / (beta + 1.0) if low > 0 else low / beta
    high = m / (beta + 1.0) if m > 0 else m / beta
    found = roots.softplus_root(
        m,
        beta,
        1.0,
        high,
        low,
        high,
        shrink=False,
        rtol=STEP_TOLERANCE,
        max_iterations=MAX_ITERATIONS,
    )
    if not found[2]:  # converged
        roots.check(found, "tokens solver", "log-ratio")
    return found[0], found[1]  # root, iterations


def _vector_root(m, beta):
    """:func:`_scalar_root` on a 1-D array m (NaN or infinite m give NaN)."""
    low = np.where(m > _LOG2, (m - _LOG2) / (beta + 1.0), (m - _LOG2) / beta)
    high = np.where(m > 0, m / (beta + 1.0), m / beta)
    phi = partial(roots.softplus_terms, p=beta, q=1.0)
    found = roots.halley(
        phi,
        high,
        low,
        high,
        (m,),
        shrink=False,
        rtol=STEP_TOLERANCE,
        sweeps=VECTOR_SWEEPS,
        max_iterations=MAX_ITERATIONS,
    )
    roots.check(found, "tokens solver", "log-ratio")
    return found.root, found.iterations


@dataclass(frozen=True)
class SolverResult:
    """What :func:`solve_tokens` found, as :mod:`scipy.optimize` reports a root.

    Attributes (floats, or arrays of the broadcast input shape)
    ----------
    tokens : optimal training tokens D*.
    params : optimal parameter count N*.
    iterations : Halley iterations used (0 where r = 0: analytic).
    converged : True where the step tolerance was met (NaN inputs count as converged:
        they give NaN). Never False in a returned result: non-convergence raises
        :class:`~xlplan.engine.errors.ConvergenceError` instead.
    """

    tokens: object
    params: object
    iterations: object
    converged: object


def chinchilla_point(law, gap):
    """Tokens and params (D, N) of the Chinchilla optimum at loss E + ``gap``: r = 0, analytic.

    ``gap`` is a float or an array (NaN elements give NaN); no checks, no iterations.
    """
    alpha, beta = law.alpha, law.beta
    c1 = law.B * (alpha + beta) / alpha
    if isinstance(gap, float):
        try:
            return (c1 / gap) ** (1.0 / beta), _params(law, gap, 0.0)
        except (OverflowError, ZeroDivisionError):
            pass  # past the float range: numpy's arithmetic below gives inf instead
    gap = np.asarray(gap, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        tokens, params = (c1 / gap) ** (1.0 / beta), _params(law, gap, 0.0)
    if np.ndim(tokens) == 0:
        return float(tokens), float(params)
    return tokens, params


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
    SolverResult
        ``tokens``, ``params`` (D*, N*), ``iterations`` and ``converged``.

    Raises
    ------
    ConvergenceError
        If some element has not converged after ``MAX_ITERATIONS`` iterations.

    Notes
    -----
    With q = r beta / ((alpha + beta) D), the constraint gives
    D**-beta = gap / (c1 (1 + q)), so the FOC yields N without another power of D:
    A / N**alpha = gap (beta + (alpha + beta) q) / ((alpha + beta) (1 + q)).
    q = 0 is the Chinchilla optimum.
    """
    alpha, beta = law.alpha, law.beta
    c1 = law.B * (alpha + beta) / alpha
    scalar = isinstance(gap, float) and isinstance(r, float)
    if scalar:
        if math.isnan(gap) or math.isnan(r):  # an invalid input (on_invalid="nan")
            return SolverResult(math.nan, math.nan, 0, True)
        try:
            return SolverResult(*_solve_scalar(law, gap, r), True)
        except (OverflowError, ZeroDivisionError, ValueError):
            # Past the float range (e.g. N = (...)**(1 / alpha) overflows): numpy's
            # arithmetic gives inf or NaN instead, which the caller reports.
            return _solve_array(law, gap, r)
    elif np.ndim(r) == 0 and r == 0.0:
        gap = np.asarray(gap, dtype=np.float64)
        q, iterations = 0.0, np.zeros(gap.shape, dtype=int)
        tokens = (c1 / gap) ** (1.0 / beta)
    else:
        return _solve_array(law, gap, r)
    params = _params(law, gap, q)
    if not scalar and np.ndim(tokens) == 0:
        return SolverResult(float(tokens), float(params), int(iterations), True)
    converged = True if scalar else np.ones(np.shape(tokens), dtype=bool)
    return SolverResult(tokens, params, iterations, converged)


def law_constants(law):
    """The law's constants of the scalar path, computed once per law and kept on it.

    (alpha, beta, c1, k_factor, A (alpha + beta), alpha + beta, 1 / alpha, 1 / beta),
    each by the same operations as the array path (so the same floats). A law is frozen:
    the tuple rides on the object, as its ``_exponents`` do, and a new law gets its own.
    """
    try:
        return law._solver_constants
    except AttributeError:
        pass
    alpha, beta = law.alpha, law.beta
    ab = alpha + beta
    values = (
        alpha,
        beta,
        law.B * (alpha + beta) / alpha,
        beta / (alpha + beta),
        law.A * ab,
        ab,
        1.0 / alpha,
        1.0 / beta,
    )
    with contextlib.suppress(AttributeError, TypeError):  # no __dict__: uncached
        object.__setattr__(law, "_solver_constants", values)
    return values


def _solve_scalar(law, gap, r, chinchilla=False):
    """(D*, N*, iterations) for floats gap > 0 and r >= 0, in ``math``; with
    ``chinchilla``, also (D, N) of :func:`chinchilla_point`.

    Raises OverflowError, ZeroDivisionError or ValueError past the float range (the
    callers then take numpy's arithmetic, which gives inf or NaN instead).
    """
    _, beta, c1, k_factor, a_ab, ab, inv_alpha, inv_beta = law_constants(law)
    k = k_factor * r  # 0 also when a subnormal r underflows: the Chinchilla limit
    if k > 0.0 and gap - gap == 0.0:
        s, iterations = _scalar_root(math.log(gap / c1) + beta * math.log(k), beta)
        q = math.exp(s)
        # _tokens and _params in line, the same operations
        tokens = (c1 * (1.0 + q) / gap) ** inv_beta if q < 1.0 else k / q
        params = (a_ab * (1.0 + q) / (gap * (beta + ab * q))) ** inv_alpha
    else:
        q, iterations = 0.0, 0
        tokens, params = _tokens(c1, gap, beta, k, q), _params(law, gap, q)
    if not chinchilla:
        return tokens, params, iterations
    # chinchilla_point's formulas: with q = 0, (1 + q) and (beta + ab q) are exact
    return tokens, params, iterations, (c1 / gap) ** inv_beta, (a_ab / (gap * beta)) ** inv_alpha


def scalar_root(law, gap, r):
    """The root s of phi(s) = m for one float gap > 0 and one float r > 0, as
    :func:`solve_tokens` finds it."""
    _, beta, c1, k_factor = law_constants(law)[:4]
    return _scalar_root(math.log(gap / c1) + beta * math.log(k_factor * r), beta)[0]


def params_of_root(law, gap, s):
    """(q, N*) of the optimum whose root is s (q = e**s): :func:`_params`, for floats."""
    _, beta, _, _, a_ab, ab, inv_alpha, _ = law_constants(law)
    q = math.exp(s)
    return q, (a_ab * (1.0 + q) / (gap * (beta + ab * q))) ** inv_alpha


def optimum_of_root(law, gap, s):
    """(r, D*, N*, phi'(s)) of the optimum whose root is s, for floats: the inverse map.

    Every quantity of the optimum is explicit in s: phi(s) = m gives k, so r = k / k_factor,
    and q = e**s gives D* and N* (:func:`_tokens`, :func:`_params`). A solver whose
    unknown is r (break-even) can iterate on s instead, with no sizing solve per step;
    d log r / ds = phi'(s) / beta. Raises OverflowError past the float range.
    """
    _, beta, c1, k_factor, a_ab, ab, inv_alpha, inv_beta = law_constants(law)
    if s > 0:
        e = math.exp(-s)
        sigma = 1.0 / (1.0 + e)
        phi = beta * s + (s + math.log1p(e))
    else:
        e = math.exp(s)
        sigma = e / (1.0 + e)
        phi = beta * s + math.log1p(e)
    k = math.exp((phi - math.log(gap / c1)) / beta)
    q = math.exp(s)
    tokens = (c1 * (1.0 + q) / gap) ** inv_beta if q < 1.0 else k / q
    params = (a_ab * (1.0 + q) / (gap * (beta + ab * q))) ** inv_alpha
    return k / k_factor, tokens, params, beta + sigma


def scalar_optimum(law, gap, r):
    """(D*, N*, iterations, D_chin, N_chin): :func:`solve_tokens` and
    :func:`chinchilla_point` of one float gap > 0 and one finite float r >= 0 (an Excel
    cell), the same floats; None past the float range (the caller takes the array path).
    """
    try:
        return _solve_scalar(law, gap, r, True)
    except (OverflowError, ZeroDivisionError, ValueError):
        return None


def _tokens(c1, gap, beta, k, q):
    """D* from the root q = k / D*, in whichever form is exact.

    For q < 1 the constraint gives D*^beta = c1 (1 + q) / gap: a q that is tiny
    (a demand of 1e-300 tokens), or has underflowed to 0, yields the Chinchilla
    optimum to the last digit, where k / q would lose precision or divide by 0.
    For q >= 1, k / q carries the relative error of q only.
    """
    if isinstance(q, float):
        return (c1 * (1.0 + q) / gap) ** (1.0 / beta) if q < 1.0 else k / q
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return np.where(q < 1.0, (c1 * (1.0 + q) / gap) ** (1.0 / beta), k / q)


def _params(law, gap, q):
    ab = law.alpha + law.beta
    if isinstance(gap, float) and isinstance(q, float):  # Python floats: may raise, caught
        return (law.A * ab * (1.0 + q) / (gap * (law.beta + ab * q))) ** (1.0 / law.alpha)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # reported by sizing
        return (law.A * ab * (1.0 + q) / (gap * (law.beta + ab * q))) ** (1.0 / law.alpha)


def _solve_array(law, gap, r):
    """Array path of :func:`solve_tokens`: cache-sized chunks, shared over the cores.

    Chunks keep every temporary in cache (whole-array temporaries of a million
    elements are about 1.5x slower); large arrays run chunks on a thread pool.
    """
    gap, r = np.broadcast_arrays(np.asarray(gap, dtype=np.float64), np.asarray(r, dtype=np.float64))
    tokens, params = np.empty(gap.shape), np.empty(gap.shape)
    iterations = np.empty(gap.shape, dtype=int)
    flat = (
        gap.reshape(-1),
        r.reshape(-1),
        tokens.reshape(-1),
        params.reshape(-1),
        iterations.reshape(-1),
    )

    def solve(start):
        chunk = slice(start, start + CHUNK)
        flat[2][chunk], flat[3][chunk], flat[4][chunk] = _solve_chunk(
            law, flat[0][chunk], flat[1][chunk]
        )

    starts = range(0, gap.size, CHUNK)
    # numpy releases the GIL inside ufuncs; a single thread in Pyodide (engine.parallel)
    workers = (os.cpu_count() or 1) if len(starts) >= PARALLEL_CHUNKS else 1
    map_blocks(solve, starts, workers, "xlplan-solver")
    if gap.ndim == 0:
        return SolverResult(float(tokens), float(params), int(iterations), True)
    return SolverResult(tokens, params, iterations, np.ones(gap.shape, dtype=bool))


def _solve_chunk(law, gap, r):
    alpha, beta = law.alpha, law.beta
    c1 = law.B * (alpha + beta) / alpha
    k = beta / (alpha + beta) * r
    zero = k == 0  # no demand, or a subnormal one that underflows: the Chinchilla limit
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        m = np.log(gap / c1) + beta * np.log(k)
        s, iterations = _vector_root(np.where(zero, 0.0, m), beta)
        q = np.where(zero, 0.0, np.exp(s))  # NaN stays NaN
        tokens = _tokens(c1, gap, beta, k, q)
    return tokens, _params(law, gap, q), np.where(zero, 0, iterations)
