"""PV-optimal sizing under a launch deadline, on the calendar of :mod:`.timeline`.

The product launches at the deadline: demand month j is served in calendar month L + j,
L = ``training_months(deadline_days)``'s last month, so the present-value requests
R_pv(L) are fixed by the deadline. Training runs from the start of month 1 and must finish
by the deadline. The present value of a model (N, D) is

    PV = k_train N D W(days) + N k R_pv(L)            (:mod:`.timeline`)

minimised along the loss constraint E + A / N**alpha + B / D**beta = loss.

**No cluster given** (``gpus=None``): the cluster is sized to finish at the deadline, so
the run fills it and W = W(deadline) is a constant: the closed form of
:func:`~xlplan.engine.paper.sizing.cost_optimal` with R = R_pv(L) / W. The GPUs reported
are :func:`~xlplan.engine.deploy.training.gpus_for_deadline`'s whole count, which finishes
up to one GPU's share early; ``pv`` is the objective (the run filling the deadline, as
``cashflow(..., deadline_days=...)`` without ``gpus`` computes it).

**A cluster of** ``gpus``: days = c N D (c from :func:`~xlplan.engine.deploy.training.\
training_time`), and the deadline caps N D <= cap = deadline / c. Along the constraint
N D is smallest at the Chinchilla point: past the cap there, the loss cannot be reached
in time (an error naming the fewest days and GPUs that could). The training present value
is no longer linear in N D, but piecewise linear: while the run ends in month m it is
``k_train delta_m N D + const_m``, delta_m = (1 + d)**(-m/12) (an extra day of training
falls in month m). On the stretch of the constraint whose run ends in month m the
objective is therefore the lump-sum one with R = R_pv(L) / delta_m, minimised in closed
form and clipped to the stretch (the lump-sum objective is unimodal in N D on the branch
N <= N_chin). The answer is the best of these candidates, month by month: exact, with
no search tolerance, and global even where two months' optima are both local minima.
Only months between those of the run at the Chinchilla point and at the cap, narrowed
to where the candidates' optima lie, are visited (a handful). A clipped N D gives N by a
bracketed Halley solve of the constraint in log(B / D**beta).

``binding`` is ``"deadline"`` where the answer sits on the cap with the present value
still falling past it (the month's own optimum beyond the cap by more than
``BINDING_TOLERANCE``), ``"loss"`` otherwise: the deadline then does not change the model.
"""

import functools
from dataclasses import dataclass

import numpy as np

from .. import roots
from ..args import HARDWARE, INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, gate
from ..constants import DAYS_PER_MONTH, DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..deploy.training import GPUS, gpus_for_deadline, training_months, training_time
from ..errors import PLACEHOLDER, InvalidValueError
from ..paper.sizing import cost_optimal, lifetime_cost
from ..paper.solver import chinchilla_point
from .schedule import (
    DISCOUNT_RATE,
    PRICE_CHANGE,
    REQUESTS_BY_MONTH,
    discount_factors,
    present_value_requests,
)
from .timeline import DEADLINE_DAYS, shift_schedule, training_weight

__all__ = ["LaunchPlan", "cost_optimal_launch", "BINDING_TOLERANCE"]

# The cap binds only when the month's unconstrained optimum lies beyond it by more than
# this (relative N D): an optimum on the cap to rounding is the loss's answer.
BINDING_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LaunchPlan:
    """The PV-optimal model under a launch deadline (floats, or arrays of the broadcast shape).

    Attributes
    ----------
    params, tokens : parameters N and training tokens D.
    days : wall-clock training days on ``gpus``.
    gpus : the given cluster, or the fewest whole GPUs that train by the deadline.
    launch_month : first calendar month of serving (the month after the deadline's).
    training_pv, inference_pv : present values, $ (training spread over its months).
    binding : ``"loss"`` or ``"deadline"`` (str, or an array of them).
    """

    params: object
    tokens: object
    days: object
    gpus: object
    launch_month: object
    training_pv: object
    inference_pv: object
    binding: object

    @property
    def pv(self):
        """Total present value, $."""
        return self.training_pv + self.inference_pv


