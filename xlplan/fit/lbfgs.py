"""L-BFGS run on many starting points at once, each with its own memory and step.

The objective is evaluated for a whole batch of points in one vectorised call,
so 4,500 starts cost a few dozen numpy passes instead of 4,500 Python loops.
Each start keeps its own curvature pairs, step length and convergence flag;
finished starts drop out of the batch. The line search is backtracking with the
Armijo condition, and a curvature pair is stored only when s.y > 0 so every
start's inverse-Hessian estimate stays positive definite.

Optional bounds keep every point in a box (the fit keeps the exponents in their
valid range this way): trial points are projected onto the box, and a
coordinate at a bound whose gradient points out of the box takes no step.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["BatchState", "batch_lbfgs"]

MEMORY = 10  # curvature pairs kept per start (scipy's default)
ARMIJO = 1e-4  # sufficient-decrease constant c1
SHRINK = 0.25  # step reduction per failed trial
MAX_BACKTRACKS = 30  # after this many, the start has stalled
CURVATURE_EPS = 1e-12  # minimum s.y relative to |s||y| for a pair to be stored


@dataclass
class BatchState:
    """Points, values and L-BFGS memory of a batch of starts (mutated in place)."""

    x: np.ndarray  # (S, k) current points
    f: np.ndarray  # (S,) objective values
    g: np.ndarray  # (S, k) gradients
    s_hist: np.ndarray  # (MEMORY, S, k) steps
    y_hist: np.ndarray  # (MEMORY, S, k) gradient changes
    rho: np.ndarray  # (MEMORY, S) 1 / s.y, 0 for an empty slot
    gamma: np.ndarray  # (S,) initial inverse-Hessian scale
    converged: np.ndarray  # (S,) bool: met the tolerance
    stalled: np.ndarray  # (S,) bool: line search found no decrease
    ids: np.ndarray  # (S,) row of each start in the original batch
    lower: np.ndarray  # (k,) bounds of the box (-inf / inf where none)
    upper: np.ndarray
    iterations: int = 0

    @classmethod
    def start(cls, fun, x0, lower=None, upper=None):
        """Evaluate ``fun`` at the starts ``x0`` (S, k), first projected onto the box."""
        x = np.array(x0, dtype=np.float64)
        S, k = x.shape
        lower = np.full(k, -np.inf) if lower is None else np.asarray(lower, np.float64)
        upper = np.full(k, np.inf) if upper is None else np.asarray(upper, np.float64)
        x = np.clip(x, lower, upper)
        ids = np.arange(S)
        f, g = fun(x, ids)
        size = np.linalg.norm(g, axis=1)
        return cls(
            x,
            f,
            g,
            np.zeros((MEMORY, S, k)),
            np.zeros((MEMORY, S, k)),
            np.zeros((MEMORY, S)),
            1.0 / np.maximum(size, 1.0),
            np.zeros(S, bool),
            np.zeros(S, bool),
            ids,
            lower,
            upper,
        )

    def free_gradient(self, x, g):
        """``g`` with the coordinates held at a bound set to 0 (the projected gradient)."""
        held = ((x <= self.lower) & (g > 0)) | ((x >= self.upper) & (g < 0))
        return np.where(held, 0.0, g)

    @property
    def active(self):
        return ~(self.converged | self.stalled)

    def subset(self, rows):
        """A new state holding copies of the starts ``rows`` (this one is unchanged)."""
        part = BatchState(**{k: v for k, v in vars(self).items()})
        part.take(np.asarray(rows))
        return part

    def take(self, keep):
        """Keep only the starts in index array or mask ``keep``."""
        for name in ("x", "f", "g", "gamma", "converged", "stalled", "ids"):
            setattr(self, name, getattr(self, name)[keep])
        self.s_hist, self.y_hist = self.s_hist[:, keep], self.y_hist[:, keep]
        self.rho = self.rho[:, keep]


def _direction(g, s_hist, y_hist, rho, gamma, newest):
    """Two-loop recursion for all starts at once; empty slots (rho=0) do nothing."""
    q = -g
    order = [(newest - i) % MEMORY for i in range(MEMORY)]
    alphas = []
    for j in order:
        a = rho[j] * np.einsum("ij,ij->i", s_hist[j], q)
        q -= a[:, None] * y_hist[j]
        alphas.append(a)
    q *= gamma[:, None]
    for j, a in zip(reversed(order), reversed(alphas), strict=True):
        b = rho[j] * np.einsum("ij,ij->i", y_hist[j], q)
        q += (a - b)[:, None] * s_hist[j]
    return q


def _line_search(fun, x, f, g, d, ids, lower, upper):
    """Backtracking Armijo search on every row, projected onto the box;
    returns new x, f, g and an ok mask."""
    step = np.ones(len(x))
    new_x, new_f, new_g = x.copy(), f.copy(), g.copy()
    todo = np.arange(len(x))
    for _ in range(MAX_BACKTRACKS):
        trial = np.clip(x[todo] + step[todo, None] * d[todo], lower, upper)
        slope = np.einsum("ij,ij->i", g[todo], trial - x[todo])  # decrease predicted by g
        with np.errstate(all="ignore"):
            ft, gt = fun(trial, ids[todo])
        good = np.isfinite(ft) & (ft <= f[todo] + ARMIJO * slope)
        done = todo[good]
        new_x[done], new_f[done], new_g[done] = trial[good], ft[good], gt[good]
        todo = todo[~good]
        if not len(todo):
            break
        step[todo] *= SHRINK
    ok = np.ones(len(x), bool)
    ok[todo] = False
    return new_x, new_f, new_g, ok


def batch_lbfgs(fun, state, max_iter, ftol, gtol):
    """Advance every active start by up to ``max_iter`` L-BFGS iterations.

    Parameters
    ----------
    fun : callable
        ``fun(X, ids) -> (f, G)`` for a batch ``X`` of shape (m, k) whose rows
        are the starts ``ids`` of the original batch (so each start may have
        its own objective, e.g. its own bootstrap resample).
    state : BatchState
        Updated in place; starts that converge or stall stop moving.
    max_iter : int
    ftol : float
        A start converges when its decrease in one iteration is at most
        ``ftol * max(|f|, tiny)``.
    gtol : float
        ... or when the largest gradient component is at most ``gtol``.
    """
    for _ in range(max_iter):
        idx = np.flatnonzero(state.active)
        if not len(idx):
            break
        newest = (state.iterations - 1) % MEMORY
        x, f, g = state.x[idx], state.f[idx], state.g[idx]
        free_g = state.free_gradient(x, g)
        d = _direction(
            free_g,
            state.s_hist[:, idx],
            state.y_hist[:, idx],
            state.rho[:, idx],
            state.gamma[idx],
            newest,
        )
        d = np.where(free_g == g, d, 0.0)  # no step out of the box along a held coordinate
        uphill = np.einsum("ij,ij->i", free_g, d) >= 0
        d[uphill] = -free_g[uphill] * state.gamma[idx][uphill, None]
        nx, nf, ng, ok = _line_search(fun, x, f, g, d, state.ids[idx], state.lower, state.upper)
        s, y = nx - x, ng - g
        sy = np.einsum("ij,ij->i", s, y)
        store = sy > CURVATURE_EPS * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1)
        slot = state.iterations % MEMORY
        state.s_hist[slot, idx] = np.where(store[:, None], s, 0.0)
        state.y_hist[slot, idx] = np.where(store[:, None], y, 0.0)
        state.rho[slot, idx] = np.where(store, 1.0 / np.where(store, sy, 1.0), 0.0)
        yy = np.einsum("ij,ij->i", y, y)
        safe_yy = np.where(store & (yy > 0), yy, 1.0)
        state.gamma[idx] = np.where(store, sy / safe_yy, state.gamma[idx])
        state.x[idx], state.f[idx], state.g[idx] = nx, nf, ng
        small_step = (f - nf) <= ftol * np.maximum(np.abs(nf), np.finfo(float).tiny)
        small_grad = np.abs(state.free_gradient(nx, ng)).max(axis=1) <= gtol
        state.converged[idx] = ok & (small_step | small_grad)
        state.stalled[idx] = ~ok
        state.iterations += 1
    return state
