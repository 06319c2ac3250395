"""Training on a cluster: days for a number of GPUs, or GPUs for a deadline.

    wall-clock seconds = 6 N D / (GPUs x peak x MFU)          (training settings)
    GPU-hours          = training dollars / price per GPU-hour (``Hardware.gpu_hours``)
    days               = GPU-hours / (GPUs x 24)

GPU-hours come from the cost model (``lifetime_cost(...).training`` over the price),
not a second formula, so hours x price is the plan's training dollars to the cent.
Perfect scaling is assumed: MFU does not fall as the cluster grows.
"""

from dataclasses import dataclass

import numpy as np

from ..args import HARDWARE, PARAMS, TOKENS, Arg, gate
from ..constants import DAYS_PER_MONTH, HOURS_PER_DAY
from ..paper.sizing import dollar_rates

__all__ = ["TrainingPlan", "training_time", "gpus_for_deadline", "training_months"]

# GPU counts are whole: a count that is whole up to float noise must not become one more.
_ROUNDING_SLACK = 1e-9


@dataclass(frozen=True)
class TrainingPlan:
    """A training run on a cluster (floats, or arrays of the broadcast shape).

    Attributes
    ----------
    gpus : GPUs training together.
    days : wall-clock days.
    gpu_hours : GPU-hours.
    dollars : training cost, $ (= gpu_hours x the training price).
    """

    gpus: object
    days: object
    gpu_hours: object
    dollars: object


GPUS = Arg("gpus", "GPUs training together, > 0.", "GPUs")
DAYS = Arg("days", "Deadline in days, > 0.", "days")


def _gpu_hours(params, tokens, hw):
    """Training GPU-hours and dollars: the cost model's training term (``lifetime_cost``)."""
    k_train = dollar_rates(0.0, 0.0, 0.0, hw)[0]
    dollars = k_train * params * tokens
    return hw.gpu_hours(dollars, 0.0)[0], dollars


def _finish(*values):
    if all(np.ndim(v) == 0 for v in values):
        return TrainingPlan(*(float(v) for v in values))
    return TrainingPlan(*np.broadcast_arrays(*values))


@gate(PARAMS, TOKENS, GPUS, HARDWARE)
def training_time(params, tokens, gpus, hardware=None):
    """Wall-clock days to train ``params`` on ``tokens`` with ``gpus`` GPUs.

    Parameters
    ----------
    params, tokens : float or array_like
        Model parameters N and training tokens D.
    gpus : float or array_like
        GPUs training together, > 0.
    hardware : str, sequence of 7 or 10 settings or Hardware
        Its training price, peak and MFU are used. Default ``"paper-a100"``.

    Returns
    -------
    TrainingPlan

    Examples
    --------
    >>> plan = training_time(70e9, 1.4e12, 1024, "h100")
    >>> f"{plan.days:.1f} days, ${plan.dollars:,.0f}"
    '13.4 days, $660,600'
    """
    hours, dollars = _gpu_hours(params, tokens, hardware)
    g = gpus
    return _finish(g, hours / g / HOURS_PER_DAY, hours, dollars)


@gate(PARAMS, TOKENS, DAYS, HARDWARE)
def gpus_for_deadline(params, tokens, days, hardware=None):
    """Fewest whole GPUs that train ``params`` on ``tokens`` within ``days``.

    Returns
    -------
    TrainingPlan
        ``gpus`` rounded up to a whole number; ``days`` the run's length at that count
        (at most the deadline).

    Examples
    --------
    >>> plan = gpus_for_deadline(70e9, 1.4e12, 30, "h100")
    >>> f"{plan.gpus:.0f} GPUs, {plan.days:.2f} days"
    '459 GPUs, 29.98 days'
    """
    hours, dollars = _gpu_hours(params, tokens, hardware)
    deadline = days
    g = np.ceil(hours / (deadline * HOURS_PER_DAY) * (1 - _ROUNDING_SLACK))
    return _finish(g, hours / g / HOURS_PER_DAY, hours, dollars)


@gate(DAYS.but(help="Training days, > 0."))
def training_months(days):
    """The calendar months a training run of ``days`` occupies: (first, last).

    The calendar of every plan with a training run: training starts at the beginning
    of month 1 and runs ``days`` wall-clock days; a month is ``DAYS_PER_MONTH``
    (365 / 12) days. The run ends in month ``ceil(days / DAYS_PER_MONTH)``, and
    serving starts the month after it (a run of exactly one month ends in month 1,
    serving from month 2).

    Returns
    -------
    (first, last) : floats, or arrays of the shape of ``days``
        ``first`` is 1; ``last`` the month the run ends in.

    Examples
    --------
    >>> training_months(13.4)
    (1.0, 1.0)
    >>> training_months(365 / 12)
    (1.0, 1.0)
    >>> training_months(31.0)
    (1.0, 2.0)
    """
    last = np.maximum(np.ceil(days / DAYS_PER_MONTH * (1 - _ROUNDING_SLACK)), 1.0)
    if np.ndim(last) == 0:
        return 1.0, float(last)
    return np.ones_like(last), last
