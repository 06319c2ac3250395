"""``table3_cost_optimal.xlsx``: the paper's Table 3 rebuilt from formulas.

Two blocks: one with the hardware as the paper states it (preset ``paper-a100``,
whose Chinchilla costs come out ~10% above the print) and one with the inferred
setting that reproduces the print (``paper-a100-table3``, inference at $0.986/h).
The hardware rows (settings in C:I) follow the preset cells in column B (dropdowns) by
formula; column B, not a setting, is what the printed pages repeat beside column A.
"""

import openpyxl
from openpyxl.styles import Font

from ..engine.constants import DEFAULT_INPUT_TOKENS, DEFAULT_OUTPUT_TOKENS
from ..engine.hardware import HARDWARE_PRESETS
from ..paper import table3 as paper_table3
from ..shared.labels import HARDWARE_FORMATS, HARDWARE_LABELS
from ..shared.styles import header_row, page_break_before, put, title
from .checks import add_checks, table3_checks
from .inputs import NON_NEGATIVE, POSITIVE, name_inputs, number_rule
from .paper_block import block_notes, print_by_block, write_block
from .presets import dropdown, law_dropdown

__all__ = ["build", "FILENAME", "BLOCKS"]

FILENAME = "table3_cost_optimal.xlsx"
SHEET = "Table 3"
LAW, INPUT_TOKENS, OUTPUT_TOKENS = "$B$4", "$B$5", "$B$6"
# (preset, label, hardware row, block header row)
BLOCKS = (
    ("paper-a100", "As the paper states its assumptions (preset paper-a100)", 9, 13),
    (
        "paper-a100-table3",
        "Setting that reproduces the print (preset paper-a100-table3; "
        "INFERRED, not stated in the paper: inference $0.986/h instead of $1.10/h)",
        10,
        22,
    ),
)
SETTINGS = "CDEFGHI"  # the seven hardware settings of a block's hardware row
INPUTS = (("Chinchilla-style params", "count", 2), ("Inference requests (lifetime)", "count", 0))


def _columns(hw):
    per_request = f"{INPUT_TOKENS},{OUTPUT_TOKENS},{hw}"
    return (
        ("Loss (nats/token)", f"=INDEX(CHINCHILLA_MODEL(A{{r}},{LAW}),1,1)", "loss", 1),
        ("Chinchilla tokens", f"=INDEX(CHINCHILLA_MODEL(A{{r}},{LAW}),1,2)", "count", 3),
        (
            "Chinchilla cost ($, train + inference)",
            f"=INDEX(LIFETIME_COST(A{{r}},D{{r}},B{{r}},{per_request}),1,3)",
            "usd",
            4,
        ),
        (
            "Cost-optimal params",
            f"=INDEX(COST_OPT(C{{r}},B{{r}},{per_request},{LAW}),1,1)",
            "count",
            5,
        ),
        (
            "Cost-optimal tokens",
            f"=INDEX(COST_OPT(C{{r}},B{{r}},{per_request},{LAW}),1,2)",
            "count",
            6,
        ),
        (
            "Cost-optimal cost ($, train + inference)",
            f"=INDEX(LIFETIME_COST(F{{r}},G{{r}},B{{r}},{per_request}),1,3)",
            "usd",
            7,
        ),
        ("Cost savings", "=1-H{r}/E{r}", "percent", 8),
    )


def _assumptions(ws):
    ws["A4"] = "Loss law preset (pick from the list)"
    put(ws, "B4", "chinchilla", "input")
    law_dropdown(ws, "B4")
    ws["A5"] = "Input (prompt) tokens per request"
    put(ws, "B5", DEFAULT_INPUT_TOKENS, "input", "integer")
    ws["A6"] = "Output (generated) tokens per request"
    put(ws, "B6", DEFAULT_OUTPUT_TOKENS, "input", "integer")
    number_rule(ws, "B5:B6", NON_NEGATIVE, "Tokens per request")
    header_row(ws, 8, 2, ["Hardware preset (pick from the list)", *HARDWARE_LABELS], align="center")
    for k, (preset, _, row, _) in enumerate(BLOCKS, start=1):
        # The settings follow the preset in column B by formula; a number typed over one
        # of them overrides it.
        preset_ref = f"$B${row}"
        put(ws, f"B{row}", preset, "input")
        dropdown(ws, f"B{row}", list(HARDWARE_PRESETS), "Hardware preset")
        ws[f"A{row}"] = f"Block {k} hardware"
        for j, letter in enumerate(SETTINGS):
            put(
                ws,
                f"{letter}{row}",
                f"=INDEX(XLPLAN_HARDWARE({preset_ref}),1,{j + 1})",
                "result",
                HARDWARE_FORMATS[j],
            )


def build():
    """The workbook (formulas only; :mod:`.build` adds the cached results)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    title(ws, "Paper Table 3, in US$")
    block_notes(
        ws,
        [
            "Sardana et al. 2024, App. B.2: cost-optimal vs Chinchilla-style models. Yellow: "
            "inputs; white: formulas (need the xlplan add-in); grey italic: the print.",
            "Each block's hardware follows its preset in column B (XLPLAN_HARDWARE); type a "
            "number over a setting to override it. MFU = model FLOPs utilisation.",
        ],
    )
    _assumptions(ws)
    blocks = []
    for k, (preset, label, hw_row, header) in enumerate(BLOCKS):
        if k:  # each block starts a printed page, its header with it
            page_break_before(ws, header - 1)
        ws[f"A{header - 1}"] = label
        ws[f"A{header - 1}"].font = Font(bold=True)
        hw = f"${SETTINGS[0]}${hw_row}:${SETTINGS[-1]}${hw_row}"
        rows = paper_table3(preset)
        write_block(ws, header, INPUTS, _columns(hw), rows)
        number_rule(ws, f"A{header + 1}:B{header + len(rows)}", POSITIVE, "Row input")
        blocks.append((hw_row, range(header + 1, header + 1 + len(rows))))
    print_by_block(ws, label_width=28, labels_from=4, scale=58)
    name_inputs(
        wb,
        {
            "LawPreset": f"'{SHEET}'!{LAW}",
            "InputTokens": f"'{SHEET}'!{INPUT_TOKENS}",
            "OutputTokens": f"'{SHEET}'!{OUTPUT_TOKENS}",
            "HardwareBlock1": f"'{SHEET}'!$B${BLOCKS[0][2]}",
            "HardwareBlock2": f"'{SHEET}'!$B${BLOCKS[1][2]}",
        },
    )
    add_checks(
        wb,
        table3_checks(SHEET, blocks, LAW, INPUT_TOKENS, OUTPUT_TOKENS, SETTINGS),
        "Table 3",
        "C4",
        "F4",
    )
    return wb
