"""``monthly_budget.xlsx``: size the model against a 36-month demand ramp, in present value.

Inputs: the target quality (as a Chinchilla-style model size), a launch ramp
(first month, monthly growth, peak) that fills 36 months which the user can
overwrite one by one, tokens per request, hardware, an annual discount rate and
an annual GPU price change. Outputs: the PV-optimal model against the
equal-quality Chinchilla-style model, in present value; the month-by-month cash
flow (``CASHFLOW``; column C overrides the ramp month by month); a native chart
of the monthly spend (training and inference columns) and the cumulative spend
(line). Conventions in
:mod:`xlplan.engine.money.schedule`.
"""

import openpyxl

from ..engine.constants import (
    DEFAULT_INPUT_TOKENS,
    DEFAULT_LAW,
    DEFAULT_OUTPUT_TOKENS,
    HOURS_PER_MONTH,
)
from ..shared.spend_chart import spend_chart
from ..shared.styles import (
    header_row,
    note,
    page_break_before,
    put,
    repeat_rows,
    set_widths,
    title,
    wrap_column,
)
from .checks import add_checks, monthly_checks
from .inputs import CHANGE, NON_NEGATIVE, POSITIVE, RATE, name_inputs, number_rule
from .presets import hardware_block, law_dropdown

__all__ = [
    "build",
    "FILENAME",
    "SHEET",
    "MONTHS",
    "TABLE_HEADER",
    "MONTH0_ROW",
    "FIRST_MONTH_ROW",
    "LAST_ROW",
    "TOTAL_ROW",
    "INPUTS",
    "RESULTS",
    "HEADERS",
]

FILENAME = "monthly_budget.xlsx"
SHEET = "Monthly"
MONTHS = 36  # rows of the table: the longest horizon
HORIZON = "$B$34"  # input: months in service (1 to MONTHS)
TABLE_HEADER = 37
MONTH0_ROW = TABLE_HEADER + 1  # month 0: training
FIRST_MONTH_ROW = MONTH0_ROW + 1  # month 1
LAST_ROW = MONTH0_ROW + MONTHS  # month 36
TOTAL_ROW = LAST_ROW + 1  # totals of the time series
SCHEDULE = f"$D${FIRST_MONTH_ROW}:$D${LAST_ROW}"
HW = "$B$16:$H$16"
# (label, cell, value, format) of the inputs.
INPUTS = (
    (
        "Target quality: as good as a Chinchilla-style model of this many parameters",
        "B5",
        7e9,
        "count",
    ),
    ("Requests in month 1 (after launch)", "B6", 2e7, "count"),
    ("Monthly growth of requests", "B7", 0.25, "percent"),
    ("Peak requests per month", "B8", 3e8, "count"),
    ("Input (prompt) tokens per request", "B9", DEFAULT_INPUT_TOKENS, "integer"),
    ("Output (generated) tokens per request", "B10", DEFAULT_OUTPUT_TOKENS, "integer"),
    ("Discount rate (annual; month t is discounted by (1+rate)^(-t/12))", "B11", 0.10, "percent"),
    ("GPU price change (annual; -25% = a GPU-hour 25% cheaper each year)", "B12", -0.25, "percent"),
    (f"Loss law (advanced: leave as {DEFAULT_LAW})", "B13", DEFAULT_LAW, "plain"),
)
_TAIL = f"$B$11,$B$12,$B$9,$B$10,{HW}"
_PV = f"LIFETIME_PV($B$21,$B$22,{SCHEDULE},{_TAIL})"
_CHIN_PV = f"LIFETIME_PV($B$26,$B$27,{SCHEDULE},{_TAIL})"
# (label, cell, formula, format) of the results.
RESULTS = (
    ("Target loss (nats/token)", "B19", "=INDEX(CHINCHILLA_MODEL($B$5,$B$13),1,1)", "loss"),
    ("Requests over the months in service", "B20", f"=SUM({SCHEDULE})", "count"),
    (
        "Recommended model size (parameters), minimising the present value",
        "B21",
        f"=INDEX(COST_OPT_PV($B$19,{SCHEDULE},{_TAIL},$B$13),1,1)",
        "count",
    ),
    (
        "Recommended training tokens",
        "B22",
        f"=INDEX(COST_OPT_PV($B$19,{SCHEDULE},{_TAIL},$B$13),1,2)",
        "count",
    ),
    ("Training cost, month 0 ($)", "B23", f"=INDEX({_PV},1,1)", "usd"),
    ("Inference cost, present value ($)", "B24", f"=INDEX({_PV},1,2)", "usd"),
    ("Total cost, present value ($)", "B25", f"=INDEX({_PV},1,3)", "usd"),
    ("Chinchilla-style choice: parameters", "B26", "=$B$5", "count"),
    (
        "Chinchilla-style choice: training tokens",
        "B27",
        "=INDEX(CHINCHILLA_MODEL($B$5,$B$13),1,2)",
        "count",
    ),
    (
        "Chinchilla-style choice: total cost, present value ($)",
        "B28",
        f"=INDEX({_CHIN_PV},1,3)",
        "usd",
    ),
    ("Saving against the Chinchilla-style choice, present value ($)", "B29", "=$B$28-$B$25", "usd"),
    ("Saving against the Chinchilla-style choice (%)", "B30", "=1-$B$25/$B$28", "percent"),
    (
        "Check: Excel's NPV of the monthly inference costs (equals the inference present value)",
        "B31",
        f"=NPV((1+$B$11)^(1/12)-1,$G${FIRST_MONTH_ROW}:$G${LAST_ROW})",
        "usd",
    ),
    (
        "For comparison: model size if the same requests were priced today, undiscounted",
        "B32",
        f"=INDEX(COST_OPT($B$19,$B$20,$B$9,$B$10,{HW},$B$13),1,1)",
        "count",
    ),
)
_CASHFLOW = f"CASHFLOW($B$21,$B$22,{SCHEDULE},{_TAIL})"
TABLE = (  # (header, formula with {r} for the row, format) of columns C to K
    ("Your requests (optional: overrides the ramp)", None, "count"),
    ("Requests", f"=IF($A{{r}}>{HORIZON},0,IF(ISBLANK($C{{r}}),$B{{r}},$C{{r}}))", "count"),
    ("GPU-hours", f"=INDEX({_CASHFLOW},$A{{r}}+1,3)", "integer"),
    (
        f"Average GPUs (GPU-hours / {HOURS_PER_MONTH:g})",
        f"=INDEX({_CASHFLOW},$A{{r}}+1,4)",
        "ratio",
    ),
    ("Cost in the month ($)", f"=INDEX({_CASHFLOW},$A{{r}}+1,5)", "usd"),
    ("Present value ($)", f"=INDEX({_CASHFLOW},$A{{r}}+1,6)", "usd"),
    ("Training $", "=IF($A{r}=0,$G{r},0)", "usd"),
    ("Inference $", "=IF($A{r}=0,0,$G{r})", "usd"),
    ("Cumulative spend ($)", f"=SUM($G${MONTH0_ROW}:$G{{r}})", "usd"),
)
HEADERS = ("Month", "Ramp requests (DEMAND_RAMP)") + tuple(h for h, _, _ in TABLE)
COLUMNS = "CDEFGHIJK"


