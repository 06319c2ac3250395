"""The monthly cash flow of a model: training in month 0 (or on a calendar), then demand.

Conventions are those of :mod:`xlplan.engine.money.schedule` (month 0 undiscounted,
annual rates, 730 hours a month). Row 0 is training: its GPU-hours are
``6 N D / (3600 x peak x MFU)`` and its cost is the training dollars of
:func:`~xlplan.engine.paper.sizing.lifetime_cost`. Row t >= 1 serves R_t requests: its
GPU-hours are the inference FLOPs ``2 N R_t (d_in / MFU_prefill + d_out / MFU_decode)``
over ``3600 x peak`` (both: ``lifetime_cost``'s dollars at today's prices divided by
those prices, :meth:`~xlplan.engine.hardware.Hardware.gpu_hours`), and its cost is
``lifetime_cost``'s inference dollars for R_t
requests times the price factor ``(1 + g)**((t-1)/12)``; its present value multiplies
that by ``(1 + d)**(-t/12)``. The present values add up to
:func:`~xlplan.engine.money.schedule.lifetime_pv`'s total (to rounding).

**On a calendar** (``gpus`` or ``deadline_days`` given; :mod:`.timeline`): row 0 is empty,
training runs from the start of month 1 for ``training_time(params, tokens, gpus).days``
(or, with no ``gpus``, for the whole deadline: a cluster sized to finish at it), its dollars
and GPU-hours spread over months 1..last in proportion to its days in each (a full month
averages ``gpus`` GPUs), at today's price, discounted by ``(1 + d)**(-m/12)``; demand month j
is served in calendar month L + j, priced and discounted as calendar month L + j, where L is
the training's last month, or the deadline's (:func:`~xlplan.engine.deploy.training.\
training_months`) when ``deadline_days`` is given (the product launches at the deadline).
The present values then add up to the objective of
:func:`~xlplan.engine.money.launch.cost_optimal_launch`.
"""

from dataclasses import dataclass

import numpy as np

from ..args import HARDWARE, INPUT_TOKENS, OUTPUT_TOKENS, PARAMS, TOKENS, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, HOURS_PER_MONTH
from ..deploy.training import GPUS, training_months, training_time
from ..errors import PLACEHOLDER, InvalidValueError
from ..laws import get_law
from ..paper.sizing import lifetime_cost
from .schedule import (
    DISCOUNT_RATE,
    PRICE_CHANGE,
    REQUESTS_BY_MONTH,
    discount_factors,
    price_factors,
)
from .timeline import DEADLINE_DAYS, check_run_months, shift_schedule, training_shares

__all__ = ["CashFlow", "cashflow", "COLUMNS"]

CALENDAR_GPUS = GPUS.but(
    help="GPUs training together, > 0: training on a calendar. Default: training in month 0.",
    optional_none=True,
    default=None,
)
CALENDAR_DEADLINE = DEADLINE_DAYS.but(
    help="Launch deadline in days from the start of training: serving starts after its month.",
    optional_none=True,
    default=None,
)

COLUMNS = ("month", "requests", "GPU-hours", "average GPUs", "cost $", "present value $")


@dataclass(frozen=True)
class CashFlow:
    """Months 0..T of one or many plans; every array has shape ``(..., T + 1)``.

    Attributes
    ----------
    month : ndarray, shape (T + 1,)
        0 (training), 1, ..., T; on a calendar 0, 1, ..., L + T (row 0 empty, L the
        launch offset; with many plans, the latest plan's, later months 0 for the others).
    requests : requests served (0 in month 0).
    gpu_hours : GPU-hours used (training GPUs in month 0, inference GPUs after).
    average_gpus : gpu_hours / 730, the GPUs busy on average over the month.
    cost : US dollars paid in the month, at that month's price.
    present_value : cost discounted to today (month 0 undiscounted).
    """

    month: np.ndarray
    requests: np.ndarray
    gpu_hours: np.ndarray
    average_gpus: np.ndarray
    cost: np.ndarray
    present_value: np.ndarray

    def table(self):
        """The six columns side by side: shape ``(..., T + 1, 6)``, in :data:`COLUMNS` order."""
        month = np.broadcast_to(self.month, self.cost.shape)
        return np.stack(
            [
                month,
                self.requests,
                self.gpu_hours,
                self.average_gpus,
                self.cost,
                self.present_value,
            ],
            axis=-1,
        )


