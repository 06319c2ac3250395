"""The engine's one root-finder: bracketed, safeguarded Halley, Newton and Illinois steps.

Every solver of the engine reduces its problem to one equation f(x) = 0 in one
unknown, with f increasing through its root inside a known bracket [low, high],
and hands the kernel its ``terms``: a function returning f, f' and f'' at x (f'' =
None gives Newton's method). The kernel owns the rest: the step, its safeguards, the
convergence tests, the iteration count, the masked array loop and a
:class:`RootResult` saying what happened. Equations without f' (capped data) use
:func:`illinois`, a bracketed secant method.

The scalar path (:func:`softplus_root`) is specialised to the one family of
equations that Excel cells solve, p x + q log(1 + e**x) = m (sizing: p = beta,
q = 1; budgets: p = 1 + beta, q = alpha - 1), so its loop calls no function per
step: a generic scalar kernel calling ``terms`` made the sizing solver's scalar root
about 20% slower than its old inlined loop; this one costs 7% more instructions
(the call and the result object). Other equations (break-even's, in the sizing
solver's variable) take :func:`halley_scalar`, the generic scalar loop. Solvers turn an
unconverged result into a :class:`~xlplan.engine.errors.ConvergenceError`
(:func:`check`), so failure is loud for their callers, never a silent best guess.

Safeguards
----------
``shrink=True`` narrows the bracket to x on the side given by the sign of f, and a
step that would leave the bracket becomes a bisection. ``shrink=False`` keeps the
bracket fixed and clips the step into it: cheaper, for equations whose iterates
provably stay near the root (the sizing solver's convex phi).

Convergence
-----------
An element stops at the first test it meets; a tolerance of 0 switches the residual
and bracket tests off (they are strict), and the step test then stops on a zero step.

* residual: |f(x)| < ftol, then the root is x. ``terms`` may multiply f, f' and
  f'' by any positive weight at x (the step and the sign of f do not change), so an
  equation computed with cancellation can return f divided by the size of the terms
  that cancel and state its precision as ``ftol``.
* bracket (``shrink=True`` only): high - low < xtol, then the root is x (the
  bracket holds it).
* step: |step| <= rtol max(1, |x_new|) after a step, then the root is x_new.

``iterations`` counts steps taken. Elements whose f is NaN stop with the flag
``"nan"`` and a NaN root (the array path finds them at the first masked step).
"""

import math
from typing import NamedTuple

import numpy as np

from .errors import ConvergenceError

__all__ = [
    "FLAGS",
    "MAX_ITERATIONS",
    "NOISE_TOLERANCE",
    "RELATIVE_TOLERANCE",
    "RootResult",
    "STEP_TOLERANCE",
    "X_TOLERANCE",
    "check",
    "halley",
    "halley_scalar",
    "illinois",
    "softplus_root",
    "softplus_terms",
]

# Measured needs: 3-4 Halley steps for sizing; 3 for budgets of 1e18-1e28 FLOPs and
# up to 39 (mostly bisections) for 1e27+ FLOPs serving a few tokens; at most 5 Newton
# steps for break-even from 1e-12 to 5% above the API floor; at most 15 Illinois steps
# for capped data. Pure bisection, every kernel's fallback, needs log2(width / xtol)
# steps: 48 for the widest bracket in use (281 in log D, capped sizing, to 1e-12).
# Reaching 100 means an equation or an input the solver was not built for.
MAX_ITERATIONS = 100
# Halley converges cubically: after a step of size delta the error is about
# C delta**3, and C <= 1.1 for the sizing equation's phi (see paper.solver). A step
# below 1e-6 relative leaves an error below 1e-18: machine precision.
STEP_TOLERANCE = 1e-6
# Bracket width or provable error in a log variable (log N, log D, log(D / r)): a
# relative error of 1e-12 in N and D, a hundred times finer than the 1e-10 the
# results promise.
X_TOLERANCE = 1e-12
# Newton in a linear variable (break-even requests): quadratic convergence, so a
# relative step of 1e-13 leaves an error far below the 1e-10 promised.
RELATIVE_TOLERANCE = 1e-13
# A residual weighted by the size of the terms that cancel in it is zero once it
# is below this many rounding errors of those terms: f can be computed no better,
# and further steps only chase its rounding noise. 64 ulps is 45 times the
# noise measured in break-even's a R - C*(R) near the API floor.
NOISE_TOLERANCE = 64 * 2.0**-52

