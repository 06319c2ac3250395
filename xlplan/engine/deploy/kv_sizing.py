"""Cost-optimal sizing when the KV cache prices inference: a certified 1-D search.

With the KV cache, a decode step reads N b + B c k(N) bytes (:mod:`.kvcache`), where
the KV bytes per token k(N) follow the default shape rule (:mod:`.shape`, about
N^(1/3)). The inference dollars of a model are then no longer proportional to N,
and the closed form of :mod:`..paper.solver` no longer applies. Along the loss
constraint E + A / N^alpha + B / D^beta = loss, with D(N) eliminated,

    cost(N) = k_train N D(N) + R x $ per request(N)

is minimised over N in (N_min, N_chin], N_min = (A / (loss - E))^(1/alpha) where
D would be infinite and N_chin the Chinchilla model: every term of the inference
cost grows with N and the training cost grows past N_chin, so the optimum is no
larger. The search variable is z = log(log(N / N_min)), which resolves optima
within 1e-16 of N_min as well as ones at N_chin. A grid of ``GRID_POINTS`` values of
z brackets the best grid point between its neighbours, and golden-section search
shrinks that bracket to ``Z_TOLERANCE`` (a relative error in N below 1e-8), all
scenarios at once. With context 0 (no cache) :func:`..paper.sizing.cost_optimal`'s
closed form is used, at the decode MFU of the roofline at the batch. One scenario of
floats (an Excel cell) is searched on floats by :mod:`.kv_scalar`, with the same steps
and the same answer, bit for bit.
"""

import functools
import math

import numpy as np

from .. import validate
from ..args import INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, PARAMS, REQUESTS, REQUIRED, gate
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
)
from ..errors import ConvergenceError
from ..paper.sizing import ModelPlan, OptimalPlan, cost_optimal
from ..paper.solver import chinchilla_point
from .arguments import CONTEXT, SCALAR_BANDWIDTH, SCALAR_BATCH, scalar_arg, serving_hardware
from .kvcache import roofline_mfu
from .serving import BANDWIDTH, BATCH, at_batch
from .shape import BYTES_PER_ELEMENT, kv_bytes_for_params

__all__ = [
    "kv_cost_optimal",
    "kv_request_cost",
    "GRID_POINTS",
    "Z_SPAN",
    "Z_TOLERANCE",
]

GRID_POINTS = 48
Z_SPAN = 40.0  # z from log(s_max) - 40: N down to N_min (1 + 4e-18 s_max)
Z_TOLERANCE = 1e-9  # dN / N = s dz <= 2.5e-9 for s = log(N_chin / N_min) <= 2.5
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
MAX_ITERATIONS = 200
# Golden section ends within Z_TOLERANCE of the minimiser, where the cost is flat to
# ~1e-18 relative; a few ulps of slack absorb rounding in the comparison.
CERTIFY_SLACK = 1e-13


def _required(arg, name):
    return arg.but(name=name, default=REQUIRED)


@gate(
    PARAMS,
    _required(serving_hardware("the KV-aware request cost"), "hw"),
    REQUESTS,
    _required(INPUT_TOKENS, "d_in"),
    _required(OUTPUT_TOKENS, "d_out"),
    _required(BATCH, "batch"),
    _required(CONTEXT, "context"),
    _required(BYTES_PER_ELEMENT, "kv_element"),
    _required(BANDWIDTH, "u"),
)
def kv_request_cost(params, hw, requests, d_in, d_out, batch, context, kv_element, u):
    """Lifetime inference dollars of ``requests`` at the KV-aware roofline.

    $ per request = price / (3600 P) x 2N (d_in / prefill MFU + d_out / decode MFU),
    the MFUs of :func:`.kvcache.kv_serving` with k(N) of the shape rule.
    """
    n = np.asarray(params, dtype=np.float64)
    kv = kv_bytes_for_params.kernel(n, kv_element)
    decode = roofline_mfu.kernel(hw, batch, batch * context * kv / n, u)
    # No prompt (d_in = 0) has no prefill step: its roofline MFU would be 0 and d_in / 0 NaN.
    prefill = np.where(
        (context > 0) & (d_in > 0),
        roofline_mfu.kernel(hw, batch * d_in, batch * d_in * kv / n, u),
        hw.prefill_mfu,
    )
    flops = INFERENCE_FLOPS_PER_PARAM_TOKEN * n * hw.inference_cost_per_peak_flop
    return requests * flops * (d_in / prefill + d_out / decode)


