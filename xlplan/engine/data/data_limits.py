"""Data-constrained scaling: what repeated tokens and surplus parameters are worth.

Muennighoff et al. 2023, "Scaling Data-Constrained Language Models" (NeurIPS;
public code github.com/huggingface/datablations). A model of N parameters
trained on D tokens drawn from U unique tokens (U is taken as min(U, D): a model
trained on fewer tokens than exist sees each once) reaches

    L = E + A / N'**alpha + B / D'**beta

with effective data and parameters

    D' = U + U R_D* (1 - exp(-R_D / R_D*)),          R_D = D / U - 1,
    N' = U_N + U_N R_N* (1 - exp(-R_N / R_N*)),      R_N = N / U_N - 1,
    U_N = min(N, N_opt(U)),   N_opt(D) = (alpha A / (beta B))**(1 / alpha) D**(beta / alpha),

N_opt being the Chinchilla-optimal size for D tokens. Repeated tokens are worth
less and less (D' < U (1 + R_D*) however many epochs), and parameters beyond
what U tokens can feed likewise (N' < U_N (1 + R_N*)).

The decay constants R_D*, R_N* belong to a law (:class:`~.laws.ScalingLaw`
fields ``R_D_star``, ``R_N_star``). Laws that do not carry them use
Muennighoff et al.'s C4 values: an approximation, since they were fitted
together with that paper's own A, B, E, alpha, beta.
"""

import numpy as np

from ..args import LAW, PARAMS, REQUIRED, TOKENS, UNIQUE_TOKENS, gate
from ..laws import get_law
from ..scalars import plain

__all__ = [
    "MUENNIGHOFF_R_D_STAR",
    "MUENNIGHOFF_R_N_STAR",
    "EPOCH_WARNING",
    "RepetitionWarning",
    "repetition_constants",
    "optimal_params_for_tokens",
    "effective_tokens",
    "effective_params",
    "data_constrained_loss",
    "loss_floor",
    "epochs",
]

# Muennighoff et al. 2023, C4 fit (their Eq. 5-6 with the fitted constants).
MUENNIGHOFF_R_D_STAR = 15.387756
MUENNIGHOFF_R_N_STAR = 5.309743
# Above this many epochs repetition starts to cost noticeably (Muennighoff et al.: up to
# about 4 epochs repeated data is almost as good as fresh data).
EPOCH_WARNING = 4.0


class RepetitionWarning(UserWarning):
    """A plan that repeats its unique data more than :data:`EPOCH_WARNING` times."""


def repetition_constants(law):
    """(R_D*, R_N*) of ``law``, Muennighoff et al.'s C4 values where the law has none."""
    return (
        MUENNIGHOFF_R_D_STAR if law.R_D_star is None else law.R_D_star,
        MUENNIGHOFF_R_N_STAR if law.R_N_star is None else law.R_N_star,
    )


def optimal_params_for_tokens(law, tokens):
    """N_opt(D): the Chinchilla-optimal parameter count for ``tokens`` training tokens.

    Written as Muennighoff et al. do, N_opt = G (D G)**(beta / alpha) with
    G = (alpha A / (beta B))**(1 / (alpha + beta)); equal to the Chinchilla frontier
    alpha A / N**alpha = beta B / D**beta.
    """
    g = (law.alpha * law.A / (law.beta * law.B)) ** (1.0 / (law.alpha + law.beta))
    return g * (tokens * g) ** (law.beta / law.alpha)


def _saturated(used, total, r_star):
    """used (1 + r* (1 - exp(-(total / used - 1) / r*))): the worth of ``total`` units."""
    return used + used * r_star * -np.expm1(-(total / used - 1.0) / r_star)


def effective_tokens(tokens, unique_tokens, law=None):
    """D': what ``tokens`` training tokens drawn from ``unique_tokens`` are worth (tokens)."""
    law = get_law(law)
    unique = np.minimum(unique_tokens, tokens)
    return plain(_saturated(unique, tokens, repetition_constants(law)[0]))


def effective_params(params, tokens, unique_tokens, law=None):
    """N': what ``params`` parameters are worth when trained on data of ``unique_tokens``."""
    law = get_law(law)
    used = np.minimum(params, optimal_params_for_tokens(law, np.minimum(unique_tokens, tokens)))
    return plain(_saturated(used, params, repetition_constants(law)[1]))


@gate(PARAMS, TOKENS, UNIQUE_TOKENS.but(optional_none=False, default=REQUIRED), LAW)
def data_constrained_loss(params, tokens, unique_tokens, law=None, on_invalid="raise"):
    """Predicted loss (nats per token) with repeated data (Muennighoff et al. 2023, Eq. 5-7).

    Parameters
    ----------
    params : float or array_like
        Parameters N, > 0.
    tokens : float or array_like
        Training tokens D (counting repeats), > 0.
    unique_tokens : float or array_like
        Unique tokens U available, > 0; only min(U, D) of them are used.
    law : optional
        Default ``"chinchilla"``; ``"muennighoff-2023"`` is the paper's own C4 fit.

    Returns
    -------
    float or ndarray
        Equal to ``law.loss(params, tokens)`` when D <= U and N <= N_opt(D).

    Examples
    --------
    >>> data_constrained_loss(6.34e9, 242e9, 25e9, "muennighoff-2023")
    2.2256440889984477
    """
    N, D, U = params, tokens, unique_tokens
    return law.plain_loss(effective_params(N, D, U, law), effective_tokens(D, U, law))


@gate(UNIQUE_TOKENS.but(optional_none=False, default=REQUIRED), LAW)
def loss_floor(unique_tokens, law=None):
    """The lowest loss any model reaches with ``unique_tokens`` of data (an infimum).

    With D and N unbounded, D' tends to U (1 + R_D*) and N' to N_opt(U) (1 + R_N*):
    a target at or below this floor cannot be reached by repetition or size.
    """
    r_d, r_n = repetition_constants(law)
    params = optimal_params_for_tokens(law, unique_tokens) * (1.0 + r_n)
    return law.plain_loss(params, np.multiply(unique_tokens, 1.0 + r_d))


@gate(TOKENS, UNIQUE_TOKENS)
def epochs(tokens, unique_tokens=None):
    """Passes over the unique data: D / min(U, D), so at least 1; 1 when U is None (unlimited).

    Examples
    --------
    >>> epochs(1e12, 2.5e11)
    4.0
    """
    if unique_tokens is None:
        return plain(np.ones_like(tokens)) if not isinstance(tokens, float) else 1.0
    return plain(np.maximum(np.divide(tokens, unique_tokens), 1.0))