def _inputs(ws):
    header_row(ws, 4, 1, ["Inputs"])
    for label, ref, value, fmt in INPUTS:
        ws[f"A{ref[1:]}"] = label
        put(ws, ref, value, "input", fmt)
    law_dropdown(ws, "B13")
    for ref, rule, what in (
        ("B5", POSITIVE, "Target quality"),
        ("B6", NON_NEGATIVE, "Requests in month 1"),
        ("B7", CHANGE, "Monthly growth"),
        ("B8", POSITIVE, "Peak requests"),
        ("B9", NON_NEGATIVE, "Input tokens per request"),
        ("B10", NON_NEGATIVE, "Output tokens per request"),
        ("B11", RATE, "Discount rate"),
        ("B12", CHANGE, "GPU price change"),
    ):
        number_rule(ws, ref, rule, what)
    hardware_block(ws, 16)  # preset in B14, today's settings in force B16:H16


def _cash_flow_table(ws):
    ws[f"A{TABLE_HEADER - 1}"] = (
        "Monthly cash flow. Requests for the months in service "
        "(B34) follow the ramp unless you type your own in column C."
    )
    header_row(ws, TABLE_HEADER, 1, HEADERS)
    for month in range(MONTHS + 1):
        r = MONTH0_ROW + month
        put(ws, f"A{r}", month, "result", "integer")
        if month == 0:  # training: no requests
            put(ws, f"D{r}", f"=INDEX({_CASHFLOW},1,2)", "result", "count")
        else:
            # months after the horizon have no requests (nor a ramp to index)
            put(
                ws,
                f"B{r}",
                f"=IF($A{r}>{HORIZON},0,INDEX(DEMAND_RAMP($B$6,$B$7,{HORIZON},$B$8),$A{r},1))",
                "result",
                "count",
            )
            put(ws, f"C{r}", None, "input", "count")
        for letter, (_, formula, fmt) in zip(COLUMNS, TABLE, strict=True):
            if formula and (month or letter != "D"):
                put(ws, f"{letter}{r}", formula.format(r=r), "result", fmt)
    _totals(ws)
    _horizon(ws)
    number_rule(ws, f"C{FIRST_MONTH_ROW}:C{LAST_ROW}", NON_NEGATIVE, "Your requests", optional=True)


