"""The arguments the deployment functions share, declared once for the gate.

:mod:`.kvcache`, :mod:`.latency`, :mod:`.kv_sizing` and :mod:`.kv_breakeven` take
the same context, cache, GPU and latency arguments; the Excel functions of
:mod:`xlplan.excel.deploy_functions` show the same help (units in it).
"""

import math

from .. import validate
from ..args import INPUT_TOKENS, Arg
from ..hardware import get_hardware
from .serving import BANDWIDTH, BATCH, _batch

__all__ = [
    "serving_hardware",
    "scalar_arg",
    "CONTEXT",
    "KV_BYTES_PER_TOKEN",
    "COPY_GPUS",
    "TPOT_TARGET",
    "TTFT_TARGET",
    "PROMPT_TOKENS",
    "SCALAR_BATCH",
    "SCALAR_BANDWIDTH",
    "BATCH",
    "BANDWIDTH",
]


def serving_hardware(purpose):
    """A ``hardware`` argument that must know its ten settings (``purpose`` names the use)."""

    def check(value, on_invalid, law):
        hw = get_hardware(value)
        hw.require_serving_settings(purpose)
        return hw

    return Arg(
        "hardware",
        'Hardware with ten settings: a preset such as "h100" or a 1x10 '
        "range from XLPLAN_HARDWARE(name, TRUE). Default paper-a100.",
        kind="custom",
        check_value=check,
        default=None,
    )


def scalar_arg(
    name, help, unit="", low=0.0, low_open=True, high=math.inf, default=None, optional_none=False
):
    """An argument that must be one number (not an array) in the range."""

    def check(value, on_invalid, law):
        return validate.scalar(name, value, low=low, low_open=low_open, high=high)

    return Arg(
        name,
        help,
        unit,
        kind="custom",
        check_value=check,
        default=default,
        optional_none=optional_none,
    )


def _scalar_batch(value, on_invalid, law):
    return float(_batch(validate.scalar("batch", value, low=1.0, low_open=False), "raise"))


CONTEXT = Arg(
    "context",
    "Tokens each sequence holds in the KV cache, >= 0; 0 switches the cache off (today's SERVING).",
    "tokens",
    low_open=False,
    default=0.0,
)
KV_BYTES_PER_TOKEN = Arg(
    "kv_bytes_per_token",
    "KV-cache bytes per token (KV_BYTES). Default: the shape rule at the inference precision.",
    "bytes per token",
    low_open=False,
    optional_none=True,
    default=None,
)
COPY_GPUS = Arg(
    "gpus",
    "GPUs of one copy of the model. Default: the fewest that hold the weights and the cache.",
    "GPUs",
    optional_none=True,
    default=None,
)
TPOT_TARGET = Arg(
    "tpot_target",
    "Largest time per output token, seconds (e.g. 0.05). Default: none.",
    "s",
    optional_none=True,
    default=None,
)
TTFT_TARGET = Arg(
    "ttft_target",
    "Largest time to first token, seconds (e.g. 1). Default: none.",
    "s",
    optional_none=True,
    default=None,
)
# Prefill of an empty prompt takes no time: TTFT and the prefill MFU need a prompt.
PROMPT_TOKENS = INPUT_TOKENS.but(low_open=True)
SCALAR_BATCH = BATCH.but(check_value=_scalar_batch)
SCALAR_BANDWIDTH = scalar_arg("bandwidth_utilisation", BANDWIDTH.help, high=1.0, default=1.0)
