"""The budget planner's serving block: throughput, $ per 1M tokens, GPUs, build versus buy.

It extends the planner's hardware row with the three serving settings (I13:K13)
and serves the recommended model (B19) at the planner's demand: SERVING at a
batch size, GPUS_NEEDED at the monthly demand with a peak-to-average ratio, and
BREAKEVEN_REQUESTS against an API price the user enters. The block goes below
whatever the planner already holds; :func:`add_serving_block` returns its cells
by label.
"""

from ..engine.constants import DAYS_PER_YEAR, MONTHS_PER_YEAR
from ..shared.labels import SERVING_HARDWARE_FORMATS, SERVING_HARDWARE_LABELS
from ..shared.styles import header_row, note, put

__all__ = ["add_serving_block", "INPUTS", "RESULTS", "HW10"]

HW10 = "$B$13:$K$13"
# (label, value, format) of the serving inputs.
INPUTS = (
    ("Batch size: sequences decoded together (2 gives the paper's 1% decode MFU on an "
     "A100 in int8)", 2, "integer"),
    ("Share of the datasheet memory bandwidth reached (0-1)", 1, "percent"),
    ("Peak load / average load (e.g. 2 if the busiest hour has twice the average traffic)",
     2, "ratio"),
    ("API price: $ per 1M input tokens", 0.20, "usd_rate"),
    ("API price: $ per 1M output tokens", 0.60, "usd_rate"),
)
BATCH, BANDWIDTH, PEAK, API_IN, API_OUT = (label for label, _, _ in INPUTS)
_DAYS_PER_MONTH = f"{DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g}"  # 365/12, as a formula shows it
MONTHLY = f"Requests per month (requests per day x {DAYS_PER_YEAR:g} / {MONTHS_PER_YEAR:g})"
BREAKEVEN = "Build versus buy: lifetime requests above which your own model is cheaper"
# (label, formula with {name} for other cells of the block, format, bold).
RESULTS = (
    ("Decode MFU at this batch (put it in H13 to price the plan with it)",
     "=INDEX({serving},1,1)", "percent", False),
    ("Decode tokens/s per GPU", "=INDEX({serving},1,2)", "integer", False),
    ("Prefill tokens/s per GPU", "=INDEX({serving},1,3)", "integer", False),
    ("$ per 1M input tokens", "=INDEX({serving},1,4)", "usd_rate", False),
    ("$ per 1M output tokens", "=INDEX({serving},1,5)", "usd_rate", True),
    ("GPUs to hold one copy of the weights", "=INDEX({serving},1,6)", "integer", False),
    (MONTHLY, f"=$B$6*{_DAYS_PER_MONTH}", "count", False),
    ("GPU-hours per month", "=INDEX({gpus},1,1)", "integer", False),
    ("GPUs at average load", "=INDEX({gpus},1,2)", "ratio", False),
    ("GPUs to reserve (peak load, whole copies of the model)", "=INDEX({gpus},1,3)", "integer",
     True),
    (BREAKEVEN, f"=BREAKEVEN_REQUESTS($B$17,{{api_in}},{{api_out}},$B$8,$B$9,{HW10},$B$10)",
     "count", True),
    ("The same, in requests per day over the days in service", "={breakeven}/$B$7", "count",
     False),
    ("The API's bill for your lifetime requests ($)",
     "=$B$18*($B$8*{api_in}+$B$9*{api_out})/1000000", "usd", False),
    ("Verdict at your demand",
     '=IFERROR(IF($B$18>{breakeven},"build: your own model is cheaper","buy: the API is '
     'cheaper"),"buy: the API is cheaper at every volume")', "plain", False),
)


def _hardware_extension(ws):
    """The three serving settings beside the planner's seven (I12:K14): like them, they
    follow the hardware preset in B11 unless a value is typed in the override row 14."""
    header_row(ws, 12, 9, SERVING_HARDWARE_LABELS, align="center")
    for k, (letter, fmt) in enumerate(zip("IJK", SERVING_HARDWARE_FORMATS, strict=True)):
        mine = f"{letter}$14"
        put(ws, f"{letter}13", f"=IF(ISBLANK({mine}),INDEX(XLPLAN_HARDWARE($B$11,TRUE),1,"
            f"{8 + k}),{mine})", "result", fmt)
        put(ws, f"{letter}14", None, "input", fmt)


def add_serving_block(ws, top):
    """Write the block with its header at row ``top``; returns {label: cell reference}."""
    _hardware_extension(ws)
    header_row(ws, top, 1, ["Serving the recommended model, and build versus buy"])
    note(ws, f"A{top + 1}", "Roofline bound: decode reads every weight once per step; "
         "KV-cache traffic is ignored, so real decode is somewhat slower at large batches. "
         "The break-even uses the decode MFU in H13.")
    refs = {label: f"B{top + 2 + k}" for k, (label, _, _) in enumerate(INPUTS)}
    for label, value, fmt in INPUTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], value, "input", fmt)
    first = top + 3 + len(INPUTS)
    refs |= {label: f"B{first + k}" for k, (label, *_) in enumerate(RESULTS)}
    cell = {label: f"$B${ref[1:]}" for label, ref in refs.items()}
    names = {"serving": f"SERVING($B$19,{HW10},{cell[BATCH]},{cell[BANDWIDTH]})",
             "gpus": f"GPUS_NEEDED($B$19,{cell[MONTHLY]},$B$8,$B$9,{HW10},{cell[BATCH]},"
                     f"{cell[PEAK]},{cell[BANDWIDTH]})",
             "api_in": cell[API_IN], "api_out": cell[API_OUT], "breakeven": cell[BREAKEVEN]}
    header_row(ws, first - 1, 1, ["Serving results"])
    for label, formula, fmt, bold in RESULTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], formula.format(**names), "result", fmt, bold=bold)
    return refs
