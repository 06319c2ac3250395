"""Budgets over time: monthly demand, GPU price trends and discounting, in the sizing.

Conventions
-----------
* **Month 0** is training, paid at today's training price and not discounted.
* **Months t = 1..T** serve R_t requests (at most :data:`MAX_MONTHS`). Inference in
  month t is priced at today's price times ``(1 + g) ** ((t - 1) / 12)``, where
  g = ``price_change`` is an annual rate > -1 (-0.25: 25% cheaper each year); month 1
  is at today's price.
* That cost is discounted by ``(1 + d) ** (-t / 12)``, d = ``discount_rate`` an
  annual effective rate >= 0: month 12 is discounted by exactly one year.
* A month has ``constants.HOURS_PER_MONTH`` = 730 hours (8,760 / 12), so the average
  number of GPUs busy in a month is its GPU-hours / 730.

The mathematics
---------------
Inference cost is linear in the parameters N and in the requests: month t costs
``N k R_t (1 + g)**((t-1)/12)``, with k the inference dollars per parameter per
request at today's prices (:func:`xlplan.engine.paper.sizing.lifetime_cost`). Its present
value is therefore

    PV_inference = N k sum_t R_t w_t = N k R_pv,
    w_t = (1 + g)**((t-1)/12) (1 + d)**(-t/12),

where ``R_pv = sum_t R_t w_t`` is the *present-value requests*: the lump-sum demand
that costs, today, what the schedule costs. The total present value
``k_train N D + N k R_pv`` is exactly the lump-sum objective of
:func:`~xlplan.engine.paper.sizing.cost_optimal` with R = R_pv, i.e. the solver's
``r = k R_pv / k_train`` (training-token equivalents; :mod:`xlplan.engine.paper.solver`).
PV-optimal sizing is the same root-finding problem with a different r: no new
solver, and the same speed. Only R_pv (one weighted sum over months) is new.

* **Zero rates.** With d = g = 0 every w_t is exactly 1.0 (``1.0 ** x == 1.0``), so
  R_pv is the sum of the R_t (``numpy.sum`` over the last axis) bit for bit, and every
  result equals the lump-sum function's given that sum.
* **Monotonicity.** Each w_t (t >= 1) decreases as d grows, so R_pv and r decrease, and
  the optimal N* (decreasing in r) grows toward the Chinchilla-style model: a higher
  discount rate never gives a smaller model.
* **Excel's NPV.** ``NPV((1+d)^(1/12)-1, c_1..c_T) = sum_t c_t / (1+d)^(t/12)``: applied
  to the monthly inference costs it gives PV_inference.
* **No demand.** An all-zero schedule has R_pv = 0: the Chinchilla-style model wins.

Shapes: a schedule is an array whose *last* axis is months, ``(..., T)``; every other
argument broadcasts against its leading shape ``(...)``. A 1-D schedule with scalar
arguments gives scalars.
"""

import math

import numpy as np

from .. import validate
from ..args import HARDWARE, INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, PARAMS, TOKENS, Arg, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, MONTHS_PER_YEAR
from ..errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..laws import get_law
from ..paper.sizing import cost_optimal, lifetime_cost
from ..scalars import plain

__all__ = [
    "MAX_MONTHS",
    "check_schedule",
    "check_rates",
    "price_factors",
    "discount_factors",
    "monthly_weights",
    "present_value_requests",
    "demand_ramp",
    "lifetime_pv",
    "cost_optimal_pv",
]

MAX_MONTHS = 1200  # 100 years: a schedule longer than this is a typo
# A list of months with non-zero rates is priced in a Python loop up to this many
# months; beyond, numpy's vectorised powers are faster (about 0.2 us a month in the loop).
LIST_MONTHS = 120
# numpy's pairwise summation block (PW_BLOCKSIZE in its loops), copied by _pairwise_sum.
PAIRWISE_BLOCK = 128
_MAX_LISTED = 5


def _bad_months_message(schedule, bad):
    """Name each bad month (1-based) and, for many schedules, which schedule."""
    listed = []
    for index in np.argwhere(bad)[:_MAX_LISTED]:
        *scenario, month = (int(i) for i in index)
        where = f"schedule {tuple(scenario)} " if scenario else ""
        listed.append(f"{where}month {month + 1} = {schedule[tuple(index)]:g}")
    more = int(bad.sum()) - len(listed)
    extra = f" and {more} more" if more > 0 else ""
    return (
        f"{PLACEHOLDER}: {'; '.join(listed)}{extra} is out of range: each month's requests "
        "must be a number >= 0"
    )


