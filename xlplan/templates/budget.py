"""``budget_planner.xlsx``: how big a model to train, and what it costs over its life.

For a finance user: quality is "as good as a Chinchilla-style model of N
parameters", demand is requests per day over days in service; the results are
the recommended size and training tokens, training / inference / total dollars,
and the saving against the Chinchilla-style choice, with a sensitivity table
over demand.
"""

import openpyxl

from ..engine.constants import (
    DEFAULT_HARDWARE,
    DEFAULT_INPUT_TOKENS,
    DEFAULT_LAW,
    DEFAULT_OUTPUT_TOKENS,
)
from ..shared.styles import header_row, note, put, set_widths, title
from . import budget_buys
from .budget_data import UNIQUE_LABEL, add_data_limits
from .budget_range import HIGH_LABEL, LOW_LABEL, add_demand_range
from .checks import add_checks, planner_checks
from .deploy_checks import deploy_checks
from .inputs import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, SHARE, name_inputs, number_rule
from .kv_block import add_kv_block
from .presets import hardware_block, law_dropdown
from .serving_block import API_IN, API_OUT, BANDWIDTH, BATCH, PEAK, add_serving_block
from .training_block import add_training_block

__all__ = ["build", "FILENAME", "RESULTS", "SENSITIVITY_FIRST_ROW", "MULTIPLIERS"]

FILENAME = "budget_planner.xlsx"
SHEET = "Planner"
# (label, cell, value, format) of the inputs.
INPUTS = (
    (
        "Target quality: as good as a Chinchilla-style model of this many parameters",
        "B5",
        7e9,
        "count",
    ),
    ("Expected requests per day", "B6", 1e6, "integer"),  # whole requests: 1,000,000
    ("Days in service", "B7", 730, "integer"),
    ("Input (prompt) tokens per request", "B8", DEFAULT_INPUT_TOKENS, "integer"),
    ("Output (generated) tokens per request", "B9", DEFAULT_OUTPUT_TOKENS, "integer"),
    (f"Loss law preset (advanced: leave as {DEFAULT_LAW})", "B10", DEFAULT_LAW, "plain"),
)
HW = "$B$13:$H$13"
PER_REQUEST = f"$B$8,$B$9,{HW}"
# (label, cell, formula, format) of the results; B18 is the target loss.
RESULTS = (
    ("Target loss (nats/token)", "B17", "=INDEX(CHINCHILLA_MODEL($B$5,$B$10),1,1)", "loss"),
    ("Lifetime requests", "B18", "=$B$6*$B$7", "count"),
    (
        "Recommended model size (parameters)",
        "B19",
        f"=INDEX(COST_OPT($B$17,$B$18,{PER_REQUEST},$B$10),1,1)",
        "count",
    ),
    (
        "Recommended training tokens",
        "B20",
        f"=INDEX(COST_OPT($B$17,$B$18,{PER_REQUEST},$B$10),1,2)",
        "count",
    ),
    (
        "Training cost ($)",
        "B21",
        f"=INDEX(LIFETIME_COST($B$19,$B$20,$B$18,{PER_REQUEST}),1,1)",
        "usd",
    ),
    (
        "Inference cost ($)",
        "B22",
        f"=INDEX(LIFETIME_COST($B$19,$B$20,$B$18,{PER_REQUEST}),1,2)",
        "usd",
    ),
    (
        "Total lifetime cost ($)",
        "B23",
        f"=INDEX(LIFETIME_COST($B$19,$B$20,$B$18,{PER_REQUEST}),1,3)",
        "usd",
    ),
    (
        "Chinchilla-style choice: training tokens",
        "B24",
        "=INDEX(CHINCHILLA_MODEL($B$5,$B$10),1,2)",
        "count",
    ),
    (
        "Chinchilla-style choice: total lifetime cost ($)",
        "B25",
        f"=INDEX(LIFETIME_COST($B$5,$B$24,$B$18,{PER_REQUEST}),1,3)",
        "usd",
    ),
    ("Saving against the Chinchilla-style choice ($)", "B26", "=$B$25-$B$23", "usd"),
    ("Saving against the Chinchilla-style choice (%)", "B27", "=1-$B$23/$B$25", "percent"),
)
MULTIPLIERS = (0.1, 0.3, 1, 3, 10, 30)
SENSITIVITY_HEADER = 30
SENSITIVITY_FIRST_ROW = SENSITIVITY_HEADER + 1
SENSITIVITY = (
    ("Requests per day", "=$B$6*A{r}", "integer"),
    ("Recommended params", f"=INDEX(COST_OPT($B$17,B{{r}}*$B$7,{PER_REQUEST},$B$10),1,1)", "count"),
    ("Recommended tokens", f"=INDEX(COST_OPT($B$17,B{{r}}*$B$7,{PER_REQUEST},$B$10),1,2)", "count"),
    (
        "Total cost ($)",
        f"=INDEX(LIFETIME_COST(C{{r}},D{{r}},B{{r}}*$B$7,{PER_REQUEST}),1,3)",
        "usd",
    ),
    (
        "Chinchilla-style total ($)",
        f"=INDEX(LIFETIME_COST($B$5,$B$24,B{{r}}*$B$7,{PER_REQUEST}),1,3)",
        "usd",
    ),
    ("Saving (%)", "=1-E{r}/F{r}", "percent"),
)


