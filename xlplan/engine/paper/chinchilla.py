"""Chinchilla-style (training-only) sizing: the analytic optimum of 6 N D.

Three named constructors of :class:`ChinchillaModel`, all on the same optimal
frontier alpha A / N**alpha = beta B / D**beta (Hoffmann et al. 2022, Eq. 4;
Sardana et al. 2024, Eq. 11 with no inference):

* :func:`chinchilla_from_loss`: the cheapest-to-train model reaching a loss;
* :func:`chinchilla_from_params`: the Chinchilla-style model with N parameters;
* :func:`chinchilla_from_compute`: the lowest-loss model for C training FLOPs.
"""

from dataclasses import dataclass

import numpy as np

from ..args import LAW, LOSS, PARAMS, Arg, gate
from ..constants import TRAIN_FLOPS_PER_PARAM_TOKEN
from ..scalars import plain
from .solver import chinchilla_point

__all__ = [
    "ChinchillaModel",
    "chinchilla_from_loss",
    "chinchilla_from_params",
    "chinchilla_from_compute",
]


@dataclass(frozen=True)
class ChinchillaModel:
    """A model on the training-compute-optimal frontier.

    Attributes (floats, or arrays of the broadcast input shape)
    ----------
    params : parameters N.
    tokens : training tokens D.
    loss : predicted loss (nats per token).
    training_flops : 6 N D, FLOPs.
    """

    params: object
    tokens: object
    loss: object
    training_flops: object

    @property
    def tokens_per_param(self):
        return self.tokens / self.params


def _model(law, params, tokens):
    # numpy arithmetic, so that sizes past the float range give inf (or a loss of inf for
    # tokens that underflow to 0) rather than a Python OverflowError/ZeroDivisionError.
    with np.errstate(over="ignore", invalid="ignore"):
        flops = TRAIN_FLOPS_PER_PARAM_TOKEN * np.multiply(params, tokens)
    loss = law.plain_loss(params, tokens)
    return ChinchillaModel(*(plain(v) for v in (params, tokens, loss, flops)))


@gate(LOSS, LAW)
def chinchilla_from_loss(loss, law=None, on_invalid="raise"):
    """The model that reaches ``loss`` (nats) with the fewest training FLOPs.

    Examples
    --------
    >>> m = chinchilla_from_loss(2.0)
    >>> f"{m.params:.3e} {m.tokens:.3e}"
    '1.951e+10 9.333e+11'
    """
    tokens, params = chinchilla_point(law, loss - law.E)
    return ChinchillaModel(params, tokens, loss, TRAIN_FLOPS_PER_PARAM_TOKEN * params * tokens)


@gate(PARAMS, LAW)
def chinchilla_from_params(params, law=None, on_invalid="raise"):
    """The Chinchilla-style model with ``params`` parameters (its tokens, loss, FLOPs).

    Examples
    --------
    >>> m = chinchilla_from_params(70e9)
    >>> f"{m.tokens:.3e} {m.loss:.4f}"
    '4.255e+12 1.8918'
    """
    ratio = (law.beta * law.B / (law.alpha * law.A)) ** (1.0 / law.beta)
    with np.errstate(over="ignore"):
        tokens = ratio * np.power(params, law.alpha / law.beta)
    return _model(law, params, tokens)


@gate(Arg("training_flops", "Training compute C = 6 N D, FLOPs, > 0.", "FLOPs"), LAW)
def chinchilla_from_compute(training_flops, law=None, on_invalid="raise"):
    """The lowest-loss model trainable with ``training_flops`` FLOPs (C = 6 N D)."""
    flops = training_flops
    a, b = law.alpha, law.beta
    scale = (a * law.A / (b * law.B)) ** (1.0 / (a + b))
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        params = scale * np.power(flops / TRAIN_FLOPS_PER_PARAM_TOKEN, b / (a + b))
        tokens = np.divide(flops, TRAIN_FLOPS_PER_PARAM_TOKEN * params)
    return _model(law, params, tokens)
