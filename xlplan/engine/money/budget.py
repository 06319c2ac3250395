"""What a budget buys: the lowest-loss model whose training and serving fit a fixed budget.

The reverse of :mod:`xlplan.engine.paper.sizing` ("the cheapest model of this loss"):
given a total budget and a lifetime demand, find the best model.

Fixed FLOPs
-----------
Minimise L(N, D) = E + A / N**alpha + B / D**beta subject to 6 N D + 2 N T = C,
with T the lifetime inference tokens. Writing S = C / 6 and r = T / 3 (inference
in training-token equivalents) the constraint is N (D + r) = S, so
D = S / N - r, which is positive only for N < N_max = S / r = C / (2 T): the
problem is one-dimensional in x = log N on (-inf, log N_max).

**One minimum.** Along the constraint the loss is E + A e**(-alpha x) + h(x) with
h = B (N / (S - r N))**beta. The first term is convex in x. log h = const +
beta x - beta log(S - r e**x) has derivative beta S / (S - r N), positive and
increasing, so log h is convex and h = exp(log h) is convex. The sum is strictly
convex on the open interval and tends to +inf at both ends (N -> 0 and
N -> N_max, where D -> 0), so it has exactly one minimum and no other
stationary point.

**The equation.** Setting the derivative to zero gives the paper's first-order
condition (Sardana et al. 2024, Eq. 11), alpha A / N**alpha = beta B D**-beta
(1 + r / D). With t = log(D / r) (log of training tokens over inference
token-equivalents), N = S / (r (1 + e**t)) and it becomes

    psi(t) = (1 + beta) t - (1 - alpha) log(1 + e**t) = m,
    m = alpha log S - (alpha + beta) log r - log(alpha A / (beta B)).

psi' = 1 + beta - (1 - alpha) sigmoid(t) lies between alpha + beta and 1 + beta,
so psi is strictly increasing and the root is unique (the convexity above, seen
again). Bounding log(1 + e**t) between max(t, 0) and that + log 2 brackets the
root in an interval of width at most |1 - alpha| log(2) / (alpha + beta). We
solve by Halley steps kept inside a shrinking bracket (bisection when a step
would leave it; the kernel of :mod:`xlplan.engine.roots`), and stop only when
the root is provably within ``T_TOLERANCE`` of t: |t - t*| <= |psi(t) - m| /
min psi', or the bracket is that narrow. As dN / N = -sigmoid(t) dt and
dD / D = dt, N and D are then correct to 1e-12 relative (the issue asks for
1e-10). After ``MAX_ITERATIONS`` a :class:`~xlplan.engine.errors.ConvergenceError`
is raised, never a guess.

T = 0 is the Chinchilla problem (t = +inf): the answer is
:func:`~xlplan.engine.paper.chinchilla.chinchilla_from_compute`, used as is.

**Dollars.** Lifetime dollars are N (k_train D + k_inference) with the cost
model's rates (:func:`xlplan.engine.paper.sizing.dollar_rates`); dividing by k_train
gives the same constraint N (D + r) = S with S = dollars / k_train and
r = k_inference / k_train, i.e. C = 6 S training-FLOP equivalents and
T = 3 r inference-token equivalents. One solver serves both.

**Duality.** The optimum is the same as the paper's: for a target loss l, the
cost-optimal plan has some total C*; the best model for C* is that plan (both
solve the same first-order condition on the same constraint).

Where the law stops meaning much
--------------------------------
Every valid budget gets an answer, but the law was fitted on models of 70M to 16B
parameters trained on 5B to 500B tokens (Hoffmann et al. 2022), and Sardana et al.
2024 checked it up to 10,000 tokens per parameter. With no demand:

* 1e19 FLOPs buys 278M parameters on 6.0B tokens (loss 2.98): the small end of
  the fitted runs;
* 1e18 FLOPs buys 97M parameters on 1.7B tokens (loss 3.53): fewer tokens than
  any fitted run, an extrapolation;
* 1e15 FLOPs buys 4M parameters on 40M tokens at a "loss" of 7.0, which means
  little (a uniform guess over a 32k vocabulary scores 10.4 nats).

When inference takes nearly the whole budget the best model shrinks without
limit: 1e23 FLOPs for 1e30 inference tokens gives 5e-8 "parameters". Read
``params`` below ~1e8 and ``tokens_per_param`` above ~1e4 (both on ``best``) as
"this budget cannot serve this demand with a sensible model", not as a plan.
"""

