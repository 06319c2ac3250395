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

from ..engine import constants
from ..engine.deploy import serving
from ..engine.hardware import get_hardware
from ..engine.money import breakeven
from . import convert
from .cell_error import CellError
from .registry import Param, excel_function

__all__ = ["SERVING", "GPUS_NEEDED", "BREAKEVEN_REQUESTS"]

_PARAMS = Param("params", "Model size: number of parameters, e.g. 7E9.")
_HARDWARE = Param("hardware", "Hardware with ten settings: a preset such as \"h100\" or a "
                  "1x10 range as XLPLAN_HARDWARE(name, TRUE) returns. Default paper-a100.",
                  optional=True, range=True)
_BATCH = Param("batch", "Sequences decoded together, a whole number >= 1. Default 1.",
               optional=True)
_BANDWIDTH = Param("bandwidth_utilisation", "Share of the datasheet memory bandwidth reached, "
                   "in (0, 1]. Default 1.", optional=True)
_INPUT = Param("input_tokens", "Prompt tokens per request. Default 70.", optional=True)
_OUTPUT = Param("output_tokens", "Generated tokens per request. Default 215.", optional=True)


def _hardware_at_batch(hardware, batch, bandwidth_utilisation, purpose):
    """The ten-setting hardware with its decode MFU from the roofline at this batch."""
    hw = get_hardware(convert.hardware(hardware))
    hw.require_serving_settings(purpose)
    return serving.at_batch(hw, convert.optional_number("batch", batch, 1.0),
                            convert.optional_number("bandwidth_utilisation",
                                                    bandwidth_utilisation, 1.0))


@excel_function(_PARAMS, _HARDWARE, _BATCH, _BANDWIDTH,
                result=("decode MFU", "decode tokens/s per GPU", "prefill tokens/s per GPU",
                        "$ per 1M input tokens", "$ per 1M output tokens",
                        "GPUs to hold the weights"))
def SERVING(params, hardware=None, batch=None, bandwidth_utilisation=None):
    """Serving by the roofline (1x6): decode MFU, tokens/s, $ per 1M tokens, GPUs for weights."""
    hw = _hardware_at_batch(hardware, batch, bandwidth_utilisation, "SERVING")
    rate = serving.throughput(convert.number("params", params), hw)
    return convert.row(rate.decode_mfu, rate.decode_tokens_per_s, rate.prefill_tokens_per_s,
                       rate.usd_per_million_input, rate.usd_per_million_output,
                       rate.gpus_for_weights)


@excel_function(_PARAMS, Param("requests_per_month", "Requests per month, >= 0."), _INPUT,
                _OUTPUT, _HARDWARE, _BATCH,
                Param("peak_to_average", "Peak load over average load, >= 1. Default 1.",
                      optional=True), _BANDWIDTH,
                result=("GPU-hours per month", "GPUs at average load", "GPUs at peak load"))
def GPUS_NEEDED(params, requests_per_month, input_tokens=None, output_tokens=None,
                hardware=None, batch=None, peak_to_average=None, bandwidth_utilisation=None):
    """GPU-hours per month and GPUs to reserve (1x3) for a monthly demand."""
    hw = _hardware_at_batch(hardware, batch, bandwidth_utilisation, "GPUS_NEEDED")
    needs = serving.gpus_needed(
        convert.number("params", params),
        convert.number("requests_per_month", requests_per_month),
        convert.optional_number("input_tokens", input_tokens, constants.DEFAULT_INPUT_TOKENS),
        convert.optional_number("output_tokens", output_tokens, constants.DEFAULT_OUTPUT_TOKENS),
        hw, convert.optional_number("peak_to_average", peak_to_average, 1.0))
    return convert.row(needs.gpu_hours_per_month, needs.average, needs.peak)


@excel_function(
    Param("loss", "Target loss in nats per token: the quality the API gives you."),
    Param("api_input_price", "The API's $ per 1M input tokens, > 0."),
    Param("api_output_price", "The API's $ per 1M output tokens, > 0."), _INPUT, _OUTPUT,
    Param("hardware", "Hardware: a preset name or a 1x7 (or 1x10) range as XLPLAN_HARDWARE "
          "returns. Default paper-a100.", optional=True, range=True),
    Param("law", "Loss law: a preset name or a 1x5 range. Default chinchilla.", optional=True,
          range=True))
def BREAKEVEN_REQUESTS(loss, api_input_price, api_output_price, input_tokens=None,
                       output_tokens=None, hardware=None, law=None):
    """Lifetime requests above which training and serving your own model costs less than an API."""
    result = breakeven.breakeven_requests(
        convert.number("loss", loss), convert.number("api_input_price", api_input_price),
        convert.number("api_output_price", api_output_price),
        convert.optional_number("input_tokens", input_tokens, constants.DEFAULT_INPUT_TOKENS),
        convert.optional_number("output_tokens", output_tokens, constants.DEFAULT_OUTPUT_TOKENS),
        convert.hardware(hardware), convert.law(law))
    if math.isinf(result.requests):  # not an input error: the answer is "never", as #N/A
        return CellError(
            "#N/A", f"no break-even: the API (${result.api_cost_per_request * 1e6:.4g} per 1M "
            "requests) is cheaper at every volume for this quality and hardware; your own "
            "model's cost per request only falls to "
            f"${result.floor_cost_per_request * 1e6:.4g} per 1M requests (the smallest model "
            "that reaches the loss)")
    return convert.result(result.requests, "break-even requests")