def check_schedule(requests_by_month, on_invalid="raise", name="requests_by_month"):
    """A schedule as a float64 array ``(..., T)``, 1 <= T <= :data:`MAX_MONTHS`.

    A scalar is one month. Negative, NaN or infinite months raise
    :class:`InvalidValueError` naming the month number (or become NaN with
    ``on_invalid="nan"``).
    """
    try:
        schedule = np.atleast_1d(np.asarray(requests_by_month, dtype=np.float64))
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={requests_by_month!r} is not a list or array of "
            "numbers of requests per month",
            argument=name,
            value=requests_by_month,
        ) from None
    months = schedule.shape[-1]
    if not 1 <= months <= MAX_MONTHS:
        raise InvalidValueError(
            f"{PLACEHOLDER} has {months:,} months: it must have between 1 and "
            f"{MAX_MONTHS:,} months",
            argument=name,
            value=months,
        )
    with np.errstate(invalid="ignore"):
        bad = ~(np.isfinite(schedule) & (schedule >= 0))
    if bad.any():
        if on_invalid == "nan":
            return np.where(bad, np.nan, schedule)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise InvalidValueError(
            _bad_months_message(schedule, bad),
            argument=name,
            value=float(schedule[first]),
            positions=[tuple(int(i) for i in p) for p in np.argwhere(bad)],
        )
    return schedule


def check_rates(discount_rate, price_change, on_invalid="raise"):
    """(discount_rate >= 0, price_change > -1), annual rates, as floats or arrays."""
    return (
        DISCOUNT_RATE.check(discount_rate, on_invalid),
        PRICE_CHANGE.check(price_change, on_invalid),
    )


def _checked_months(value, on_invalid):
    """A list of valid months as floats (an Excel range) stays a list: a cell's present
    value then needs no numpy (:func:`present_value_requests`); anything else is an array
    from :func:`check_schedule`."""
    if type(value) is list and 1 <= len(value) <= MAX_MONTHS:
        for x in value:  # a loop, not all() over a generator: a third of the time
            if not (type(x) is float and 0.0 <= x < math.inf):
                break
        else:
            return value
    return check_schedule(value, on_invalid)


_SCHEDULE_NAME = "requests_by_month"
REQUESTS_BY_MONTH = Arg(
    _SCHEDULE_NAME,
    "Requests per month, months 1, 2, ...: one row or one "
    "column, blank cells count as 0, 1 to 1,200 months.",
    "requests",
    kind="custom",
    check_value=lambda value, on_invalid, law: _checked_months(value, on_invalid),
)
DISCOUNT_RATE = Arg(
    "discount_rate",
    "Annual discount rate, >= 0 (0.1 = 10% a year). Default 0.",
    "per year",
    low_open=False,
    default=0.0,
)
PRICE_CHANGE = Arg(
    "price_change",
    "Annual change of the inference price, > -1 (-0.25 = 25% cheaper each year). Default 0.",
    "per year",
    low=-1.0,
    default=0.0,
)


