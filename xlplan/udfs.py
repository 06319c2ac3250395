"""The xlplan Excel functions, under their Excel names.

Each is a plain Python callable taking Excel values (numbers, numeric text,
``None`` or ``""`` for a blank cell, 1-D or 2-D lists for ranges) and returning a
number or a 1xk list of lists (one row, which spills right in Excel). Bad input
never raises: the function returns a :class:`~xlplan.excel.cell_error.CellError`,
a ``str`` such as ``"#NUM! loss=1.5 is out of range ..."`` carrying ``.code``
(``"#NUM!"`` or ``"#VALUE!"``) and ``.message``, like a worksheet error value.

The same objects are the xlwings UDFs (``UDF MODULES = xlplan.udfs``) and what
``xlplan serve`` calls; :data:`FUNCTIONS` maps each name to its description.

>>> OPT_PARAMS(2.1, "1e12")  # doctest: +ELLIPSIS
[[4780762668.4..., 698163775674.7...]]
>>> OPT_PARAMS(1.5, 1e12).code
'#NUM!'
"""

import functools

import numpy as np

from .engine import laws
from .engine.constants import (
    DEFAULT_DELTA,
)
from .engine.data import data_limits
from .engine.hardware import get_hardware
from .engine.paper import chinchilla, sizing
from .excel import convert, params
from .excel.cell_error import CellError
from .excel.registry import FUNCTIONS, Param, excel_function
from .shared.labels import HARDWARE_LABELS, SERVING_HARDWARE_LABELS

__all__ = ["SCALING_LOSS", "CHINCHILLA_MODEL", "CHINCHILLA_OPT", "OPT_PARAMS", "TOTAL_FLOPS",
           "COST_OPT", "LIFETIME_COST", "FIT_COEFFS", "XLPLAN_LAW", "XLPLAN_HARDWARE",
           "FUNCTIONS", "CellError", "REGRET_TABLE", "ROBUST_OPT", "PLAN_INTERVAL",
           "OVERHEAD", "CRITICAL_SIZE", "EPOCHS",
           "DEMAND_RAMP", "LIFETIME_PV", "COST_OPT_PV", "CASHFLOW",
           "SERVING", "GPUS_NEEDED", "BREAKEVEN_REQUESTS",
           "BEST_FOR_FLOPS", "BEST_FOR_BUDGET", "LOSS_AT_BUDGET", "ENERGY_EMISSIONS"]

_LAW, _HARDWARE, _LOSS, _REQUESTS = params.LAW, params.HARDWARE, params.LOSS, params.REQUESTS
_PARAMS, _TOKENS = params.PARAMS, params.TOKENS
_INPUT, _OUTPUT = params.INPUT_TOKENS, params.OUTPUT_TOKENS
_UNIQUE = Param("unique_tokens", "Unique training tokens available (data may be repeated). "
                "Default: unlimited.", optional=True)


@excel_function(_PARAMS, _TOKENS, _LAW, _UNIQUE)
def SCALING_LOSS(params, tokens, law=None, unique_tokens=None):
    """Predicted loss (nats per token) of a model with params parameters trained on tokens."""
    law = laws.get_law(convert.law(law))
    unique = _unique(unique_tokens)
    if unique is not None:  # repeated data: Muennighoff et al. 2023
        return convert.result(data_limits.data_constrained_loss(
            convert.number("params", params), convert.number("tokens", tokens), unique, law))
    return convert.result(law.loss(convert.number("params", params),
                                   convert.number("tokens", tokens)))


def _unique(unique_tokens):
    return convert.optional_number("unique_tokens", unique_tokens, None)


@excel_function(_PARAMS, _LAW, result=("loss", "tokens", "training FLOPs"))
def CHINCHILLA_MODEL(params, law=None):
    """Chinchilla-style model of this size: loss, training tokens, training FLOPs (1x3)."""
    model = chinchilla.chinchilla_from_params(convert.number("params", params),
                                              convert.law(law))
    return convert.row(model.loss, model.tokens, model.training_flops)


@excel_function(_LOSS, _LAW, result=("params", "tokens"))
def CHINCHILLA_OPT(loss, law=None):
    """Chinchilla-style model reaching a target loss: params, tokens (1x2)."""
    model = chinchilla.chinchilla_from_loss(convert.number("loss", loss), convert.law(law))
    return convert.size_row(model.params, model.tokens)


@excel_function(_LOSS, Param("inf_tokens", "Lifetime inference tokens (input + output), >= 0."),
                _LAW, _UNIQUE, result=("params", "tokens"))
def OPT_PARAMS(loss, inf_tokens, law=None, unique_tokens=None):
    """Params, tokens (1x2) minimising training + inference FLOPs at a target loss."""
    plan = sizing.compute_optimal(convert.number("loss", loss),
                                  convert.number("inf_tokens", inf_tokens), convert.law(law),
                                  unique_tokens=_unique(unique_tokens))
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(_PARAMS, _TOKENS, Param("inf_tokens", "Lifetime inference tokens, >= 0."))
def TOTAL_FLOPS(params, tokens, inf_tokens):
    """Training plus inference FLOPs: 6 x params x tokens + 2 x params x inf_tokens."""
    return convert.result(sizing.total_flops(convert.number("params", params),
                                             convert.number("tokens", tokens),
                                             convert.number("inf_tokens", inf_tokens)))


