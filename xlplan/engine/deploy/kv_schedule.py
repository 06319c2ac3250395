"""PV-optimal sizing when the KV cache prices inference: a monthly schedule, discounted.

:func:`~xlplan.engine.money.schedule.cost_optimal_pv` sizes a model for the present
value of training and serving requests month by month, with an annual discount rate
d and an annual change g of the inference price (conventions in
:mod:`xlplan.engine.money.schedule`). Its reduction holds with the cache too: month t
costs R_t (1 + g)**((t-1)/12) c(N) at the KV-aware $ per request c(N) of
:func:`.kv_sizing.kv_request_cost` (linear in the requests, whatever N does to the
MFUs), so the present value of serving is R_pv c(N) with R_pv the schedule's
present-value requests, and the total present value is exactly the lifetime cost of
:func:`.kv_sizing.kv_cost_optimal` at R = R_pv. The answer is that function's at
R_pv: the same certified search, nothing new to solve.

With context 0 it is :func:`~xlplan.engine.money.schedule.cost_optimal_pv` at the
roofline decode MFU of the batch (:func:`.serving.at_batch`), bit for bit, as
``kv_cost_optimal`` is ``cost_optimal`` there.
"""

from ..args import INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, gate
from ..constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..money.schedule import (
    DISCOUNT_RATE,
    PRICE_CHANGE,
    REQUESTS_BY_MONTH,
    present_value_requests,
)
from .arguments import CONTEXT, SCALAR_BANDWIDTH, SCALAR_BATCH, serving_hardware
from .kv_sizing import KV_BYTES_PER_ELEMENT, kv_cost_optimal

__all__ = ["kv_cost_optimal_pv"]


@gate(
    LOSS,
    REQUESTS_BY_MONTH,
    DISCOUNT_RATE,
    PRICE_CHANGE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    serving_hardware("KV-aware PV-optimal sizing"),
    LAW,
    SCALAR_BATCH,
    CONTEXT,
    SCALAR_BANDWIDTH,
    KV_BYTES_PER_ELEMENT,
)
def kv_cost_optimal_pv(
    loss,
    requests_by_month,
    discount_rate=0.0,
    price_change=0.0,
    input_tokens=DEFAULT_INPUT_TOKENS,
    output_tokens=DEFAULT_OUTPUT_TOKENS,
    hardware=None,
    law=None,
    batch=1,
    context=0.0,
    bandwidth_utilisation=1.0,
    kv_bytes_per_element=None,
):
    """Model minimising the present value of training and serving a schedule with the KV cache.

    Parameters
    ----------
    loss : float or array_like
        Target loss, nats per token; must exceed the law's E.
    requests_by_month : array_like, shape ``(..., T)``
        Requests in months 1..T (last axis), >= 0: many schedules along the leading axes.
    discount_rate, price_change : float or array_like
        Annual rates, as :func:`~xlplan.engine.money.schedule.cost_optimal_pv`.
    input_tokens, output_tokens : float or array_like
        Tokens per request (defaults 70 and 215).
    hardware : str, sequence of 10 settings or Hardware
        Needs the serving settings. Default ``"paper-a100"``.
    law : optional
        Default ``"chinchilla"``.
    batch : int
        Sequences decoded together (one number), >= 1.
    context : float or array_like
        Tokens each sequence holds in the KV cache, >= 0; 0 is ``cost_optimal_pv``.
    bandwidth_utilisation : float
        Share of the datasheet bandwidth reached, (0, 1].
    kv_bytes_per_element : float, optional
        Bytes per cached key or value element; default the inference precision's.

    Returns
    -------
    OptimalPlan
        In US dollars of present value (training in month 0, undiscounted);
        ``.chinchilla`` is the equal-loss Chinchilla-style model serving the schedule.

    Examples
    --------
    >>> plan = kv_cost_optimal_pv(2.1, [1e9] * 36, 0.1, -0.25, hardware="h100", batch=32,
    ...                           context=8192)
    >>> f"{plan.optimal.params:.4e} {plan.saving:.1%}"
    '2.0469e+09 43.0%'
    """
    r_pv = present_value_requests.kernel(requests_by_month, discount_rate, price_change)
    return kv_cost_optimal.kernel(
        loss,
        r_pv,
        input_tokens,
        output_tokens,
        hardware,
        law,
        batch,
        context,
        bandwidth_utilisation,
        kv_bytes_per_element,
    )
