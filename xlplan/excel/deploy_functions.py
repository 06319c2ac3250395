"""Excel functions of deployment as it runs: model shape, KV cache, latency, training time.

Thin adapters over :mod:`xlplan.engine.deploy` (``shape``, ``kvcache``, ``latency``,
``kv_sizing``, ``training``), re-exported by :mod:`xlplan.udfs`: the registry
converts every cell with the engine's declarations (:mod:`xlplan.excel.params`), the
engine checks every value, so each body is one call and the shaping of its result.
A ``model`` argument is a shape preset name (``"llama-3-70b"``) or a number of
parameters, which the default shape rule turns into a shape. Hardware for the serving
functions needs its ten settings.

>>> KV_BYTES("llama-3-70b", 2)
327680.0
>>> TRAINING_TIME(70e9, 1.4e12, 1024, "h100")  # doctest: +ELLIPSIS
[[13.43994..., 330299.96..., 660599.93...]]
>>> TRAINING_MONTHS(40.8)
[[1.0, 2.0]]
"""

from ..engine.deploy import (
    arguments,
    kv_budget,
    kv_schedule,
    kv_sizing,
    kvcache,
    latency,
    shape,
    training,
)
from ..engine.errors import PLACEHOLDER, InvalidTypeError, InvalidValueError, XlplanError
from ..engine.hardware import get_hardware
from ..engine.money import budget
from . import convert
from .params import (
    HARDWARE,
    INPUT_TOKENS,
    LAW,
    LOSS,
    OUTPUT_TOKENS,
    PARAMS,
    REQUESTS,
    TOKENS,
    excel_param,
)
from .registry import excel_function
from .schedule_functions import _DISCOUNT, _PRICE, _SCHEDULE

__all__ = [
    "MODEL_SHAPE",
    "KV_BYTES",
    "SERVING_KV",
    "MAX_BATCH",
    "COST_OPT_KV",
    "TRAINING_TIME",
    "TRAINING_GPUS",
    "COST_OPT_PV_KV",
    "BEST_FOR_BUDGET_KV",
    "TRAINING_MONTHS",
]


def _model_cell(name, value):
    """A preset name as text, anything else one number (text that is neither stays text,
    and the engine's error lists the presets)."""
    value = convert.single(name, value)
    if isinstance(value, str) and value.strip().lower() in shape.SHAPE_PRESETS:
        return value
    try:
        return convert.number(name, value)
    except InvalidTypeError:
        if isinstance(value, str):
            return value
        raise


def _serving_hardware_cell(purpose):
    """The converter of a hardware that needs its ten settings: a message naming the Excel
    function (``purpose``) when they are missing; an unknown hardware is left to the
    engine, which reports it with every other bad argument."""

    def convert_hardware(name, value):
        value = convert.hardware(value, name)
        try:
            hw = get_hardware(value)
        except XlplanError:
            return value
        hw.require_serving_settings(purpose)
        return hw

    return convert_hardware


def _serving_hardware(purpose):
    return excel_param(
        arguments.serving_hardware(purpose), range=True, converter=_serving_hardware_cell(purpose)
    )


_MODEL = excel_param(shape.MODEL, converter=_model_cell)
# Required in Excel: the engine's default of 0 (no cache) serves Python callers.
_CONTEXT = excel_param(arguments.CONTEXT, optional=False, converter=convert.number)
_BATCH = excel_param(arguments.BATCH, converter=convert.optional(arguments.BATCH.default))
_TPOT = excel_param(arguments.TPOT_TARGET)
_TTFT = excel_param(arguments.TTFT_TARGET)
_KV = excel_param(arguments.KV_BYTES_PER_TOKEN)
_KV_BYTES = {arg.name: arg for arg in shape.model_kv_bytes.args}
_MAX_BATCH = {arg.name: arg for arg in latency.max_batch.args}
_SERVING_RESULT = (
    "decode MFU",
    "decode tokens/s per GPU",
    "$ per 1M input tokens",
    "$ per 1M output tokens",
    "GPUs per copy",
    "TPOT (s)",
    "TTFT (s)",
    "KV cache (bytes)",
)


def _serving_row(s):
    return (
        s.decode_mfu,
        s.decode_tokens_per_s,
        s.usd_per_million_input,
        s.usd_per_million_output,
        s.gpus_per_copy,
        s.tpot,
        s.ttft,
        s.kv_cache_bytes,
    )


@excel_function(
    _MODEL,
    result=(
        "layers",
        "d_model",
        "heads",
        "KV heads",
        "head dim",
        "FFN dim",
        "vocabulary",
        "parameters",
    ),
)
def MODEL_SHAPE(model):
    """Shape (1x8) of a preset or of the default rule for N: layers, widths, heads, params."""
    return convert.row(*shape.model_shape(model).as_tuple())


@excel_function(_MODEL, excel_param(_KV_BYTES["bytes_per_element"]), HARDWARE)
def KV_BYTES(model, bytes_per_element=None, hardware=None):
    """KV-cache bytes per token: 2 x layers x KV heads x head dim x bytes per element."""
    return convert.result(shape.model_kv_bytes(model, bytes_per_element, hardware))


