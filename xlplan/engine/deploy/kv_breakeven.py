"""Build versus buy with the KV cache: break-even requests when decode reads the cache.

As in :mod:`xlplan.engine.money.breakeven`, break-even is the root of
f(R) = a R - C*(R), with ``a`` the API's $ per request and C*(R) the lifetime cost of
the cost-optimal model serving R requests, now priced by the KV-aware roofline
(:func:`.kv_sizing.kv_cost_optimal`). C* is still a minimum of costs affine in R,
so f is convex; by the envelope theorem f'(R) = a - c(N*(R)), with c(N) the $ per
request of a model of N parameters (:func:`.kv_sizing.kv_request_cost`, increasing
in N). f has one root when a exceeds c(N_min), the floor, and none otherwise
(``inf``). Newton's step is R <- T(R) / (a - c(N*(R))), T the training dollars of
the optimum, from an upper bracket R' = k_train N' D' / (a - c(N')) for the grid
model N' with c(N') < a that gives the smallest R'. Near the root the step is flat
in N* (it is the total cost minus a R over a - c), so the search's 1e-8 error in N*
moves R by ~1e-16 only. Context 0 is :func:`~xlplan.engine.money.breakeven.breakeven_requests`
at the roofline decode MFU of the batch.
"""

import numpy as np

from .. import roots
from ..args import gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, TRAIN_FLOPS_PER_PARAM_TOKEN
from ..money.breakeven import TOKENS_PER_MILLION, BreakEven, breakeven_requests
from ..paper.solver import chinchilla_point
from .arguments import CONTEXT, SCALAR_BANDWIDTH, SCALAR_BATCH, serving_hardware
from .kv_sizing import GRID_POINTS, Z_SPAN, kv_cost_optimal, kv_request_cost
from .serving import at_batch

__all__ = ["kv_breakeven_requests", "RTOL", "MAX_ITERATIONS"]

RTOL = 1e-12  # relative step: the root to ~1e-13 (quadratic)
MAX_ITERATIONS = roots.MAX_ITERATIONS


def _upper_bracket(law, gap, a, per_request, k_train):
    """Smallest R' = k_train N' D' / (a - c(N')) over a grid of N' with c(N') < a."""
    n_min = (law.A / gap) ** (1.0 / law.alpha)
    _, n_chin = chinchilla_point(law, gap)
    z = np.log(np.log(n_chin / n_min)) - Z_SPAN * np.linspace(1.0, 0.0, GRID_POINTS)[:, None]
    s = np.exp(z)
    n = n_min * np.exp(s)
    tokens = (law.B / (-gap * np.expm1(-law.alpha * s))) ** (1.0 / law.beta)
    margin = a - per_request(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = np.where(margin > 0, k_train * n * tokens / margin, np.inf)
    return np.min(bound, axis=0)


# The API's prices, tokens and law as breakeven_requests declares them.
_BREAKEVEN = [arg for arg in breakeven_requests.args if arg.name != "hardware"]


@gate(*_BREAKEVEN, serving_hardware("KV-aware break-even"), SCALAR_BATCH, CONTEXT, SCALAR_BANDWIDTH)
def kv_breakeven_requests(
    loss,
    api_input_price,
    api_output_price,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    batch=1,
    context=0.0,
    bandwidth_utilisation=1.0,
):
    """Lifetime requests above which your own model, served with its KV cache, beats an API.

    Parameters are those of :func:`~xlplan.engine.money.breakeven.breakeven_requests`
    and of :func:`.kv_sizing.kv_cost_optimal` (``batch``, ``context``,
    ``bandwidth_utilisation``; the cache at the inference precision).

    Returns
    -------
    BreakEven
        ``floor_cost_per_request`` is c(N_min); ``requests`` is ``inf`` where the API
        is cheaper at every volume.

    Examples
    --------
    >>> b = kv_breakeven_requests(2.1, 0.20, 0.60, hardware="h100", batch=32, context=4096)
    >>> f"{b.requests:.4g} requests"
    '1.608e+08 requests'
    """
    hw, b, u, c = hardware, batch, bandwidth_utilisation, context
    p_in, p_out, d_in, d_out = api_input_price, api_output_price, input_tokens, output_tokens
    if np.all(np.asarray(c) == 0):
        return breakeven_requests.kernel(loss, p_in, p_out, d_in, d_out, at_batch(hw, b, u), law)
    scalar = all(np.ndim(v) == 0 for v in (loss, p_in, p_out, d_in, d_out, c))
    loss, a, d_in, d_out, c = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(v, dtype=np.float64))
            for v in (loss, (d_in * p_in + d_out * p_out) / TOKENS_PER_MILLION, d_in, d_out, c)
        )
    )
    gap = loss - law.E

    def per_request(n):
        return kv_request_cost.kernel(n, hw, 1.0, d_in, d_out, b, c, hw.bytes_per_weight, u)

    floor = per_request((law.A / gap) ** (1.0 / law.alpha))
    requests, iterations = np.full(loss.shape, np.inf), 0
    crosses = a > floor
    if crosses.any():
        k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop
        start = _upper_bracket(law, gap, a, per_request, k_train)[crosses]
        scenario = tuple(v[crosses] for v in (a, loss, d_in, d_out, c))
        requests[crosses], iterations = _newton(
            start,
            scenario,
            lambda r, loss, d_in, d_out, c: kv_cost_optimal.kernel(
                loss, r, d_in, d_out, hw, law, b, c, u, None
            ),
        )
    return BreakEven(*(float(v[0]) if scalar else v for v in (requests, a, floor)), iterations)


def _newton(start, scenario, optimum):
    """Newton's method from above on f(R) = a R - C*(R), 1-D arrays; (roots, iterations).

    ``scenario`` is (a, loss, d_in, d_out, context) per element; ``optimum(R, loss, d_in,
    d_out, context)`` the KV-aware cost-optimal plan.
    """

    def terms(requests, a, *rest):
        plan = optimum(requests, *rest).optimal
        margin = a - plan.inference / requests  # f = R margin - training; f' = margin
        weight = a * requests  # the size of the terms that cancel in f
        return (requests * margin - plan.training) / weight, margin / weight, None

    found = roots.halley(
        terms,
        start,
        np.zeros(start.shape),
        start,
        scenario,
        shrink=True,
        ftol=roots.NOISE_TOLERANCE,
        rtol=RTOL,
        max_iterations=MAX_ITERATIONS,
    )
    roots.check(found, "KV-aware break-even", "value (requests)")
    return found.root, int(found.iterations.max(initial=0))