def _objective(z, law, gap, n_min, k_train, demand):
    s = np.exp(z)
    n = n_min * np.exp(s)
    tokens = (law.B / (-gap * np.expm1(-law.alpha * s))) ** (1.0 / law.beta)
    return k_train * n * tokens + demand(n), n, tokens


def _golden(f, low, high, what):
    """Golden-section search of f on [low, high] (arrays): (best z, iterations).

    Each step keeps the sub-bracket holding the smaller of the two inner values and
    evaluates f once, at the new inner point.
    """
    a, b = low, high
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    for iteration in range(1, MAX_ITERATIONS + 1):
        left = fc <= fd  # the minimum is in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        new = np.where(left, b - _GOLDEN * (b - a), a + _GOLDEN * (b - a))
        f_new = f(new)
        c, d = np.where(left, new, d), np.where(left, c, new)
        fc, fd = np.where(left, f_new, fd), np.where(left, fc, f_new)
        if not np.any((b - a) > Z_TOLERANCE):  # NaN scenarios do not hold the loop
            return np.where(fc <= fd, c, d), iteration
    raise ConvergenceError(
        f"{what} did not converge in {MAX_ITERATIONS} "
        f"golden-section steps (widest bracket {np.nanmax(b - a):g} in z)"
    )


KV_BYTES_PER_ELEMENT = scalar_arg(
    "kv_bytes_per_element",
    "Bytes per cached key or value element. Default: the inference precision's.",
    "bytes",
    optional_none=True,
)


@gate(
    LAW,
    LOSS,
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    serving_hardware("KV-aware sizing"),
    SCALAR_BATCH,
    CONTEXT,
    SCALAR_BANDWIDTH,
    KV_BYTES_PER_ELEMENT,
)
def kv_cost_optimal(
    loss,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    batch=1,
    context=0.0,
    bandwidth_utilisation=1.0,
    kv_bytes_per_element=None,
):
    """Model minimising lifetime dollars at a target loss, inference priced with the KV cache.

    Parameters
    ----------
    loss, requests, input_tokens, output_tokens : float or array_like
        As :func:`~xlplan.engine.paper.sizing.cost_optimal` (broadcast: one scenario each).
    hardware : str, sequence of 10 settings or Hardware
        Needs the serving settings. Default ``"paper-a100"``.
    law : optional
        Default ``"chinchilla"``.
    batch : int
        Sequences decoded together (one number), >= 1.
    context : float or array_like
        Tokens each sequence holds in the KV cache, >= 0; 0 is the closed form.
    bandwidth_utilisation : float
        Share of the datasheet bandwidth reached, (0, 1].
    kv_bytes_per_element : float, optional
        Bytes per cached key or value element; default the inference precision's.

    Returns
    -------
    OptimalPlan
        In US dollars; ``iterations`` are golden-section steps (Halley iterations of the
        closed form where context is 0).

    Examples
    --------
    >>> plan = kv_cost_optimal(2.05, 3.51e9, hardware="paper-a100", batch=2, context=4096)
    >>> f"{plan.optimal.params:.3e}, saving {plan.saving:.1%}"
    '3.941e+09, saving 50.8%'
    """
    hw, u, d_in, d_out, c = (hardware, bandwidth_utilisation, input_tokens, output_tokens, context)
    kv_element = hw.bytes_per_weight if kv_bytes_per_element is None else kv_bytes_per_element
    closed = cost_optimal.kernel(loss, requests, d_in, d_out, batch_hardware(hw, batch, u), law)
    if all(isinstance(v, float) for v in (loss, requests, d_in, d_out, c)):  # one cell
        if c == 0:
            return closed
        plan = _scalar_search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element)
        if plan is not None:
            return plan
    elif np.all(np.asarray(c) == 0):
        return closed
    scalar = all(np.ndim(v) == 0 for v in (loss, requests, d_in, d_out, c))
    loss, requests, d_in, d_out, c = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(v, dtype=np.float64)) for v in (loss, requests, d_in, d_out, c))
    )
    plan = _search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element)
    plan = _merge(plan, closed, c == 0)
    return _as_scalar(plan) if scalar else plan


def _search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element):
    gap = loss - law.E
    chin_tokens, chin_params = chinchilla_point(law, gap)
    n_min = (law.A / gap) ** (1.0 / law.alpha)
    k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop

    def demand(n):
        return kv_request_cost.kernel(n, hw, requests, d_in, d_out, batch, c, kv_element, u)

    def f(z):
        return _objective(z, law, gap, n_min, k_train, demand)[0]

    z, iterations = bracketed_minimum(f, np.log(np.log(chin_params / n_min)))
    _, n, tokens = _objective(z, law, gap, n_min, k_train, demand)
    optimal = ModelPlan(n, tokens, loss, k_train * n * tokens, demand(n), "USD")
    chinchilla = ModelPlan(
        chin_params,
        chin_tokens,
        loss,
        k_train * chin_params * chin_tokens,
        demand(chin_params),
        "USD",
    )
    return OptimalPlan(
        optimal, chinchilla, np.full(n.shape, iterations), validate.valid_mask(optimal.total)
    )


