"""The monthly cash flow of a model: training in month 0, then a schedule of demand.

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
"""

from dataclasses import dataclass

import numpy as np

from ..args import HARDWARE, INPUT_TOKENS, OUTPUT_TOKENS, PARAMS, TOKENS, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS, HOURS_PER_MONTH
from ..laws import get_law
from ..paper.sizing import lifetime_cost
from .schedule import (
    DISCOUNT_RATE,
    PRICE_CHANGE,
    REQUESTS_BY_MONTH,
    discount_factors,
    price_factors,
)

__all__ = ["CashFlow", "cashflow", "COLUMNS"]

COLUMNS = ("month", "requests", "GPU-hours", "average GPUs", "cost $", "present value $")


@dataclass(frozen=True)
class CashFlow:
    """Months 0..T of one or many plans; every array has shape ``(..., T + 1)``.

    Attributes
    ----------
    month : ndarray, shape (T + 1,)
        0 (training), 1, ..., T.
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

    Returns
    -------
    CashFlow

    Examples
    --------
    >>> flow = cashflow(7e9, 1.4e11, [1e8, 2e8])
    >>> flow.month.tolist(), flow.requests.tolist()
    ([0.0, 1.0, 2.0], [0.0, 100000000.0, 200000000.0])
    """
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


def _prepend(first, rest):
    """Month 0 in front of months 1..T, broadcasting to a common shape."""
    first = np.asarray(first, dtype=np.float64)
    rest = np.asarray(rest, dtype=np.float64)
    shape = np.broadcast_shapes(first.shape, rest.shape[:-1])
    return np.concatenate(
        [np.broadcast_to(first, shape)[..., None], np.broadcast_to(rest, shape + rest.shape[-1:])],
        axis=-1,
    )