FLAGS = ("converged", "max-iterations", "nan")
_CONVERGED, _MAX_ITERATIONS, _NAN = range(3)
# tuple.__new__ builds a RootResult in half the time of its generated __new__: the
# scalar kernel runs once per Excel cell.
_new = tuple.__new__


class RootResult(NamedTuple):
    """What a kernel found, as :mod:`scipy.optimize` reports a root.

    Floats for the scalar kernel; arrays of the input's shape for the array kernels.

    Attributes
    ----------
    root : the last iterate: the root where ``converged``, NaN where the flag is "nan".
    iterations : steps taken.
    converged : True where a convergence test was met.
    status : index into :data:`FLAGS`; :attr:`flag` gives the name.
    low, high : the final bracket.
    """

    root: object
    iterations: object
    converged: object
    status: object
    low: object
    high: object

    @property
    def flag(self):
        """ "converged", "max-iterations" or "nan" (an array of them for arrays)."""
        if isinstance(self.status, int):
            return FLAGS[self.status]
        return np.asarray(FLAGS)[self.status]


def check(result, what, variable):
    """Return ``result``, or raise ConvergenceError naming the iterations and last value.

    ``what`` names the solver ("tokens solver"), ``variable`` its unknown ("log-ratio").
    """
    if isinstance(result.status, int):
        if result.status != _MAX_ITERATIONS:
            return result
        raise ConvergenceError(
            f"{what} did not converge in {result.iterations} iterations (last {variable} "
            f"{result.root!r}, bracket [{result.low!r}, {result.high!r}])"
        )
    if result.converged.all():
        return result
    failed = np.flatnonzero(result.status == _MAX_ITERATIONS)
    if failed.size == 0:
        return result
    first = failed[0]
    raise ConvergenceError(
        f"{what} did not converge in {result.iterations.flat[first]} iterations for "
        f"{failed.size} element(s) (first at flat index {first}, last {variable} "
        f"{result.root.flat[first]!r}, bracket [{result.low.flat[first]!r}, "
        f"{result.high.flat[first]!r}])"
    )


def softplus_terms(x, m, p, q):
    """f = p x + q log(1 + e**x) - m, f' and f'' on arrays (the softplus kept exact)."""
    e = np.exp(-np.abs(x))
    sigma = np.where(x > 0, 1.0, e) / (1.0 + e)
    softplus, curvature = np.maximum(x, 0.0) + np.log1p(e), sigma * (1.0 - sigma)
    if q == 1.0:  # the sizing equation: three array products fewer per sweep
        return p * x + softplus - m, p + sigma, curvature
    return p * x + q * softplus - m, p + q * sigma, q * curvature


