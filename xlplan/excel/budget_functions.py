"""Excel functions of "what a budget buys" (the best model for a fixed total budget) and
of its energy and emissions.

Thin wrappers of :mod:`xlplan.engine.money.budget` and :mod:`xlplan.engine.deploy.energy`,
registered like the functions of :mod:`xlplan.udfs` (which re-exports them, so
xlwings, the server and the formula evaluator find them there).

>>> BEST_FOR_FLOPS(1e23, 2e12)  # doctest: +ELLIPSIS
[[8209539399.2..., 1363491891082.5..., 2.0307...]]
>>> LOSS_AT_BUDGET(3e10, 1e23, 2e12).code
'#NUM!'
"""

from ..engine import constants
from ..engine.deploy import energy
from ..engine.money import budget
from . import convert
from . import params as shared
from .registry import Param, excel_function

__all__ = ["BEST_FOR_BUDGET", "BEST_FOR_FLOPS", "ENERGY_EMISSIONS", "LOSS_AT_BUDGET"]

_LAW, _HARDWARE = shared.LAW, shared.HARDWARE
_FLOPS = Param("total_flops", "Total budget in FLOPs: training 6 x params x tokens plus "
               "inference 2 x params x inf_tokens, e.g. 1E23.")
_INF_TOKENS = Param("inf_tokens", "Lifetime inference tokens (input + output), >= 0.")
_RESULT = ("params", "tokens", "loss")


@excel_function(_FLOPS, _INF_TOKENS, _LAW, result=_RESULT)
def BEST_FOR_FLOPS(total_flops, inf_tokens, law=None):
    """Params, tokens, loss (1x3) of the best model whose training + inference FLOPs fit."""
    plan = budget.best_for_flops(convert.number("total_flops", total_flops),
                                 convert.number("inf_tokens", inf_tokens), convert.law(law))
    return convert.row(plan.params, plan.tokens, plan.loss)


@excel_function(
    Param("dollars", "Total lifetime budget in US dollars (training + serving), > 0."),
    Param("requests", "Lifetime inference requests, >= 0."),
    shared.INPUT_TOKENS, shared.OUTPUT_TOKENS,
    _HARDWARE, _LAW, result=_RESULT)
def BEST_FOR_BUDGET(dollars, requests, input_tokens=None, output_tokens=None, hardware=None,
                    law=None):
    """Params, tokens, loss (1x3) of the best model that training + serving can buy."""
    plan = budget.best_for_budget(
        convert.number("dollars", dollars), convert.number("requests", requests),
        convert.optional_number("input_tokens", input_tokens, constants.DEFAULT_INPUT_TOKENS),
        convert.optional_number("output_tokens", output_tokens, constants.DEFAULT_OUTPUT_TOKENS),
        hardware=convert.hardware(hardware), law=convert.law(law))
    return convert.row(plan.params, plan.tokens, plan.loss)


@excel_function(shared.PARAMS, _FLOPS,
                _INF_TOKENS, _LAW)
def LOSS_AT_BUDGET(params, total_flops, inf_tokens, law=None):
    """Loss of a model of this size that spends the rest of the FLOP budget on training."""
    return convert.result(budget.loss_at_budget(
        convert.number("params", params), convert.number("total_flops", total_flops),
        convert.number("inf_tokens", inf_tokens), convert.law(law)), "loss")


@excel_function(
    Param("gpu_hours", "GPU-hours, e.g. training $ / price per GPU-hour, >= 0."),
    Param("power_watts", "Board power of one GPU in watts (A100 SXM 400, H100 SXM 700)."),
    Param("pue", "Data-centre power usage effectiveness, >= 1. Default 1.58 (Uptime "
          "Institute 2023 industry average).", optional=True),
    Param("grid_kg_per_kwh", "Grid carbon intensity, kg CO2e per kWh. Default 0.481 (Ember: "
          "world average 2023).", optional=True),
    result=("MWh", "t CO2e"))
def ENERGY_EMISSIONS(gpu_hours, power_watts, pue=None, grid_kg_per_kwh=None):
    """Energy (MWh) and emissions (t CO2e) (1x2) of GPU-hours at a board power."""
    mwh, tonnes = energy.footprint(
        convert.number("gpu_hours", gpu_hours), convert.number("power_watts", power_watts),
        convert.optional_number("pue", pue, energy.DEFAULT_PUE),
        convert.optional_number("grid_kg_per_kwh", grid_kg_per_kwh,
                                energy.DEFAULT_GRID_KG_PER_KWH))
    return convert.row(mwh, tonnes)