import contextlib
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .. import roots, validate
from ..args import (
    HARDWARE,
    INFERENCE_TOKENS,
    INPUT_TOKENS,
    LAW,
    OUTPUT_TOKENS,
    PARAMS,
    REQUESTS,
    UNIQUE_TOKENS,
    Arg,
    gate,
)
from ..constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_OUTPUT_TOKENS,
    INFERENCE_FLOPS_PER_PARAM_TOKEN,
    TRAIN_FLOPS_PER_PARAM_TOKEN,
)
from ..data.data_limits import RepetitionWarning, data_constrained_loss, loss_floor
from ..data.data_sizing import capped_optimum
from ..errors import InvalidValueError
from ..paper.chinchilla import chinchilla_from_compute
from ..paper.sizing import ModelPlan, dollar_rates

__all__ = [
    "MAX_ITERATIONS",
    "T_TOLERANCE",
    "BudgetPlan",
    "best_for_budget",
    "best_for_flops",
    "loss_at_budget",
    "loss_at_dollars",
]

TOTAL_FLOPS = Arg(
    "total_flops",
    "Total budget in FLOPs: training 6 x params x tokens plus "
    "inference 2 x params x inf_tokens, e.g. 1E23.",
    "FLOPs",
)
DOLLARS = Arg("dollars", "Total lifetime budget in US dollars (training + serving), > 0.", "USD")

# The kernel's tolerance on t = log(D / r) (a relative error in N and D) and its
# iteration limit (engine.roots gives the reasons), under the names tests patch: read
# at call time.
T_TOLERANCE = roots.X_TOLERANCE
MAX_ITERATIONS = roots.MAX_ITERATIONS
# Full-array sweeps before the first convergence check (3-4 suffice for sane inputs).
VECTOR_SWEEPS = 4
_LOG2 = math.log(2.0)
# 6 N D = C and 2 N T: training-token equivalents of one inference token.
_R_PER_TOKEN = INFERENCE_FLOPS_PER_PARAM_TOKEN / TRAIN_FLOPS_PER_PARAM_TOKEN
# Capped data: the bracket in x = log(loss - floor) grows by this step (a factor e in
# the gap above the data floor) until it holds the root; 60 steps span e**60 ~ 1e26.
_EXPAND_STEP, _MAX_EXPANSIONS = 1.0, 60
# |log(dollars / cost)| at the answer: the budget is spent (a root to T_TOLERANCE in x
# leaves ~1e-13), or the budget is past what the data allow.
_SPENT_TOLERANCE = 1e-9


@dataclass(frozen=True)
class BudgetPlan:
    """The best model a budget buys.

    Attributes
    ----------
    best : ModelPlan
        params, tokens, loss, training and inference cost (FLOPs or USD).
    iterations : int or ndarray
        Halley/bisection iterations (0 where there is no demand: analytic).
    valid : bool or ndarray
        False where an input element was invalid (``on_invalid="nan"``).
    """

    best: ModelPlan
    iterations: object
    valid: object

    @property
    def params(self):
        return self.best.params

    @property
    def tokens(self):
        return self.best.tokens

    @property
    def loss(self):
        return self.best.loss

    @property
    def total(self):
        return self.best.total


class _Equation:
    """psi(t) = m for one law: p t + q log(1 + e**t) = m with p = 1 + beta, q = alpha - 1."""

    def __init__(self, law):
        self.a, self.b = law.alpha, law.beta
        self.p, self.q = 1.0 + law.beta, law.alpha - 1.0
        self.shift = math.log(law.alpha * law.A / (law.beta * law.B))
        # |psi(t) - m| < min psi' T_TOLERANCE proves |t - t*| < T_TOLERANCE
        self.ftol = min(self.a + self.b, self.p) * T_TOLERANCE

    def m(self, log_s, log_r):
        return self.a * log_s - (self.a + self.b) * log_r - self.shift

    def bracket(self, m):
        """Bounds of t, from max(t, 0) <= log(1 + e**t) <= max(t, 0) + log 2.

        Inverts (1 + beta) t + q max(t, 0), piecewise linear and increasing.
        """
        low, high = m - max(self.q, 0.0) * _LOG2, m - min(self.q, 0.0) * _LOG2
        right, left = self.a + self.b, self.p  # slopes for t > 0 and t < 0
        return np.where(low > 0, low / right, low / left), np.where(
            high > 0, high / right, high / left
        )

    def terms(self, t, m):
        """psi(t) - m, psi', psi'' on arrays."""
        return roots.softplus_terms(t, m, self.p, self.q)