LAUNCH_GPUS = GPUS.but(
    help="GPUs training together, > 0. Default: the fewest that train by the deadline.",
    optional_none=True,
    default=None,
)


@gate(
    LOSS,
    REQUESTS_BY_MONTH,
    DEADLINE_DAYS,
    LAUNCH_GPUS,
    DISCOUNT_RATE,
    PRICE_CHANGE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
)
def cost_optimal_launch(
    loss,
    requests_by_month,
    deadline_days,
    gpus=None,
    discount_rate=0.0,
    price_change=0.0,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
):
    """Model minimising present value when the product launches at a deadline.

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats per token; must exceed the law's E.
    requests_by_month : array_like, shape ``(..., T)``
        Requests in demand months 1..T, served from the month after the deadline's.
    deadline_days : float or array_like
        Launch deadline, days from the start of training, (0, 36,500].
    gpus : float or array_like, optional
        GPUs training together; training must finish by the deadline. Default: the
        fewest whole GPUs that do (no cap on the model).
    discount_rate, price_change : float or array_like
        Annual rates (see :mod:`xlplan.engine.money.schedule`).
    input_tokens, output_tokens, hardware, law
        As :func:`xlplan.engine.paper.sizing.cost_optimal`.

    Returns
    -------
    LaunchPlan

    Raises
    ------
    InvalidValueError
        When no model of this loss trains on ``gpus`` within ``deadline_days``: the
        message names the fewest days, and the fewest GPUs for the deadline.

    Examples
    --------
    >>> plan = cost_optimal_launch(2.1, [1e8] * 36, 90, 8, 0.1, -0.25, hardware="h100")
    >>> f"{plan.params:.3e} {plan.days:.1f} days, month {plan.launch_month:.0f}, {plan.binding}"
    '2.863e+09 90.0 days, month 4, deadline'
    >>> cost_optimal_launch(2.1, [1e8] * 36, 90, 64, 0.1, -0.25, hardware="h100").binding
    'loss'
    """
    d, g, d_in, d_out, hw = discount_rate, price_change, input_tokens, output_tokens, hardware
    schedule = np.asarray(requests_by_month, dtype=np.float64)
    values = (loss, deadline_days, d, g, d_in, d_out) + (() if gpus is None else (gpus,))
    lead = np.broadcast_shapes(schedule.shape[:-1], *(np.shape(v) for v in values))
    flat = [np.broadcast_to(np.asarray(v, dtype=np.float64), lead).reshape(-1) for v in values]
    loss, deadline, d, g, d_in, d_out = flat[:6]
    schedule = np.broadcast_to(schedule, lead + schedule.shape[-1:]).reshape(-1, schedule.shape[-1])
    offset = training_months.kernel(deadline)[1]
    r_pv = present_value_requests.kernel(shift_schedule(schedule, offset), d, g)
    if gpus is None:
        plan = _fills_deadline(law, loss, r_pv, deadline, d, d_in, d_out, hw)
    else:
        plan = _on_cluster(law, loss, r_pv, deadline, flat[6], d, d_in, d_out, hw)
    return _shaped(plan, offset + 1.0, lead)


def _fills_deadline(law, loss, r_pv, deadline, d, d_in, d_out, hw):
    """No cluster given: the run fills the deadline, W = W(deadline), closed form."""
    weight = np.asarray(training_weight(deadline, d))
    found = cost_optimal.kernel(loss, r_pv / weight, d_in, d_out, hw, law).optimal
    n, tokens = np.asarray(found.params), np.asarray(found.tokens)
    cluster = gpus_for_deadline.kernel(n, tokens, deadline, hw)
    bill = lifetime_cost.kernel(n, tokens, r_pv, d_in, d_out, hw, law=law)
    binding = np.full(n.shape, "loss")
    return n, tokens, cluster.days, cluster.gpus, bill.training * weight, bill.inference, binding


