"""What a budget buys when the KV cache prices inference: a certified 1-D search.

:func:`~xlplan.engine.money.budget.best_for_budget` finds the lowest loss whose
training and serving cost a dollar budget, inference priced at a fixed $ per
parameter per request. With the KV cache the $ per request c(N) of
:func:`.kv_sizing.kv_request_cost` is no longer proportional to N, so along the
budget, for each N,

    D(N) = (dollars - R c(N)) / (k_train N),

and the loss E + A / N^alpha + B / D(N)^beta is minimised over the N that leave
money to train, 0 < N < N_max with R c(N_max) = dollars.

**Feasible sizes.** c(N) is increasing (the roofline's bytes per step grow with N)
and at least 2N price (d_in + d_out) / prefill MFU (no MFU exceeds that cap), and
it tends to 0 with N (KV bytes ~ N^(2/3) below the shape
rule's kink): every budget > 0 serves R requests with some model, N_max exists
and is found by Illinois steps on log c(N) = log(dollars / R), bracketed above by
the bound just given. As for ``best_for_budget``, every valid budget gets an
answer; read a tiny ``params`` as "this budget cannot serve this demand".

**One minimum.** With r(N) = R c(N) / k_train and S = dollars / k_train, the loss
is E + A e^(-alpha x) + B (N / (S - r(N)))^beta in x = log N. The first term is
convex; the log of the second has slope beta (1 + N r'(N) / (S - r(N))), which
grows with x wherever N r'(N) does not fall: each of c's terms is N d / MFU =
max(N / cap, (b N + B C k(N)) / K) by the roofline, both branches have
nondecreasing N f'(N) when N k'(N) is nondecreasing, and the max switches to the
steeper branch. N k'(N) rises except at the shape rule's kink (d_model = 1,024,
about 1.2e8 parameters), where the elasticity N k'(N) / k(N) drops from 2/3 to
0.35: there only, convexity is not proven, and each answer is certified against a grid
instead (:func:`.kv_sizing.bracketed_minimum` raises if the bracket missed a
lower grid value).

**The search.** The variable is z = log(log(N_max / N)), which resolves optima
within 1e-17 of N_max (budgets spent almost all on serving) as well as small
models. The smallest N searched is N_low = (A / (L_probe - E))^(1/alpha), with
L_probe the loss of a feasible probe: no N below it reaches the loss the probe
already has. The probe is the better of N_max / 2 and the answer of
:func:`~xlplan.engine.money.budget.best_for_flops` with serving linearised at
c(N_max) / N_max per parameter (its N is below N_max, so it leaves money to train).

With context 0 (no cache) or no serving cost, the answer is ``best_for_budget``'s
at the roofline decode MFU of the batch (:func:`.serving.at_batch`), bit for bit. One
scenario of floats (an Excel cell) is searched on floats by :mod:`.kv_scalar`, with the
same steps and the same answer, bit for bit.
"""

import math

import numpy as np

from .. import roots, validate
from ..args import INPUT_TOKENS, LAW, OUTPUT_TOKENS, PARAMS, REQUESTS, gate
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
)
from ..errors import InvalidValueError
from ..money.budget import DOLLARS, BudgetPlan, best_for_budget, best_for_flops, loss_at_dollars
from ..paper.sizing import ModelPlan
from .arguments import CONTEXT, SCALAR_BANDWIDTH, SCALAR_BATCH, serving_hardware
from .kv_sizing import (
    KV_BYTES_PER_ELEMENT,
    batch_hardware,
    bracketed_minimum,
    kv_request_cost,
)
from .serving import at_batch

__all__ = ["kv_best_for_budget", "kv_loss_at_dollars", "N_MAX_TOLERANCE"]

