"""Excel functions of the paper's sizing: loss, Chinchilla models, compute- and
cost-optimal models, FLOPs and lifetime dollars.

Thin adapters over :mod:`xlplan.engine.paper`: the registry converts every cell
(:mod:`xlplan.excel.params`), the engine checks every value, so each body is one
call and the shaping of its result.

>>> OPT_PARAMS(2.1, "1e12")  # doctest: +ELLIPSIS
[[4780762668.4..., 698163775674.7...]]
>>> OPT_PARAMS(1.5, 1e12).code
'#NUM!'
"""

from ..engine import args, laws
from ..engine.data import data_limits
from ..engine.paper import chinchilla, sizing
from . import convert
from .params import (
    HARDWARE,
    INF_TOKENS,
    INPUT_TOKENS,
    LAW,
    LOSS,
    OUTPUT_TOKENS,
    PARAMS,
    REQUESTS,
    TOKENS,
    UNIQUE_TOKENS,
    excel_param,
)
from .registry import excel_function

__all__ = [
    "SCALING_LOSS",
    "CHINCHILLA_MODEL",
    "CHINCHILLA_OPT",
    "OPT_PARAMS",
    "TOTAL_FLOPS",
    "COST_OPT",
    "LIFETIME_COST",
]


@excel_function(PARAMS, TOKENS, LAW, UNIQUE_TOKENS)
def SCALING_LOSS(params, tokens, law=None, unique_tokens=None):
    """Predicted loss (nats per token) of a model with params parameters trained on tokens."""
    if unique_tokens is not None:  # repeated data: Muennighoff et al. 2023
        return convert.result(data_limits.data_constrained_loss(params, tokens, unique_tokens, law))
    return convert.result(laws.get_law(law).loss(params, tokens))


@excel_function(PARAMS, LAW, result=("loss", "tokens", "training FLOPs"))
def CHINCHILLA_MODEL(params, law=None):
    """Chinchilla-style model of this size: loss, training tokens, training FLOPs (1x3)."""
    model = chinchilla.chinchilla_from_params(params, law)
    return convert.row(model.loss, model.tokens, model.training_flops)


@excel_function(LOSS, LAW, result=("params", "tokens"))
def CHINCHILLA_OPT(loss, law=None):
    """Chinchilla-style model reaching a target loss: params, tokens (1x2)."""
    model = chinchilla.chinchilla_from_loss(loss, law)
    return convert.size_row(model.params, model.tokens)


@excel_function(LOSS, INF_TOKENS, LAW, UNIQUE_TOKENS, result=("params", "tokens"))
def OPT_PARAMS(loss, inf_tokens, law=None, unique_tokens=None):
    """Params, tokens (1x2) minimising training + inference FLOPs at a target loss."""
    plan = sizing.compute_optimal(loss, inf_tokens, law, unique_tokens=unique_tokens)
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(
    PARAMS,
    TOKENS,
    excel_param(args.INFERENCE_TOKENS, name="inf_tokens", help="Lifetime inference tokens, >= 0."),
)
def TOTAL_FLOPS(params, tokens, inf_tokens):
    """Training plus inference FLOPs: 6 x params x tokens + 2 x params x inf_tokens."""
    return convert.result(sizing.total_flops(params, tokens, inf_tokens))


@excel_function(
    LOSS,
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
    UNIQUE_TOKENS,
    result=("params", "tokens"),
)
def COST_OPT(
    loss,
    requests,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    law=None,
    unique_tokens=None,
):
    """Params, tokens (1x2) minimising lifetime training + inference dollars at a target loss."""
    plan = sizing.cost_optimal(
        loss, requests, input_tokens, output_tokens, hardware, law, unique_tokens=unique_tokens
    )
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(
    PARAMS,
    TOKENS,
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    result=("training $", "inference $", "total $"),
)
def LIFETIME_COST(params, tokens, requests, input_tokens=None, output_tokens=None, hardware=None):
    """Lifetime dollars of a model (1x3): training, inference, total."""
    plan = sizing.lifetime_cost(params, tokens, requests, input_tokens, output_tokens, hardware)
    return convert.row(plan.training, plan.inference, plan.total)