def _on_cluster(law, loss, r_pv, deadline, gpus, d, d_in, d_out, hw):
    """A given cluster: the best of the month-by-month candidates (module docstring)."""
    gap = loss - law.E
    chin_tokens, chin_params = (np.asarray(v) for v in chinchilla_point(law, gap))
    _check_feasible(loss, deadline, gpus, chin_params, chin_tokens, hw)
    per_x = training_time.kernel(1.0, 1.0, gpus, hw).days[:, None]  # days per unit of N D
    x_chin = (chin_params * chin_tokens)[:, None]
    cap = np.maximum(deadline[:, None] / per_x, x_chin)
    column = (v[:, None] for v in (loss, r_pv, d, d_in, d_out))
    solve = functools.partial(_piece_optimum, law, hw, *column)
    m = _months(solve, x_chin, cap, per_x)
    n_star, d_star = solve(m)
    x_star = n_star * d_star
    # The stretch of month m, within [Chinchilla, cap]; empty stretches keep their start.
    x_low = np.maximum(x_chin, (m - 1.0) * DAYS_PER_MONTH / per_x)
    x = np.clip(x_star, x_low, np.maximum(np.minimum(cap, m * DAYS_PER_MONTH / per_x), x_low))
    clipped = x != x_star
    n = np.where(clipped, _params_at_compute(law, gap[:, None], x), n_star)
    n = np.where(x <= x_chin, chin_params[:, None], n)
    tokens = np.where(clipped, x / n, d_star)
    days = training_time.kernel(n, tokens, gpus[:, None], hw).days
    weight = training_weight(days, d[:, None])
    bill = lifetime_cost.kernel(
        n, tokens, r_pv[:, None], d_in[:, None], d_out[:, None], hw, law=law
    )
    best = np.argmin(bill.training * weight + bill.inference, axis=-1)[:, None]

    def pick(values):
        return np.take_along_axis(np.broadcast_to(values, m.shape), best, axis=-1)[:, 0]

    on_cap = (pick(x) >= pick(cap)) & (pick(x_star) > pick(cap) * (1.0 + BINDING_TOLERANCE))
    binding = np.where(on_cap, "deadline", "loss")
    training, inference = pick(bill.training * weight), pick(bill.inference)
    return pick(n), pick(tokens), pick(days), gpus.copy(), training, inference, binding


def _piece_optimum(law, hw, loss, r_pv, d, d_in, d_out, m):
    """(N, D) of the lump-sum optimum when one more day of training is paid in month m."""
    delta = _gather(discount_factors(int(np.max(m)), d[:, 0]), m)
    found = cost_optimal.kernel(loss, r_pv / delta, d_in, d_out, hw, law).optimal
    return found.params, found.tokens


def _months(solve, x_chin, cap, per_x):
    """The months (scenarios, K) whose stretch may hold the optimum (module docstring).

    Month m's optimum N D grows with m (its discount falls). Stretches left of the first
    month's optimum only fall, and those right of the cap month's only rise, so the
    months between the runs at those two optima (clipped to [Chinchilla, cap]) suffice;
    scenarios needing fewer repeat their last month.
    """

    def month(x):
        return training_months.kernel(x * per_x)[1]

    low = np.clip(np.multiply(*solve(month(x_chin))), x_chin, cap)
    high = np.clip(np.multiply(*solve(month(cap))), x_chin, cap)
    m_low, m_high = month(low), np.maximum(month(high), month(low))
    m = m_low + np.arange(int(np.max(m_high - m_low)) + 1)
    return np.minimum(m, m_high)


def _gather(factors, m):
    """factors[..., m - 1] per element: month m's factor for every scenario's months."""
    index = (m.astype(np.intp) - 1).reshape(m.shape[0], -1)
    return np.take_along_axis(factors, index, axis=-1).reshape(m.shape)