def _horizon(ws):
    """The horizon input: the months in service, the table's rows after it stay at zero."""
    header_row(ws, 33, 1, ["Horizon"])
    ws["A34"] = (
        f"Months in service (1 to {MONTHS}): the ramp fills them; later months of the "
        "table have no requests"
    )
    put(ws, HORIZON.replace("$", ""), MONTHS, "input", "integer")
    number_rule(
        ws,
        HORIZON.replace("$", ""),
        ("between", 1, MONTHS, f"a whole number of months from 1 to {MONTHS}"),
        "Months in service",
        whole=True,
    )


def _totals(ws):
    """A totals row under the table: every column that adds up over the months."""
    put(ws, f"A{TOTAL_ROW}", "Total", "result", bold=True)
    for letter, (_, formula, fmt) in zip(COLUMNS, TABLE, strict=True):
        if formula and letter != "K":  # the cumulative spend is itself a running total
            put(
                ws,
                f"{letter}{TOTAL_ROW}",
                f"=SUM({letter}{MONTH0_ROW}:{letter}{LAST_ROW})",
                "result",
                fmt,
                bold=True,
            )


def build():
    """The workbook (formulas only; :mod:`.build` adds the cached results)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    title(
        ws,
        "Monthly LLM budget: demand that ramps up, GPUs that get cheaper, money that "
        "is worth less later",
        "Change the yellow cells; everything else is computed by xlplan's Excel functions "
        "(needs the xlplan add-in in Excel).",
    )
    note(
        ws,
        "A3",
        "Training is paid in month 0 at today's price; month t's inference at "
        "today's price x (1+price change)^((t-1)/12), discounted by (1+rate)^(-t/12). "
        f"A month is {HOURS_PER_MONTH:g} hours.",
    )
    _inputs(ws)
    header_row(ws, 18, 1, ["Results (present values in today's dollars)"])
    for label, ref, formula, fmt in RESULTS:
        ws[f"A{ref[1:]}"] = label
        put(ws, ref, formula, "result", fmt, bold=ref in ("B21", "B22", "B25", "B30"))
    _cash_flow_table(ws)
    # Printed: inputs, results and the chart (in the empty columns beside the results) on
    # page 1, the monthly table from page 2 with its header repeated; columns A:K only, so
    # the page is not shrunk to fit a chart beside the table.
    ws.add_chart(
        spend_chart(
            ws,
            TABLE_HEADER,
            LAST_ROW,
            1,
            9,
            10,
            11,
            "Monthly spend (columns) and cumulative spend (line)",
        ),
        "D19",
    )
    page_break_before(ws, TABLE_HEADER - 1)
    repeat_rows(ws, TABLE_HEADER)
    set_widths(ws, {"A": 52} | {letter: 14 for letter in "BCDEFGHIJK"})
    wrap_column(ws, "A", top=4)
    ws.row_dimensions[TABLE_HEADER].height = 45
    results = {
        "loss": "B19",
        "requests": "B20",
        "params": "B21",
        "tokens": "B22",
        "training": "B23",
        "inference": "B24",
        "total": "B25",
    }
    name_inputs(
        wb,
        {
            name: f"{SHEET}!$B${row}"
            for name, row in (
                ("TargetParams", 5),
                ("FirstMonthRequests", 6),
                ("MonthlyGrowth", 7),
                ("PeakRequests", 8),
                ("InputTokens", 9),
                ("OutputTokens", 10),
                ("DiscountRate", 11),
                ("PriceChange", 12),
                ("LawPreset", 13),
                ("HardwarePreset", 14),
                ("MonthsInService", 34),
            )
        },
    )
    add_checks(
        wb,
        monthly_checks(SHEET, MONTH0_ROW, LAST_ROW, TOTAL_ROW, results),
        "the monthly budget",
        "D4",
        "D5",
    )
    return wb
