"""Newton's method with the analytic Hessian, inside bounds: the final polish of a fit.

L-BFGS stops in the flat valleys of a poorly identified fit well above the
floor (its curvature estimate is poor where the Hessian is nearly singular),
and scipy's L-BFGS-B can spend its whole evaluation budget there. The exact
5 x 5 Hessian (:func:`xlplan.fit.objective.objective_gradient_hessian`) takes
a few dozen cheap steps to the floor instead. Directions of negative curvature
are followed downhill (eigenvalues replaced by their absolute value), and a
coordinate at a bound with its gradient pointing out of the box stays fixed.
"""

import numpy as np

__all__ = ["newton_polish", "MAX_STEPS"]

MAX_STEPS = 200  # Newton iterations; a smooth minimum takes under 20
MAX_HALVINGS = 60  # step halvings before an iteration counts as no progress
EIGEN_FLOOR = 1e-20  # smallest |eigenvalue| used, relative to the largest
STALL_GAIN = 1e-15  # relative decrease below which a step counts as no progress
STALL_STEPS = 3  # consecutive steps without progress that end the polish


def _step(hess, grad):
    """-|H|^-1 g: Newton's step with negative curvature turned downhill."""
    values, vectors = np.linalg.eigh(hess)
    size = np.abs(values)
    size = np.maximum(size, EIGEN_FLOOR * max(size.max(), 1e-300))
    return -vectors @ ((vectors.T @ grad) / size)


def _fixed(x, g, lower, upper):
    """Coordinates held at a bound because the gradient points out of the box."""
    return ((x <= lower) & (g > 0)) | ((x >= upper) & (g < 0))


def _snap(fgh, x, f, g, hess, lower):
    """Set each log-coefficient (a, b, e) to its floor where that is no worse.

    A term that fades out (E -> 0, say) leaves a direction where f decreases
    ever more slowly towards its limit: Newton steps shrink with the
    curvature. Trying the limit itself, the floor of the box, reaches it at once.
    """
    for k in range(3):
        if x[k] > lower[k]:
            trial = x.copy()
            trial[k] = lower[k]
            ft, gt, ht = fgh(trial)
            if ft <= f:
                x, f, g, hess = trial, ft, gt, ht
    return x, f, g, hess


def newton_polish(fgh, x0, lower, upper):
    """Minimise from ``x0`` with projected Newton steps; return (x, f, steps).

    Parameters
    ----------
    fgh : callable
        ``fgh(x) -> (f, g, H)`` at one point of shape (k,).
    x0 : array_like, shape (k,)
    lower, upper : ndarray, shape (k,)
        Bounds of the box (``-inf``/``inf`` where there is none). The first
        three coordinates are log-coefficients whose lower bound means "this
        term is 0" (see :func:`_snap`).

    Returns
    -------
    x : ndarray
    f : float
    steps : int
        Iterations taken. The polish never returns a point worse than ``x0``
        (clipped to the box).
    """
    x = np.clip(np.asarray(x0, dtype=np.float64), lower, upper)
    x, f, g, hess = _snap(fgh, x, *fgh(x), lower)
    stalls = steps = 0
    while steps < MAX_STEPS:
        steps += 1
        free = ~_fixed(x, g, lower, upper)
        if not free.any():
            break
        d = np.zeros_like(x)
        d[free] = _step(hess[np.ix_(free, free)], g[free])
        if not d @ g < 0:  # rounding made the step useless: fall back to steepest descent
            d = np.where(free, -g, 0.0)
        moved = False
        t = 1.0
        for _ in range(MAX_HALVINGS):
            trial = np.clip(x + t * d, lower, upper)
            ft, gt, ht = fgh(trial)
            if np.isfinite(ft) and ft < f:
                moved = True
                break
            t *= 0.5
        if not moved:
            break
        stalls = stalls + 1 if f - ft <= STALL_GAIN * abs(f) else 0
        x, f, g, hess = trial, ft, gt, ht
        if stalls >= STALL_STEPS:
            break
    x, f, g, hess = _snap(fgh, x, f, g, hess, lower)
    return x, float(f), steps