def _equation(law):
    """The law's :class:`_Equation`, built once per law and kept on it (it is frozen)."""
    try:
        return law._budget_equation
    except AttributeError:
        pass
    eq = _Equation(law)
    with contextlib.suppress(AttributeError, TypeError):  # no __dict__: uncached
        object.__setattr__(law, "_budget_equation", eq)
    return eq


def _root(eq, m):
    """t with psi(t) = m, elementwise, and the steps taken; NaN m gives NaN."""
    shape = np.shape(m)
    m = np.atleast_1d(m).ravel()
    low, high = eq.bracket(m)
    found = roots.halley(
        eq.terms,
        0.5 * (low + high),
        low,
        high,
        (m,),
        shrink=True,
        ftol=eq.ftol,
        xtol=T_TOLERANCE,
        sweeps=VECTOR_SWEEPS,
        max_iterations=MAX_ITERATIONS,
    )
    roots.check(found, "budget solver", "t")
    return found.root.reshape(shape), found.iterations.reshape(shape)


def _scalar_root(eq, m):
    """:func:`_root` for one float (an Excel cell: the bracket in line, with floats)."""
    low, high = m - max(eq.q, 0.0) * _LOG2, m - min(eq.q, 0.0) * _LOG2
    low = low / (eq.a + eq.b) if low > 0 else low / eq.p
    high = high / (eq.a + eq.b) if high > 0 else high / eq.p
    found = roots.softplus_root(
        m,
        eq.p,
        eq.q,
        0.5 * (low + high),
        low,
        high,
        shrink=True,
        ftol=eq.ftol,
        xtol=T_TOLERANCE,
        max_iterations=MAX_ITERATIONS,
    )
    if not found[2]:  # converged
        roots.check(found, "budget solver", "t")
    return found[0], found[1]  # root, iterations


def _solve_scalar(law, flops, demand):
    if demand == 0.0:
        chin = chinchilla_from_compute.kernel(flops, law)
        return chin.params, chin.tokens, 0
    s, r = flops / TRAIN_FLOPS_PER_PARAM_TOKEN, demand * _R_PER_TOKEN
    eq = _equation(law)
    t, iterations = _scalar_root(eq, eq.m(math.log(s), math.log(r)))
    tokens = math.exp(math.log(r) + t)
    return s / (r + tokens), tokens, iterations


def _solve(law, flops, demand):
    """(params, tokens, iterations) of the best model; flops, demand already checked."""
    if isinstance(flops, float) and isinstance(demand, float) and math.isfinite(flops + demand):
        return _solve_scalar(law, flops, demand)
    flops_a, demand_a = np.broadcast_arrays(
        np.asarray(flops, dtype=np.float64), np.asarray(demand, dtype=np.float64)
    )
    s, r = flops_a / TRAIN_FLOPS_PER_PARAM_TOKEN, demand_a * _R_PER_TOKEN
    eq = _Equation(law)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        m = eq.m(np.log(s), np.log(r))
        t, iterations = _root(eq, np.where(r > 0, m, np.nan))
        tokens = np.exp(np.log(r) + t)  # r e**t without overflowing e**t
        params = s / (r + tokens)
    chin = chinchilla_from_compute.kernel(flops_a, law, on_invalid="nan")
    zero = r == 0  # no demand: the Chinchilla optimum, exactly
    params = np.where(zero, chin.params, params)
    tokens = np.where(zero, chin.tokens, tokens)
    return params, tokens, np.where(zero, 0, iterations)


_new = object.__new__  # a frozen dataclass without its __init__'s object.__setattr__ calls


def _all_float(*values):
    """True when every input is a plain float: the answer is then floats too."""
    return all(isinstance(v, float) for v in values)


