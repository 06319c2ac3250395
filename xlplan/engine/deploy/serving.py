"""Serving from the hardware: throughput, $ per million tokens and GPUs, by the roofline bound.

Decode (generating output tokens) is limited by memory bandwidth: each step reads
every weight once and produces one token for each of the ``batch`` sequences in
flight. Prefill (reading the prompt) is limited by compute. For a model of N
parameters on an inference GPU of peak P FLOP/s (in the inference number format),
memory bandwidth W bytes/s, memory M bytes, b bytes per weight and price p
$/GPU-hour, with bandwidth utilisation u in (0, 1]:

    prefill tokens/s per GPU  = P x prefill_mfu / (2N)
    decode tokens/s per GPU   = min(batch x u x W / (N b), P x prefill_mfu / (2N))
                                (memory-bound term, compute-bound term)
    decode MFU                = decode tokens/s x 2N / P
                              = min(2 x batch x u x W / (b P), prefill_mfu)
    $ per 1M input tokens     = p / 3600 / prefill tokens/s x 1e6
    $ per 1M output tokens    = p / 3600 / decode tokens/s x 1e6
    GPUs to hold the weights  = ceil(N b / M)

Decode MFU does not depend on N, so it is a property of the hardware and the
batch: :func:`at_batch` puts it in a :class:`~xlplan.engine.hardware.Hardware`,
which then prices inference in :mod:`xlplan.engine.paper.sizing` exactly as these
formulas do (2N FLOPs per token at that MFU is the same dollars as one token at
the throughput above). Example: A100-40GB, int8 (b = 1), batch 2, u = 1:
2 x 2 x 1.555e12 / (1 x 6.24e14) = 0.997%, the paper's "1% decode MFU".

The one rule for decode MFU and batch: a hardware's own decode MFU *is* the
roofline at the batch that implies it (:func:`implied_batch`: 2.01 for
paper-a100, 1.53 for a100-80gb, 2.95 for h100, 2.06 for h200, all at 1% and full
bandwidth), and every function here uses it unless told a batch. Given a batch,
``at_batch`` makes a hardware whose decode MFU is the roofline at that batch, and
that hardware must then price the plan too, so serving and cost stay one model.

With tensor parallelism over k GPUs each GPU reads 1/k of the weights per step
and the k GPUs make the batch's tokens together, so tokens/s *per GPU* is
unchanged; k is the number of GPUs that hold the weights.

For a monthly demand of R requests of d_in input and d_out output tokens:

    GPU-hours per month       = R x (d_in / prefill tokens/s + d_out / decode tokens/s) / 3600
    GPUs at average load      = GPU-hours per month / 730 h (8760 h / 12)
    GPUs at peak load         = peak_to_average x average, rounded up to whole copies
                                of the model (multiples of k), and never fewer than k

GPU-hours x price is therefore exactly the inference dollars of the cost model.

Caveats
-------
* **KV-cache traffic is ignored.** Each decode step also reads the attention keys
  and values of every sequence in the batch; that traffic grows with batch x
  context length and at large batches or long contexts it, not the weights,
  limits decode. This bound is then optimistic (too many tokens/s, too few
  dollars and GPUs). The KV cache's memory is not counted in the GPUs that hold
  the weights either.
* The bound assumes the weights stream at ``u x W``; measured decode reaches a
  fraction of the datasheet bandwidth: lower ``bandwidth_utilisation`` to match.
* Queueing and latency targets are not modelled: ``peak_to_average`` is the
  planner's headroom.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import validate
from ..args import HARDWARE, INPUT_TOKENS, OUTPUT_TOKENS, PARAMS, Arg, gate
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    HOURS_PER_MONTH,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    SECONDS_PER_HOUR,
)
from ..errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..hardware import get_hardware

__all__ = [
    "Throughput",
    "GpuNeeds",
    "decode_mfu",
    "at_batch",
    "implied_batch",
    "throughput",
    "gpus_needed",
    "TOKENS_PER_MILLION",
]

TOKENS_PER_MILLION = 1e6
# GPU counts are rounded up; a count that is whole up to float noise (3.0000000000000004)
# must not become one more GPU.
_ROUNDING_SLACK = 1e-9


@dataclass(frozen=True)
class Throughput:
    """What one inference GPU does with a model (floats, or arrays of the broadcast shape).

    Attributes
    ----------
    decode_mfu : decode model FLOPs utilisation, (0, 1].
    decode_tokens_per_s, prefill_tokens_per_s : tokens/s per GPU.
    usd_per_million_input, usd_per_million_output : $ per 1M input / output tokens.
    gpus_for_weights : GPUs that hold one copy of the weights (NaN if the
        hardware's memory is unknown).
    """

    decode_mfu: object
    decode_tokens_per_s: object
    prefill_tokens_per_s: object
    usd_per_million_input: object
    usd_per_million_output: object
    gpus_for_weights: object


@dataclass(frozen=True)
class GpuNeeds:
    """GPUs to serve a monthly demand.

    Attributes
    ----------
    gpu_hours_per_month : GPU-hours of work per month.
    average : GPUs busy at average load (fractional).
    peak : GPUs to reserve for peak load (whole copies of the model).
    """

    gpu_hours_per_month: object
    average: object
    peak: object


BATCH = Arg(
    "batch",
    "Sequences decoded together, a whole number >= 1. Default 1.",
    "sequences",
    kind="custom",
    check_value=lambda value, on_invalid, law: _batch(value, on_invalid),
    default=1,
)
BANDWIDTH = Arg(
    "bandwidth_utilisation",
    "Share of the datasheet memory bandwidth reached, in (0, 1]. Default 1.",
    high=1.0,
    default=1.0,
)


def _finish(value, scalar):
    return float(value) if scalar else value


def _all_scalar(*values):
    """True when every value is a plain float (a scalar call gets floats back)."""
    return all(isinstance(v, float) for v in values)


def _batch(batch, on_invalid, law=None):
    """A whole number of sequences >= 1."""
    b = validate.number("batch", batch, low=1.0, low_open=False, on_invalid=on_invalid)
    if isinstance(b, float):  # one cell: no numpy
        whole = math.isnan(b) or b.is_integer()
        if whole:
            return b
    else:
        whole = np.floor(b) == b
        if np.all(whole):
            return b
    if on_invalid == "nan":
        return np.where(whole, b, np.nan)
    bad = float(np.asarray(b)[~np.asarray(whole)].ravel()[0])
    raise InvalidValueError(
        f"{PLACEHOLDER}={bad:g} is not a whole number: it must be a whole "
        "number >= 1 (sequences decoded together)",
        argument="batch",
        value=bad,
    )


@gate(HARDWARE, BATCH, BANDWIDTH)
def decode_mfu(hardware=None, batch=1, bandwidth_utilisation=1.0, on_invalid="raise"):
    """Decode MFU by the roofline bound: min(2 batch u W / (b P), prefill MFU).

    Parameters
    ----------
    hardware : str, sequence of 10 settings or Hardware
        Must know its serving settings (a preset, or ten settings).
    batch : int or array_like
        Sequences decoded together, a whole number >= 1.
    bandwidth_utilisation : float or array_like
        Share of the datasheet memory bandwidth reached, in (0, 1].

    Examples
    --------
    >>> f"{decode_mfu('paper-a100', batch=2):.3%}"
    '0.997%'
    """
    hw, b, u = hardware, batch, bandwidth_utilisation
    hw.require_serving_settings("the serving model")
    memory_bound = (
        INFERENCE_FLOPS_PER_PARAM_TOKEN
        * b
        * u
        * hw.inference_memory_bandwidth
        / (hw.bytes_per_weight * hw.inference_peak_flops)
    )
    return _finish(np.minimum(memory_bound, hw.prefill_mfu), _all_scalar(b, u))


def implied_batch(hardware=None, bandwidth_utilisation=1.0):
    """The batch at which the roofline gives the hardware's own decode MFU (a float).

    decode MFU x b x P / (2 u W): not necessarily whole, since a preset's MFU is a
    round figure. Infinite when the decode MFU exceeds the prefill MFU (the
    roofline's ceiling, which no batch passes).

    Examples
    --------
    >>> f"{implied_batch('paper-a100'):.2f}, {implied_batch('h100'):.2f}"
    '2.01, 2.95'
    """
    hw = get_hardware(hardware)
    hw.require_serving_settings("the batch a decode MFU implies")
    u = validate.number("bandwidth_utilisation", bandwidth_utilisation, high=1.0)
    if hw.decode_mfu > hw.prefill_mfu:
        return math.inf
    return (
        hw.decode_mfu
        * hw.bytes_per_weight
        * hw.inference_peak_flops
        / (INFERENCE_FLOPS_PER_PARAM_TOKEN * u * hw.inference_memory_bandwidth)
    )


def at_batch(hardware=None, batch=1, bandwidth_utilisation=1.0):
    """The hardware with its decode MFU derived from a batch size (a :class:`Hardware`).

    Accepted wherever a hardware is: ``cost_optimal(loss, requests,
    hardware=at_batch("h100", 8))`` prices decode by the roofline at batch 8.

    Examples
    --------
    >>> at_batch("paper-a100", 2).name
    'paper-a100@batch2'
    """
    for name, value in (("batch", batch), ("bandwidth_utilisation", bandwidth_utilisation)):
        if not validate.is_scalar(value):
            raise InvalidTypeError(
                f"{PLACEHOLDER}={value!r} must be one number: a hardware has one decode MFU",
                argument=name,
                value=value,
            )
    hw = get_hardware(hardware)
    mfu = decode_mfu(hw, batch, bandwidth_utilisation)
    share = "" if bandwidth_utilisation == 1 else f"@{bandwidth_utilisation:g}bandwidth"
    return hw.replace(
        name=f"{hw.name}@batch{batch:g}{share}",
        decode_mfu=mfu,
        description=(
            f"{hw.name} with decode MFU {mfu:.3%} from the roofline at "
            f"batch {batch:g} and {bandwidth_utilisation:.0%} of its "
            "memory bandwidth"
        ),
    )


@gate(PARAMS, HARDWARE)
def throughput(params, hardware=None, on_invalid="raise"):
    """Tokens/s per GPU, $ per 1M tokens and GPUs for the weights, at the hardware's MFUs.

    The hardware's own decode MFU is used (the roofline at :func:`implied_batch`);
    ``at_batch(hardware, batch)`` gives the roofline at another batch (``SERVING``
    in Excel does when given a batch).

    Parameters
    ----------
    params : float or array_like
        Model parameters N.
    hardware : str, sequence of 7 or 10 settings or Hardware
        ``gpus_for_weights`` is NaN when the hardware lacks its serving settings.

    Returns
    -------
    Throughput

    Examples
    --------
    >>> t = throughput(7e9, at_batch("h100", 1))
    >>> f"{t.decode_tokens_per_s:.1f} tok/s, ${t.usd_per_million_output:.2f}/1M"
    '478.6 tok/s, $1.16/1M'
    """
    hw, n = hardware, params
    flops_per_token = INFERENCE_FLOPS_PER_PARAM_TOKEN * np.asarray(n)
    prefill = hw.inference_peak_flops * hw.prefill_mfu / flops_per_token
    decode = hw.inference_peak_flops * hw.decode_mfu / flops_per_token
    usd_per_second = hw.inference_price_per_hour / SECONDS_PER_HOUR
    if hw.has_serving_settings:
        gpus = np.ceil(n * hw.bytes_per_weight / hw.inference_memory * (1 - _ROUNDING_SLACK))
    else:
        gpus = np.full_like(prefill, np.nan)
    scalar = isinstance(n, float)
    return Throughput(
        *(
            _finish(v, scalar)
            for v in (
                np.full_like(prefill, hw.decode_mfu),
                decode,
                prefill,
                usd_per_second / prefill * TOKENS_PER_MILLION,
                usd_per_second / decode * TOKENS_PER_MILLION,
                gpus,
            )
        )
    )


@gate(
    PARAMS,
    Arg("requests_per_month", "Requests per month, >= 0.", "requests", low_open=False),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    Arg(
        "peak_to_average",
        "Peak load over average load, >= 1. Default 1.",
        low=1.0,
        low_open=False,
        default=1.0,
    ),
)
def gpus_needed(
    params,
    requests_per_month,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    peak_to_average=1.0,
    on_invalid="raise",
):
    """GPU-hours per month and GPUs to reserve for a monthly demand, at the hardware's MFUs.

    Parameters
    ----------
    params : float or array_like
        Model parameters N.
    requests_per_month : float or array_like
        Requests per month, >= 0.
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware : str, sequence of 10 settings or Hardware
        Must know its serving settings; use ``at_batch`` for a roofline decode MFU.
    peak_to_average : float or array_like
        Peak load over average load, >= 1.

    Returns
    -------
    GpuNeeds
        GPU-hours x inference price = the cost model's inference dollars.

    Examples
    --------
    >>> needs = gpus_needed(7e9, 1e9, hardware=at_batch("h100", 8), peak_to_average=2)
    >>> f"{needs.gpu_hours_per_month:,.0f} GPU-h, {needs.average:.1f} avg, {needs.peak:.0f} peak"
    '15,874 GPU-h, 21.7 avg, 44 peak'
    """
    hw, requests, d_in, d_out, ratio = (
        hardware,
        requests_per_month,
        input_tokens,
        output_tokens,
        peak_to_average,
    )
    hw.require_serving_settings("GPUs needed")
    rate = throughput.kernel(params, hw, on_invalid)
    seconds = np.asarray(requests) * (
        d_in / np.asarray(rate.prefill_tokens_per_s) + d_out / np.asarray(rate.decode_tokens_per_s)
    )
    hours = seconds / SECONDS_PER_HOUR
    average = hours / HOURS_PER_MONTH
    copy = np.asarray(rate.gpus_for_weights)
    copies = np.maximum(np.ceil(ratio * average / copy * (1 - _ROUNDING_SLACK)), 1.0)
    scalar = _all_scalar(rate.decode_mfu, requests, d_in, d_out, ratio)
    return GpuNeeds(
        _finish(hours, scalar), _finish(average, scalar), _finish(copies * copy, scalar)
    )
