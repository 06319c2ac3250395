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

from ..engine.errors import PLACEHOLDER, InvalidTypeError, InvalidValueError
from ..engine.money import cashflow, schedule
from . import convert, params
from .registry import Param, excel_function

__all__ = ["DEMAND_RAMP", "LIFETIME_PV", "COST_OPT_PV", "CASHFLOW"]

_SCHEDULE = Param("requests_by_month", "Requests per month, months 1, 2, ...: one row or one "
                  "column, blank cells count as 0, 1 to 1,200 months.", range=True)
_DISCOUNT = Param("discount_rate", "Annual discount rate, >= 0 (0.1 = 10% a year). "
                  "Default 0.", optional=True)
_PRICE = Param("price_change", "Annual change of the inference price, > -1 (-0.25 = 25% "
               "cheaper each year). Default 0.", optional=True)
_INPUT, _OUTPUT = params.INPUT_TOKENS, params.OUTPUT_TOKENS
_HARDWARE, _LAW = params.HARDWARE, params.LAW
_PARAMS, _TOKENS, _LOSS = params.PARAMS, params.TOKENS, params.LOSS
_NAME = "requests_by_month"


def _months(value):
    """A row or column of requests per month as floats; blanks are 0."""
    rows = convert.table(_NAME, value)
    if len(rows) > 1 and max(len(r) for r in rows) > 1:
        raise InvalidTypeError(f"{PLACEHOLDER} must be one row or one column, got a {len(rows)}x"
                               f"{max(len(r) for r in rows)} range", argument=_NAME,
                               value=None)
    cells = [c for r in rows for c in r]
    if len(cells) > schedule.MAX_MONTHS:
        raise InvalidValueError(f"{PLACEHOLDER} has {len(cells):,} months: it must have between 1 "
                                f"and {schedule.MAX_MONTHS:,} months", argument=_NAME,
                                value=len(cells))
    return [0.0 if convert.is_blank(c) else _month(k, c) for k, c in enumerate(cells, 1)]


def _month(k, value):
    try:
        return convert.number(_NAME, value)
    except InvalidTypeError:
        raise InvalidTypeError(f"{PLACEHOLDER} month {k} = {value!r} is not a number of requests",
                               argument=_NAME, value=value) from None


def _common(requests_by_month, discount_rate, price_change, input_tokens, output_tokens,
            hardware):
    """Engine keyword arguments shared by the three functions of a schedule."""
    input_tokens, output_tokens = convert.per_request(input_tokens, output_tokens)
    return dict(
        requests_by_month=_months(requests_by_month),
        discount_rate=convert.optional_number("discount_rate", discount_rate, 0.0),
        price_change=convert.optional_number("price_change", price_change, 0.0),
        input_tokens=input_tokens, output_tokens=output_tokens,
        hardware=convert.hardware(hardware))


def _table(rows):
    """A k x m result of finite plain floats."""
    return [[convert.result(v) for v in row] for row in rows]


@excel_function(
    Param("first_month_requests", "Requests in month 1, >= 0."),
    Param("monthly_growth", "Growth from one month to the next, > -1 (0.2 = +20% a month)."),
    Param("months", "Number of months, 1 to 1,200."),
    Param("peak_requests", "Cap on any month's requests, >= 0. Default: no cap.",
          optional=True),
    result=("requests",))
def DEMAND_RAMP(first_month_requests, monthly_growth, months, peak_requests=None):
    """A column of requests per month: min(first x (1+growth)^(month-1), peak)."""
    ramp = schedule.demand_ramp(
        convert.number("first_month_requests", first_month_requests),
        convert.number("monthly_growth", monthly_growth), convert.number("months", months),
        convert.optional_number("peak_requests", peak_requests, None))
    return _table([[v] for v in ramp])


@excel_function(_PARAMS, _TOKENS, _SCHEDULE, _DISCOUNT, _PRICE, _INPUT, _OUTPUT, _HARDWARE,
                result=("training $", "inference $ (PV)", "total $ (PV)"))
def LIFETIME_PV(params, tokens, requests_by_month, discount_rate=None, price_change=None,
                input_tokens=None, output_tokens=None, hardware=None):
    """Present value of a model over a monthly schedule (1x3): training, inference, total $."""
    plan = schedule.lifetime_pv(convert.number("params", params),
                                convert.number("tokens", tokens),
                                **_common(requests_by_month, discount_rate, price_change,
                                          input_tokens, output_tokens, hardware))
    return convert.row(plan.training, plan.inference, plan.total)


@excel_function(_LOSS, _SCHEDULE, _DISCOUNT, _PRICE, _INPUT, _OUTPUT, _HARDWARE,
                _LAW, result=("params", "tokens"))
def COST_OPT_PV(loss, requests_by_month, discount_rate=None, price_change=None,
                input_tokens=None, output_tokens=None, hardware=None, law=None):
    """Params, tokens (1x2) minimising the present value of training + a monthly schedule."""
    plan = schedule.cost_optimal_pv(convert.number("loss", loss),
                                    **_common(requests_by_month, discount_rate, price_change,
                                              input_tokens, output_tokens, hardware),
                                    law=convert.law(law))
    return convert.size_row(plan.optimal.params, plan.optimal.tokens)


@excel_function(_PARAMS, _TOKENS, _SCHEDULE, _DISCOUNT, _PRICE, _INPUT, _OUTPUT, _HARDWARE,
                result=cashflow.COLUMNS)
def CASHFLOW(params, tokens, requests_by_month, discount_rate=None, price_change=None,
             input_tokens=None, output_tokens=None, hardware=None):
    """Monthly cash flow, (months+1)x6: month, requests, GPU-hours, GPUs, cost $, PV $."""
    flow = cashflow.cashflow(convert.number("params", params),
                             convert.number("tokens", tokens),
                             **_common(requests_by_month, discount_rate, price_change,
                                       input_tokens, output_tokens, hardware))
    return _table(flow.table().tolist())
