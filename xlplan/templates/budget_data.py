"""The budget planner's data-limits block: epochs needed and the training-compute overhead.

One input, "unique tokens available" (blank = unlimited), and the recommendation
re-sized for it (Muennighoff et al. 2023): parameters, tokens, epochs over the
unique data, lifetime cost and what the limit adds; then the training-compute
overhead of the recommended model against the Chinchilla-style one (de Vries
2023) and the critical size below which no model matches the quality.
The block goes below whatever the planner already holds; its cells are found by
their labels (:func:`add_data_limits` returns them).
"""

from ..shared.styles import header_row, put

__all__ = ["add_data_limits", "UNIQUE_LABEL", "EPOCHS_LABEL", "OVERHEAD_LABEL"]

UNIQUE_LABEL = "Unique training tokens available (blank = unlimited)"
EPOCHS_LABEL = "Epochs the recommendation needs (passes over the unique data)"
OVERHEAD_LABEL = "Training-compute overhead vs the Chinchilla-style choice"
EPOCH_NOTE = (
    "Above 4 epochs: repeated data is worth noticeably less than fresh data "
    "(Muennighoff et al. 2023)"
)


def _rows(u, per_request):
    """(label, formula, format, bold) of each row, given the input cell ``u``."""
    sized = f"COST_OPT($B$17,$B$18,{per_request},$B$10,{u})"
    return (
        ("Recommended size with this data (parameters)", f"=INDEX({sized},1,1)", "count", True),
        ("Recommended training tokens with this data", f"=INDEX({sized},1,2)", "count", False),
        (EPOCHS_LABEL, "=EPOCHS({tokens},{u})", "ratio", True),
        (
            "Repetition check",
            '=IF({epochs}>4,"' + EPOCH_NOTE + '","OK: at most 4 epochs")',
            "plain",
            False,
        ),
        (
            "Total lifetime cost with this data ($)",
            f"=INDEX(LIFETIME_COST({{params}},{{tokens}},$B$18,{per_request}),1,3)",
            "usd",
            False,
        ),
        ("Extra lifetime cost of the data limit (%)", "={total}/$B$23-1", "percent", False),
        (
            OVERHEAD_LABEL,
            f"=INDEX(LIFETIME_COST({{params}},{{tokens}},$B$18,{per_request}),1,1)"
            f"/INDEX(LIFETIME_COST($B$5,$B$24,$B$18,{per_request}),1,1)-1",
            "percent",
            True,
        ),
        ("Recommended size / Chinchilla-style size", "={params}/$B$5", "percent", False),
        (
            "Critical size (de Vries 2023): smallest size / Chinchilla size",
            "=CRITICAL_SIZE($B$10)",
            "percent",
            False,
        ),
    )


def add_data_limits(ws, top, per_request):
    """Write the block with its header at row ``top``; returns {label: cell reference}."""
    header_row(ws, top, 1, ["Data limits and training compute"])
    u = f"$B${top + 1}"
    ws[f"A{top + 1}"] = UNIQUE_LABEL
    put(ws, f"B{top + 1}", None, "input", "count")
    rows = _rows(u, per_request)
    refs = {label: f"B{top + 2 + k}" for k, (label, *_) in enumerate(rows)}
    names = {
        "params": refs[rows[0][0]],
        "tokens": refs[rows[1][0]],
        "epochs": refs[EPOCHS_LABEL],
        "total": refs[rows[4][0]],
        "u": u,
    }
    for k, (label, formula, fmt, bold) in enumerate(rows):
        ws[f"A{top + 2 + k}"] = label
        put(ws, f"B{top + 2 + k}", formula.format(**names), "result", fmt, bold=bold)
    return {UNIQUE_LABEL: f"B{top + 1}"} | refs
