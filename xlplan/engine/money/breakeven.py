"""Build versus buy: the lifetime requests above which your own model beats an API.

Let C*(R) be the lifetime cost (training + inference dollars) of the cost-optimal
model of a given loss serving R requests (:func:`~xlplan.engine.paper.sizing.cost_optimal`),
and ``a`` the API's price of one request, (d_in x input price + d_out x output
price) / 1e6 for prices in $ per 1M tokens. Break-even is the root of

    f(R) = a R - C*(R).

* C* is the minimum over models of costs that are affine in R, so it is concave;
  f is convex, with f(0) = -C*(0) < 0.
* By the envelope theorem C*'(R) = N*(R) c, where N*(R) is the optimal size and
  c the inference dollars per parameter per request. N*(R) falls toward
  N_min = (A / (loss - E))^(1/alpha), the smallest model that can reach the loss.
* So f has exactly one root when a > N_min c, and none otherwise: then the API is
  cheaper at every volume and the answer is ``inf`` (``#N/A`` in Excel).

The root is found by Newton's method from above (:mod:`xlplan.engine.roots`),
which on a convex f decreases monotonically onto the root. The step has a closed
form: with T(R) the training dollars of the optimum, f(R) = R (a - N* c) - T, so
Newton's next point is T(R) / (a - N*(R) c). The start is an explicit upper bracket: a model of size
N' = (a / c + N_min) / 2 trained to the loss on D' tokens costs
k_train N' D' + R N' c, at least C*(R), so f(R') >= 0 at
R' = k_train N' D' / (a - N' c).

Near the floor a - N* c is a small difference of large numbers, and f cannot be
computed better than a few rounding errors of a R: iterates stall at a relative
step of about eps a / (a - N* c) (1e-12 for an API 0.1% above the floor). The
iteration therefore also stops once |f| < NOISE_TOLERANCE a R, where R is a root
of f as computed.

One float per argument (an Excel cell) takes Newton's method in ``math`` on the
same equation written in the sizing solver's own unknown, its log-ratio s, where every
quantity of the optimum is explicit (:func:`_newton_scalar`): no sizing solve per
step. It answers within 1e-12 of a one-element array (measured: 5e-14); within
``SCALAR_FLOOR_MULTIPLE`` of the floor, where R is ill-conditioned, it keeps the array
arithmetic.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import roots
from ..args import HARDWARE, INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, Arg, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..paper.sizing import cost_optimal, dollar_rates
from ..paper.solver import law_constants, optimum_of_root, params_of_root, scalar_root

__all__ = ["BreakEven", "breakeven_requests", "MAX_ITERATIONS", "RTOL", "SCALAR_FLOOR_MULTIPLE"]

# The kernel's limit and tolerances (engine.roots gives the reasons), under the names
# tests and callers use; read at call time. A relative step below RTOL, or a residual
# below NOISE_TOLERANCE of a R (the size of the terms that cancel in f, so the test
# holds however close the API price is to the floor), ends the iteration.
MAX_ITERATIONS = roots.MAX_ITERATIONS
RTOL = roots.RELATIVE_TOLERANCE
NOISE_TOLERANCE = roots.NOISE_TOLERANCE
TOKENS_PER_MILLION = 1e6
# One float per argument takes the ``math`` path only for an API at least this many
# floors dear. Nearer the floor R is ill-conditioned (kappa = a / (a - N* c) exceeds
# a / (a - floor)): the last-bit differences between math's exp, log and ** and numpy's
# vectorised ones grow by kappa, to 1e-4 relative 1e-12 above the floor, so there a
# cell keeps the array arithmetic and answers bit for bit as an element of an array
# does. From twice the floor up the two agree within 1e-12 (tests/test_breakeven.py).
SCALAR_FLOOR_MULTIPLE = 2.0


@dataclass(frozen=True)
class BreakEven:
    """The break-even volume (floats, or arrays of the broadcast input shape).

    Attributes
    ----------
    requests : lifetime requests where own cost = API cost; ``inf`` where the API
        is cheaper at every volume.
    api_cost_per_request : the API's $ per request.
    floor_cost_per_request : N_min x c, the $ per request that the cost of your
        own model approaches; break-even exists only above it.
    iterations : Newton iterations taken.
    """

    requests: object
    api_cost_per_request: object
    floor_cost_per_request: object
    iterations: int

    @property
    def crosses(self):
        """True where break-even exists (the API costs more than the floor)."""
        return (
            np.isfinite(self.requests)
            if not isinstance(self.requests, float)
            else math.isfinite(self.requests)
        )


def _upper_bracket(law, gap, a, c, n_min, k_train):
    """R' with f(R') >= 0, from a feasible model of size between N_min and a / c."""
    n = 0.5 * (a / c + n_min)
    tokens = (law.B / (gap - law.A / n**law.alpha)) ** (1.0 / law.beta)
    return k_train * n * tokens / (a - n * c)


def _newton(law, loss, a, c, start, d_in, d_out, hardware):
    """Newton's method from above on f(R) = a R - C*(R), 1-D arrays; (roots, iterations)."""

    def terms(requests, loss, a, c, d_in, d_out):
        plan = cost_optimal.kernel(loss, requests, d_in, d_out, hardware, law).optimal
        margin = a - plan.params * c  # f = R margin - training; f' = margin (envelope)
        weight = a * requests  # the size of the terms that cancel in f
        return (requests * margin - plan.training) / weight, margin / weight, None

    found = roots.halley(
        terms,
        start,
        np.zeros(start.shape),
        start,
        (loss, a, c, d_in, d_out),
        shrink=True,
        ftol=NOISE_TOLERANCE,
        rtol=RTOL,
        max_iterations=MAX_ITERATIONS,
    )
    roots.check(found, "break-even", "value (requests)")
    return found.root, int(found.iterations.max(initial=0))


