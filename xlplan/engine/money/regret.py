"""Demand scenarios: what each plan costs if another demand happens, and the robust plan.

Take k demand scenarios, lifetime requests R_1..R_k, and plan i, the
cost-optimal model for R_i at a fixed target loss. Along the loss constraint a
model (N, D) costs, over its life,

    cost(N, D, R) = k_train N D + c N R        (US dollars; Sardana et al. 2024, Eq. 6)

with c the inference dollars per parameter per request. Three facts make the
problem small:

1. cost is *linear* in R for a fixed model, and the best achievable cost
   C*(R) = min over the constraint of cost is a minimum of linear functions,
   hence *concave* in R. By the envelope theorem C*'(R) = c N*(R), with N*(R)
   the optimal size, which falls as demand grows.
2. The regret of a model, cost(N, D, R) - C*(R), is linear minus concave, so
   *convex* in R: its maximum over an interval [R_lo, R_hi] is attained at an
   end. The worst case over the whole interval is therefore the worst case over
   the two extreme scenarios, and the last column of :func:`regret_table` (the
   worst over the k scenarios) is already the worst over [min R, max R].
3. Minimising max(regret at R_lo, regret at R_hi) along the constraint: their
   difference c N (R_lo - R_hi) + C*(R_hi) - C*(R_lo) is linear in N, so they
   cross at exactly one size

       N_rob = (C*(R_hi) - C*(R_lo)) / (c (R_hi - R_lo)),

   the average of N*(R) over the interval (integrate C*'). N*(R_hi) <= N_rob <=
   N*(R_lo), and each regret is unimodal along the constraint with its minimum
   at its own optimum, so left of N_rob the larger regret (that at R_lo) falls
   towards it and right of N_rob the larger (at R_hi) rises from it: N_rob is
   the minimax. The robust plan is closed-form, exact to rounding, with D from
   the constraint B / D**beta = loss - E - A / N**alpha.

For a risk-neutral team the expected cost of a model is cost(N, D, E[R])
(linearity again), so the plan with the least expected cost is simply the
cost-optimal plan at the mean demand: :func:`expected_cost_plan`.
"""

import math
from dataclasses import dataclass

import numpy as np

from .. import validate
from ..args import HARDWARE, INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, Arg, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..paper.sizing import cost_optimal, dollar_rates, hardware_rates, lifetime_cost
from ..paper.solver import scalar_optimum

__all__ = [
    "RegretTable",
    "RobustPlan",
    "regret_table",
    "robust_plan",
    "expected_cost_plan",
    "check_scenarios",
    "MIN_SCENARIOS",
]

MIN_SCENARIOS = 2


@dataclass(frozen=True, eq=False)
class RegretTable:
    """Lifetime dollars of each scenario's plan under every scenario's demand.

    Attributes
    ----------
    requests : ndarray, shape (k,)
        The scenarios' lifetime requests, in the order given.
    params, tokens : ndarray, shape (k,)
        Plan i: the cost-optimal model for ``requests[i]``.
    cost : ndarray, shape (k, k)
        ``cost[i, j]``: lifetime $ of plan i if demand ``requests[j]`` happens.
    regret : ndarray, shape (k, k)
        ``cost[i, j] - cost[j, j]``, $ (>= 0; zero on the diagonal).
    worst_regret : ndarray, shape (k,)
        ``max_j regret[i, j]``, $: also plan i's worst case over the whole
        interval [min R, max R] (regret is convex in R).
    """

    requests: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    cost: np.ndarray
    regret: np.ndarray
    worst_regret: np.ndarray

    def as_rows(self):
        """k rows of k costs and the worst-case regret (REGRET_TABLE's layout)."""
        return np.column_stack([self.cost, self.worst_regret])


@dataclass(frozen=True)
class RobustPlan:
    """The model on the loss constraint with the least worst-case regret over a demand range.

    Attributes (floats, or arrays of the shape of the ``loss`` given)
    ----------
    params, tokens : float or ndarray
        Parameters N and training tokens D.
    loss : float or ndarray
        The target loss (nats per token).
    worst_regret : float
        Its largest regret over [requests_low, requests_high], $ (attained at
        both ends at once, unless the range is a single point).
    requests_low, requests_high : float
        The demand range, lifetime requests.
    regret_low, regret_high : float
        Its regret if ``requests_low`` / ``requests_high`` happens, $.
    """

    params: object
    tokens: object
    loss: object
    worst_regret: object
    requests_low: float
    requests_high: float
    regret_low: object
    regret_high: object


