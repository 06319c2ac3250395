"""Monthly schedules in report scenarios, and the report's cash-flow sheet.

A ``[[scenarios]]`` entry may give, instead of lifetime ``requests``, a monthly
schedule: either a launch ramp or an explicit list, plus the annual rates.

.. code-block:: toml

    [[scenarios]]
    name = "7B launch"
    chinchilla_params = 7e9
    monthly_ramp = { first_month_requests = 2e7, monthly_growth = 0.25, months = 36,
                     peak_requests = 3e8 }        # or: requests_by_month = [1e7, 2e7, ...]
    discount_rate = 0.10                          # annual, >= 0 (default 0)
    price_change = -0.25                          # annual GPU price change, > -1 (default 0)

Such a plan is sized on the present value (:mod:`xlplan.engine.money.schedule`); its
lifetime requests are the schedule's sum, and its costs in the summary are
present values. The cash-flow sheet shows each one month by month, with the
spend chart of the ``monthly_budget.xlsx`` template: training in month 0, or, for a
scenario whose ``[training]`` table gives ``deadline_days``, on its launch calendar
(:mod:`xlplan.report.launch`, :func:`~xlplan.report.launch.plan_flow`).
"""

from dataclasses import dataclass

import numpy as np
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from ..engine import validate
from ..engine.constants import HOURS_PER_MONTH
from ..engine.deploy.training import training_months, training_time
from ..engine.errors import InvalidTypeError, InvalidValueError, XlplanError
from ..engine.money.cashflow import COLUMNS
from ..engine.money.schedule import check_rates, check_schedule, demand_ramp, present_value_requests
from ..shared.numbers import count_text
from ..shared.safe_text import write_text
from ..shared.spend_chart import spend_chart
from ..shared.styles import header_row, note, put, set_widths, title
from .launch import plan_flow

__all__ = [
    "MonthlyDemand",
    "MONTHLY_KEYS",
    "parse_monthly",
    "demand_for_sizing",
    "has_monthly",
    "cashflow_sheet",
    "launch_month",
    "SHEET",
]

SHEET = "Cash flow"
MONTHLY_KEYS = ("monthly_ramp", "requests_by_month", "discount_rate", "price_change")
_RAMP_KEYS = ("first_month_requests", "monthly_growth", "months", "peak_requests")
_CHART_ROWS = 20  # rows a chart covers: the next block starts below it
_NOMINAL_HEADERS = {"cost $": "cost $ (nominal, that month's price)"}


@dataclass(frozen=True)
class MonthlyDemand:
    """Requests in months 1..T and the annual rates that price and discount them."""

    requests_by_month: tuple
    discount_rate: float
    price_change: float
    description: str

    @property
    def total(self):
        return float(np.sum(self.requests_by_month))


def _checked(where, key, check, *args):
    """Run an engine check, naming the scenario key in its message (key = value)."""
    try:
        return check(*args)
    except XlplanError as error:
        return _raise(error, f"{where}.{key}")


def _raise(error, name):
    raise error.renamed(name, assign=" = ") from None


def _ramp(where, ramp):
    if not isinstance(ramp, dict):
        raise InvalidTypeError(
            f"{where}.monthly_ramp must be a table of {', '.join(_RAMP_KEYS)}",
            argument=f"{where}.monthly_ramp",
            value=ramp,
        )
    unknown = sorted(set(ramp) - set(_RAMP_KEYS))
    missing = [k for k in _RAMP_KEYS[:3] if k not in ramp]
    if unknown or missing:
        raise InvalidValueError(
            f"{where}.monthly_ramp: unknown key(s) {unknown}, missing "
            f"{missing}; allowed: {', '.join(_RAMP_KEYS)}",
            argument=f"{where}.monthly_ramp",
            value=ramp,
        )
    try:
        months = demand_ramp(*(ramp.get(k) for k in _RAMP_KEYS))
    except XlplanError as error:
        _raise(error, f"{where}.monthly_ramp.{error.argument}")
    text = (
        f"ramp: {count_text(ramp['first_month_requests'])} requests in month 1, "
        f"{ramp['monthly_growth']:+.1%} a month for {ramp['months']} months"
    )
    if ramp.get("peak_requests") is not None:
        text += f", peak {count_text(ramp['peak_requests'])}"
    return months, text


