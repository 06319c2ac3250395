"""Serving with the KV cache: the roofline of :mod:`.serving` with keys and values read too.

Each decode step of a batch of B sequences, each holding ``context`` tokens (c) in
the KV cache at k bytes per token, computes 2N FLOPs per sequence and reads the
weights (N b bytes) and every cached key and value (B c k bytes). Over the GPUs
of one copy of the model, each at peak P, bandwidth W and utilisation u:

    decode MFU   = min(2 B u W / ((b + B c k / N) P), prefill MFU)
    prefill MFU  = min(2 B d_in u W / ((b + B d_in k / N) P), prefill MFU)
                   (one pass over B prompts of d_in tokens reads the weights once and
                   writes d_in keys and values per sequence)
    TPOT         = B 2N / (g P decode MFU)         time per output token, seconds
    TTFT         = B d_in 2N / (g P prefill MFU)   time to first token, seconds
    g (GPUs of one copy) = ceil((N b + B c k) / M)

Tokens/s and dollars then follow exactly as in :mod:`.serving` at that decode and
prefill MFU. ``context`` = 0 switches the cache off *and* keeps prefill
compute-bound, as :mod:`.serving` does: every number is then today's, bit for bit.
Every step is taken to read the whole ``context`` (the window the deployment is
provisioned for): an upper bound on the traffic of a window that is still filling.
Attention's own FLOPs (4 x layers x d_model x context per token) are left out of
the compute term.
"""

from dataclasses import dataclass

import numpy as np

from ..args import HARDWARE, OUTPUT_TOKENS, PARAMS, REQUIRED, Arg, gate
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    HOURS_PER_MONTH,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    SECONDS_PER_HOUR,
)
from ..errors import PLACEHOLDER, InvalidValueError
from . import shape as shapes
from .arguments import (
    BANDWIDTH,
    BATCH,
    CONTEXT,
    COPY_GPUS,
    KV_BYTES_PER_TOKEN,
    PROMPT_TOKENS,
    serving_hardware,
)
from .serving import _ROUNDING_SLACK, TOKENS_PER_MILLION, GpuNeeds, gpus_needed

__all__ = ["KvServing", "kv_serving", "kv_gpus_needed", "kv_bytes_default", "roofline_mfu"]


@dataclass(frozen=True)
class KvServing:
    """One copy of a model serving a batch with its KV cache (floats or arrays).

    Attributes
    ----------
    decode_mfu, prefill_mfu : model FLOPs utilisation, (0, 1].
    decode_tokens_per_s, prefill_tokens_per_s : tokens/s per GPU.
    usd_per_million_input, usd_per_million_output : $ per 1M input / output tokens.
    gpus_for_weights : GPUs that hold the weights alone.
    gpus_per_copy : GPUs of one copy: weights and the batch's KV cache (g).
    kv_cache_bytes : bytes of the batch's KV cache, B c k.
    tpot, ttft : time per output token and to first token, seconds, on g GPUs.
    """

    decode_mfu: object
    prefill_mfu: object
    decode_tokens_per_s: object
    prefill_tokens_per_s: object
    usd_per_million_input: object
    usd_per_million_output: object
    gpus_for_weights: object
    gpus_per_copy: object
    kv_cache_bytes: object
    tpot: object
    ttft: object


_HW = HARDWARE.but(
    name="hw", help="Hardware: a preset name, settings or a Hardware.", default=REQUIRED
)


@gate(
    _HW,
    Arg("tokens", "Tokens made per step, > 0.", "tokens"),
    Arg(
        "extra_bytes_per_param",
        "KV-cache bytes the step reads per parameter, >= 0.",
        "bytes per parameter",
        low_open=False,
    ),
    BANDWIDTH.but(default=REQUIRED),
)
def roofline_mfu(hw, tokens, extra_bytes_per_param, bandwidth_utilisation):
    """min(2 x tokens x u W / ((b + extra) P), prefill MFU): the step's MFU by the roofline.

    ``tokens`` are made per step, ``extra_bytes_per_param`` is the KV traffic of the
    step over N. With ``extra`` = 0 this is :func:`.serving.decode_mfu`'s arithmetic.
    """
    memory_bound = (
        INFERENCE_FLOPS_PER_PARAM_TOKEN
        * tokens
        * bandwidth_utilisation
        * hw.inference_memory_bandwidth
        / ((hw.bytes_per_weight + extra_bytes_per_param) * hw.inference_peak_flops)
    )
    return np.minimum(memory_bound, hw.prefill_mfu)