def _newton_scalar(law, gap, a, c, n_min, k_train, d_in, d_out, hardware):
    """:func:`_newton` for floats, in the sizing solver's own unknown: no solve per step.

    The optimum at R is explicit in the solver's log-ratio s (:mod:`xlplan.engine.paper.solver`):
    phi(s) = m gives r, so R = r k_train / c, and q = e**s gives N* and D*. By the
    constraint log r - log D* = s - log(k_factor) exactly, so a R = C*(R), that is
    R (a - N* c) = k_train N* D*, becomes

        h(s) = s - log(k_factor) + log(a - N* c) - log(N* c) = 0.

    N* falls as s grows, so h rises with slope h' = 1 + w a / (a - N* c) >= 1, where
    w = q / ((1 + q)(beta + (alpha + beta) q)): nearly linear, so Newton takes a few
    steps, each one power and two logs, no sizing solve. It stops on a step below RTOL
    or |h| below NOISE_TOLERANCE (h = log(1 + f / training $), a relative residual).

    (requests, iterations), or None where it did not end or R is not a finite number
    > 0 (the caller then takes the array path, which raises or answers).
    """
    _, beta, _, k_factor, _, ab = law_constants(law)[:6]
    shift = math.log(k_factor)
    # The root is the fixed point of the decreasing map t(s) = log(k_factor) +
    # log(N* c / (a - N* c)): N_min (s -> inf) gives a lower bound, and t of that an
    # upper one, where Newton starts.
    floor = n_min * c
    params = params_of_root(law, gap, shift + math.log(floor) - math.log(a - floor))[1]
    if params * c < a:
        top = shift + math.log(params * c) - math.log(a - params * c)
    else:  # the sizing solve at the upper bracket R'
        start = _upper_bracket(law, gap, a, c, n_min, k_train)
        r_start = dollar_rates(start, d_in, d_out, hardware)[1] / k_train
        if not (0.0 < r_start < math.inf):
            return None
        top = scalar_root(law, gap, r_start)

    def terms(s):
        q, params = params_of_root(law, gap, s)
        margin = a - params * c
        if not margin > 0:  # left of every root: step back up
            return -math.inf, 1.0, None
        w = q / ((1.0 + q) * (beta + ab * q))
        return s - shift + math.log(margin) - math.log(params * c), 1.0 + w * a / margin, None

    found = roots.halley_scalar(
        terms,
        top,
        -math.inf,
        top,
        shrink=False,
        ftol=NOISE_TOLERANCE,
        rtol=RTOL,
        max_iterations=MAX_ITERATIONS,
    )
    if not found.converged:
        return None
    requests = optimum_of_root(law, gap, found.root)[0] * k_train / c
    if not (0.0 < requests < math.inf):
        return None
    return requests, found.iterations


