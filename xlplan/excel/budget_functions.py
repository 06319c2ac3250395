"""Excel functions of "what a budget buys" (the best model for a fixed total budget) and
of its energy and emissions.

Thin wrappers of :mod:`xlplan.engine.money.budget` and :mod:`xlplan.engine.deploy.energy`,
registered like every Excel function (:mod:`xlplan.udfs` re-exports them, so
xlwings, the server and the formula evaluator find them there).

>>> BEST_FOR_FLOPS(1e23, 2e12)  # doctest: +ELLIPSIS
[[8209539399.2..., 1363491891082.5..., 2.0307...]]
>>> LOSS_AT_BUDGET(3e10, 1e23, 2e12).code
'#NUM!'
"""

from ..engine.deploy import energy
from ..engine.money import budget
from . import convert
from .params import (
    HARDWARE,
    INF_TOKENS,
    INPUT_TOKENS,
    LAW,
    OUTPUT_TOKENS,
    PARAMS,
    REQUESTS,
    UNIQUE_TOKENS,
    excel_param,
)
from .registry import excel_function

__all__ = ["BEST_FOR_BUDGET", "BEST_FOR_FLOPS", "ENERGY_EMISSIONS", "LOSS_AT_BUDGET"]

_FLOPS = excel_param(budget.TOTAL_FLOPS)
_RESULT = ("params", "tokens", "loss")
_FOOTPRINT = {arg.name: arg for arg in energy.footprint.args}


@excel_function(_FLOPS, INF_TOKENS, LAW, result=_RESULT)
def BEST_FOR_FLOPS(total_flops, inf_tokens, law=None):
    """Params, tokens, loss (1x3) of the best model whose training + inference FLOPs fit."""
    plan = budget.best_for_flops(total_flops, inf_tokens, law)
    return convert.row(plan.params, plan.tokens, plan.loss)


@excel_function(
    excel_param(budget.DOLLARS),
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
    UNIQUE_TOKENS,
    result=_RESULT,
)
def BEST_FOR_BUDGET(
    dollars,
    requests,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    law=None,
    unique_tokens=None,
):
    """Params, tokens, loss (1x3) of the best model that training + serving can buy."""
    plan = budget.best_for_budget(
        dollars, requests, input_tokens, output_tokens, hardware, law, unique_tokens=unique_tokens
    )
    return convert.row(plan.params, plan.tokens, plan.loss)


@excel_function(PARAMS, _FLOPS, INF_TOKENS, LAW)
def LOSS_AT_BUDGET(params, total_flops, inf_tokens, law=None):
    """Loss of a model of this size that spends the rest of the FLOP budget on training."""
    return convert.result(budget.loss_at_budget(params, total_flops, inf_tokens, law), "loss")


@excel_function(
    excel_param(_FOOTPRINT["gpu_hours"]),
    excel_param(_FOOTPRINT["power_watts"]),
    excel_param(_FOOTPRINT["pue"]),
    excel_param(_FOOTPRINT["grid_kg_per_kwh"]),
    result=("MWh", "t CO2e"),
)
def ENERGY_EMISSIONS(gpu_hours, power_watts, pue=None, grid_kg_per_kwh=None):
    """Energy (MWh) and emissions (t CO2e) (1x2) of GPU-hours at a board power."""
    return convert.row(*energy.footprint(gpu_hours, power_watts, pue, grid_kg_per_kwh))