@gate(PARAMS, _HW, KV_BYTES_PER_TOKEN)
def kv_bytes_default(params, hw, kv_bytes_per_token=None):
    """KV bytes per token given, or the default shape rule's at the inference precision."""
    if kv_bytes_per_token is None:
        return shapes.kv_bytes_for_params.kernel(params, hw.bytes_per_weight)
    return kv_bytes_per_token


_SERVING = serving_hardware("serving with the KV cache")


@gate(PARAMS, _SERVING, BATCH, CONTEXT, KV_BYTES_PER_TOKEN, PROMPT_TOKENS, BANDWIDTH, COPY_GPUS)
def kv_serving(
    params,
    hardware=None,
    batch=1,
    context=0.0,
    kv_bytes_per_token=None,
    input_tokens=DEFAULT_INPUT_TOKENS,
    bandwidth_utilisation=1.0,
    gpus=None,
):
    """Throughput, dollars, GPUs and latency of one copy serving ``batch`` at ``context``.

    Parameters
    ----------
    params : float or array_like
        Model parameters N.
    hardware : str, sequence of 10 settings or Hardware
        Needs the serving settings (a preset, or ten settings).
    batch : int or array_like
        Sequences decoded together, a whole number >= 1.
    context : float or array_like
        Tokens each sequence holds in the KV cache, >= 0; 0 is :mod:`.serving`'s model.
    kv_bytes_per_token : float or array_like, optional
        Bytes per cached token (``ModelShape.kv_bytes_per_token``); default the shape
        rule of :mod:`.shape` for N at the inference precision's bytes per weight.
    input_tokens : float or array_like
        Prompt tokens per request (prefill and TTFT), > 0. Default 70.
    bandwidth_utilisation : float or array_like
        Share of the datasheet bandwidth reached, (0, 1].
    gpus : float or array_like, optional
        GPUs of one copy (tensor parallelism); default the fewest that hold the weights
        and the cache; fewer is an error.

    Returns
    -------
    KvServing

    Examples
    --------
    >>> s = kv_serving(7e9, "h100", batch=32, context=4096)
    >>> f"{s.tpot * 1e3:.1f} ms, {s.gpus_per_copy:.0f} GPU(s), ${s.usd_per_million_output:.2f}/1M"
    '4.7 ms, 1 GPU(s), $0.08/1M'
    """
    hw, n, b, c, d_in, u = (hardware, params, batch, context, input_tokens, bandwidth_utilisation)
    kv = kv_bytes_default.kernel(n, hw, kv_bytes_per_token)
    scalar = all(isinstance(v, float) for v in (n, b, c, d_in, u)) and np.ndim(kv) == 0
    if gpus is not None:
        gpus = _enough_gpus(gpus, _fit(hw, n, b * c * kv))
    return serve(hw, n, b, c, kv, d_in, u, gpus, scalar)


def _fit(hw, n, cache):
    """Fewest GPUs whose memory holds the weights and ``cache`` bytes."""
    return np.ceil((n * hw.bytes_per_weight + cache) / hw.inference_memory * (1 - _ROUNDING_SLACK))