@gate(
    PARAMS,
    TOKENS,
    REQUESTS_BY_MONTH,
    DISCOUNT_RATE,
    PRICE_CHANGE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    CALENDAR_GPUS,
    CALENDAR_DEADLINE,
)
def cashflow(
    params,
    tokens,
    requests_by_month,
    discount_rate=0.0,
    price_change=0.0,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    gpus=None,
    deadline_days=None,
):
    """Month-by-month requests, GPU-hours, GPUs, dollars and present value of a plan.

    Parameters
    ----------
    params, tokens : float or array_like
        Parameters N and training tokens D.
    requests_by_month : array_like, shape ``(..., T)``
        Requests in months 1..T.
    discount_rate, price_change : float or array_like
        Annual rates, >= 0 and > -1 (see :mod:`xlplan.engine.money.schedule`).
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware : optional
        Preset name, seven settings or :class:`~xlplan.engine.hardware.Hardware`.
    gpus : float or array_like, optional
        GPUs training together, > 0: training runs on the calendar (module docstring).
        Default None: training in month 0, as without a calendar.
    deadline_days : float or array_like, optional
        Launch deadline, days from the start of training: serving starts the month after
        the deadline's month; training must end in that month or earlier. Without
        ``gpus`` the training runs the whole deadline. Default None: serving starts the
        month after training ends.

    Returns
    -------
    CashFlow

    Examples
    --------
    >>> flow = cashflow(7e9, 1.4e11, [1e8, 2e8])
    >>> flow.month.tolist(), flow.requests.tolist()
    ([0.0, 1.0, 2.0], [0.0, 100000000.0, 200000000.0])

    70B on 4.25T tokens on 1,024 H100s trains 40.8 days (months 1-2); serving from month 3:

    >>> flow = cashflow(70e9, 4.2547e12, [1e9, 2e9], gpus=1024, hardware="h100")
    >>> flow.requests.tolist(), [round(x) for x in flow.average_gpus[:3]]
    ([0.0, 0.0, 0.0, 1000000000.0, 2000000000.0], [0, 1024, 351])
    """
    if gpus is not None or deadline_days is not None:
        return _calendar_flow(
            params,
            tokens,
            requests_by_month,
            discount_rate,
            price_change,
            input_tokens,
            output_tokens,
            hardware,
            gpus,
            deadline_days,
        )
    d, g, hw = discount_rate, price_change, hardware
    schedule = np.asarray(requests_by_month, dtype=np.float64)  # a list of floats stays one
    n, tokens, d_in, d_out = (np.asarray(v) for v in (params, tokens, input_tokens, output_tokens))
    lead = np.broadcast_shapes(
        schedule.shape[:-1],
        np.shape(d),
        np.shape(g),
        n.shape,
        tokens.shape,
        d_in.shape,
        d_out.shape,
    )
    months = schedule.shape[-1]
    # The dollars come from lifetime_cost, the one place a cost is computed: training
    # once, and inference for each month's requests at today's price, then that month's.
    bill = lifetime_cost.kernel(
        n[..., None],
        tokens[..., None],
        schedule,
        d_in[..., None],
        d_out[..., None],
        hw,
        law=get_law(),
    )
    training_hours, inference_hours = hw.gpu_hours(bill.training[..., 0], bill.inference)
    training_cost = np.broadcast_to(bill.training[..., 0], lead)
    inference_cost = bill.inference * price_factors(months, g)
    hours = _prepend(np.broadcast_to(training_hours, lead), inference_hours)
    cost = _prepend(training_cost, inference_cost)
    present_value = _prepend(training_cost, inference_cost * discount_factors(months, d))
    requests = _prepend(np.zeros(lead), np.broadcast_to(schedule, lead + (months,)))
    return CashFlow(
        np.arange(months + 1, dtype=np.float64),
        requests,
        hours,
        hours / HOURS_PER_MONTH,
        cost,
        present_value,
    )