def _plan(law, params, tokens, k_train, k_inference, iterations, unit, scalar):
    loss = law.plain_loss(params, tokens)
    if scalar:  # one cell: the costs in plain floats, the plans built without __init__
        plan = _new(ModelPlan)
        fields = plan.__dict__
        fields["params"], fields["tokens"], fields["loss"] = float(params), float(tokens), loss
        fields["training"], fields["inference"] = k_train * (params * tokens), k_inference * params
        fields["unit"] = unit
        budget = _new(BudgetPlan)
        fields = budget.__dict__
        fields["best"], fields["iterations"] = plan, int(iterations)
        fields["valid"] = math.isfinite(loss)
        return budget
    with np.errstate(over="ignore", invalid="ignore"):
        training, inference = k_train * np.multiply(params, tokens), k_inference * params
    values = (params, tokens, loss, training, inference)
    if scalar:
        values = tuple(float(v) for v in values)
        iterations = int(iterations)
    plan = ModelPlan(*values, unit)
    return BudgetPlan(plan, iterations, validate.valid_mask(plan.loss))


@gate(TOTAL_FLOPS, INFERENCE_TOKENS, LAW)
def best_for_flops(total_flops, inference_tokens, law=None, on_invalid="raise"):
    """The lowest-loss model whose training + inference FLOPs equal ``total_flops``.

    Parameters
    ----------
    total_flops : float or array_like
        Budget C = 6 N D + 2 N T, FLOPs, > 0.
    inference_tokens : float or array_like
        Lifetime inference tokens T (input + output), >= 0. Broadcast with the budget.
    law : optional
        Preset name, 5 coefficients or ScalingLaw; default ``"chinchilla"``.
    on_invalid : {"raise", "nan"}

    Returns
    -------
    BudgetPlan
        ``best.training`` = 6 N D, ``best.inference`` = 2 N T (FLOPs), summing to the budget.

    Examples
    --------
    >>> plan = best_for_flops(1e23, 2e12)
    >>> f"{plan.params:.3e} {plan.tokens:.3e} {plan.loss:.4f}"
    '8.210e+09 1.363e+12 2.0307'
    """
    flops, demand = total_flops, inference_tokens
    params, tokens, iterations = _solve(law, flops, demand)
    return _plan(
        law,
        params,
        tokens,
        TRAIN_FLOPS_PER_PARAM_TOKEN,
        INFERENCE_FLOPS_PER_PARAM_TOKEN * demand,
        iterations,
        "FLOPs",
        isinstance(flops, float) and isinstance(demand, float),
    )


def _equivalents(dollars, k_train, k_inference):
    """Training-FLOP and inference-token equivalents of a dollar budget and demand."""
    return (TRAIN_FLOPS_PER_PARAM_TOKEN * (dollars / k_train), k_inference / k_train / _R_PER_TOKEN)


@gate(DOLLARS, REQUESTS, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW, UNIQUE_TOKENS)
def best_for_budget(
    dollars,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    on_invalid="raise",
    unique_tokens=None,
):
    """The lowest-loss model whose training + serving ``requests`` costs ``dollars``.

    Parameters
    ----------
    dollars : float or array_like
        Lifetime budget, US dollars, > 0.
    requests : float or array_like
        Lifetime inference requests, >= 0.
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware, law : optional
        As for :func:`xlplan.engine.paper.sizing.cost_optimal`.
    unique_tokens : float or array_like, optional
        Unique training tokens available, > 0. None (default): unlimited data.
        Given: the loss is Muennighoff et al.'s data-constrained one, as in
        ``cost_optimal(..., unique_tokens=)``, and the answer is the cost-optimal
        plan whose lifetime cost is ``dollars`` (:func:`_capped_solve`).

    Returns
    -------
    BudgetPlan
        In US dollars (training + inference = ``dollars``).

    Examples
    --------
    >>> plan = best_for_budget(5e6, 2e9)
    >>> f"{plan.params:.3e} {plan.loss:.4f}"
    '3.472e+10 1.9046'
    """
    budget = dollars
    k_train, k_inference = dollar_rates(requests, input_tokens, output_tokens, hardware)
    flops, demand = _equivalents(budget, k_train, k_inference)
    params, tokens, iterations = _solve(law, flops, demand)
    if unique_tokens is not None:
        return _capped_plan(
            law,
            budget,
            k_train,
            k_inference,
            unique_tokens,
            law.plain_loss(params, tokens),
            on_invalid,
        )
    return _plan(
        law,
        params,
        tokens,
        k_train,
        k_inference,
        iterations,
        "USD",
        isinstance(budget, float) and isinstance(k_inference, float),
    )