def check_scenarios(requests_scenarios, name="requests_scenarios"):
    """The scenarios as a 1-D float array: at least 2, each a finite number > 0."""
    try:
        values = np.asarray(requests_scenarios, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={requests_scenarios!r} must be numbers "
            "(lifetime requests of each scenario)",
            argument=name,
            value=requests_scenarios,
        ) from None
    if values.size < MIN_SCENARIOS:
        raise InvalidValueError(
            f"{PLACEHOLDER} has {values.size} value(s): it needs at least {MIN_SCENARIOS} "
            "demand scenarios (e.g. low, base, high lifetime requests)",
            argument=name,
            value=requests_scenarios,
        )
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~(np.isfinite(values) & (values > 0)))
    if bad.size:  # scenarios are counted from 1, as a user numbers the cells of a row
        listed = ", ".join(f"{PLACEHOLDER}[{i + 1}]={values[i]:g}" for i in bad)
        raise InvalidValueError(
            f"{listed} out of range: each scenario's lifetime requests must be a number > 0",
            argument=name,
            value=float(values[bad[0]]),
        )
    return values


def _scenario_list(requests_scenarios, on_invalid=None, law=None):
    """A list of valid scenarios as floats (an Excel range) stays a list: no numpy for a
    cell of :func:`robust_plan`; anything else is :func:`check_scenarios`' array. Takes
    (and ignores) ``on_invalid`` and ``law``: it is the gate's ``check_value``."""
    values = requests_scenarios
    if type(values) is list and len(values) >= MIN_SCENARIOS:
        for x in values:  # a loop, not all() over a generator: a third of the time
            if not (type(x) is float and 0.0 < x < math.inf):
                break
        else:
            return values
    return check_scenarios(values)


def _scalar_loss(law, loss):
    if not validate.is_scalar(loss):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={loss!r} must be one number (nats per token)",
            argument="loss",
            value=loss,
        )
    return law.check_reachable(loss)


def _rates(input_tokens, output_tokens, hardware):
    """(k_train, c): $ per parameter per training token, and per parameter per request."""
    return dollar_rates(1.0, input_tokens, output_tokens, hardware)


def _check_tokens_per_request(per_request, input_tokens, output_tokens):
    """Requests of no tokens cost nothing: demand then cannot choose between sizes."""
    if per_request > 0 if type(per_request) is float else np.all(np.asarray(per_request) > 0):
        return
    raise InvalidValueError(
        f"input_tokens={np.min(input_tokens):g} and output_tokens={np.min(output_tokens):g}: "
        "a request of zero tokens costs nothing to serve, so the demand scenarios cannot "
        "change the plan; give at least one input or output token per request",
        argument="input_tokens",
        value=float(np.min(input_tokens)),
    )


SCALAR_LOSS = LOSS.but(
    kind="custom",
    needs_law=True,
    check_value=lambda value, on_invalid, law: _scalar_loss(law, value),
)
SCENARIOS = Arg(
    "requests_scenarios",
    "Lifetime requests of each demand scenario: a row or "
    "column of at least 2 numbers > 0, e.g. low, base, high.",
    "requests",
    kind="custom",
    check_value=lambda value, on_invalid, law: check_scenarios(value),
)


@gate(SCALAR_LOSS, SCENARIOS, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW)
def regret_table(
    loss,
    requests_scenarios,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
):
    """Lifetime $ of each scenario's cost-optimal plan under every scenario, and its regret.

    Parameters
    ----------
    loss : float
        Target loss, nats per token; must exceed the law's E.
    requests_scenarios : array_like
        Lifetime requests of k >= 2 demand scenarios, each > 0.
    input_tokens, output_tokens, hardware, law :
        As for :func:`xlplan.engine.paper.sizing.cost_optimal`.

    Returns
    -------
    RegretTable

    Examples
    --------
    >>> t = regret_table(2.0, [1e9, 1e10, 1e11])
    >>> [f"{w:.3g}" for w in t.worst_regret]
    ['1.16e+07', '2.65e+06', '1.51e+06']
    """
    requests = requests_scenarios
    plans = cost_optimal.kernel(loss, requests, input_tokens, output_tokens, hardware, law).optimal
    cost = lifetime_cost.kernel(
        plans.params[:, None],
        plans.tokens[:, None],
        requests[None, :],
        input_tokens,
        output_tokens,
        hardware,
        law=law,
    ).total
    # C*(R_j) is plan j's own cost under R_j, so the diagonal of regret is exactly zero.
    regret = cost - np.diag(cost)[None, :]
    return RegretTable(requests, plans.params, plans.tokens, cost, regret, regret.max(axis=1))


