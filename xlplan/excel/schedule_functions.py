"""Excel functions of budgets over time: DEMAND_RAMP, LIFETIME_PV, COST_OPT_PV, CASHFLOW.

Re-exported by :mod:`xlplan.udfs` (so xlwings, the server and the evaluator see
them). The numbers come from :mod:`xlplan.engine.money.schedule` and
:mod:`xlplan.engine.money.cashflow`; conventions (month 0, annual rates, 730 hours a
month) are in the former's docstring.

>>> COST_OPT_PV(2.1, [[1e8] * 36], 0.1, -0.25)  # doctest: +ELLIPSIS
[[2719672901.1..., 2020170334338.5...]]
>>> CASHFLOW(7e9, 1.4e11, [[1e8], [None]])[2]
[2.0, 0.0, 0.0, 0.0, 0.0, 0.0]
"""

from ..engine.errors import PLACEHOLDER, InvalidTypeError
from ..engine.money import cashflow, schedule
from . import convert
from .params import (
    HARDWARE,
    INPUT_TOKENS,
    LAW,
    LOSS,
    OUTPUT_TOKENS,
    PARAMS,
    TOKENS,
    excel_param,
)
from .registry import excel_function

__all__ = ["DEMAND_RAMP", "LIFETIME_PV", "COST_OPT_PV", "CASHFLOW"]


def _months(name, value):
    """A row or column of requests per month as floats; blanks are 0.

    How many months are allowed is the engine's rule
    (:func:`xlplan.engine.money.schedule.check_schedule`).
    """
    if type(value) is list and len(value) == 1 and type(value[0]) is list:
        cells = value[0]  # one row, as Excel passes it: floats stay as they are
        if len(cells) <= convert.MAX_CELLS and _all_floats(cells):
            return list(cells)
    rows = convert.table(name, value)
    if len(rows) > 1 and max(len(r) for r in rows) > 1:
        raise InvalidTypeError(
            f"{PLACEHOLDER} must be one row or one column, got a {len(rows)}x"
            f"{max(len(r) for r in rows)} range",
            argument=name,
            value=None,
        )
    cells = [c for r in rows for c in r]
    return [
        c if type(c) is float else 0.0 if convert.is_blank(c) else _month(name, k, c)
        for k, c in enumerate(cells, 1)
    ]


def _all_floats(cells):
    return set(map(type, cells)) <= {float}  # not all() over a generator: a third of the time


def _month(name, k, value):
    try:
        return convert.number(name, value)
    except InvalidTypeError:
        raise InvalidTypeError(
            f"{PLACEHOLDER} month {k} = {value!r} is not a number of requests",
            argument=name,
            value=value,
        ) from None


_SCHEDULE = excel_param(schedule.REQUESTS_BY_MONTH, range=True, converter=_months)
_DISCOUNT = excel_param(schedule.DISCOUNT_RATE)
_PRICE = excel_param(schedule.PRICE_CHANGE)
_RAMP = {arg.name: arg for arg in schedule.demand_ramp.args}


def _table(rows):
    """A k x m result of finite plain floats."""
    return [[convert.result(v) for v in row] for row in rows]


@excel_function(
    excel_param(_RAMP["first_month_requests"]),
    excel_param(_RAMP["monthly_growth"]),
    excel_param(_RAMP["months"], converter=convert.number),
    excel_param(_RAMP["peak_requests"]),
    result=("requests",),
)
def DEMAND_RAMP(first_month_requests, monthly_growth, months, peak_requests=None):
    """A column of requests per month: min(first x (1+growth)^(month-1), peak)."""
    ramp = schedule.demand_ramp(first_month_requests, monthly_growth, months, peak_requests)
    return _table([[v] for v in ramp])


@excel_function(
    PARAMS,
    TOKENS,
    _SCHEDULE,
    _DISCOUNT,
    _PRICE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    result=("training $", "inference $ (PV)", "total $ (PV)"),
)
def LIFETIME_PV(
    params,
    tokens,
    requests_by_month,
    discount_rate=None,
    price_change=None,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
):
    """Present value of a model over a monthly schedule (1x3): training, inference, total $."""
    plan = schedule.lifetime_pv(
        params,
        tokens,
        requests_by_month,
        discount_rate,
        price_change,
        input_tokens,
        output_tokens,
        hardware,
    )
    return convert.row(plan.training, plan.inference, plan.total)


@excel_function(
    LOSS,
    _SCHEDULE,
    _DISCOUNT,
    _PRICE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    LAW,
    result=("params", "tokens"),
)
def COST_OPT_PV(
    loss,
    requests_by_month,
    discount_rate=None,
    price_change=None,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    law=None,
):
    """Params, tokens (1x2) minimising the present value of training + a monthly schedule."""
    plan = schedule.cost_optimal_pv(
        loss,
        requests_by_month,
        discount_rate,
        price_change,
        input_tokens,
        output_tokens,
        hardware,
        law,
    )
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(
    PARAMS,
    TOKENS,
    _SCHEDULE,
    _DISCOUNT,
    _PRICE,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    HARDWARE,
    excel_param(cashflow.CALENDAR_GPUS),
    excel_param(cashflow.CALENDAR_DEADLINE),
    result=cashflow.COLUMNS,
)
def CASHFLOW(
    params,
    tokens,
    requests_by_month,
    discount_rate=None,
    price_change=None,
    input_tokens=None,
    output_tokens=None,
    hardware=None,
    gpus=None,
    deadline_days=None,
):
    """Monthly cash flow, (months+1)x6: month, requests, GPU-hours, GPUs, cost $, PV $."""
    flow = cashflow.cashflow(
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
    return _table(flow.table().tolist())