# Names of the key inputs (Formulas > Name Manager in Excel).
NAMES = {
    "TargetParams": "Planner!$B$5",
    "RequestsPerDay": "Planner!$B$6",
    "DaysInService": "Planner!$B$7",
    "InputTokens": "Planner!$B$8",
    "OutputTokens": "Planner!$B$9",
    "LawPreset": "Planner!$B$10",
    "HardwarePreset": "Planner!$B$11",
    "Budget": "'What a budget buys'!$B$5",
    "PUE": "'What a budget buys'!$B$7",
    "GridIntensity": "'What a budget buys'!$B$8",
}


def _inputs_checked(ws, limits, ranged, serving):
    """Data validation on the inputs of the blocks below the results."""
    number_rule(ws, limits[UNIQUE_LABEL], POSITIVE, "Unique training tokens", optional=True)
    for label in (LOW_LABEL, HIGH_LABEL):
        number_rule(ws, ranged[label], POSITIVE, label.split(":")[0])
    for label, rule, whole in (
        (BATCH, AT_LEAST_ONE, True),
        (BANDWIDTH, SHARE, False),
        (PEAK, AT_LEAST_ONE, False),
        (API_IN, NON_NEGATIVE, False),
        (API_OUT, NON_NEGATIVE, False),
    ):
        number_rule(ws, serving[label], rule, label.split(":")[0].split(" (")[0], whole=whole)
    number_rule(ws, "I14:K14", POSITIVE, "Serving setting", optional=True)


def build():
    """The workbook (formulas only; :mod:`.build` adds the cached results)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    title(
        ws,
        "LLM budget planner: what size to train, and what it costs over its life",
        "Change the yellow cells; everything else is computed by xlplan's Excel functions "
        "(needs the xlplan add-in in Excel).",
    )
    note(
        ws,
        "A3",
        "Method: Sardana et al. 2024, 'Beyond Chinchilla-Optimal': a smaller model "
        "trained on more tokens reaches the same quality and is cheaper to serve.",
    )
    header_row(ws, 4, 1, ["Inputs"])
    for label, ref, value, fmt in INPUTS:
        ws[f"A{ref[1:]}"] = label
        put(ws, ref, value, "input", fmt)
    law_dropdown(ws, "B10")
    for ref, rule in (
        ("B5", POSITIVE),
        ("B6", NON_NEGATIVE),
        ("B7", POSITIVE),
        ("B8", NON_NEGATIVE),
        ("B9", NON_NEGATIVE),
    ):
        number_rule(ws, ref, rule, ws[f"A{ref[1:]}"].value.split(":")[0])
    hardware_block(ws, 13, DEFAULT_HARDWARE)  # preset in B11, settings in force B13:H13
    header_row(ws, 16, 1, ["Results"])
    for label, ref, formula, fmt in RESULTS:
        ws[f"A{ref[1:]}"] = label
        put(ws, ref, formula, "result", fmt, bold=ref in ("B19", "B20", "B23", "B27"))
    ws[f"A{SENSITIVITY_HEADER - 1}"] = "Sensitivity: the same quality at other demand levels"
    header_row(ws, SENSITIVITY_HEADER, 1, ["Demand multiplier"] + [h for h, _, _ in SENSITIVITY])
    for offset, multiplier in enumerate(MULTIPLIERS):
        r = SENSITIVITY_FIRST_ROW + offset
        put(ws, f"A{r}", multiplier, "input", "ratio")
        number_rule(ws, f"A{r}", POSITIVE, "Demand multiplier")
        for k, (_, formula, fmt) in enumerate(SENSITIVITY):
            put(ws, f"{'BCDEFG'[k]}{r}", formula.format(r=r), "result", fmt)
    limits = add_data_limits(ws, ws.max_row + 2, PER_REQUEST)
    set_widths(ws, {"A": 62} | {letter: 16 for letter in "BCDEFGHIJK"})
    ws.row_dimensions[SENSITIVITY_HEADER].height = 30
    ranged = add_demand_range(ws, ws.max_row + 2, PER_REQUEST)
    serving = add_serving_block(ws, ws.max_row + 2)
    training = add_training_block(ws, ws.max_row + 2)
    kv = add_kv_block(ws, ws.max_row + 2)
    _inputs_checked(ws, limits, ranged, serving)
    budget_buys.add_sheet(wb)
    name_inputs(wb, NAMES)
    add_checks(
        wb,
        planner_checks(SENSITIVITY_FIRST_ROW + MULTIPLIERS.index(1), ranged, limits, serving)
        + deploy_checks(training, kv),
        "the budget planner",
        "D4",
        "D5",
    )
    return wb