def price_factors(months, price_change=0.0):
    """Today's inference price -> month t's: ``(1 + g)**((t-1)/12)``, shape ``g.shape + (T,)``."""
    t = np.arange(1, months + 1, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        return np.power(
            1.0 + np.asarray(price_change, dtype=np.float64)[..., None], (t - 1.0) / MONTHS_PER_YEAR
        )


def discount_factors(months, discount_rate=0.0):
    """Month t's dollars -> today's: ``(1 + d)**(-t/12)``, shape ``d.shape + (T,)``."""
    t = np.arange(1, months + 1, dtype=np.float64)
    with np.errstate(over="ignore", under="ignore"):
        return np.power(
            1.0 + np.asarray(discount_rate, dtype=np.float64)[..., None], -t / MONTHS_PER_YEAR
        )


def monthly_weights(months, discount_rate=0.0, price_change=0.0):
    """Present value of one dollar of today's inference price spent in months 1..T.

    Parameters
    ----------
    months : int
        T, the number of months.
    discount_rate, price_change : float or ndarray
        Already checked annual rates (see :func:`check_rates`).

    Returns
    -------
    ndarray, shape ``broadcast(d, g).shape + (T,)``
        ``w_t = (1 + g)**((t-1)/12) (1 + d)**(-t/12)``; exactly 1.0 at zero rates.
    """
    return price_factors(months, price_change) * discount_factors(months, discount_rate)


@gate(REQUESTS_BY_MONTH, DISCOUNT_RATE, PRICE_CHANGE)
def present_value_requests(
    requests_by_month, discount_rate=0.0, price_change=0.0, on_invalid="raise"
):
    """The lump-sum demand that costs today what a monthly schedule costs: R_pv.

    Parameters
    ----------
    requests_by_month : array_like, shape ``(..., T)``
        Requests in months 1..T (last axis), >= 0.
    discount_rate : float or array_like
        Annual effective discount rate, >= 0 (0.1 = 10% a year).
    price_change : float or array_like
        Annual change of the inference price, > -1 (-0.25 = 25% cheaper each year).

    Returns
    -------
    float or ndarray
        ``sum_t R_t w_t`` (requests), of the broadcast leading shape.

    Examples
    --------
    >>> present_value_requests([1e6] * 12)
    12000000.0
    >>> round(present_value_requests([1e6] * 12, 0.1, -0.25))
    10049149
    """
    schedule = requests_by_month
    if type(schedule) is list:  # floats checked by the gate: one cell
        total = _list_present_value(schedule, discount_rate, price_change)
        if total is not None:
            return total
        schedule = np.asarray(schedule, dtype=np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        weights = monthly_weights(schedule.shape[-1], discount_rate, price_change)
        # Multiply then numpy.sum: at zero rates the product is the schedule itself, so the
        # sum is bit for bit the lump-sum functions' input requests.sum(axis=-1).
        total = np.sum(schedule * weights, axis=-1)
    _check_finite(total, weights, schedule, price_change, on_invalid)
    return plain(total)


def _list_present_value(schedule, discount_rate, price_change):
    """:func:`present_value_requests` of a list of floats in ``math``, or None for numpy.

    The same weights month by month and numpy's pairwise sum, so the total equals the
    array path's bit for bit at zero rates (weights exactly 1) and within an ulp of
    each weight's power otherwise. None (the array path, which also names an
    overflow) for array rates, a non-finite total, or rates on a schedule longer than
    ``LIST_MONTHS``.
    """
    d, g = discount_rate, price_change
    if not (type(d) is float and type(g) is float):
        return None
    if d == 0.0 and g == 0.0:
        total = _pairwise_sum(schedule, 0, len(schedule))
    elif len(schedule) > LIST_MONTHS:
        return None
    else:
        try:
            total = _pairwise_sum(
                [
                    r
                    * (
                        (1.0 + g) ** ((t - 1.0) / MONTHS_PER_YEAR)
                        * (1.0 + d) ** (-t / MONTHS_PER_YEAR)
                    )
                    for t, r in enumerate(schedule, 1)
                ],
                0,
                len(schedule),
            )
        except OverflowError:
            return None
    return total if math.isfinite(total) else None


def _pairwise_sum(values, start, count):
    """numpy's float64 sum of ``values[start:start + count]``, in the same order.

    numpy adds up to 8 numbers in turn, up to 128 in 8 interleaved partial sums, and
    more as two halves (cut at a multiple of 8), so this equals ``np.sum`` bit for bit.
    """
    if count < 8:
        total = 0.0
        for i in range(start, start + count):
            total += values[i]
        return total
    if count <= PAIRWISE_BLOCK:
        r = values[start : start + 8]
        end = start + count - count % 8
        for i in range(start + 8, end, 8):
            r = [a + b for a, b in zip(r, values[i : i + 8], strict=True)]
        total = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for i in range(end, start + count):
            total += values[i]
        return total
    half = count // 2
    half -= half % 8
    return _pairwise_sum(values, start, half) + _pairwise_sum(values, start + half, count - half)


def _check_finite(total, weights, schedule, price_change, on_invalid):
    """Finite, valid inputs whose present value overflows: an error naming the culprit.

    A price that grows fast enough (``price_change`` of 1e6 a year over 100 years)
    takes the monthly weights past the float range; otherwise huge months sum past it.
    """
    overflow = ~np.isfinite(total) & ~np.isnan(total)
    if on_invalid != "raise" or not np.any(overflow):
        return
    if not np.all(np.isfinite(weights)):
        value = float(np.max(price_change))
        raise InvalidValueError(
            f"{PLACEHOLDER}={value:g} is too large: the inference price it implies by month "
            f"{schedule.shape[-1]} overflows the float range (1.8e308); give a smaller annual "
            "price change or fewer months",
            argument="price_change",
            value=value,
        )
    raise InvalidValueError(
        f"{PLACEHOLDER} sums past the float range (1.8e308) once priced and discounted: no "
        "present value can be computed",
        argument=_SCHEDULE_NAME,
        value=float(np.max(schedule)),
    )


def _ramp_months(months):
    if isinstance(months, bool) or not validate.is_scalar(months):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={months!r} must be one whole number", argument="months", value=months
        )
    if not (1 <= months <= MAX_MONTHS and float(months).is_integer()):
        raise InvalidValueError(
            f"{PLACEHOLDER}={months:g} is out of range: it must be a whole "
            f"number from 1 to {MAX_MONTHS:,}",
            argument="months",
            value=months,
        )
    return int(months)


@gate(
    Arg("first_month_requests", "Requests in month 1, >= 0.", "requests", low_open=False),
    Arg(
        "monthly_growth", "Growth from one month to the next, > -1 (0.2 = +20% a month).", low=-1.0
    ),
    Arg(
        "months",
        "Number of months, 1 to 1,200.",
        "months",
        kind="custom",
        check_value=lambda value, on_invalid, law: _ramp_months(value),
    ),
    Arg(
        "peak_requests",
        "Cap on any month's requests, >= 0. Default: no cap.",
        "requests",
        low_open=False,
        optional_none=True,
        default=None,
    ),
)
def demand_ramp(first_month_requests, monthly_growth, months, peak_requests=None):
    """Requests per month of a launch ramp: ``min(first (1 + growth)**(t-1), peak)``.

    Parameters
    ----------
    first_month_requests : float or array_like
        Requests in month 1, >= 0.
    monthly_growth : float or array_like
        Growth from one month to the next, > -1 (0.2 = +20% a month).
    months : int
        T, 1 to :data:`MAX_MONTHS` (one number for all ramps).
    peak_requests : float or array_like, optional
        Cap on the requests of any month, >= 0. Default: no cap.

    Returns
    -------
    ndarray, shape ``broadcast(first, growth, peak).shape + (T,)``

    Examples
    --------
    >>> demand_ramp(1e6, 0.5, 4, 2e6).tolist()
    [1000000.0, 1500000.0, 2000000.0, 2000000.0]
    """
    first, growth = first_month_requests, monthly_growth
    peak = math.inf if peak_requests is None else peak_requests
    t = np.arange(months, dtype=np.float64)
    with np.errstate(over="ignore"):
        ramp = np.minimum(
            np.asarray(first)[..., None] * np.power(1.0 + np.asarray(growth)[..., None], t),
            np.asarray(peak)[..., None],
        )
    if not np.all(np.isfinite(ramp)):
        month = int(np.argwhere(~np.isfinite(ramp))[0][-1]) + 1
        raise InvalidValueError(
            f"{PLACEHOLDER}={np.max(growth):g} takes month {month} past "
            "the largest number (1.8e308): give peak_requests or a lower "
            "monthly_growth",
            argument="monthly_growth",
            value=growth,
        )
    return ramp


@gate(
    PARAMS,
    TOKENS,
    REQUESTS_BY_MONTH,
    DISCOUNT_RATE,
    PRICE_CHANGE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
)
def lifetime_pv(
    params,
    tokens,
    requests_by_month,
    discount_rate=0.0,
    price_change=0.0,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    on_invalid="raise",
):
    """Present value, in today's dollars, of training a model and serving a schedule.

    Parameters
    ----------
    params, tokens : float or array_like
        Parameters N and training tokens D.
    requests_by_month : array_like, shape ``(..., T)``
        Requests in months 1..T.
    discount_rate, price_change : float or array_like
        Annual rates (see the module docstring).
    input_tokens, output_tokens, hardware
        As :func:`xlplan.engine.paper.sizing.lifetime_cost`.

    Returns
    -------
    ModelPlan
        ``training`` (month 0, undiscounted), ``inference`` (present value) and
        ``total`` in US dollars.
    """
    r_pv = present_value_requests.kernel(requests_by_month, discount_rate, price_change, on_invalid)
    return lifetime_cost.kernel(
        params, tokens, r_pv, input_tokens, output_tokens, hardware, on_invalid, get_law()
    )


@gate(
    LOSS, REQUESTS_BY_MONTH, DISCOUNT_RATE, PRICE_CHANGE, INPUT_TOKENS, OUTPUT_TOKENS, HARDWARE, LAW
)
def cost_optimal_pv(
    loss,
    requests_by_month,
    discount_rate=0.0,
    price_change=0.0,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    on_invalid="raise",
):
    """Model minimising the total present value of training and serving a schedule.

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats per token; must exceed the law's E.
    requests_by_month : array_like, shape ``(..., T)``
        Requests in months 1..T: many schedules at once along the leading axes.
    discount_rate, price_change : float or array_like
        Annual rates (see the module docstring).
    input_tokens, output_tokens, hardware, law
        As :func:`xlplan.engine.paper.sizing.cost_optimal`.

    Returns
    -------
    OptimalPlan
        In US dollars of present value; ``.chinchilla`` is the equal-loss
        Chinchilla-style model serving the same schedule.

    Examples
    --------
    >>> plan = cost_optimal_pv(2.1, [1e8] * 36, discount_rate=0.1, price_change=-0.25)
    >>> f"{plan.optimal.params:.3e} {plan.saving:.1%}"
    '2.720e+09 51.2%'
    """
    r_pv = present_value_requests.kernel(requests_by_month, discount_rate, price_change, on_invalid)
    return cost_optimal.kernel(
        loss, r_pv, input_tokens, output_tokens, hardware, law, on_invalid, None
    )