def _tokens_on_constraint(law, loss, params):
    """Training tokens D with L(params, D) = loss; params must leave a positive data gap."""
    data_gap = (loss - law.E) - law.A / params**law.alpha
    return (law.B / data_gap) ** (1.0 / law.beta)


@gate(
    LOSS,
    SCENARIOS.but(check_value=_scenario_list),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
)
def robust_plan(
    loss,
    requests_scenarios,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
):
    """The model reaching ``loss`` with the least worst-case regret over [min R, max R].

    Closed form (see the module notes): N is the average optimal size over the
    demand range, (C*(R_hi) - C*(R_lo)) / (c (R_hi - R_lo)), and D follows from
    the loss constraint. Arguments as for :func:`regret_table`, except that
    ``loss`` may be an array: every field of the result then has its shape.

    Returns
    -------
    RobustPlan

    Examples
    --------
    >>> p = robust_plan(2.0, [1e9, 1e10, 1e11])
    >>> f"{p.params:.4g} {p.tokens:.4g} {p.worst_regret:.4g}"
    '4.353e+09 1.591e+13 6.435e+05'
    """
    requests = requests_scenarios
    if type(requests) is list:
        low, high = min(requests), max(requests)
    else:
        low, high = float(requests.min()), float(requests.max())
    if type(loss) is float and type(input_tokens) is float and type(output_tokens) is float:
        found = _robust_direct(loss, low, high, input_tokens, output_tokens, hardware, law)
        if found is not None:
            return found
        return _robust_layered(loss, low, high, input_tokens, output_tokens, hardware, law)
    ends = cost_optimal.kernel(
        np.asarray(loss)[..., None],
        np.array([low, high]),
        input_tokens,
        output_tokens,
        hardware,
        law,
    ).optimal
    best = ends.total
    if high == low:
        params, tokens = ends.params[..., 0], ends.tokens[..., 0]
    else:
        per_request = _rates(input_tokens, output_tokens, hardware)[1]
        _check_tokens_per_request(per_request, input_tokens, output_tokens)
        params = (best[..., 1] - best[..., 0]) / (per_request * (high - low))
        # Rounding must not push N outside [N*(R_hi), N*(R_lo)], where D exists.
        params = np.clip(params, ends.params[..., 1], ends.params[..., 0])
        tokens = _tokens_on_constraint(law, loss, params)
    # The same formula as C*, so that a plan equal to an end's optimum has zero regret there.
    spend = lifetime_cost.kernel(
        params[..., None],
        tokens[..., None],
        np.array([low, high]),
        input_tokens,
        output_tokens,
        hardware,
        law=law,
    ).total
    regret = spend - best
    worst = np.maximum(regret.max(axis=-1), 0.0)
    fields = (params, tokens, loss, worst, low, high, regret[..., 0], regret[..., 1])
    if np.ndim(loss) == 0:
        fields = tuple(float(f) for f in fields)
    return RobustPlan(*fields)