def softplus_root(
    m, p, q, x, low, high, *, shrink, ftol=0.0, xtol=0.0, rtol=0.0, max_iterations=MAX_ITERATIONS
):
    """Root of p x + q log(1 + e**x) = m in [low, high] from x, for floats (an Excel cell).

    The scalar path of :func:`halley` with :func:`softplus_terms`, in ``math`` and with
    the terms written into the loop: no numpy and no function call per step.

    Parameters
    ----------
    m, p, q : float
        The equation; f' = p + q sigmoid(x) must be positive on the bracket.
    x, low, high : float
        Start and bracket, low <= x <= high.
    shrink, ftol, xtol, rtol, max_iterations
        See the module docstring.

    Returns
    -------
    RootResult
        Of floats and ints.
    """
    # Comparisons in place of abs, max and min (builtin calls are most of a step's cost
    # in CPython); the arithmetic is the same, operation for operation.
    exp, log1p = math.exp, math.log1p
    for iteration in range(max_iterations + 1):
        if x > 0:
            e = exp(-x)
            sigma = 1.0 / (1.0 + e)
            f = p * x + q * (x + log1p(e)) - m
        else:
            e = exp(x)
            sigma = e / (1.0 + e)
            f = p * x + q * log1p(e) - m  # max(x, 0) + log1p(e) is log1p(e) exactly
        if not (f >= ftol or f <= -ftol) or (shrink and high - low < xtol):  # NaN too
            if f != f:
                return _new(RootResult, (math.nan, iteration, False, _NAN, low, high))
            return _new(RootResult, (x, iteration, True, _CONVERGED, low, high))
        if iteration == max_iterations:
            break
        f1 = p + q * sigma
        step = f / f1 / (1.0 - f * (q * sigma * (1.0 - sigma)) / (2.0 * f1 * f1))
        new = x - step
        if shrink:
            if f < 0:
                low = x
            else:
                high = x
            x = new if low <= new <= high else 0.5 * (low + high)
        else:
            x = low if new < low else high if new > high else new
        if (step if step >= 0 else -step) <= rtol * (x if x > 1.0 else -x if x < -1.0 else 1.0):
            return _new(RootResult, (x, iteration + 1, True, _CONVERGED, low, high))
    return _new(RootResult, (x, max_iterations, False, _MAX_ITERATIONS, low, high))


def halley_scalar(
    terms,
    x,
    low,
    high,
    args=(),
    *,
    shrink,
    ftol=0.0,
    xtol=0.0,
    rtol=0.0,
    max_iterations=MAX_ITERATIONS,
):
    """:func:`halley` for floats: one element, no numpy, the same steps and tests.

    For equations other than the softplus family (break-even's, whose ``terms`` cost a
    power and two logs), so one generic loop serves them; the sizing equations keep
    :func:`softplus_root`. ``terms(x, *args)`` returns floats
    (f'' None for Newton). Returns a :class:`RootResult` of floats and ints, equal to
    what :func:`halley` gives a one-element array whose ``terms`` compute the same
    floats.
    """
    for iteration in range(max_iterations + 1):
        f, f1, f2 = terms(x, *args)
        if not (f >= ftol or f <= -ftol) or (shrink and high - low < xtol):  # NaN too
            if f != f:
                return _new(RootResult, (math.nan, iteration, False, _NAN, low, high))
            return _new(RootResult, (x, iteration, True, _CONVERGED, low, high))
        if iteration == max_iterations:
            break
        step = f / f1 if f2 is None else f / f1 / (1.0 - f * f2 / (2.0 * f1 * f1))
        new = x - step
        if shrink:
            if f < 0:
                low = x
            elif f > 0:
                high = x
            x = new if low <= new <= high else 0.5 * (low + high)
        else:  # min(max(new, low), high), without the builtin calls
            x = low if new < low else high if new > high else new
        if (step if step >= 0 else -step) <= rtol * (x if x > 1.0 else -x if x < -1.0 else 1.0):
            return _new(RootResult, (x, iteration + 1, True, _CONVERGED, low, high))
    return _new(RootResult, (x, max_iterations, False, _MAX_ITERATIONS, low, high))


def _halley_sweep(terms, x, low, high, args, shrink):
    """One safeguarded step on arrays: (new x, low, high, f at x, step)."""
    f, f1, f2 = terms(x, *args)
    step = f / f1 if f2 is None else f / f1 / (1.0 - f * f2 / (2.0 * f1 * f1))
    if not shrink:
        return np.clip(x - step, low, high), low, high, f, step
    low, high = np.where(f < 0, x, low), np.where(f > 0, x, high)
    new = x - step
    return np.where((new >= low) & (new <= high), new, 0.5 * (low + high)), low, high, f, step