def _breakeven_scalar(law, loss, p_in, p_out, d_in, d_out, hw):
    """:func:`breakeven_requests` for one float of each: ``math`` only (one Excel cell).

    None where the API costs less than ``SCALAR_FLOOR_MULTIPLE`` floors (the caller
    takes the array path); OverflowError or ZeroDivisionError past the float range,
    where the array path's numpy gives inf instead.
    """
    k_train, c = dollar_rates(1.0, d_in, d_out, hw)
    a = (d_in * p_in + d_out * p_out) / TOKENS_PER_MILLION
    gap = loss - law.E
    n_min = (law.A / gap) ** (1.0 / law.alpha)
    floor = n_min * c
    if not a >= SCALAR_FLOOR_MULTIPLE * floor:
        return None
    found = _newton_scalar(law, gap, a, c, n_min, k_train, d_in, d_out, hw)
    if found is None:
        return None
    answer = object.__new__(BreakEven)  # BreakEven(...) without four object.__setattr__
    answer.__dict__.update(
        requests=found[0], api_cost_per_request=a, floor_cost_per_request=floor, iterations=found[1]
    )
    return answer


@gate(
    LOSS,
    Arg("api_input_price", "The API's $ per 1M input tokens, > 0.", "USD per 1M tokens"),
    Arg("api_output_price", "The API's $ per 1M output tokens, > 0.", "USD per 1M tokens"),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
)
def breakeven_requests(
    loss,
    api_input_price,
    api_output_price,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
):
    """Lifetime requests above which training and serving your own model beats an API.

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats per token (the quality the API gives you).
    api_input_price, api_output_price : float or array_like
        The API's $ per 1M input and output tokens, > 0.
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware : str, sequence of 7 or 10 settings or Hardware, optional
        Default ``"paper-a100"``; its decode MFU prices your own serving.
    law : optional
        Default ``"chinchilla"``.

    Returns
    -------
    BreakEven
        ``requests`` is ``inf`` where the API is cheaper at every volume.

    Examples
    --------
    >>> b = breakeven_requests(2.1, 0.20, 0.60, hardware="h100")
    >>> f"{b.requests:.4g} requests, API ${b.api_cost_per_request * 1e6:.0f} per 1M requests"
    '2.624e+08 requests, API $143 per 1M requests'
    """
    hw, p_in, p_out, d_in, d_out = (
        hardware,
        api_input_price,
        api_output_price,
        input_tokens,
        output_tokens,
    )
    if (
        type(loss) is float
        and type(p_in) is float
        and type(p_out) is float
        and type(d_in) is float
        and type(d_out) is float
    ):
        try:
            found = _breakeven_scalar(law, loss, p_in, p_out, d_in, d_out, hw)
        except (OverflowError, ZeroDivisionError, ValueError):
            found = None  # past the float range: numpy's arithmetic below gives inf instead
        if found is not None:
            return found
    k_train, c = dollar_rates(1.0, d_in, d_out, hw)
    a = (d_in * p_in + d_out * p_out) / TOKENS_PER_MILLION
    gap = np.asarray(loss) - law.E
    n_min = (law.A / gap) ** (1.0 / law.alpha)
    loss, a, c, n_min, gap, d_in, d_out = np.broadcast_arrays(loss, a, c, n_min, gap, d_in, d_out)
    crosses = a > n_min * c
    requests = np.full(loss.shape, np.inf)
    iterations = 0
    if crosses.any():
        keep = (loss[crosses], a[crosses], c[crosses], n_min[crosses], gap[crosses])
        start = _upper_bracket(law, keep[4], keep[1], keep[2], keep[3], k_train)
        requests[crosses], iterations = _newton(
            law, keep[0], keep[1], keep[2], start, d_in[crosses], d_out[crosses], hw
        )
    scalar = loss.ndim == 0
    floor = n_min * c
    return BreakEven(*(float(v) if scalar else v for v in (requests, a, floor)), iterations)
