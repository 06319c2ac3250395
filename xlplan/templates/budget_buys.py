"""The "What a budget buys" sheet of ``budget_planner.xlsx``: the best model for a budget.

A dollar budget for training and serving the Planner sheet's lifetime requests
buys one best model (``BEST_FOR_BUDGET``); spending it all on training
(Chinchilla, T = 0) buys a bigger model that then cannot be served within the
budget. A native chart shows the loss of every model size at that budget, both
curves and both optima. Below: energy and emissions of the budget's model and of
the Planner's recommended model (``ENERGY_EMISSIONS``), at the board powers of the
Planner's hardware preset (``XLPLAN_HARDWARE(preset, TRUE, TRUE)``) unless a value
is typed beside them, as the Planner's settings follow its preset.
"""

from ..engine.deploy.energy import DEFAULT_GRID_KG_PER_KWH, DEFAULT_PUE
from ..shared.budget_chart import CURVE_POINTS, budget_chart
from ..shared.styles import header_row, note, page_break_before, put, set_widths, title
from .inputs import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, number_rule

__all__ = ["add_sheet", "SHEET", "RESULT_ROWS", "ENERGY_ROWS", "CURVE_FIRST_ROW"]

SHEET = "What a budget buys"
P = "Planner!"
PER_REQUEST = f"{P}$B$8,{P}$B$9,{P}$B$13:$H$13"
LAW = f"{P}$B$10"
# Board powers are the last two of the preset's twelve columns (XLPLAN_HARDWARE power=TRUE).
_POWER = "=IF(ISBLANK($C${r}),INDEX(XLPLAN_HARDWARE(" + P + "$B$11,TRUE,TRUE),1,{k}),$C${r})"
# (label, cell, value or formula, kind, format) of the inputs.
INPUTS = (
    ("Total lifetime budget ($): training plus serving", "B5", 5e6, "input", "usd"),
    ("Lifetime requests (from the Planner sheet)", "B6", f"={P}$B$18", "result", "count"),
    (
        "Data-centre PUE (Uptime Institute 2023 industry average: 1.58)",
        "B7",
        DEFAULT_PUE,
        "input",
        "ratio",
    ),
    (
        "Grid carbon intensity, kg CO2e/kWh (Ember: world average 2023, 0.481)",
        "B8",
        DEFAULT_GRID_KG_PER_KWH,
        "input",
        "loss",
    ),
    (
        "Board power of a training GPU, W (the Planner's preset; NVIDIA: A100 SXM 400, H100 SXM "
        "700)",
        "B9",
        _POWER.format(r=9, k=11),
        "result",
        "integer",
    ),
    (
        "Board power of an inference GPU, W (the Planner's preset)",
        "B10",
        _POWER.format(r=10, k=12),
        "result",
        "integer",
    ),
)
OVERRIDES = ("C9", "C10")  # your own board powers (blank = the preset's)
_BEST = "BEST_FOR_BUDGET($B$5,{requests}," + PER_REQUEST + "," + LAW + ")"
# (label, formula with {c} = column and {requests}, format); rows 13-19, columns B and C.
RESULT_ROWS = (
    ("Model size (parameters)", "=INDEX(" + _BEST + ",1,1)", "count"),
    ("Training tokens", "=INDEX(" + _BEST + ",1,2)", "count"),
    ("Loss (nats/token)", "=INDEX(" + _BEST + ",1,3)", "loss"),
    ("Training $", f"=INDEX(LIFETIME_COST({{c}}13,{{c}}14,$B$6,{PER_REQUEST}),1,1)", "usd"),
    (
        "Serving the lifetime requests $",
        f"=INDEX(LIFETIME_COST({{c}}13,{{c}}14,$B$6,{PER_REQUEST}),1,2)",
        "usd",
    ),
    ("Lifetime cost $", "={c}16+{c}17", "usd"),
    ("Over the budget by $", "={c}18-$B$5", "usd"),
)
RESULT_HEADER = 12
ENERGY_HEADER = 21
# (label, formula with {c} = column, {train} / {infer} = that column's $ cells, format)
ENERGY_ROWS = (
    ("Training GPU-hours", f"={{train}}/{P}$B$13", "count"),
    ("Inference GPU-hours", f"={{infer}}/{P}$E$13", "count"),
    ("Training energy (MWh)", "=INDEX(ENERGY_EMISSIONS({c}22,$B$9,$B$7,$B$8),1,1)", "energy"),
    ("Inference energy (MWh)", "=INDEX(ENERGY_EMISSIONS({c}23,$B$10,$B$7,$B$8),1,1)", "energy"),
    ("Training emissions (t CO2e)", "=INDEX(ENERGY_EMISSIONS({c}22,$B$9,$B$7,$B$8),1,2)", "energy"),
    (
        "Inference emissions (t CO2e)",
        "=INDEX(ENERGY_EMISSIONS({c}23,$B$10,$B$7,$B$8),1,2)",
        "energy",
    ),
)
ENERGY_SOURCES = {"B": ("$B$16", "$B$17"), "C": (f"{P}$B$21", f"{P}$B$22")}
CURVE_HEADER = 31
CURVE_FIRST_ROW = CURVE_HEADER + 1
# The inference curve runs from a tenth of the best size up to 10x, or 0.9 of the size
# whose serving alone takes the whole budget, whichever is smaller (the loss -> inf there).
SPAN_CELL = "B29"
_MID = (CURVE_POINTS - 1) // 2
_COST = "LIFETIME_COST({x},1,{requests}," + PER_REQUEST + ")"
CURVE = (
    ("Params (T = 0 curve)", "=$C$13*10^(({k}-" + str(_MID) + ")/" + str(_MID) + ")", "count"),
    (
        "Loss, all to training",
        "=SCALING_LOSS(A{r},$B$5/INDEX("
        + _COST.format(x="A{r}", requests=0)
        + ",1,1),"
        + LAW
        + ")",
        "loss",
    ),
    (
        "Params (inference curve)",
        "=$B$13*0.1*($B$29/0.1)^({k}/" + str(CURVE_POINTS - 1) + ")",
        "count",
    ),
    (
        "Loss, serving the requests",
        "=SCALING_LOSS(C{r},($B$5-INDEX("
        + _COST.format(x="C{r}", requests="$B$6")
        + ",1,2))/INDEX("
        + _COST.format(x="C{r}", requests="$B$6")
        + ",1,1),"
        + LAW
        + ")",
        "loss",
    ),
)