def _check_feasible(loss, deadline, gpus, chin_params, chin_tokens, hw):
    """The Chinchilla model has the least N D of the loss: if it misses, nothing makes it."""
    least = training_time.kernel(chin_params, chin_tokens, gpus, hw).days
    late = least > deadline * (1.0 + BINDING_TOLERANCE)
    if not np.any(late):
        return
    i = int(np.flatnonzero(late)[0])
    fewest = gpus_for_deadline.kernel(chin_params[i], chin_tokens[i], deadline[i], hw).gpus
    raise InvalidValueError(
        f"{PLACEHOLDER}={deadline[i]:g} is too short for loss={loss[i]:g} on "
        f"gpus={gpus[i]:,.0f}: the least training that reaches that loss (the Chinchilla "
        f"model, {chin_params[i]:.4g} parameters on {chin_tokens[i]:.4g} tokens) takes "
        f"{least[i]:,.2f} days; give deadline_days >= {least[i]:,.2f} or gpus >= "
        f"{fewest:,.0f}",
        argument="deadline_days",
        value=float(deadline[i]),
        positions=[(int(k),) for k in np.flatnonzero(late)],
    )


def _shaped(plan, launch_month, lead):
    """The plan's arrays in the broadcast shape; floats for a single scenario."""
    fields = [np.reshape(v, lead) for v in plan[:4]] + [np.reshape(launch_month, lead)]
    fields += [np.reshape(v, lead) for v in plan[4:]]
    if lead == ():
        fields = [str(v) if v.dtype.kind == "U" else float(v) for v in fields]
    n, tokens, days, gpus, month, training, inference, binding = fields
    return LaunchPlan(n, tokens, days, gpus, month, training, inference, binding)


def _constraint_terms(s, gap, c, alpha, beta):
    """H(s) = log N D - log X at e**s = B / D**beta (N <= N_chin), with H' and H''."""
    b = np.exp(s)
    rest = gap - b  # A / N**alpha
    return (
        s / beta + np.log(rest) / alpha + c,
        1.0 / beta - b / (alpha * rest),
        -gap * b / (alpha * rest * rest),
    )


def _params_at_compute(law, gap, compute):
    """N on the loss constraint E + ``gap`` with N D = ``compute`` (arrays), N <= N_chin.

    Solved in s = log(B / D**beta): H(s) = s / beta + log(gap - e**s) / alpha + c, with
    c = log(compute) - log(A) / alpha - log(B) / beta, is increasing and concave up to the
    Chinchilla split e**s = alpha gap / (alpha + beta), where H = log(compute / N_chin D_chin)
    >= 0; at s_low = -beta (log(gap) / alpha + c), H <= 0. Bracketed Halley steps
    (:func:`xlplan.engine.roots.halley`) find the root; compute at the Chinchilla point's
    gives its N.
    """
    alpha, beta = law.alpha, law.beta
    gap, compute = np.broadcast_arrays(np.asarray(gap, float), np.asarray(compute, float))
    shape = gap.shape
    gap, compute = gap.reshape(-1), compute.reshape(-1)
    c = np.log(compute) - np.log(law.A) / alpha - np.log(law.B) / beta
    s_chin = np.log(alpha * gap / (alpha + beta))
    s_low = np.minimum(-beta * (np.log(gap) / alpha + c), s_chin)
    found = roots.halley(
        _constraint_terms,
        s_low.copy(),
        s_low.copy(),
        s_chin.copy(),
        (gap, c, np.full(gap.shape, alpha), np.full(gap.shape, beta)),
        shrink=True,
        rtol=roots.RELATIVE_TOLERANCE,
    )
    roots.check(found, "compute-constrained sizing", "log(B / D^beta)")
    return ((law.A / (gap - np.exp(found.root))) ** (1.0 / alpha)).reshape(shape)
