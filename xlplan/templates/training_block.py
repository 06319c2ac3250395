"""The budget planner's training block: the recommended model trained on a cluster.

Inputs: the GPUs of the cluster and, optionally, a deadline in days. Results, each a
live formula over xlplan's Excel functions on the recommended model (B19, B20) and
the training settings of the hardware row (B13:H13): days, GPU-hours and dollars
(``TRAINING_TIME``), the calendar months the run occupies (``TRAINING_MONTHS``:
training starts at the beginning of month 1, serving the month after it ends) and
the fewest GPUs that meet the deadline (``TRAINING_GPUS``). The block goes below
whatever the planner already holds; :func:`add_training_block` returns its cells by
label, for the Checks sheet.
"""

from ..engine.constants import DEFAULT_CLUSTER_GPUS
from ..shared.styles import header_row, note, put
from .inputs import POSITIVE, number_rule

__all__ = ["add_training_block", "INPUTS", "RESULTS", "GPUS", "DEADLINE", "DAYS"]

HW7 = "$B$13:$H$13"
GPUS = "Training cluster: GPUs training together"
DEADLINE = "Training deadline in days, optional (blank: none)"
DEFAULT_DEADLINE_DAYS = 30.0
# (label, value, format) of the inputs.
INPUTS = ((GPUS, DEFAULT_CLUSTER_GPUS, "integer"), (DEADLINE, DEFAULT_DEADLINE_DAYS, "ratio"))
DAYS = "Training time on the cluster (wall-clock days)"
GPU_HOURS = "Training GPU-hours"
DOLLARS = "Training cost on the cluster ($)"
START = "Training starts in month"
END = "Training ends in month (serving starts the month after)"
FOR_DEADLINE = "Fewest GPUs that train within the deadline"
DAYS_AT = "Training time at that many GPUs (days)"
_TIME = "TRAINING_TIME($B$19,$B$20,{gpus}," + HW7 + ")"
_FOR = "TRAINING_GPUS($B$19,$B$20,{deadline}," + HW7 + ")"
_NO_DEADLINE = '"no deadline given"'
# (label, formula with {name} for other cells of the block, format, bold).
RESULTS = (
    (DAYS, f"=INDEX({_TIME},1,1)", "days", True),
    (GPU_HOURS, f"=INDEX({_TIME},1,2)", "integer", False),
    (DOLLARS, f"=INDEX({_TIME},1,3)", "usd", False),
    (START, "=INDEX(TRAINING_MONTHS({days}),1,1)", "integer", False),
    (END, "=INDEX(TRAINING_MONTHS({days}),1,2)", "integer", True),
    (
        FOR_DEADLINE,
        f"=IF(ISBLANK({{deadline}}),{_NO_DEADLINE},INDEX({_FOR},1,1))",
        "integer",
        True,
    ),
    (DAYS_AT, f"=IF(ISBLANK({{deadline}}),{_NO_DEADLINE},INDEX({_FOR},1,2))", "days", False),
)


def add_training_block(ws, top):
    """Write the block with its header at row ``top``; returns {label: cell reference}."""
    header_row(ws, top, 1, ["Training the recommended model on a cluster"])
    note(
        ws,
        f"A{top + 1}",
        "Time = 6 x params x tokens / (GPUs x peak FLOP/s x MFU) at the training settings of "
        "row 13; perfect scaling (MFU does not fall as the cluster grows). A month is 365/12 "
        "days.",
    )
    refs = {label: f"B{top + 2 + k}" for k, (label, _, _) in enumerate(INPUTS)}
    for label, value, fmt in INPUTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], value, "input", fmt)
    number_rule(ws, refs[GPUS], POSITIVE, "GPUs training together")
    number_rule(ws, refs[DEADLINE], POSITIVE, "Training deadline", optional=True)
    first = top + 3 + len(INPUTS)
    header_row(ws, first - 1, 1, ["Training results"])
    refs |= {label: f"B{first + k}" for k, (label, *_) in enumerate(RESULTS)}
    cell = {label: f"$B${ref[1:]}" for label, ref in refs.items()}
    names = {"gpus": cell[GPUS], "deadline": cell[DEADLINE], "days": cell[DAYS]}
    for label, formula, fmt, bold in RESULTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], formula.format(**names), "result", fmt, bold=bold)
    return refs