def parse_monthly(entry, where):
    """The :class:`MonthlyDemand` of a scenario entry, or None if it has no schedule."""
    if not any(key in entry for key in MONTHLY_KEYS):
        return None
    if ("monthly_ramp" in entry) == ("requests_by_month" in entry):
        raise InvalidValueError(
            f"{where} needs exactly one of monthly_ramp and "
            "requests_by_month (with discount_rate, price_change)",
            argument=where,
            value=None,
        )
    ranged = [key for key in ("requests_low", "requests_high") if key in entry]
    if ranged:
        raise InvalidValueError(
            f"{where} gives {ranged[0]} with a monthly schedule: a demand "
            "range needs lifetime requests, not a schedule",
            argument=f"{where}.{ranged[0]}",
            value=entry[ranged[0]],
        )
    if "requests" in entry:
        raise InvalidValueError(
            f"{where} gives both requests and a monthly schedule: the "
            "lifetime requests are the schedule's sum",
            argument=f"{where}.requests",
            value=entry["requests"],
        )
    if "monthly_ramp" in entry:
        months, text = _ramp(where, entry["monthly_ramp"])
    else:
        listed = entry["requests_by_month"]
        if not isinstance(listed, list) or any(isinstance(v, (bool, str)) for v in listed):
            raise InvalidTypeError(
                f"{where}.requests_by_month must be a list of numbers",
                argument=f"{where}.requests_by_month",
                value=listed,
            )
        months = _checked(where, "requests_by_month", check_schedule, listed)
        text = f"list of {len(months)} months"
    d, g = _rates(where, entry)
    return MonthlyDemand(tuple(float(v) for v in months), d, g, text)


def _rates(where, entry):
    values = []
    for key in ("discount_rate", "price_change"):
        value = entry.get(key, 0.0)
        if not validate.is_scalar(value):
            raise InvalidTypeError(
                f"{where}.{key} = {value!r} must be a number",
                argument=f"{where}.{key}",
                value=value,
            )
        values.append(float(value))
    try:
        return check_rates(*values)
    except XlplanError as error:
        _raise(error, f"{where}.{error.argument}")


def demand_for_sizing(plan):
    """Requests to size a plan on: lifetime requests, or a schedule's present-value requests."""
    monthly = getattr(plan, "monthly", None)
    if monthly is None:
        return plan.requests
    return present_value_requests(
        monthly.requests_by_month, monthly.discount_rate, monthly.price_change
    )