def _calendar_flow(params, tokens, schedule, d, g, d_in, d_out, hw, gpus, deadline):
    """The cash flow on the calendar of :mod:`.timeline` (checked arguments)."""
    schedule = np.asarray(schedule, dtype=np.float64)
    n, tokens, d_in, d_out = (np.asarray(v) for v in (params, tokens, d_in, d_out))
    if gpus is None:  # a cluster sized to finish at the deadline: the run fills it
        days = np.broadcast_to(deadline, np.broadcast_shapes(n.shape, tokens.shape))
    else:
        days = training_time.kernel(n, tokens, gpus, hw).days
        check_run_months(days, gpus)
    last = training_months.kernel(days)[1]
    offset = last
    if deadline is not None:
        offset = training_months.kernel(deadline)[1]
        _check_deadline(days, last, offset, deadline, gpus)
    served = shift_schedule(schedule, offset)  # calendar months 1..H, 0 before the launch
    months = served.shape[-1]
    bill = lifetime_cost.kernel(
        n[..., None],
        tokens[..., None],
        served,
        d_in[..., None],
        d_out[..., None],
        hw,
        law=get_law(),
    )
    share = training_shares(days, months)
    training_hours, inference_hours = hw.gpu_hours(bill.training, bill.inference)
    # Training months serve nothing and serving months train nothing: each sum adds a 0.
    hours = training_hours * share + inference_hours
    cost = bill.training * share + bill.inference * price_factors(months, g)
    present_value = cost * discount_factors(months, d)
    lead = np.broadcast_shapes(cost.shape[:-1], present_value.shape[:-1])
    zero = np.zeros(lead)
    return CashFlow(
        np.arange(months + 1, dtype=np.float64),
        _prepend(zero, np.broadcast_to(served, lead + (months,))),
        _prepend(zero, hours),
        _prepend(zero, hours) / HOURS_PER_MONTH,
        _prepend(zero, cost),
        _prepend(zero, present_value),
    )


def _check_deadline(days, last, offset, deadline, gpus):
    """Training must end by the launch month: an error naming the deadline otherwise."""
    late = np.broadcast_to(last > offset, np.broadcast_shapes(np.shape(last), np.shape(offset)))
    if not np.any(late):
        return
    i = tuple(int(k) for k in np.argwhere(late)[0])
    run = float(np.broadcast_to(days, late.shape)[i])
    value = float(np.broadcast_to(deadline, late.shape)[i])
    raise InvalidValueError(
        f"{PLACEHOLDER}={value:g} ends in month {int(np.broadcast_to(offset, late.shape)[i])}, "
        f"before training on gpus={float(np.broadcast_to(gpus, late.shape)[i]):g} ends "
        f"({run:.4g} days, month {int(np.broadcast_to(last, late.shape)[i])}): give a "
        "later deadline or more GPUs",
        argument="deadline_days",
        value=value,
        positions=[tuple(int(k) for k in p) for p in np.argwhere(late)],
    )


def _prepend(first, rest):
    """Month 0 in front of months 1..T, broadcasting to a common shape."""
    first = np.asarray(first, dtype=np.float64)
    rest = np.asarray(rest, dtype=np.float64)
    shape = np.broadcast_shapes(first.shape, rest.shape[:-1])
    return np.concatenate(
        [np.broadcast_to(first, shape)[..., None], np.broadcast_to(rest, shape + rest.shape[-1:])],
        axis=-1,
    )
