"""The fitting objective of Eq. 4 (Sardana et al. 2024; Hoffmann et al. 2022, D.2) and its gradient.

A law is written in log space as ``x = (a, b, e, alpha, beta)`` with
A = exp(a), B = exp(b), E = exp(e). For a run with N parameters, D training
tokens and final loss L (nats per token) the predicted log loss is

    log L_hat = LSE(a - alpha log N, b - beta log D, e)

and the objective is the **sum** over runs of Huber_delta(log L_hat - log L).
Every function takes one point ``x`` of shape ``(5,)`` or a batch of shape
``(S, 5)`` (one row per starting point; all rows are evaluated at once).
"""

import numpy as np

__all__ = [
    "LOG_PARAMETER_NAMES",
    "log_prediction",
    "objective_and_gradient",
    "objective_gradient_hessian",
]

LOG_PARAMETER_NAMES = ("a", "b", "e", "alpha", "beta")


def _weights(x, log_n, log_d):
    """Unnormalised softmax weights of the three LSE terms, their sum and the shift."""
    x = np.asarray(x, dtype=np.float64)
    a, b, e, alpha, beta = (x[..., k, None] for k in range(5))
    w1 = np.multiply(alpha, -log_n)
    w1 += a
    w2 = np.multiply(beta, -log_d)
    w2 += b
    top = np.maximum(w1, w2)
    np.maximum(top, e, out=top)  # subtract the largest term so no exp overflows
    w1 -= top
    np.exp(w1, out=w1)
    w2 -= top
    np.exp(w2, out=w2)
    w3 = np.exp(e - top)
    total = w1 + w2
    total += w3
    return w1, w2, w3, total, top


def log_prediction(x, log_n, log_d):
    """Predicted log loss LSE(a - alpha log N, b - beta log D, e), shape ``x.shape[:-1] + (n,)``."""
    *_, total, top = _weights(x, log_n, log_d)
    return top + np.log(total)


def objective_and_gradient(x, log_n, log_d, log_loss, delta, weights=None):
    """Sum of Huber losses of the log residuals, and its analytic gradient in x.

    Parameters
    ----------
    x : array_like, shape (5,) or (S, 5)
        Log-space coefficients (a, b, e, alpha, beta).
    log_n, log_d, log_loss : ndarray, shape (n,)
        Natural logs of parameters, training tokens and loss (nats) of each run.
    delta : float
        Huber threshold (in log-loss units).
    weights : ndarray, shape (n,) or (S, n), optional
        Weight of each run in the sum (a bootstrap resample counts each run
        as often as it was drawn); default 1.

    Returns
    -------
    f : float or ndarray, shape (S,)
    g : ndarray, shape of x
        d f / d x, by the chain rule through the softmax weights of the LSE.
    """
    w1, w2, w3, total, r = _weights(x, log_n, log_d)
    r += np.log(total)
    r -= log_loss
    psi = np.clip(r, -delta, delta)  # Huber'(r)
    r -= 0.5 * psi
    r *= psi  # now the Huber loss of each run: psi (r - psi / 2)
    if weights is not None:
        r *= weights
        psi *= weights
    f = r.sum(axis=-1)
    psi /= total
    w1 *= psi
    w2 *= psi
    w3 *= psi
    g = np.stack(
        [w1.sum(axis=-1), w2.sum(axis=-1), w3.sum(axis=-1), -(w1 @ log_n), -(w2 @ log_d)], axis=-1
    )
    return f, g


def objective_gradient_hessian(x, log_n, log_d, log_loss, delta):
    """The objective, its gradient and its Hessian at one point ``x`` of shape (5,).

    With t = (a - alpha log N, b - beta log D, e), softmax weights p of t and
    q = d r / d x = J^T p, the Hessian of sum Huber(r) is

        sum_i Huber''(r_i) q_i q_i^T + Huber'(r_i) J^T (diag p_i - p_i p_i^T) J,

    Huber'' being 1 inside the threshold and 0 beyond (the objective is twice
    differentiable except on the set |r| = delta, where either side is used).
    The polish (:mod:`xlplan.fit.newton`) uses it to reach the floor of flat
    valleys that L-BFGS leaves early.
    """
    w1, w2, w3, total, r = _weights(np.asarray(x, dtype=np.float64), log_n, log_d)
    r += np.log(total)
    r -= log_loss
    psi = np.clip(r, -delta, delta)
    f = float(psi @ (r - 0.5 * psi))
    p1, p2, p3 = w1 / total, w2 / total, w3 / total
    q = np.stack([p1, p2, p3, -p1 * log_n, -p2 * log_d], axis=1)  # (n, 5)
    g = psi @ q
    inside = (np.abs(r) < delta).astype(np.float64)
    hess = (q.T * (inside - psi)) @ q
    c1, c2, c3 = psi * p1, psi * p2, psi * p3
    hess[0, 0] += c1.sum()
    hess[0, 3] -= c1 @ log_n
    hess[3, 0] -= c1 @ log_n
    hess[3, 3] += c1 @ (log_n * log_n)
    hess[1, 1] += c2.sum()
    hess[1, 4] -= c2 @ log_d
    hess[4, 1] -= c2 @ log_d
    hess[4, 4] += c2 @ (log_d * log_d)
    hess[2, 2] += c3.sum()
    return f, g, hess