@excel_function(_LOSS, _REQUESTS, _INPUT, _OUTPUT, _HARDWARE, _LAW, _UNIQUE,
                result=("params", "tokens"))
def COST_OPT(loss, requests, input_tokens=None, output_tokens=None, hardware=None, law=None,
             unique_tokens=None):
    """Params, tokens (1x2) minimising lifetime training + inference dollars at a target loss."""
    plan = sizing.cost_optimal(convert.number("loss", loss),
                               convert.number("requests", requests),
                               *convert.per_request(input_tokens, output_tokens),
                               hardware=convert.hardware(hardware), law=convert.law(law),
                               unique_tokens=_unique(unique_tokens))
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(_PARAMS, _TOKENS, _REQUESTS, _INPUT, _OUTPUT, _HARDWARE,
                result=("training $", "inference $", "total $"))
def LIFETIME_COST(params, tokens, requests, input_tokens=None, output_tokens=None,
                  hardware=None):
    """Lifetime dollars of a model (1x3): training, inference, total."""
    plan = sizing.lifetime_cost(convert.number("params", params),
                                convert.number("tokens", tokens),
                                convert.number("requests", requests),
                                *convert.per_request(input_tokens, output_tokens),
                                hardware=convert.hardware(hardware))
    return convert.row(plan.training, plan.inference, plan.total)


@excel_function(
    Param("runs", "Training runs: an n x 3 range of params, tokens, loss; a header row is "
          "allowed.", range=True),
    Param("max_tokens_per_param", "Use only runs with at most this many tokens per "
          "parameter. Default: all runs.", optional=True),
    Param("delta", f"Huber loss threshold of the fit. Default {DEFAULT_DELTA:g}.",
          optional=True),
    result=laws.COEFFICIENT_NAMES, slow=True)
def FIT_COEFFS(runs, max_tokens_per_param=None, delta=None):
    """Law coefficients A, B, E, alpha, beta (1x5) fitted to your training runs."""
    # Imported here: reading runs pulls in pandas, which the cheap functions never need.
    from .fit.runs import load_runs

    options = (convert.optional_number("max_tokens_per_param", max_tokens_per_param, None),
               convert.optional_number("delta", delta, DEFAULT_DELTA))
    return convert.row(*_fitted(_runs_key(load_runs(convert.table("runs", runs))), *options))


# Excel evaluates FIT_COEFFS(range) once for every cell that uses it, e.g. as the law
# of a column of OPT_PARAMS: the fit (0.2-1 s) is remembered for the same runs and
# options. The key is the numbers the fit uses, after parsing (the bytes of the
# float64 arrays), never the cells: TRUE and 1, or "1e9" and 1E9, can parse
# differently, so only what is fitted may decide whether two fits are the same.
# Failed fits raise, so they are never cached.
FIT_CACHE_SIZE = 32


def _runs_key(runs):
    """Hashable (params, tokens, loss) of parsed runs: bytes of their float64 arrays."""
    return tuple(np.ascontiguousarray(a, dtype=np.float64).tobytes()
                 for a in (runs.params, runs.tokens, runs.loss))


@functools.lru_cache(maxsize=FIT_CACHE_SIZE)
def _fitted(runs_key, max_tokens_per_param, delta):
    # Imported here: fitting pulls in the optimiser, which the cheap functions never need.
    from .fit.law import fit_law
    from .fit.runs import Runs

    params, tokens, loss = (np.frombuffer(b, dtype=np.float64) for b in runs_key)
    result = fit_law(Runs(params, tokens, loss), max_tokens_per_param=max_tokens_per_param,
                     delta=delta)
    return result.law.as_tuple()


@excel_function(Param("name", "Preset name, e.g. \"chinchilla\", \"epoch-2024\", "
                      "\"sardana-all\"."), result=laws.COEFFICIENT_NAMES)
def XLPLAN_LAW(name):
    """Coefficients A, B, E, alpha, beta (1x5) of a preset loss law."""
    return convert.row(*laws.get_law(convert.text("name", name)).as_tuple())


@excel_function(Param("name", "Preset name, e.g. \"paper-a100\", \"h100\"."),
                Param("all", "TRUE: all ten settings (adds memory bandwidth, memory, bytes "
                      "per weight for SERVING, GPUS_NEEDED). Default FALSE: seven.",
                      optional=True),
                result=HARDWARE_LABELS + SERVING_HARDWARE_LABELS)
def XLPLAN_HARDWARE(name, all=None):
    """Settings (1x7, or 1x10 with all) of a hardware preset: prices, peaks, utilisations."""
    hardware = get_hardware(convert.text("name", name))
    return convert.row(*hardware.as_tuple(all=convert.flag("all", all)))


from .excel.budget_functions import (  # noqa: E402,F401
    BEST_FOR_BUDGET,
    BEST_FOR_FLOPS,
    ENERGY_EMISSIONS,
    LOSS_AT_BUDGET,
)
from .excel.data_functions import CRITICAL_SIZE, EPOCHS, OVERHEAD  # noqa: E402,F401
from .excel.risk_functions import PLAN_INTERVAL, REGRET_TABLE, ROBUST_OPT  # noqa: E402,F401
from .excel.schedule_functions import CASHFLOW, COST_OPT_PV, DEMAND_RAMP, LIFETIME_PV  # noqa: E402,F401
from .excel.serving_functions import BREAKEVEN_REQUESTS, GPUS_NEEDED, SERVING  # noqa: E402,F401