# Illinois on log N for N_max: the edge of the feasible sizes to 1e-12 relative.
N_MAX_TOLERANCE = roots.X_TOLERANCE
# N_max's bracket steps down by this factor in N (c falls by at least its cube root:
# KV bytes grow at least as N^(1/3)) until the serving cost is under the budget.
_STEP = math.log(1e3)
_MAX_STEPS = 200
# Training-token equivalents of one inference token (2 / 6): best_for_flops' demand.
_R_PER_TOKEN = INFERENCE_FLOPS_PER_PARAM_TOKEN / TRAIN_FLOPS_PER_PARAM_TOKEN


def _spender(hw, batch, kv_element, u):
    """``spend(n, requests, d_in, d_out, context)``: dollars of serving, R c(N)."""

    def spend(n, requests, d_in, d_out, context):
        return kv_request_cost.kernel(n, hw, requests, d_in, d_out, batch, context, kv_element, u)

    return spend


def _largest(spend, hw, dollars, scenario):
    """N_max with R c(N_max) = dollars, 1-D arrays: Illinois on log N.

    Above: R c(N) >= R 2N price (d_in + d_out) / prefill MFU (no MFU above that cap).
    Below: steps down by ``_STEP`` until the serving cost is under the budget.
    """
    requests, d_in, d_out, _ = scenario
    rate = requests * INFERENCE_FLOPS_PER_PARAM_TOKEN * hw.inference_cost_per_peak_flop
    high = np.log(dollars / (rate * (d_in + d_out) / hw.prefill_mfu))

    def fun(x, log_dollars, *scenario):
        return np.log(spend(np.exp(x), *scenario)) - log_dollars

    args = (np.log(dollars), *scenario)
    f_high = fun(high, *args)
    low = high - _STEP
    f_low = fun(low, *args)
    for _ in range(_MAX_STEPS):
        above = f_low >= 0
        if not above.any():
            break
        high, f_high = np.where(above, low, high), np.where(above, f_low, f_high)
        low = np.where(above, low - _STEP, low)
        f_low = np.where(above, fun(low, *args), f_low)
    found = roots.illinois(fun, low, high, f_low, f_high, args, xtol=N_MAX_TOLERANCE)
    roots.check(found, "KV-aware budget (largest model served)", "log N")
    return np.exp(found.root)


def _tokens(spend, dollars, n, k_train, scenario):
    """Training tokens the rest of the budget buys: (dollars - R c(N)) / (k_train N)."""
    return (dollars - spend(n, *scenario)) / (k_train * n)


