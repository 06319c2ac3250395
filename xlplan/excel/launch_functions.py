"""Excel function of sizing under a launch deadline: COST_OPT_LAUNCH.

Re-exported by :mod:`xlplan.udfs` (so xlwings, the server, Lite and the evaluator see it).
The numbers come from :mod:`xlplan.engine.money.launch`; the calendar (training from month
1, serving from the month after the deadline's) is :mod:`xlplan.engine.money.timeline`'s.
``CASHFLOW`` takes the same calendar through its ``gpus`` and ``deadline_days`` arguments.

>>> COST_OPT_LAUNCH(2.1, [[1e8] * 36], 90, 8, 0.1, -0.25, None, None, "h100")  # doctest: +ELLIPSIS
[[2862555494.4..., 1791048596252.5..., 90.0, 8.0, 4.0, 102197.06..., 1.0]]
"""

from ..engine.money import launch
from . import convert
from .params import HARDWARE, INPUT_TOKENS, LAW, LOSS, OUTPUT_TOKENS, excel_param
from .registry import excel_function
from .schedule_functions import _DISCOUNT, _PRICE, _SCHEDULE

__all__ = ["COST_OPT_LAUNCH", "RESULT"]

RESULT = ("params", "tokens", "days", "GPUs", "launch month", "PV $", "deadline binds")
_ARGS = {arg.name: arg for arg in launch.cost_optimal_launch.args}


@excel_function(
    LOSS,
    _SCHEDULE,
    excel_param(_ARGS["deadline_days"]),
    excel_param(_ARGS["gpus"]),
    _DISCOUNT,
    _PRICE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
    result=RESULT,
)
def COST_OPT_LAUNCH(
    loss,
    requests_by_month,
    deadline_days,
    gpus=None,
    discount_rate=None,
    price_change=None,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    law=None,
):
    """PV-optimal model launching at a deadline (1x7); the last cell is 1 if the deadline binds."""
    plan = launch.cost_optimal_launch(
        loss,
        requests_by_month,
        deadline_days,
        gpus,
        discount_rate,
        price_change,
        input_tokens,
        output_tokens,
        hardware,
        law,
    )
    binds = 1.0 if plan.binding == "deadline" else 0.0
    row = convert.size_row(plan.params, plan.tokens)[0]
    return [row + convert.row(plan.days, plan.gpus, plan.launch_month, plan.pv, binds)[0]]
