"""The budget planner's serving block: throughput, $ per 1M tokens, GPUs, build versus buy.

It extends the planner's hardware row with the three serving settings (I13:K13)
and serves the recommended model (B19) at the planner's demand with the decode
MFU in force (H13), the one the plan is priced with: GPU-hours x price x months
is the plan's inference cost. H13 is the preset's decode MFU (the roofline at the
batch it implies), or the roofline at a batch typed in this block, or a value
typed in H14. The block goes below whatever the planner already holds;
:func:`add_serving_block` returns its cells by label.
"""

from ..engine.constants import DAYS_PER_YEAR, MONTHS_PER_YEAR
from ..shared.labels import SERVING_HARDWARE_FORMATS, SERVING_HARDWARE_LABELS
from ..shared.styles import header_row, note, put

__all__ = ["add_serving_block", "INPUTS", "RESULTS", "HW10"]

HW10 = "$B$13:$K$13"
# (label, value, format) of the serving inputs.
INPUTS = (
    (
        "Batch size, optional: blank = the preset's decode MFU; a whole number sets H13 to the "
        "roofline at that batch (plan and serving alike)",
        None,
        "integer",
    ),
    ("Share of the datasheet memory bandwidth reached (0-1), used with a batch", 1, "percent"),
    (
        "Peak load / average load (e.g. 2 if the busiest hour has twice the average traffic)",
        2,
        "ratio",
    ),
    ("API price: $ per 1M input tokens", 0.20, "usd_rate"),
    ("API price: $ per 1M output tokens", 0.60, "usd_rate"),
)
BATCH, BANDWIDTH, PEAK, API_IN, API_OUT = (label for label, _, _ in INPUTS)
_DAYS_PER_MONTH = f"{DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g}"  # 365/12, as a formula shows it
MONTHLY = f"Requests per month (requests per day x {DAYS_PER_YEAR:g} / {MONTHS_PER_YEAR:g})"
GPU_HOURS = "GPU-hours per month"
BREAKEVEN = "Build versus buy: lifetime requests above which your own model is cheaper"
# (label, formula with {name} for other cells of the block, format, bold).
RESULTS = (
    (
        "Decode MFU in force (H13, which prices the plan; type your own in H14)",
        "=INDEX({serving},1,1)",
        "percent",
        False,
    ),
    (
        "Batch that decode MFU implies by the roofline (sequences decoded together)",
        "=$H$13*$K$13*$F$13/(2*{bandwidth}*$I$13)",
        "ratio",
        False,
    ),
    ("Decode tokens/s per GPU", "=INDEX({serving},1,2)", "integer", False),
    ("Prefill tokens/s per GPU", "=INDEX({serving},1,3)", "integer", False),
    ("$ per 1M input tokens", "=INDEX({serving},1,4)", "usd_rate", False),
    ("$ per 1M output tokens", "=INDEX({serving},1,5)", "usd_rate", True),
    ("GPUs to hold one copy of the weights", "=INDEX({serving},1,6)", "integer", False),
    (MONTHLY, f"=$B$6*{_DAYS_PER_MONTH}", "count", False),
    (GPU_HOURS, "=INDEX({gpus},1,1)", "integer", False),
    ("GPUs at average load", "=INDEX({gpus},1,2)", "ratio", False),
    (
        "GPUs to reserve (peak load, whole copies of the model)",
        "=INDEX({gpus},1,3)",
        "integer",
        True,
    ),
    (
        "Check: GPU-hours x inference price x months of service = the plan's inference cost ($)",
        f"={{gpu_hours}}*$E$13*$B$7/({_DAYS_PER_MONTH})",
        "usd",
        False,
    ),
    (
        BREAKEVEN,
        f"=BREAKEVEN_REQUESTS($B$17,{{api_in}},{{api_out}},$B$8,$B$9,{HW10},$B$10)",
        "count",
        True,
    ),
    ("The same, in requests per day over the days in service", "={breakeven}/$B$7", "count", False),
    (
        "The API's bill for your lifetime requests ($)",
        "=$B$18*($B$8*{api_in}+$B$9*{api_out})/1000000",
        "usd",
        False,
    ),
    (
        "Verdict at your demand",
        '=IFERROR(IF($B$18>{breakeven},"build: your own model is cheaper","buy: the API is '
        'cheaper"),"buy: the API is cheaper at every volume")',
        "plain",
        False,
    ),
)


def _hardware_extension(ws):
    """The three serving settings beside the planner's seven (I12:K14): like them, they
    follow the hardware preset in B11 unless a value is typed in the override row 14."""
    header_row(ws, 12, 9, SERVING_HARDWARE_LABELS, align="center")
    for k, (letter, fmt) in enumerate(zip("IJK", SERVING_HARDWARE_FORMATS, strict=True)):
        mine = f"{letter}$14"
        put(
            ws,
            f"{letter}13",
            f"=IF(ISBLANK({mine}),INDEX(XLPLAN_HARDWARE($B$11,TRUE),1,{8 + k}),{mine})",
            "result",
            fmt,
        )
        put(ws, f"{letter}14", None, "input", fmt)


def _decode_mfu_in_force(ws, batch, bandwidth):
    """H13: the override in H14, else the roofline at the block's batch, else the preset's.

    The roofline min(2 batch u W / (b P), prefill MFU) is written out here, as
    :func:`xlplan.engine.deploy.serving.decode_mfu` computes it: through SERVING it would
    read H13 itself, a circular reference (a test ties the two).
    """
    roofline = f"MIN(2*{batch}*{bandwidth}*$I$13/($K$13*$F$13),$G$13)"
    put(
        ws,
        "H13",
        f"=IF(ISBLANK($H$14),IF(ISBLANK({batch}),INDEX(XLPLAN_HARDWARE($B$11),1,7),"
        f"{roofline}),$H$14)",
        "result",
        "percent",
    )


def add_serving_block(ws, top):
    """Write the block with its header at row ``top``; returns {label: cell reference}."""
    _hardware_extension(ws)
    header_row(ws, top, 1, ["Serving the recommended model, and build versus buy"])
    note(
        ws,
        f"A{top + 1}",
        "Roofline bound: decode reads every weight once per step; this block, the plan and "
        "the break-even ignore KV-cache traffic (real decode is slower at large batches and "
        "long contexts: the KV-cache block below prices it) and all use the decode MFU in H13.",
    )
    refs = {label: f"B{top + 2 + k}" for k, (label, _, _) in enumerate(INPUTS)}
    for label, value, fmt in INPUTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], value, "input", fmt)
    first = top + 3 + len(INPUTS)
    refs |= {label: f"B{first + k}" for k, (label, *_) in enumerate(RESULTS)}
    cell = {label: f"$B${ref[1:]}" for label, ref in refs.items()}
    _decode_mfu_in_force(ws, cell[BATCH], cell[BANDWIDTH])
    # No batch argument: serving uses the decode MFU in force (H13), as the plan does.
    names = {
        "serving": f"SERVING($B$19,{HW10})",
        "gpus": f'GPUS_NEEDED($B$19,{cell[MONTHLY]},$B$8,$B$9,{HW10},"",{cell[PEAK]})',
        "api_in": cell[API_IN],
        "api_out": cell[API_OUT],
        "breakeven": cell[BREAKEVEN],
        "bandwidth": cell[BANDWIDTH],
        "gpu_hours": cell[GPU_HOURS],
    }
    header_row(ws, first - 1, 1, ["Serving results"])
    for label, formula, fmt, bold in RESULTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], formula.format(**names), "result", fmt, bold=bold)
    return refs