def _loss(law, n, tokens):
    """L(N, D) where D > 0, +inf where serving takes the whole budget."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.where(tokens > 0, law.plain_loss(n, np.where(tokens > 0, tokens, 1.0)), np.inf)


def _search(law, hw, dollars, scenario, batch, kv_element, u):
    """(params, tokens, training $, serving $, golden steps) of the best model, 1-D arrays."""
    spend = _spender(hw, batch, kv_element, u)
    k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop
    n_max = _largest(spend, hw, dollars, scenario)
    s = dollars / k_train
    linear = best_for_flops.kernel(TRAIN_FLOPS_PER_PARAM_TOKEN * s, s / n_max / _R_PER_TOKEN, law)
    probes = np.stack([np.minimum(linear.params, n_max), 0.5 * n_max])
    probe_loss = np.min(_loss(law, probes, _tokens(spend, dollars, probes, k_train, scenario)), 0)
    n_low = (law.A / (probe_loss - law.E)) ** (1.0 / law.alpha)

    def at(z):
        n = n_max * np.exp(-np.exp(z))
        return n, _tokens(spend, dollars, n, k_train, scenario)

    def f(z):
        return _loss(law, *at(z))

    z, steps = bracketed_minimum(f, np.log(np.log(n_max / n_low)), "KV-aware budget search", "loss")
    n, tokens = at(z)
    return n, tokens, k_train * n * tokens, spend(n, *scenario), steps


@gate(
    DOLLARS,
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    serving_hardware("KV-aware budget sizing"),
    LAW,
    SCALAR_BATCH,
    CONTEXT,
    SCALAR_BANDWIDTH,
    KV_BYTES_PER_ELEMENT,
)
def kv_best_for_budget(
    dollars,
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
    """The lowest-loss model whose training + serving with the KV cache costs ``dollars``.

    Parameters
    ----------
    dollars : float or array_like
        Lifetime budget, US dollars, > 0.
    requests : float or array_like
        Lifetime inference requests, >= 0.
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware : str, sequence of 10 settings or Hardware
        Needs the serving settings. Default ``"paper-a100"``.
    law : optional
        Default ``"chinchilla"``.
    batch : int
        Sequences decoded together (one number), >= 1.
    context : float or array_like
        Tokens each sequence holds in the KV cache, >= 0; 0 is ``best_for_budget``.
    bandwidth_utilisation : float
        Share of the datasheet bandwidth reached, (0, 1].
    kv_bytes_per_element : float, optional
        Bytes per cached key or value element; default the inference precision's.

    Returns
    -------
    BudgetPlan
        In US dollars (training + serving = ``dollars``); ``iterations`` are
        golden-section steps (Halley steps of ``best_for_budget`` where context is 0).

    Examples
    --------
    >>> plan = kv_best_for_budget(5e6, 2e11, hardware="h100", batch=32, context=8192)
    >>> f"{plan.params:.4e} {plan.loss:.4f}"
    '4.3695e+09 1.9919'
    """
    hw, u, d_in, d_out, c = (hardware, bandwidth_utilisation, input_tokens, output_tokens, context)
    kv_element = hw.bytes_per_weight if kv_bytes_per_element is None else kv_bytes_per_element
    closed = best_for_budget.kernel(
        dollars, requests, d_in, d_out, batch_hardware(hw, batch, u), law
    )
    if all(isinstance(v, float) for v in (dollars, requests, d_in, d_out, c)):  # one cell
        if c == 0:
            return closed
        plan = _scalar_search(law, hw, dollars, requests, d_in, d_out, c, batch, u, kv_element)
        if plan is not None:
            return plan
    elif np.all(np.asarray(c) == 0):
        return closed
    scalar = all(np.ndim(v) == 0 for v in (dollars, requests, d_in, d_out, c))
    values = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(v, dtype=np.float64))
            for v in (dollars, requests, d_in, d_out, c)
        )
    )
    shape = values[0].shape
    dollars, requests, d_in, d_out, c = (v.ravel() for v in values)
    kv = (c > 0) & (requests * (d_in + d_out) > 0)  # else nothing to cache or nothing served
    best = [np.ravel(np.broadcast_to(v, shape)).copy() for v in _fields(closed)]
    steps = np.ravel(np.broadcast_to(closed.iterations, shape)).copy()
    if kv.any():
        scenario = tuple(v[kv] for v in (requests, d_in, d_out, c))
        n, tokens, training, serving, golden = _search(
            law, hw, dollars[kv], scenario, batch, kv_element, u
        )
        for field, value in zip(
            best, (n, tokens, law.plain_loss(n, tokens), training, serving), strict=True
        ):
            field[kv] = value
        steps[kv] = golden
    if scalar:
        plan = ModelPlan(*(float(v[0]) for v in best), "USD")
        return BudgetPlan(plan, int(steps[0]), math.isfinite(plan.loss))
    plan = ModelPlan(*(v.reshape(shape) for v in best), "USD")
    return BudgetPlan(plan, steps.reshape(shape), validate.valid_mask(plan.loss))


def _scalar_search(law, hw, dollars, requests, d_in, d_out, c, batch, u, kv_element):
    """The plan of one float scenario with a cache to price, by :mod:`.kv_scalar` (the
    same floats as :func:`_search`), or None: that path leaves it to the array path."""
    from . import kv_scalar  # imports this module's constants

    dollars, requests, d_in, d_out, c = (float(v) for v in (dollars, requests, d_in, d_out, c))
    if not (c > 0 and requests * (d_in + d_out) > 0):
        return None  # the closed form's numbers, as the array path gives them

    found = kv_scalar.budget_search(
        law, hw, dollars, requests, d_in, d_out, c, batch, u, kv_element
    )
    if found is None:
        return None
    n, tokens, training, serving, steps = found
    plan = ModelPlan(n, tokens, float(law.plain_loss(n, tokens)), training, serving, "USD")
    return BudgetPlan(plan, steps, math.isfinite(plan.loss))


def _fields(plan):
    b = plan.best
    return b.params, b.tokens, b.loss, b.training, b.inference


@gate(
    PARAMS,
    DOLLARS,
    REQUESTS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    serving_hardware("the KV-aware loss at a budget"),
    LAW,
    SCALAR_BATCH,
    CONTEXT,
    SCALAR_BANDWIDTH,
    KV_BYTES_PER_ELEMENT,
)
def kv_loss_at_dollars(
    params,
    dollars,
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
    """Loss of an N-parameter model, served with its KV cache, training on the rest of a budget.

    D = (dollars - R c(N)) / (k_train N), c(N) the KV-aware $ per request
    (:func:`.kv_sizing.kv_request_cost`): the curve :func:`kv_best_for_budget`
    minimises. ``params`` must leave money to train (below N_max, where serving alone
    spends the budget). Context 0 is
    :func:`~xlplan.engine.money.budget.loss_at_dollars` at the roofline decode MFU of
    the batch, bit for bit. Arguments as :func:`kv_best_for_budget`.

    Returns
    -------
    float or ndarray
        Loss, nats per token.

    Examples
    --------
    >>> f"{kv_loss_at_dollars(4e9, 5e6, 2e11, hardware='h100', batch=32, context=8192):.4f}"
    '1.9930'
    """
    hw, u, d_in, d_out, c = (hardware, bandwidth_utilisation, input_tokens, output_tokens, context)
    closed_hw = at_batch(hw, batch, u)
    if np.all(np.asarray(c) == 0):
        return loss_at_dollars.kernel(params, dollars, requests, d_in, d_out, closed_hw, law)
    # Elements without the cache: today's numbers (NaN where too large, named below).
    closed = loss_at_dollars.kernel(params, dollars, requests, d_in, d_out, closed_hw, law, "nan")
    kv_element = hw.bytes_per_weight if kv_bytes_per_element is None else kv_bytes_per_element
    spend = _spender(hw, batch, kv_element, u)
    k_train = TRAIN_FLOPS_PER_PARAM_TOKEN * hw.train_cost_per_flop
    scenario = (requests, d_in, d_out, c)
    with np.errstate(divide="ignore", invalid="ignore"):
        tokens = _tokens(spend, dollars, np.asarray(params, dtype=np.float64), k_train, scenario)
    off = np.asarray(c) == 0
    bad = np.where(off, np.isnan(closed), ~(tokens > 0))
    if np.any(bad):
        _too_large(params, dollars, scenario, bad, spend, hw)
    loss = np.where(off, closed, law.plain_loss(params, tokens))
    return float(loss) if np.ndim(loss) == 0 else loss


def _too_large(params, dollars, scenario, bad, spend, hw):
    """The error of a model whose serving alone spends the budget, naming N_max."""
    first = ()
    if np.ndim(bad):
        first = tuple(int(i) for i in np.unravel_index(np.flatnonzero(bad)[0], np.shape(bad)))

    def pick(v):
        return np.atleast_1d(np.broadcast_to(v, np.shape(bad))[first]).astype(np.float64)

    one = tuple(pick(v) for v in scenario)
    n_max = float(_largest(spend, hw, pick(dollars), one)[0])
    more = f" ({int(np.sum(bad))} element(s), first at {first})" if np.ndim(bad) else ""
    raise InvalidValueError(
        f"params={float(pick(params)[0]):g} is out of range: serving requests="
        f"{float(one[0][0]):g} with it alone uses the whole budget dollars="
        f"{float(pick(dollars)[0]):g} at context {float(one[3][0]):g}; params must be "
        f"< {n_max:.6g} (where the KV-aware serving cost reaches the budget){more}",
        argument="params",
        value=float(pick(params)[0]),
    )
