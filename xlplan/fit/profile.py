"""Starting points from the exponent profile: for each (alpha, beta) the best E, A, B.

For fixed exponents the law E + A u + B v (u = N**-alpha, v = D**-beta) is
linear in (E, A, B), so the relative least-squares fit
min sum ((E + A u + B v) / L - 1)**2 with E, A, B >= 0 is a tiny
non-negative least-squares problem, solved exactly for every (alpha, beta) of
a fine grid at once (every support of the three coefficients, the best
feasible one wins). Relative residuals approximate the log residuals of Eq. 4,
so each grid point is close to the best (A, B, E) for its exponents, and the
local optima of the fit, which differ mainly in the exponents, each get a
start near them. This matters where a term is nearly negligible (for example
B / D**beta far below the noise): such optima are reached from only a handful of
the 4,500 Hoffmann starts.
"""

import itertools

import numpy as np

__all__ = [
    "EXPONENT_GRID",
    "profile_starts",
    "line_starts",
    "revival_starts",
    "REVIVAL_SIZES",
    "REVIVAL_EXPONENTS",
]

ZERO_START = 1e-3  # a coefficient fitted as 0 starts at this times the lowest loss
RIDGE = 1e-13  # relative diagonal added so nearly collinear columns still solve

# Exponents tried: fine where laws live, coarse up to the bound of valid laws.
EXPONENT_GRID = np.concatenate([np.linspace(0.01, 1.0, 34), [1.25, 1.5, 2.0, 3.0, 5.0]])


def _solve_supports(gram, rhs):
    """Non-negative least squares for a stack of 3-coefficient problems.

    ``gram`` (P, 3, 3) and ``rhs`` (P, 3) are M^T M and M^T 1. Every support
    (subset of coefficients allowed to be non-zero) is solved by its normal
    equations; the feasible solution with the smallest residual is the NNLS
    optimum (the optimum is the least-squares fit on its own support).
    """
    best = np.zeros_like(rhs)
    best_cost = np.zeros(len(rhs))  # the all-zero solution costs ||1||^2 - 0
    for size in (1, 2, 3):
        for support in itertools.combinations(range(3), size):
            idx = np.array(support)
            sub = gram[:, idx[:, None], idx[None, :]]
            ridge = RIDGE * np.einsum("pii->pi", sub)[:, :, None] * np.eye(size)
            with np.errstate(all="ignore"):
                coef = np.linalg.solve(sub + ridge, rhs[:, idx, None])[..., 0]
            cost = np.einsum("pi,pi->p", coef, rhs[:, idx]) * -1.0  # = c^T G c - 2 h^T c
            ok = np.isfinite(coef).all(axis=1) & (coef >= 0).all(axis=1) & (cost < best_cost)
            best[ok] = 0.0
            best[np.ix_(ok, idx)] = coef[ok]
            best_cost[ok] = cost[ok]
    return best


def profile_starts(log_n, log_d, log_loss, floor, alphas=EXPONENT_GRID, betas=EXPONENT_GRID):
    """Starting points (P, 5) in log space, one per (alpha, beta) pair of the grids.

    Parameters
    ----------
    log_n, log_d, log_loss : ndarray, shape (n,)
    floor : ndarray, shape (3,)
        Lower bounds of (a, b, e); no start lies below them.
    alphas, betas : ndarray
        Values of alpha and of beta tried (their product is the grid).
    """
    w = np.exp(-log_loss)  # rows scaled to relative residuals
    u = np.exp(-np.outer(alphas, log_n)) * w  # (Ga, n): N**-alpha / L
    v = np.exp(-np.outer(betas, log_d)) * w  # (Gb, n): D**-beta / L
    shape = (len(alphas), len(betas))
    gram = np.empty(shape + (3, 3))
    gram[..., 0, 0] = w @ w
    gram[..., 0, 1] = gram[..., 1, 0] = (u @ w)[:, None]
    gram[..., 0, 2] = gram[..., 2, 0] = (v @ w)[None, :]
    gram[..., 1, 1] = np.einsum("an,an->a", u, u)[:, None]
    gram[..., 2, 2] = np.einsum("bn,bn->b", v, v)[None, :]
    gram[..., 1, 2] = gram[..., 2, 1] = u @ v.T
    rhs = np.empty(shape + (3,))
    rhs[..., 0] = w.sum()
    rhs[..., 1] = u.sum(axis=1)[:, None]
    rhs[..., 2] = v.sum(axis=1)[None, :]
    size = shape[0] * shape[1]
    coef = _solve_supports(gram.reshape(size, 3, 3), rhs.reshape(size, 3))  # E, A, B
    # A coefficient the least-squares fit sets to 0 starts small instead: at 0 (the
    # floor) its gradient vanishes and no local run could switch the term back on.
    logs = np.log(np.maximum(coef, ZERO_START * np.exp(log_loss.min())))
    alpha, beta = np.meshgrid(alphas, betas, indexing="ij")
    starts = np.column_stack([logs[:, 1], logs[:, 2], logs[:, 0], alpha.ravel(), beta.ravel()])
    return np.maximum(starts, np.r_[floor, -np.inf, -np.inf])


def line_starts(x, log_n, log_d, log_loss, floor, exponents=EXPONENT_GRID):
    """Profile starts along each exponent through ``x``: (alpha of x, every beta of the
    grid) and (every alpha, beta of x). An optimum at another value of one exponent,
    such as a data term that fits best as a near-constant at beta = 0.01 while the
    search sits at beta = 5, is then one local run away."""
    return np.concatenate(
        [
            profile_starts(log_n, log_d, log_loss, floor, np.array([x[3]]), exponents),
            profile_starts(log_n, log_d, log_loss, floor, exponents, np.array([x[4]])),
        ]
    )


# Sizes of a revived term relative to the lowest loss, and its exponents (see revival_starts).
REVIVAL_SIZES = (1e-6, 1e-4, 1e-2)
REVIVAL_EXPONENTS = (0.01, 0.03, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0)


def revival_starts(x, log_n, log_d, log_loss, floor):
    """Starting points that replace one term of ``x`` by a small one at another exponent.

    A term far below the noise (a data term B / D**beta of 1e-6 of the loss, say)
    has many nearly equal optima: switched off (its log-coefficient at the floor of
    :func:`xlplan.fit.search.bounds`, where its gradient vanishes, so no local
    method leaves that plateau), or at beta = 5 with a huge B, or as a
    near-constant at beta = 0.01 beside E. The best of them is reached from only
    a handful of grid starts. For the parameter term and the data term in turn,
    this gives starts with that term at each of ``REVIVAL_SIZES`` of the lowest
    loss (at the median N or D) for each of ``REVIVAL_EXPONENTS``, the rest of
    ``x`` unchanged; and E back on at those sizes if it is at its floor.
    """
    x = np.asarray(x, dtype=np.float64)
    level = np.log(np.asarray(REVIVAL_SIZES)) + log_loss.min()
    exponents = np.asarray(REVIVAL_EXPONENTS)
    out = []
    for k, j, logs in ((0, 3, log_n), (1, 4, log_d)):
        for size in level:
            block = np.tile(x, (len(exponents), 1))
            block[:, j] = exponents
            block[:, k] = size + exponents * np.median(logs)
            out.append(block)
    if x[2] <= floor[2]:
        block = np.tile(x, (len(level), 1))
        block[:, 2] = level
        out.append(block)
    return np.maximum(np.concatenate(out), np.r_[floor, -np.inf, -np.inf])
