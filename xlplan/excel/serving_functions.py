"""Excel functions for serving: SERVING, GPUS_NEEDED and BREAKEVEN_REQUESTS.

Thin adapters over :mod:`xlplan.engine.deploy.serving` and :mod:`xlplan.engine.money.breakeven`,
re-exported by :mod:`xlplan.udfs`. SERVING and GPUS_NEEDED need the hardware's ten
settings (a preset, or a 1x10 range as ``XLPLAN_HARDWARE(name, TRUE)`` returns);
given seven they answer ``#VALUE!`` naming what is missing. BREAKEVEN_REQUESTS
answers ``#N/A`` when the API is cheaper at every volume.

>>> SERVING(7e9, "h100", 8)  # doctest: +ELLIPSIS
[[0.0270..., 3828.5..., 70678.5..., 0.0078..., 0.1451..., 1.0]]
"""

import math

from ..engine import args
from ..engine.deploy import serving
from ..engine.hardware import get_hardware
from ..engine.money import breakeven
from . import convert
from .cell_error import CellError
from .params import INPUT_TOKENS, OUTPUT_TOKENS, PARAMS, excel_param
from .registry import excel_function

__all__ = ["SERVING", "GPUS_NEEDED", "BREAKEVEN_REQUESTS"]

_HARDWARE = excel_param(
    args.HARDWARE,
    help="Hardware with ten settings: a preset such as "
    '"h100" or a 1x10 range as XLPLAN_HARDWARE(name, TRUE) returns. '
    "Default paper-a100.",
)
# A blank batch is not batch 1: it keeps the hardware's own decode MFU (the one rule).
_BATCH = excel_param(
    serving.BATCH,
    help="Sequences decoded together (>= 1): decode MFU by "
    "the roofline. Default: the hardware's own decode MFU.",
    default=None,
    converter=convert.optional(None),
)
_BANDWIDTH = excel_param(
    serving.BANDWIDTH,
    help="With batch: share of the datasheet memory bandwidth reached, in (0, 1]. Default 1.",
)
_NEEDS = {arg.name: arg for arg in serving.gpus_needed.args}
_BREAKEVEN = {arg.name: arg for arg in breakeven.breakeven_requests.args}


def _hardware_at_batch(hardware, batch, bandwidth_utilisation, purpose):
    """The ten-setting hardware; with a batch, its decode MFU from the roofline at that batch.

    Without one it keeps its own decode MFU, the one LIFETIME_COST, COST_OPT and CASHFLOW
    price with, so serving and the cost model agree by default (see serving.implied_batch).
    """
    hw = get_hardware(hardware)
    hw.require_serving_settings(purpose)
    if batch is None:
        serving.implied_batch(hw, bandwidth_utilisation)  # checks the share all the same
        return hw
    return serving.at_batch(hw, batch, bandwidth_utilisation)


@excel_function(
    PARAMS,
    _HARDWARE,
    _BATCH,
    _BANDWIDTH,
    result=(
        "decode MFU",
        "decode tokens/s per GPU",
        "prefill tokens/s per GPU",
        "$ per 1M input tokens",
        "$ per 1M output tokens",
        "GPUs to hold the weights",
    ),
)
def SERVING(params, hardware=None, batch=None, bandwidth_utilisation=None):
    """Serving by the roofline (1x6): decode MFU, tokens/s, $ per 1M tokens, GPUs for weights."""
    hw = _hardware_at_batch(hardware, batch, bandwidth_utilisation, "SERVING")
    rate = serving.throughput(params, hw)
    return convert.row(
        rate.decode_mfu,
        rate.decode_tokens_per_s,
        rate.prefill_tokens_per_s,
        rate.usd_per_million_input,
        rate.usd_per_million_output,
        rate.gpus_for_weights,
    )


@excel_function(
    PARAMS,
    excel_param(_NEEDS["requests_per_month"]),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    _HARDWARE,
    _BATCH,
    excel_param(_NEEDS["peak_to_average"]),
    _BANDWIDTH,
    result=("GPU-hours per month", "GPUs at average load", "GPUs at peak load"),
)
def GPUS_NEEDED(
    params,
    requests_per_month,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    batch=None,
    peak_to_average=None,
    bandwidth_utilisation=None,
):
    """GPU-hours per month and GPUs to reserve (1x3) for a monthly demand."""
    hw = _hardware_at_batch(hardware, batch, bandwidth_utilisation, "GPUS_NEEDED")
    needs = serving.gpus_needed(
        params, requests_per_month, input_tokens, output_tokens, hw, peak_to_average
    )
    return convert.row(needs.gpu_hours_per_month, needs.average, needs.peak)


@excel_function(
    excel_param(args.LOSS, help="Target loss in nats per token: the quality the API gives you."),
    excel_param(_BREAKEVEN["api_input_price"]),
    excel_param(_BREAKEVEN["api_output_price"]),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    excel_param(
        args.HARDWARE,
        help="Hardware: a preset name or a 1x7 (or 1x10) range as "
        "XLPLAN_HARDWARE returns. Default paper-a100.",
    ),
    excel_param(args.LAW, help="Loss law: a preset name or a 1x5 range. Default chinchilla."),
)
def BREAKEVEN_REQUESTS(
    loss,
    api_input_price,
    api_output_price,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    law=None,
):
    """Lifetime requests above which training and serving your own model costs less than an API."""
    result = breakeven.breakeven_requests(
        loss, api_input_price, api_output_price, input_tokens, output_tokens, hardware, law
    )
    if math.isinf(result.requests):  # not an input error: the answer is "never", as #N/A
        return CellError(
            "#N/A",
            f"no break-even: the API (${result.api_cost_per_request * 1e6:.4g} per 1M "
            "requests) is cheaper at every volume for this quality and hardware; your own "
            "model's cost per request only falls to "
            f"${result.floor_cost_per_request * 1e6:.4g} per 1M requests (the smallest model "
            "that reaches the loss)",
        )
    return convert.result(result.requests, "break-even requests")