def _block(ws, top, scenario, plan, row):
    """One plan's cash flow from row ``top``; returns the first free row below it and the
    rows (month 0, last month, totals) of its table."""
    m = plan.monthly
    flow = plan_flow(scenario, plan, row.params, row.tokens)
    write_text(ws.cell(top, 1), plan.name).font = Font(bold=True, size=12)
    note(
        ws,
        f"A{top + 1}",
        f"{m.description}; discount rate {m.discount_rate:.1%} a year, GPU "
        f"price change {m.price_change:+.1%} a year. Model: {count_text(row.params)} params, "
        f"{count_text(row.tokens)} tokens. Total present value "
        f"${float(np.sum(flow.present_value)):,.0f}. " + _calendar_text(scenario, row),
    )
    ws.merge_cells(f"A{top + 1}:I{top + 1}")  # wrapped beside the chart, not under it
    ws[f"A{top + 1}"].alignment = Alignment(wrap_text=True, vertical="top")
    header = top + 2
    # Money headers say their basis: cash at that month's price, or present value.
    labels = [_NOMINAL_HEADERS.get(c, c) for c in COLUMNS] + [
        "training $ (nominal)",
        "inference $ (nominal)",
        "cumulative spend $ (nominal)",
    ]
    header_row(ws, header, 1, labels)
    cost = flow.cost
    training = flow.month < launch_month(row)  # month 0, or the months up to the launch
    columns = (
        flow.month,
        flow.requests,
        flow.gpu_hours,
        flow.average_gpus,
        cost,
        flow.present_value,
        np.where(training, cost, 0.0),
        np.where(training, 0.0, cost),
        np.cumsum(cost),
    )
    formats = ("integer", "count", "integer", "ratio", "usd", "usd", "usd", "usd", "usd")
    for k, (values, fmt) in enumerate(zip(columns, formats, strict=True), start=1):
        for i, value in enumerate(values):
            put(ws, f"{get_column_letter(k)}{header + 1 + i}", float(value), "result", fmt)
    last = header + len(flow.month)
    _totals(ws, header + 1, last, formats)
    ws.add_chart(
        spend_chart(ws, header, last, 1, 7, 8, 9, f"{plan.name}: monthly spend"), f"K{top}"
    )
    ws.row_dimensions[header].height = 30
    return max(last + 1, top + _CHART_ROWS) + 3, (header + 1, last, last + 1)


def launch_month(row):
    """The first month a plan's cash flow serves: 1, or a launch plan's launch month."""
    return 1.0 if row.launch is None else float(row.launch.plan.launch_month)


def _calendar_text(scenario, row):
    """Which calendar the block is on, beside the Deployment sheet's."""
    gpus = scenario.training.gpus
    if row.launch is not None:
        p = row.launch.plan
        return (
            f"Training on {gpus:,.0f} GPUs from month 1 ({p.days:,.1f} days), spread over its "
            f"months; launch at training.deadline_days = {row.launch.deadline_days:g}: serving "
            f"from month {p.launch_month:.0f}. Sized on this calendar (the {p.binding} binds)."
        )
    days = training_time(row.params, row.tokens, gpus, scenario.hardware).days
    last = training_months(days)[1]
    return (
        "Training is booked in month 0, the basis the plan is sized on; on "
        f"{gpus:,.0f} GPUs it runs {days:,.1f} days (months 1 to {last:.0f}, Deployment "
        "sheet). Give training.deadline_days to size and show it on that calendar."
    )


def _totals(ws, first, last, formats):
    """The totals row under a block: every column that adds up over the months."""
    put(ws, f"A{last + 1}", "total", "result", bold=True)
    for k in (2, 3, 4, 5, 6, 7, 8):  # not the month, not the cumulative spend
        letter = get_column_letter(k)
        put(
            ws,
            f"{letter}{last + 1}",
            f"=SUM({letter}{first}:{letter}{last})",
            "result",
            formats[k - 1],
            bold=True,
        )


def cashflow_sheet(ws, scenario, rows):
    """Month-by-month cash flow and spend chart of every plan with a monthly schedule.

    Returns {plan index: (row of month 0, row of the last month, totals row)}.
    """
    title(
        ws,
        "Cash flow of the plans with a monthly schedule",
        "Month 0 is training at today's price (with a training deadline: months 1 to the "
        "run's end, discounted by (1+rate)^(-t/12)); month t's inference is at today's price x "
        "(1+price change)^((t-1)/12), discounted by (1+rate)^(-t/12); a month is "
        f"{HOURS_PER_MONTH:g} hours.",
    )
    top, tables = 4, {}
    for k, (plan, row) in enumerate(zip(scenario.plans, rows, strict=True)):
        if getattr(plan, "monthly", None) is not None:
            top, tables[k] = _block(ws, top, scenario, plan, row)
    set_widths(ws, {get_column_letter(c): 14 for c in range(1, 10)})
    return tables


def has_monthly(scenario):
    return any(getattr(p, "monthly", None) is not None for p in scenario.plans)
