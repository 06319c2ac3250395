"""The calendar of a plan with a training run: training spread over its months, then serving.

The calendar is :func:`~xlplan.engine.deploy.training.training_months`': training starts at
the beginning of month 1 and runs ``days`` wall-clock days, a month being
``DAYS_PER_MONTH`` (365 / 12) days, so it occupies months 1..last with
last = ceil(days / DAYS_PER_MONTH). Serving starts after a *launch offset* L >= last: demand
month j (of a schedule, :mod:`.schedule`) is served in calendar month L + j.

Money, month by month (today = the start of month 1):

* **Training** month m pays the training dollars times the share of the run's days that fall
  in it (every month but the last a full ``DAYS_PER_MONTH``), at today's training price, and
  is discounted by ``(1 + d)**(-m/12)`` like every other month. Its present value is
  therefore ``training dollars x W(days)``, with the *training weight*

      W(days) = sum_m share_m (1 + d)**(-m/12) <= 1      (exactly 1 at d = 0).

* **Serving**: calendar month t = L + j is priced at ``(1 + g)**((t-1)/12)`` times today's
  inference price and discounted by ``(1 + d)**(-t/12)``: the schedule's monthly weights
  (:func:`.schedule.monthly_weights`) of the *calendar* month. Its present value is
  ``N k R_pv(L)``, R_pv(L) the present-value requests of the schedule shifted by L months
  (:func:`shift_schedule`): a launch delay weighs demand less when d > 0 and, with a price
  that falls, serves it more cheaply.

Total present value = ``k_train N D W(days) + N k R_pv(L)``; the cash flow
(:func:`.cashflow.cashflow` with ``gpus`` or ``deadline_days``) and the sizing
(:func:`.launch.cost_optimal_launch`) both use these two functions.
"""

import numpy as np

from ..args import Arg
from ..constants import DAYS_PER_MONTH
from ..deploy.training import training_months
from ..errors import PLACEHOLDER, InvalidValueError
from .schedule import MAX_MONTHS, discount_factors

__all__ = [
    "MAX_DEADLINE_DAYS",
    "DEADLINE_DAYS",
    "training_shares",
    "training_weight",
    "shift_schedule",
    "check_run_months",
]

# A deadline (or training run) of more than 1,200 months is a typo, as a schedule is.
MAX_DEADLINE_DAYS = MAX_MONTHS * DAYS_PER_MONTH

DEADLINE_DAYS = Arg(
    "deadline_days",
    "Launch deadline, days from the start of training, > 0 and at most 36,500 (100 years).",
    "days",
    high=MAX_DEADLINE_DAYS,
)


def training_shares(days, months):
    """Share of a run of ``days`` that falls in each calendar month 1..``months``.

    Parameters
    ----------
    days : float or ndarray
        Training days, > 0.
    months : int
        Months to cover (at least the run's last month for the shares to sum to 1).

    Returns
    -------
    ndarray, shape ``days.shape + (months,)``
        Full months ``DAYS_PER_MONTH / days``, the last month the rest, 0 after it: the
        months with a non-zero share are exactly ``training_months(days)``.
    """
    days = np.asarray(days, dtype=np.float64)[..., None]
    last = training_months.kernel(days)[1]
    m = np.arange(1, months + 1, dtype=np.float64)
    in_month = np.where(
        m < last, DAYS_PER_MONTH, np.where(m == last, days - (last - 1.0) * DAYS_PER_MONTH, 0.0)
    )
    return in_month / days


def training_weight(days, discount_rate):
    """W(days): present value of one dollar of training spread over a run of ``days``.

    ``sum_m share_m (1 + d)**(-m/12)`` (:func:`training_shares`), summed as the full months'
    cumulative discount plus the last month's part, so a run of a century costs no
    century-long array per element; exactly 1.0 at d = 0. Floats, or arrays of the
    broadcast shape.
    """
    days, d = np.broadcast_arrays(
        np.asarray(days, dtype=np.float64), np.asarray(discount_rate, dtype=np.float64)
    )
    last = np.asarray(training_months.kernel(days)[1])
    horizon = int(np.max(last)) if last.size else 1
    flat_d = d.reshape(-1)
    factors = discount_factors(horizon, flat_d)  # (elements, horizon)
    before = np.concatenate([np.zeros((flat_d.size, 1)), np.cumsum(factors, axis=-1)], axis=-1)
    index = (np.reshape(last, -1).astype(np.intp) - 1)[:, None]
    full = np.take_along_axis(before, index, axis=-1)[:, 0]
    final = np.take_along_axis(factors, index, axis=-1)[:, 0]
    rest = np.reshape(days - (last - 1.0) * DAYS_PER_MONTH, -1)
    weight = (DAYS_PER_MONTH * full + rest * final) / np.reshape(days, -1)
    weight = np.where(flat_d == 0.0, 1.0, weight).reshape(days.shape)  # shares sum to 1
    return float(weight) if weight.ndim == 0 else weight


def shift_schedule(schedule, offset):
    """The schedule as served from calendar month ``offset`` + 1: ``offset`` zero months first.

    Parameters
    ----------
    schedule : ndarray, shape ``(..., T)``
        Requests in demand months 1..T.
    offset : float or ndarray
        Whole months before serving starts (the launch offset L), broadcasting against
        the leading shape.

    Returns
    -------
    ndarray, shape ``broadcast(...) + (max(offset) + T,)``
        Calendar month t holds demand month t - L (0 before L + 1 and after L + T).
    """
    schedule = np.asarray(schedule, dtype=np.float64)
    offset = np.asarray(offset).astype(np.intp)
    months = schedule.shape[-1]
    lead = np.broadcast_shapes(schedule.shape[:-1], offset.shape)
    width = int(np.max(offset)) + months if offset.size else months
    padded = np.concatenate(
        [
            np.broadcast_to(schedule, lead + (months,)),
            np.zeros(lead + (max(width - months, 0) + 1,)),
        ],
        axis=-1,
    )
    t = np.arange(width)
    source = t - np.broadcast_to(offset, lead)[..., None]  # demand month index, 0-based
    source = np.where((source >= 0) & (source < months), source, months)  # -> a zero
    return np.take_along_axis(padded, source, axis=-1)


def check_run_months(days, gpus):
    """Raise unless a run of ``days`` on ``gpus`` ends within :data:`~.schedule.MAX_MONTHS`."""
    too_long = np.asarray(days) > MAX_DEADLINE_DAYS
    if np.any(too_long):
        first = tuple(int(k) for k in np.argwhere(too_long)[0])
        value = float(np.broadcast_to(gpus, too_long.shape)[first])
        raise InvalidValueError(
            f"{PLACEHOLDER}={value:g} trains for {float(np.asarray(days)[first]):,.0f} days, "
            f"past {MAX_MONTHS:,} months ({MAX_DEADLINE_DAYS:,.0f} days): give more GPUs",
            argument="gpus",
            value=value,
        )
