"""The training-compute overhead of a smaller model (de Vries 2023, "Go smol or go home").

To reach the loss of the Chinchilla-optimal model (N_c params, D_c tokens) with
k N_c parameters, a model needs k_D D_c tokens, where under a Chinchilla law

    k_D = (1 - (beta / alpha) (k**-alpha - 1))**(-1 / beta),

so its training compute is k k_D times as much: an overhead of k k_D - 1,
independent of the budget. (Write the loss gap of the Chinchilla model as
A N_c**-alpha (1 + alpha / beta), using alpha A N_c**-alpha = beta B D_c**-beta,
and solve the loss of the smaller model for its tokens.) The overhead is
infinite at the critical size k* = (1 + alpha / beta)**(-1 / alpha), where the
parameter term alone uses up the whole gap: no amount of data reaches the loss.
"""

import numpy as np

from .. import validate
from ..args import LAW, Arg, gate
from ..errors import InvalidValueError
from ..scalars import plain

__all__ = ["critical_size", "tokens_multiplier", "compute_overhead"]


@gate(LAW)
def critical_size(law=None):
    """k*: the smallest fraction of the Chinchilla-optimal size that can reach its loss.

    Examples
    --------
    >>> round(critical_size("chinchilla"), 4)
    0.0974
    """
    return (1.0 + law.alpha / law.beta) ** (-1.0 / law.alpha)


def _size_fraction(size_fraction, on_invalid, law):
    """k checked against the law's critical size k* (below it no data reaches the loss)."""
    k = validate.number("size_fraction", size_fraction, on_invalid=on_invalid)
    k_star = critical_size.kernel(law)
    with np.errstate(invalid="ignore"):
        below = np.asarray(k <= k_star)
    if below.any():
        if on_invalid == "nan":
            return np.where(below, np.nan, k)
        value = float(np.asarray(k)[np.unravel_index(np.flatnonzero(below)[0], below.shape)])
        raise InvalidValueError(
            f"{{argument}}={value:g} is out of range: it must exceed the critical size "
            f"k*={k_star:.6g} of law '{law.name}' (below k* no amount of data reaches the "
            "Chinchilla-optimal model's loss)",
            argument="size_fraction",
            value=value,
        )
    return k


SIZE_FRACTION = Arg(
    "size_fraction",
    "Model size as a fraction of the Chinchilla-optimal size "
    "at the same loss, e.g. 0.3; must exceed CRITICAL_SIZE.",
    kind="custom",
    check_value=_size_fraction,
    needs_law=True,
)


@gate(SIZE_FRACTION, LAW)
def tokens_multiplier(size_fraction, law=None, on_invalid="raise"):
    """k_D: training tokens of the smaller model, as a multiple of the Chinchilla tokens."""
    k = size_fraction
    inner = 1.0 - law.beta / law.alpha * (np.power(k, -law.alpha) - 1.0)
    return plain(np.power(inner, -1.0 / law.beta))


@gate(SIZE_FRACTION, LAW)
def compute_overhead(size_fraction, law=None, on_invalid="raise"):
    """Extra training compute, as a fraction, of a model k times the Chinchilla-optimal size.

    Parameters
    ----------
    size_fraction : float or array_like
        k = N / N_chinchilla at the same loss, > k* (see :func:`critical_size`).
        Values above 1 (a larger model, fewer tokens) are allowed.
    law : optional
        Default ``"chinchilla"``.

    Returns
    -------
    float or ndarray
        k k_D - 1: 1.0 means twice the Chinchilla model's training FLOPs.

    Examples
    --------
    >>> round(compute_overhead(0.3), 3), round(compute_overhead(0.25), 3)
    (1.056, 1.889)
    """
    k = size_fraction
    return plain(k * tokens_multiplier.kernel(k, law, on_invalid) - 1.0)