def _capped_log_cost(law, x, floor, r, unique):
    """log(cost / k_train) of the cost-optimal plan at loss floor + e**x; inf if unreachable."""
    with warnings.catch_warnings():  # the search's trial losses: only the answer may warn
        warnings.simplefilter("ignore", RepetitionWarning)
        tokens, params = capped_optimum(law, floor + np.exp(x), r, unique, on_invalid="nan")[:2]
    with np.errstate(invalid="ignore", divide="ignore"):
        cost = np.log(params) + np.log(tokens + r)
    return np.where(np.isnan(cost) & np.isfinite(x), np.inf, cost)


def _capped_bracket(fun, x0, args):
    """[low, high] around the root of the increasing ``fun``, stepping out from x0."""
    low, high = x0.copy(), x0 + _EXPAND_STEP
    f_low, f_high = fun(low, *args), fun(high, *args)
    for _ in range(_MAX_EXPANSIONS):
        up, down = f_low > 0, f_high < 0  # root left of low / right of high
        if not (up.any() or down.any()):
            break
        high, f_high = np.where(up, low, high), np.where(up, f_low, f_high)
        low, f_low = np.where(down, high, low), np.where(down, f_high, f_low)
        low, high = low - up * _EXPAND_STEP, high + down * _EXPAND_STEP
        f_low = np.where(up, fun(low, *args), f_low)
        f_high = np.where(down, fun(high, *args), f_high)
    return low, high, f_low, f_high


def _capped_solve(law, dollars, k_train, r, unique, start):
    """Loss whose cost-optimal plan under the data cap costs ``dollars`` (1-D arrays).

    The plan's lifetime cost falls strictly as the target loss rises (a higher
    target admits more models), from +inf at the data floor ``loss_floor(U)`` to 0,
    so every budget has one answer. The unknown is x = log(loss - floor) (the cost
    explodes near the floor); the unlimited-data answer ``start`` has a cost under
    the cap of at least the budget (the capped loss is never below the plain one),
    so it is a left end whenever above the floor. Illinois steps on
    log(dollars) - log(cost), which has no cheap derivative (the capped solve).
    """
    floor = loss_floor.kernel(unique, law)
    with np.errstate(invalid="ignore", divide="ignore"):
        x0 = np.log(np.where(start > floor, start - floor, floor - law.E))
        log_s = np.log(dollars / k_train)
    # An element the unlimited solve found invalid (NaN start, on_invalid="nan") stays NaN.
    valid = np.isfinite(log_s + floor + r + start)
    x0 = np.where(valid, x0, np.nan)

    def fun(x, log_s, floor, r, unique):
        return log_s - _capped_log_cost(law, x, floor, r, unique)

    args = (log_s, floor, r, unique)
    low, high, f_low, f_high = _capped_bracket(fun, x0, args)
    found = roots.illinois(
        fun, low, high, f_low, f_high, args, xtol=T_TOLERANCE, max_iterations=MAX_ITERATIONS
    )
    roots.check(found, "capped budget solver", "log(loss - floor)")
    # The cost grows only like log(1 / (loss - floor)): a large enough budget has its
    # root closer to the floor than a double resolves (its left end is then an
    # unreachable loss, f = -inf), and no plan spends it.
    spent = fun(found.root, *args)
    past = ~(np.abs(spent) <= _SPENT_TOLERANCE) & valid
    if past.any():
        k = np.flatnonzero(past)[0]
        raise InvalidValueError(
            f"dollars={dollars[k]:g} is more than unique_tokens={unique[k]:g} can use: it "
            f"buys a loss within {np.exp(found.root[k]):.1g} of {floor[k]:.10g}, the lowest "
            f"any model reaches with that much data under law '{law.name}', closer than "
            "double precision resolves the plan (the nearest resolved one costs about "
            f"${dollars[k] / np.exp(spent[k]):.4g}); past this point more money buys almost "
            "no better model, more unique data does",
            argument="dollars",
            value=float(dollars[k]),
        )
    return floor + np.exp(found.root), found.iterations