def _robust_direct(loss, low, high, input_tokens, output_tokens, hardware, law):
    """:func:`robust_plan` of one loss (one Excel cell): :func:`_robust_layered`'s floats
    without its layers. The two sizing solves and the costs are in line: C*(R) and the
    regrets are totals only, so no loss and no plan objects are computed.

    None wherever a layer would raise or leave the float range (a size or cost not finite
    and > 0, a zero-token request): the caller then takes the layered path, which raises
    as before.
    """
    gap = loss - law.E
    # dollar_rates(R, ...) of each R, its factors computed once (the same floats)
    k_train, per_flop, prefill_mfu, decode_mfu = hardware_rates(hardware)
    per_token = input_tokens / prefill_mfu + output_tokens / decode_mfu
    best, sizes = [], []
    for requests in (low, high):
        k_inference = per_flop * requests * per_token
        r = k_inference / k_train
        if r - r != 0.0:  # inf or NaN
            return None
        found = scalar_optimum(law, gap, r)
        if found is None:
            return None
        tokens, params, _, chin_tokens, chin_params = found
        total = k_train * params * tokens + k_inference * params
        chin_total = k_train * chin_params * chin_tokens + k_inference * chin_params
        # cost_optimal's checks (finite costs), and lifetime_cost's (sizes > 0, finite)
        if not (
            total - total == 0.0
            and chin_total - chin_total == 0.0
            and 0.0 < params < math.inf
            and 0.0 < tokens < math.inf
        ):
            return None
        best.append(total)
        sizes.append((params, tokens))
    if high == low:
        params, tokens = sizes[0]
    else:
        per_request = per_flop * 1.0 * per_token
        if not per_request > 0:
            return None
        params = (best[1] - best[0]) / (per_request * (high - low))
        # min(max(params, N*(R_hi)), N*(R_lo)), as the builtins do it
        params = sizes[1][0] if sizes[1][0] > params else params
        params = sizes[0][0] if sizes[0][0] < params else params
        try:
            tokens = float(_tokens_on_constraint(law, loss, params))
        except (OverflowError, ZeroDivisionError, ValueError):
            return None
        if not (0.0 < params < math.inf and 0.0 < tokens < math.inf):
            return None
    training = k_train * params * tokens  # lifetime_cost's training $, then its total
    regret_low = training + per_flop * low * per_token * params - best[0]
    regret_high = training + per_flop * high * per_token * params - best[1]
    plan = object.__new__(RobustPlan)  # RobustPlan(...) without eight __setattr__ calls
    fields = plan.__dict__
    fields["params"], fields["tokens"], fields["loss"] = params, tokens, loss
    fields["worst_regret"] = max(regret_low, regret_high, 0.0)
    fields["requests_low"], fields["requests_high"] = low, high
    fields["regret_low"], fields["regret_high"] = regret_low, regret_high
    return plan


def _robust_layered(loss, low, high, input_tokens, output_tokens, hardware, law):
    """:func:`robust_plan` of one loss: the same formulas on plain floats, through
    cost_optimal and lifetime_cost (and their checks and messages)."""
    ends = [
        cost_optimal.kernel(loss, r, input_tokens, output_tokens, hardware, law).optimal
        for r in (low, high)
    ]
    best = [end.total for end in ends]
    if high == low:
        params, tokens = ends[0].params, ends[0].tokens
    else:
        per_request = _rates(input_tokens, output_tokens, hardware)[1]
        _check_tokens_per_request(per_request, input_tokens, output_tokens)
        params = (best[1] - best[0]) / (per_request * (high - low))
        params = min(max(params, ends[1].params), ends[0].params)
        tokens = float(_tokens_on_constraint(law, loss, params))
    regret = [
        lifetime_cost.kernel(
            params, tokens, r, input_tokens, output_tokens, hardware, law=law
        ).total
        - b
        for r, b in zip((low, high), best, strict=True)
    ]
    return RobustPlan(params, tokens, loss, max(max(regret), 0.0), low, high, *regret)


@gate(
    SCALAR_LOSS,
    SCENARIOS,
    Arg(
        "weights",
        "Weight of each scenario, >= 0; default equal.",
        low_open=False,
        optional_none=True,
    ),
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
)
def expected_cost_plan(
    loss,
    requests_scenarios,
    weights=None,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
):
    """The plan with the least expected lifetime $: the cost-optimal plan at the mean demand.

    Parameters
    ----------
    weights : array_like, optional
        Probability (or any non-negative weight) of each scenario; default equal.
        Normalised to sum to 1.

    Returns
    -------
    OptimalPlan
        :func:`xlplan.engine.paper.sizing.cost_optimal` at sum_j w_j R_j: cost is linear
        in demand, so the expected cost of any model is its cost at the mean demand.
    """
    requests = requests_scenarios
    if weights is None:
        weights = np.ones_like(requests)
    if np.shape(weights) != requests.shape or not np.sum(weights) > 0:
        raise InvalidValueError(
            f"{PLACEHOLDER} must be {requests.size} non-negative numbers, one per scenario, not "
            f"all zero; got {np.atleast_1d(weights).tolist()}",
            argument="weights",
            value=weights,
        )
    mean = float(np.dot(weights, requests) / np.sum(weights))
    return cost_optimal.kernel(loss, mean, input_tokens, output_tokens, hardware, law)