def _stopped(f, width, ftol, xtol, find_nan):
    """Mask of the residual and bracket tests (and NaN f) at x, or None if none apply."""
    stop = np.isnan(f) if find_nan else None
    if ftol > 0:  # the tests are strict, so a zero tolerance can skip them
        stop = np.abs(f) < ftol if stop is None else stop | (np.abs(f) < ftol)
    if width is not None and xtol > 0:
        stop = width < xtol if stop is None else stop | (width < xtol)
    return stop


def _sweep_and_test(terms, x, low, high, args, shrink, ftol, xtol, rtol, find_nan):
    """One step and the convergence tests: (x, low, high, stopped at old x or None, done).

    Elements that pass the residual or bracket test keep their x; NaN elements (only
    looked for with ``find_nan``) stop there too.
    """
    x_new, low_new, high_new, f, step = _halley_sweep(terms, x, low, high, args, shrink)
    at_old = _stopped(f, high - low if shrink else None, ftol, xtol, find_nan)
    done = np.abs(step) <= rtol * np.maximum(1.0, np.abs(x_new))
    if at_old is None or not at_old.any():
        return x_new, low_new, high_new, None, done
    x_new = np.where(at_old, np.where(np.isnan(f), np.nan, x) if find_nan else x, x_new)
    if shrink:
        low_new, high_new = np.where(at_old, low, low_new), np.where(at_old, high, high_new)
    return x_new, low_new, high_new, at_old, done | at_old


def _counts(at_old, iteration, size):
    """Steps taken by elements that stopped in this sweep: at its start or after its step."""
    if at_old is None:
        return np.full(size, iteration + 1)
    return np.where(at_old, iteration, iteration + 1)


def halley(
    terms,
    x,
    low,
    high,
    args=(),
    *,
    shrink,
    ftol=0.0,
    xtol=0.0,
    rtol=0.0,
    sweeps=1,
    max_iterations=MAX_ITERATIONS,
):
    """Roots of f in [low, high] from x by safeguarded Halley steps, on 1-D float arrays.

    The first ``sweeps`` steps run on the whole array, so the common case pays for
    no masking; later steps run on the unconverged elements only.

    Parameters
    ----------
    terms : callable
        ``terms(x, *args) -> (f, f', f'')`` on arrays of equal length, f increasing
        through the root (f'' = None gives Newton's method).
    x, low, high : ndarray
        Start and bracket, 1-D, of one length (not modified).
    args : tuple of ndarray
        Per-element parameters of the equation, of the same length; gathered with
        the unconverged elements.
    sweeps : int
        Steps taken on every element before the first convergence test (>= 1).
    shrink, ftol, xtol, rtol, max_iterations
        See the module docstring.

    Returns
    -------
    RootResult
        Of arrays of the input's length.
    """
    blind = max(min(sweeps, max_iterations) - 1, 0)
    for _ in range(blind):
        x, low, high, _, _ = _halley_sweep(terms, x, low, high, args, shrink)
    options = (shrink, ftol, xtol, rtol)
    todo, masked = None, False  # every element: no gathering until some converge
    for iteration in range(blind, max_iterations):
        if todo is not None and todo.size == 0:
            break
        if todo is None or todo.size == x.size:  # none converged yet: no gathering
            # NaN elements never pass the step test: the first sweep leaves them to later
            x, low, high, at_old, converged = _sweep_and_test(
                terms, x, low, high, args, *options, todo is not None
            )
            iterations = _counts(at_old, iteration, x.size)
            masked, todo = masked or todo is not None, np.flatnonzero(~converged)
            continue
        masked = True
        x_i, low_i, high_i, at_old, done = _sweep_and_test(
            terms, x[todo], low[todo], high[todo], tuple(a[todo] for a in args), *options, True
        )
        x[todo], iterations[todo], converged[todo] = (
            x_i,
            _counts(at_old, iteration, todo.size),
            done,
        )
        if shrink:
            low[todo], high[todo] = low_i, high_i
        todo = todo[~done]
    if todo is None:  # no step allowed
        x, todo = x.copy(), np.arange(x.size)
        iterations, converged = np.zeros(x.size, dtype=int), np.zeros(x.size, dtype=bool)
    if todo.size:  # unconverged: the last iterate may still pass the residual test
        masked = True
        x_i = x[todo]
        f = terms(x_i, *(a[todo] for a in args))[0]
        converged[todo] = _stopped(f, high[todo] - low[todo] if shrink else None, ftol, xtol, True)
        x[todo] = np.where(np.isnan(f), np.nan, x_i)
    status = (~converged).astype(np.int8)  # 0 converged, 1 max-iterations
    if masked:  # a NaN f stops an element in the masked steps only: say so
        nan = np.isnan(x)
        converged &= ~nan
        status[nan] = _NAN
    return RootResult(x, iterations, converged, status, low, high)


