"""The largest batch that meets latency targets and fits in memory, with the KV cache.

On a copy of g GPUs (fixed: more GPUs would always allow a larger batch), time per
output token and time to first token grow with the batch B (:mod:`.kvcache`):

    TPOT(B) = max(2N B / (g P m), (N b + B c k) / (g u W))
    TTFT(B) = max(2N B d_in / (g P m), (N b + B d_in k) / (g u W))   (context c > 0)
    memory:  N b + B c k <= g M

with m the prefill MFU (the compute ceiling). Each bound is linear in B, so the
largest whole batch is the floor of the smallest cap, checked against the forward
formulas (one step down where rounding put it past a target). With context 0 TTFT is
compute-bound as in :mod:`.serving`.
"""

from dataclasses import dataclass

import numpy as np

from ..args import PARAMS, gate
from ..constants import DEFAULT_INPUT_TOKENS, INFERENCE_FLOPS_PER_PARAM_TOKEN
from ..errors import PLACEHOLDER, InvalidValueError
from .arguments import (
    BANDWIDTH,
    CONTEXT,
    COPY_GPUS,
    KV_BYTES_PER_TOKEN,
    PROMPT_TOKENS,
    TPOT_TARGET,
    TTFT_TARGET,
    serving_hardware,
)
from .kvcache import kv_bytes_default, serve

__all__ = ["BatchPlan", "max_batch"]

LIMITS = ("memory", "TPOT", "TTFT")


@dataclass(frozen=True)
class BatchPlan:
    """The largest batch meeting the targets, what limits it, and serving at that batch.

    Attributes
    ----------
    batch : largest whole batch (float or array).
    limited_by : "memory", "TPOT" or "TTFT" (str or array of str).
    serving : :class:`~.kvcache.KvServing` at ``batch``.
    """

    batch: object
    limited_by: object
    serving: object


def _caps(n, hw, g, c, kv, d_in, u, tpot, ttft):
    """Real-valued caps on B: memory, TPOT, TTFT (inf where absent)."""
    n, g, c, kv, d_in, u = (np.asarray(x, dtype=np.float64) for x in (n, g, c, kv, d_in, u))
    flops = INFERENCE_FLOPS_PER_PARAM_TOKEN * n
    weights = n * hw.bytes_per_weight
    per_step_bw = g * u * hw.inference_memory_bandwidth
    compute = g * hw.inference_peak_flops * hw.prefill_mfu / flops
    with np.errstate(divide="ignore", invalid="ignore"):
        memory = np.where(c * kv > 0, (g * hw.inference_memory - weights) / (c * kv), np.inf)
        tpot_cap = (
            np.inf
            if tpot is None
            else np.minimum(
                tpot * compute,
                np.where(
                    c * kv > 0,
                    (tpot * per_step_bw - weights) / (c * kv),
                    np.where(tpot * per_step_bw >= weights, np.inf, -np.inf),
                ),
            )
        )
        ttft_cap = (
            np.inf
            if ttft is None
            else np.minimum(
                ttft * compute / d_in,
                np.where(c > 0, (ttft * per_step_bw - weights) / (d_in * kv), np.inf),
            )
        )
    return np.broadcast_arrays(memory, tpot_cap, ttft_cap)