def batch_hardware(hw, batch, u):
    """:func:`.serving.at_batch` (checked values), kept for the last few (hardware, batch,
    share): a cell recalculated keeps its hardware, and building one costs more than a
    KV-aware search of one scenario's float path."""
    try:
        return _batch_hardware(hw, batch, u)
    except TypeError:  # a setting that cannot be hashed
        return at_batch(hw, batch, u)


@functools.lru_cache(maxsize=16)
def _batch_hardware(hw, batch, u):
    return at_batch(hw, batch, u)


def _scalar_search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element):
    """:func:`_search` of one float scenario by :mod:`.kv_scalar` (the same floats), or
    None where that path leaves the answer to the array path."""
    from . import kv_scalar  # imports this module's constants

    loss, requests, d_in, d_out, c = (float(v) for v in (loss, requests, d_in, d_out, c))
    found = kv_scalar.cost_search(law, hw, loss, requests, d_in, d_out, c, batch, u, kv_element)
    if found is None:
        return None
    (n, tokens, training, serving), chin, iterations = found
    optimal = ModelPlan(n, tokens, loss, training, serving, "USD")
    chinchilla = ModelPlan(chin[0], chin[1], loss, chin[2], chin[3], "USD")
    return OptimalPlan(optimal, chinchilla, iterations, math.isfinite(training + serving))


def bracketed_minimum(f, z_top, what="KV-aware sizing", quantity="cost"):
    """Certified minimiser of f over z in [z_top - Z_SPAN, z_top], 1-D arrays: (z, steps).

    ``f(z)`` is evaluated on a ``(GRID_POINTS, scenarios)`` grid, then golden section
    shrinks the bracket of each scenario's best grid point to ``Z_TOLERANCE``; the
    value found must be no worse than the grid's (:func:`_certify`). ``what`` names the
    search and ``quantity`` what f is, in errors. Shared by the KV-aware searches of
    :mod:`.kv_budget` (not in ``__all__``: its arguments are the engine's own, unchecked).
    """
    grid = z_top - Z_SPAN * np.linspace(1.0, 0.0, GRID_POINTS)[:, None]
    on_grid = f(grid)
    best = np.argmin(on_grid, axis=0)
    column = np.arange(grid.shape[1])
    low = grid[np.maximum(best - 1, 0), column]
    high = grid[np.minimum(best + 1, GRID_POINTS - 1), column]
    z, iterations = _golden(f, low, high, what)
    _certify(f(z), np.min(on_grid, axis=0), z, what, quantity)
    return z, iterations


def _certify(found, grid_best, z, what="KV-aware sizing", quantity="cost"):
    """The search's minimum is no worse than the grid's: the bracket held the optimum."""
    worse = found > grid_best * (1.0 + CERTIFY_SLACK)
    if np.any(worse):
        i = int(np.flatnonzero(worse)[0])
        raise ConvergenceError(
            f"{what}: the bracketed minimum {found[i]:.10g} at z={z[i]:g} exceeds "
            f"the grid's {grid_best[i]:.10g} (scenario {i}): the {quantity} is not unimodal there"
        )


def _merge(plan, closed, off):
    """Elements with no cache take the closed form's values."""

    def pick(kv_side, closed_side):
        fields = ("params", "tokens", "loss", "training", "inference")
        return ModelPlan(
            *(
                np.where(
                    off, np.broadcast_to(getattr(closed_side, k), off.shape), getattr(kv_side, k)
                )
                for k in fields
            ),
            "USD",
        )

    return OptimalPlan(
        pick(plan.optimal, closed.optimal),
        pick(plan.chinchilla, closed.chinchilla),
        np.where(off, closed.iterations, plan.iterations),
        plan.valid,
    )


def _as_scalar(plan):
    def one(p):
        return ModelPlan(
            *(
                float(getattr(p, k)[0])
                for k in ("params", "tokens", "loss", "training", "inference")
            ),
            "USD",
        )

    return OptimalPlan(
        one(plan.optimal), one(plan.chinchilla), int(plan.iterations[0]), bool(plan.valid[0])
    )