@excel_function(
    PARAMS,
    _CONTEXT,
    _serving_hardware("SERVING_KV"),
    _BATCH,
    _TPOT,
    _TTFT,
    INPUT_TOKENS,
    _KV,
    excel_param(arguments.COPY_GPUS),
    result=_SERVING_RESULT,
)
def SERVING_KV(
    params,
    context,
    hardware=None,
    batch=None,
    tpot_target=None,
    ttft_target=None,
    input_tokens=None,
    kv_bytes_per_token=None,
    gpus=None,
):
    """Serving a batch with its KV cache (1x8); a latency target it misses is #NUM!."""
    s = kvcache.kv_serving(
        params, hardware, batch, context, kv_bytes_per_token, input_tokens, gpus=gpus
    )
    for name, limit, value in (
        ("tpot_target", tpot_target, s.tpot),
        ("ttft_target", ttft_target, s.ttft),
    ):
        if limit is not None and value > limit:
            raise InvalidValueError(
                f"{PLACEHOLDER}={limit:g} s is not met at this batch: it "
                f"takes {value:.4g} s (MAX_BATCH finds the largest batch "
                "that meets it)",
                argument=name,
                value=limit,
            )
    return convert.row(*_serving_row(s))


@excel_function(
    PARAMS,
    _CONTEXT,
    _TPOT,
    _TTFT,
    _serving_hardware("MAX_BATCH"),
    INPUT_TOKENS,
    _KV,
    excel_param(_MAX_BATCH["gpus"]),
    result=("batch",) + _SERVING_RESULT,
)
def MAX_BATCH(
    params,
    context,
    tpot_target=None,
    ttft_target=None,
    hardware=None,
    input_tokens=None,
    kv_bytes_per_token=None,
    gpus=None,
):
    """Largest batch meeting the targets and memory (1x9): batch, then SERVING_KV's row."""
    plan = latency.max_batch(
        params,
        hardware,
        context,
        tpot_target,
        ttft_target,
        kv_bytes_per_token,
        input_tokens,
        gpus=gpus,
    )
    return convert.row(plan.batch, *_serving_row(plan.serving))


@excel_function(
    LOSS,
    REQUESTS,
    _CONTEXT,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    _serving_hardware("COST_OPT_KV"),
    _BATCH,
    LAW,
    result=("params", "tokens"),
)
def COST_OPT_KV(
    loss,
    requests,
    context,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    batch=None,
    law=None,
):
    """Params, tokens (1x2) minimising lifetime dollars with decode priced with the KV cache."""
    plan = kv_sizing.kv_cost_optimal(
        loss, requests, input_tokens, output_tokens, hardware, law, batch, context
    )
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(
    PARAMS, TOKENS, excel_param(training.GPUS), HARDWARE, result=("days", "GPU-hours", "training $")
)
def TRAINING_TIME(params, tokens, gpus, hardware=None):
    """Days, GPU-hours and dollars (1x3) to train params on tokens with gpus GPUs."""
    plan = training.training_time(params, tokens, gpus, hardware)
    return convert.row(plan.days, plan.gpu_hours, plan.dollars)


@excel_function(
    PARAMS, TOKENS, excel_param(training.DAYS), HARDWARE, result=("GPUs", "days", "training $")
)
def TRAINING_GPUS(params, tokens, days, hardware=None):
    """Fewest GPUs to train within a deadline (1x3): GPUs, days at that count, dollars."""
    plan = training.gpus_for_deadline(params, tokens, days, hardware)
    return convert.row(plan.gpus, plan.days, plan.dollars)


@excel_function(
    LOSS,
    _SCHEDULE,
    _CONTEXT,
    _DISCOUNT,
    _PRICE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    _serving_hardware("COST_OPT_PV_KV"),
    _BATCH,
    LAW,
    result=("params", "tokens"),
)
def COST_OPT_PV_KV(
    loss,
    requests_by_month,
    context,
    discount_rate=None,
    price_change=None,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    batch=None,
    law=None,
):
    """Params, tokens (1x2) minimising the present value of a monthly schedule, KV-aware."""
    plan = kv_schedule.kv_cost_optimal_pv(
        loss,
        requests_by_month,
        discount_rate,
        price_change,
        input_tokens,
        output_tokens,
        hardware,
        law,
        batch,
        context,
    )
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(
    excel_param(budget.DOLLARS),
    REQUESTS,
    _CONTEXT,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    _serving_hardware("BEST_FOR_BUDGET_KV"),
    _BATCH,
    LAW,
    result=("params", "tokens", "loss"),
)
def BEST_FOR_BUDGET_KV(
    dollars,
    requests,
    context,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    batch=None,
    law=None,
):
    """Params, tokens, loss (1x3) of the best model training + serving with the KV cache buys."""
    plan = kv_budget.kv_best_for_budget(
        dollars, requests, input_tokens, output_tokens, hardware, law, batch, context
    )
    return convert.row(plan.params, plan.tokens, plan.loss)


@excel_function(excel_param(training.training_months.args[0]), result=("first month", "last month"))
def TRAINING_MONTHS(days):
    """Months (1x2) a run of days occupies: starts in month 1, ends in month ceil(days/(365/12))."""
    first, last = training.training_months(days)
    return convert.row(first, last)