@gate(
    PARAMS,
    serving_hardware("the largest batch"),
    CONTEXT,
    TPOT_TARGET,
    TTFT_TARGET,
    KV_BYTES_PER_TOKEN,
    PROMPT_TOKENS,
    BANDWIDTH,
    COPY_GPUS.but(
        help="GPUs of one copy. Default: the fewest that hold the weights; the "
        "cache takes the rest."
    ),
)
def max_batch(
    params,
    hardware=None,
    context=0.0,
    tpot_target=None,
    ttft_target=None,
    kv_bytes_per_token=None,
    input_tokens=DEFAULT_INPUT_TOKENS,
    bandwidth_utilisation=1.0,
    gpus=None,
):
    """Largest batch whose KV cache fits and whose TPOT and TTFT (seconds) meet the targets.

    Parameters are as :func:`~.kvcache.kv_serving`'s; ``gpus`` (one copy) defaults to
    the fewest that hold the weights alone, the cache taking the rest of their memory.

    Returns
    -------
    BatchPlan

    Raises
    ------
    InvalidValueError
        A target below what batch 1 achieves (naming the target and the best value), a
        cache of one sequence that does not fit, or no limit at all (no target, context 0).

    Examples
    --------
    >>> plan = max_batch(7e9, "h100", context=4096, tpot_target=0.05)
    >>> plan.batch, plan.limited_by
    (271.0, 'memory')
    """
    hw, n, c, d_in, u = hardware, params, context, input_tokens, bandwidth_utilisation
    tpot, ttft = tpot_target, ttft_target
    kv = kv_bytes_default.kernel(n, hw, kv_bytes_per_token)
    g = np.ceil(n * hw.bytes_per_weight / hw.inference_memory) if gpus is None else gpus
    caps = _caps(n, hw, g, c, kv, d_in, u, tpot, ttft)
    best = np.floor(np.minimum.reduce(caps))
    _check_feasible(best, caps, n, hw, c, kv, d_in, u, g, (tpot, ttft))
    # Rounding in a cap can land one past a target: step down where the forward fails.
    best = np.where(_meets(best, n, hw, c, kv, d_in, u, g, tpot, ttft), best, best - 1.0)
    limited = np.asarray(LIMITS)[np.argmin(np.stack(caps), axis=0)]
    scalar = np.ndim(best) == 0
    serving = serve(hw, n, best, c, kv, d_in, u, g, scalar)
    return BatchPlan(float(best) if scalar else best, str(limited) if scalar else limited, serving)


def _meets(batch, n, hw, c, kv, d_in, u, g, tpot, ttft):
    s = serve(hw, n, np.maximum(batch, 1.0), c, kv, d_in, u, g)
    ok = (s.kv_cache_bytes + n * hw.bytes_per_weight) <= g * hw.inference_memory
    if tpot is not None:
        ok = ok & (s.tpot <= tpot)
    if ttft is not None:
        ok = ok & (s.ttft <= ttft)
    return ok


def _check_feasible(best, caps, n, hw, c, kv, d_in, u, g, targets):
    if np.all(np.isinf(caps[0]) & np.isinf(caps[1]) & np.isinf(caps[2])):
        raise InvalidValueError(
            "the batch is unbounded: give a TPOT or TTFT target, or a context > 0 so that "
            "memory limits it",
            argument="tpot_target",
            value=None,
        )
    bad = ~(best >= 1)
    if not np.any(bad):
        return
    at_one = serve(hw, n, 1.0, c, kv, d_in, u, g)
    first = np.flatnonzero(np.broadcast_to(bad, np.shape(best)).ravel())[0]

    def pick(value):
        return float(np.ravel(np.broadcast_to(value, np.shape(best)))[first])

    limit = int(np.argmin([pick(cap) for cap in caps]))
    if limit == 0:
        need = pick(n) * hw.bytes_per_weight + pick(c) * pick(kv)
        raise InvalidValueError(
            f"{PLACEHOLDER}={pick(c):g} tokens does not fit: one sequence's KV cache and the "
            f"weights need {need:.4g} bytes, {pick(g):g} GPU(s) hold "
            f"{pick(g) * hw.inference_memory:.4g}; give more gpus",
            argument="context",
            value=pick(c),
        )
    name, achieved, target = (
        ("tpot_target", at_one.tpot, targets[0])
        if limit == 1
        else ("ttft_target", at_one.ttft, targets[1])
    )
    raise InvalidValueError(
        f"{PLACEHOLDER}={pick(target):g} s cannot be met: the best achievable is "
        f"{pick(achieved):.4g} s (batch 1 on {pick(g):g} GPU(s))",
        argument=name,
        value=pick(target),
    )