def _capped_plan(law, dollars, k_train, k_inference, unique, start, on_invalid):
    """:func:`best_for_budget` with ``unique`` tokens: the cost-optimal plan costing dollars."""
    scalar = _all_float(dollars, k_inference, unique)
    arrays = np.broadcast_arrays(
        *(np.asarray(v, dtype=np.float64) for v in (dollars, k_inference, unique, start))
    )
    shape = arrays[0].shape
    dollars_f, k_inf_f, unique_f, start_f = (a.ravel() for a in arrays)
    r = k_inf_f / k_train
    loss, iterations = _capped_solve(law, dollars_f, k_train, r, unique_f, start_f)
    tokens, params = capped_optimum(law, loss, r, unique_f, on_invalid)[:2]
    loss = data_constrained_loss.kernel(params, tokens, unique_f, law)
    with np.errstate(over="ignore", invalid="ignore"):
        values = [
            v.reshape(shape)
            for v in (params, tokens, loss, k_train * params * tokens, k_inf_f * params)
        ]
    iterations = iterations.reshape(shape)
    if scalar:
        values, iterations = [float(v) for v in values], int(iterations)
    plan = ModelPlan(*values, "USD")
    return BudgetPlan(plan, iterations, validate.valid_mask(plan.loss))


def _loss_along(law, params, s, r, names, budget, demand, on_invalid, unique=None):
    """Loss of N params given the rest of the budget N (D + r) = S as training tokens.

    With ``unique`` (unique tokens) the loss is the data-constrained one.
    """

    def loss_of(n, d):
        if unique is None:
            return law.plain_loss(n, d)
        return data_constrained_loss.kernel(n, d, unique, law, on_invalid="nan")

    if type(params) is float and type(s) is float and type(r) is float:
        tokens = s / params - r  # one cell: no arrays, numpy only for the error below
        if tokens > 0.0 and math.isfinite(params + s + r):
            return loss_of(params, tokens)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tokens = np.subtract(np.divide(s, params), r)
        bad = ~(tokens > 0) & np.isfinite(np.add(params, np.add(s, r)))
    if np.any(bad) and on_invalid == "raise":
        first = np.unravel_index(np.flatnonzero(bad)[0], np.shape(bad)) if np.ndim(bad) else ()

        def pick(v):
            return float(np.broadcast_to(v, np.shape(bad))[first])

        limit = pick(s) / pick(r)
        raise InvalidValueError(
            f"params={pick(params):g} is out of range: serving {names[1]}={pick(demand):g} "
            f"with it alone uses the whole budget {names[0]}={pick(budget):g}; params must "
            f"be < {limit:g} ({names[2]})"
            + (f" ({int(np.sum(bad))} element(s), first at {first})" if np.ndim(bad) else ""),
            argument="params",
            value=pick(params),
        )
    return loss_of(params, np.where(bad, np.nan, tokens))


@gate(PARAMS, TOTAL_FLOPS, INFERENCE_TOKENS, LAW)
def loss_at_budget(params, total_flops, inference_tokens, law=None, on_invalid="raise"):
    """Loss of an N-parameter model that spends the rest of a FLOP budget on training.

    D = (C - 2 N T) / (6 N): the lesson's curve of loss against model size at a
    fixed total budget. ``params`` must be below C / (2 T), where serving alone
    uses the whole budget.

    Examples
    --------
    >>> round(loss_at_budget(1e10, 1e23, 2e12), 4)
    2.0324
    """
    n, flops, demand = params, total_flops, inference_tokens
    return _loss_along(
        law,
        n,
        flops / TRAIN_FLOPS_PER_PARAM_TOKEN,
        demand * _R_PER_TOKEN,
        ("total_flops", "inf_tokens", "total_flops / (2 x inf_tokens)"),
        flops,
        demand,
        on_invalid,
    )


@gate(PARAMS, DOLLARS, REQUESTS, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW, UNIQUE_TOKENS)
def loss_at_dollars(
    params,
    dollars,
    requests,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    on_invalid="raise",
    unique_tokens=None,
):
    """Loss of an N-parameter model that spends the rest of a dollar budget on training.

    With ``unique_tokens`` (None: unlimited data) the loss is the data-constrained one
    of :func:`xlplan.engine.data.data_limits.data_constrained_loss`.
    """
    n, budget = params, dollars
    k_train, k_inference = dollar_rates(requests, input_tokens, output_tokens, hardware)
    return _loss_along(
        law,
        n,
        np.divide(budget, k_train),
        np.divide(k_inference, k_train),
        ("dollars", "requests", "dollars / inference $ per parameter"),
        budget,
        requests,
        on_invalid,
        unique_tokens,
    )