def _inputs(ws):
    header_row(ws, 4, 1, ["Inputs", "In force", "Your own value (blank = the preset's)"])
    for label, ref, value, kind, fmt in INPUTS:
        ws[f"A{ref[1:]}"] = label
        put(ws, ref, value, kind, fmt)
    for ref in OVERRIDES:
        put(ws, ref, None, "input", "integer")
    # B9:B10 are formulas now (the preset's board power): the rule guards the overrides.
    for ref, rule, what in (
        ("B5", POSITIVE, "Budget"),
        ("B7", AT_LEAST_ONE, "PUE"),
        ("B8", NON_NEGATIVE, "Grid carbon intensity"),
        ("C9", POSITIVE, "Board power"),
        ("C10", POSITIVE, "Board power"),
    ):
        number_rule(ws, ref, rule, what)


def _results(ws):
    header_row(
        ws,
        RESULT_HEADER,
        1,
        [
            "The best model for the budget",
            "Serving the Planner's requests",
            "All to training (T = 0): the largest model it trains, unserved",
        ],
    )
    for offset, (label, formula, fmt) in enumerate(RESULT_ROWS):
        r = RESULT_HEADER + 1 + offset
        ws[f"A{r}"] = label
        for c, requests in (("B", "$B$6"), ("C", "0")):
            put(
                ws,
                f"{c}{r}",
                formula.format(c=c, requests=requests),
                "result",
                fmt,
                bold=c == "B" and offset in (0, 2),
            )
    header_row(
        ws,
        ENERGY_HEADER,
        1,
        [
            "Energy and emissions (GPU-hours x power x PUE x grid)",
            "The budget's best model",
            "The Planner's recommended model",
        ],
    )
    for offset, (label, formula, fmt) in enumerate(ENERGY_ROWS):
        r = ENERGY_HEADER + 1 + offset
        ws[f"A{r}"] = label
        for c, (train, infer) in ENERGY_SOURCES.items():
            put(ws, f"{c}{r}", formula.format(c=c, train=train, infer=infer), "result", fmt)


def _curves(ws):
    page_break_before(ws, 29)  # the chart's data prints on a page of its own, its header on top
    ws["A29"] = "Largest size on the inference curve, as a multiple of the best size"
    put(ws, SPAN_CELL, "=IFERROR(MIN(10,0.9*$B$5/$B$17),10)", "result", "ratio")
    header_row(ws, CURVE_HEADER, 1, [h for h, _, _ in CURVE] + ["Optimum: params", "loss"])
    for k in range(CURVE_POINTS):
        r = CURVE_FIRST_ROW + k
        for column, (_, formula, fmt) in zip("ABCD", CURVE, strict=True):
            put(ws, f"{column}{r}", formula.format(k=k, r=r), "result", fmt)
    for r, column in ((CURVE_FIRST_ROW, "C"), (CURVE_FIRST_ROW + 1, "B")):
        put(ws, f"E{r}", f"=${column}$13", "result", "count")
        put(ws, f"F{r}", f"=${column}$15", "result", "loss")
    last = CURVE_FIRST_ROW + CURVE_POINTS - 1
    ws.add_chart(
        budget_chart(
            ws, CURVE_FIRST_ROW, last, (1, 2, 3, 4, 5, 6), (CURVE_FIRST_ROW, CURVE_FIRST_ROW + 1)
        ),
        "E4",
    )


def add_sheet(wb):
    """Add the sheet to the budget planner workbook (after its Planner sheet)."""
    ws = wb.create_sheet(SHEET)
    title(
        ws,
        "What a budget buys: the best model you can train and serve for a fixed budget",
        "Change the yellow cells; demand, tokens per request, hardware and law come from "
        "the Planner sheet.",
    )
    note(
        ws,
        "A3",
        "Spending it all on training (Chinchilla) buys a bigger model that the "
        "budget then cannot serve; the best model is smaller and trained on more tokens.",
    )
    _inputs(ws)
    _results(ws)
    _curves(ws)
    set_widths(ws, {"A": 66, "B": 18, "C": 18, "D": 16, "E": 16, "F": 12})
    ws.row_dimensions[RESULT_HEADER].height = 48  # the T = 0 header wraps to three lines
    ws.row_dimensions[ENERGY_HEADER].height = 30
    ws.row_dimensions[CURVE_HEADER].height = 30
    return ws