def serve(hw, n, b, c, kv, d_in, u, gpus=None, scalar=False):
    """:func:`kv_serving` on checked inputs, with no memory check when ``gpus`` is given.

    :mod:`.latency` scans batches past the memory limit on a fixed copy with it.
    """
    cache = b * c * kv
    decode = roofline_mfu.kernel(hw, b, cache / n, u)
    on = c > 0  # off: prefill compute-bound, as serving.throughput
    prefill = np.where(on, roofline_mfu.kernel(hw, b * d_in, b * d_in * kv / n, u), hw.prefill_mfu)
    flops_per_token = INFERENCE_FLOPS_PER_PARAM_TOKEN * np.asarray(n)
    with np.errstate(over="ignore"):  # a subnormal N: inf tokens/s, reported by the callers
        decode_rate = hw.inference_peak_flops * decode / flops_per_token
        prefill_rate = hw.inference_peak_flops * prefill / flops_per_token
    usd_per_second = hw.inference_price_per_hour / SECONDS_PER_HOUR
    weights = np.ceil(n * hw.bytes_per_weight / hw.inference_memory * (1 - _ROUNDING_SLACK))
    fit = _fit(hw, n, cache)
    copy = fit if gpus is None else gpus + 0.0 * fit
    tpot = b / (copy * decode_rate)
    ttft = b * d_in / (copy * prefill_rate)
    fields = (
        decode,
        prefill,
        decode_rate,
        prefill_rate,
        usd_per_second / prefill_rate * TOKENS_PER_MILLION,
        usd_per_second / decode_rate * TOKENS_PER_MILLION,
        weights,
        copy,
        cache + 0.0 * weights,
        tpot,
        ttft,
    )
    shape = np.broadcast_shapes(*(np.shape(f) for f in fields))
    return KvServing(*(float(f) if scalar else np.broadcast_to(f, shape).copy() for f in fields))


def _enough_gpus(gpus, fit):
    """``gpus`` broadcast against ``fit``; an error where they cannot hold weights and cache."""
    short = np.asarray(gpus < fit)
    if np.any(short):
        given = float(np.ravel(np.broadcast_to(gpus, short.shape))[np.flatnonzero(short)[0]])
        need = float(np.ravel(np.broadcast_to(fit, short.shape))[np.flatnonzero(short)[0]])
        raise InvalidValueError(
            f"{PLACEHOLDER}={given:g} cannot hold the weights and the "
            f"batch's KV cache: it must be at least {need:g}",
            argument="gpus",
            value=given,
        )
    return gpus


_NEEDS = {arg.name: arg for arg in gpus_needed.args}


@gate(
    PARAMS,
    _NEEDS["requests_per_month"],
    PROMPT_TOKENS,
    OUTPUT_TOKENS,
    _SERVING,
    BATCH,
    CONTEXT,
    KV_BYTES_PER_TOKEN,
    BANDWIDTH,
    _NEEDS["peak_to_average"],
)
def kv_gpus_needed(
    params,
    requests_per_month,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    batch=1,
    context=0.0,
    kv_bytes_per_token=None,
    bandwidth_utilisation=1.0,
    peak_to_average=1.0,
):
    """GPU-hours per month and GPUs to reserve, as :func:`.serving.gpus_needed`, with the cache.

    Copies are of :attr:`KvServing.gpus_per_copy` GPUs (weights and the batch's cache).

    Returns
    -------
    serving.GpuNeeds
    """
    rate = kv_serving.kernel(
        params, hardware, batch, context, kv_bytes_per_token, input_tokens, bandwidth_utilisation
    )
    requests, d_in, d_out, ratio = (
        requests_per_month,
        input_tokens,
        output_tokens,
        peak_to_average,
    )
    seconds = np.asarray(requests) * (
        d_in / np.asarray(rate.prefill_tokens_per_s) + d_out / np.asarray(rate.decode_tokens_per_s)
    )
    hours = seconds / SECONDS_PER_HOUR
    average = hours / HOURS_PER_MONTH
    copy = np.asarray(rate.gpus_per_copy)
    copies = np.maximum(np.ceil(ratio * average / copy * (1 - _ROUNDING_SLACK)), 1.0)
    peak = copies * copy
    if np.ndim(peak) == 0:
        return GpuNeeds(float(hours), float(average), float(peak))
    return GpuNeeds(hours, average, peak)