def illinois(fun, low, high, f_low, f_high, args=(), *, xtol, max_iterations=MAX_ITERATIONS):
    """Roots of f by the Illinois variant of regula falsi, for equations without f'.

    Each bracket shrinks until narrower than ``xtol`` (or f hits 0 exactly); the
    root is its midpoint. A step bisects where f is infinite at an end (a slope that
    is -inf where no solution exists) and stays a quarter ``xtol`` inside the
    bracket, since a step onto an end would only ever move the other end.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args) -> f`` on arrays, f < 0 left of the root and > 0 right of it.
    low, high, f_low, f_high : ndarray
        Brackets with f_low < 0 < f_high, 1-D, of one length.
    args : tuple of ndarray
        Per-element parameters, gathered with the unconverged elements.

    Returns
    -------
    RootResult
    """
    low, high, f_low, f_high = (np.array(v, dtype=np.float64) for v in (low, high, f_low, f_high))
    iterations = np.zeros(low.shape, dtype=int)
    status = np.full(low.shape, _CONVERGED, dtype=np.int8)
    side = np.zeros(low.shape, dtype=int)  # which end moved last: -1 low, +1 high
    nudge = 0.25 * xtol
    todo = np.flatnonzero(high - low > xtol)
    for iteration in range(1, max_iterations + 1):
        if todo.size == 0:
            break
        lo, hi, flo, fhi, sd = low[todo], high[todo], f_low[todo], f_high[todo], side[todo]
        with np.errstate(invalid="ignore", divide="ignore"):
            secant = hi - fhi * (hi - lo) / (fhi - flo)
        finite = np.isfinite(flo) & np.isfinite(fhi) & np.isfinite(secant)
        x = np.where(finite, np.clip(secant, lo + nudge, hi - nudge), 0.5 * (lo + hi))
        f = fun(x, *(a[todo] for a in args))
        left = f < 0  # the root lies right of x
        # Illinois: halve the value kept at an end that stays put twice running.
        fhi = np.where(left & (sd == -1), 0.5 * fhi, fhi)
        flo = np.where(~left & (sd == 1), 0.5 * flo, flo)
        lo, flo = np.where(left, x, lo), np.where(left, f, flo)
        hi, fhi = np.where(left, hi, x), np.where(left, fhi, f)
        exact = f == 0
        low[todo], high[todo] = np.where(exact, x, lo), np.where(exact, x, hi)
        f_low[todo], f_high[todo], side[todo] = flo, fhi, np.where(left, -1, 1)
        iterations[todo] = iteration
        todo = todo[~exact & (high[todo] - low[todo] > xtol)]
    status[todo] = _MAX_ITERATIONS
    nan = np.isnan(low) | np.isnan(high)
    status[nan] = _NAN
    return RootResult(0.5 * (low + high), iterations, status == _CONVERGED, status, low, high)
