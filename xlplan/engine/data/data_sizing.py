"""Sizing with a unique-token cap: the optimal and Chinchilla-style models when data runs out.

Glue between the uncapped solver (:mod:`.solver`) and the capped one
(:mod:`.capped`). Where the uncapped optimum needs no more tokens than exist, it
is also the capped optimum exactly (repetition and surplus parameters only ever
raise the loss, and it meets neither), so those elements keep today's numbers;
the others are solved under the data-constrained law of
:mod:`.data_limits`.
"""

import warnings

import numpy as np

from ..errors import UnreachableLossError
from ..paper.solver import solve_tokens
from .capped import solve_capped
from .data_limits import EPOCH_WARNING, RepetitionWarning, loss_floor

__all__ = ["capped_optimum", "check_within_floor"]


def check_within_floor(law, loss, unique, on_invalid):
    """``loss`` with NaN (or an error naming U) where no model reaches it from ``unique``."""
    floor = loss_floor.kernel(unique, law)
    with np.errstate(invalid="ignore"):
        unreachable = np.asarray(loss <= floor)
    if not unreachable.any():
        return loss
    if on_invalid == "nan":
        return np.where(unreachable, np.nan, loss)
    position = np.unravel_index(np.flatnonzero(unreachable)[0], unreachable.shape)

    def at(v):
        return float(np.broadcast_to(v, unreachable.shape)[position])

    where = f" (first at {tuple(int(i) for i in position)})" if unreachable.ndim else ""
    raise UnreachableLossError(
        f"loss={at(loss):g} cannot be reached with {{argument}}={at(unique):g}{where}: with "
        f"that much unique data no model gets below {at(floor):.6g} under law "
        f"'{law.name}', however many epochs or parameters (Muennighoff et al. 2023); "
        "more unique data or a higher loss is needed",
        argument="unique_tokens",
        value=at(unique),
        positions=[tuple(int(i) for i in position)] if unreachable.ndim else None,
    )


def _capped(law, gap, r, unique):
    """(tokens, params, iterations) of min N (D + r) under the cap, broadcast."""
    solved = solve_tokens(law, gap, r)
    tokens, params, iterations = solved.tokens, solved.params, solved.iterations
    tokens, params, iterations, gap, r, unique = (
        np.array(v, dtype=float)
        for v in np.broadcast_arrays(tokens, params, iterations, gap, r, unique)
    )
    # NaN inputs (invalid elements under on_invalid="nan") stay NaN, unsolved.
    todo = np.flatnonzero(
        ~(tokens <= unique) & np.isfinite(gap) & np.isfinite(r) & np.isfinite(unique)
    )
    if todo.size:
        flat = [v.reshape(-1) for v in (tokens, params, iterations)]
        flat[0][todo], flat[1][todo], flat[2][todo] = solve_capped(
            law, gap.flat[todo], r.flat[todo], unique.flat[todo], tokens.flat[todo]
        )
    tokens[~np.isfinite(unique)] = params[~np.isfinite(unique)] = np.nan
    return tokens, params, iterations.astype(int)


def capped_optimum(law, loss, r, unique, on_invalid="raise"):
    """Optimal and Chinchilla-style models at ``loss`` with ``unique`` tokens available.

    Parameters
    ----------
    law : ScalingLaw
    loss : float or ndarray
        Target loss (nats), already checked to exceed E.
    r : float or ndarray
        Lifetime inference cost in training-token equivalents (tokens), >= 0.
    unique : float or ndarray
        Unique tokens available, > 0 (checked).
    on_invalid : {"raise", "nan"}
        Where the loss is below what ``unique`` tokens allow: raise
        :class:`UnreachableLossError` naming U, or give NaN.

    Returns
    -------
    tokens, params, iterations, chin_tokens, chin_params
        Floats when every input is a float, else arrays of the broadcast shape.

    Warns
    -----
    RepetitionWarning
        When the optimal model repeats its data more than 4 times.
    """
    loss = check_within_floor(law, loss, unique, on_invalid)
    gap = loss - law.E
    # The optimal (r) and Chinchilla-style (r = 0) problems in one solve: for a single
    # cell that halves the per-call overhead of the array code.
    shape = np.broadcast_shapes(np.shape(gap), np.shape(r), np.shape(unique))
    both = np.stack([np.broadcast_to(r, shape), np.zeros(shape)])
    (tokens, chin_tokens), (params, chin_params), (iterations, _) = _capped(law, gap, both, unique)
    epochs = tokens / np.minimum(unique, tokens)
    if np.any(epochs > EPOCH_WARNING):
        warnings.warn(
            f"the optimal model repeats its unique data up to {np.nanmax(epochs):.3g} "
            f"times (more than {EPOCH_WARNING:g} epochs): Muennighoff et al. 2023 find "
            "repetition costs noticeably beyond about 4",
            RepetitionWarning,
            stacklevel=5,
        )
    results = (tokens, params, iterations, chin_tokens, chin_params)
    if all(isinstance(v, float) for v in (loss, r, unique)):
        return tuple(v.item() for v in results)
    return results
