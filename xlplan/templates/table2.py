"""``table2_compute_optimal.xlsx``: the paper's Table 2 rebuilt from formulas."""

import openpyxl

from ..paper import table2 as paper_table2
from ..shared.styles import put, title
from .checks import add_checks, table2_checks
from .inputs import POSITIVE, name_inputs, number_rule
from .paper_block import block_notes, print_by_block, write_block
from .presets import law_dropdown

__all__ = ["build", "FILENAME", "FIRST_ROW"]

FILENAME = "table2_compute_optimal.xlsx"
SHEET = "Table 2"
LAW = "$B$4"
HEADER_ROW = 6
FIRST_ROW = HEADER_ROW + 1

# Paper column indices: 0 demand, 1 loss, 2 Chinchilla params, 3 tokens, 4 FLOPs,
# 5 optimal params, 6 optimal tokens, 7 optimal FLOPs, 8 reduction.
INPUTS = (("Chinchilla-style params", "count", 2), ("Inference tokens (lifetime)", "count", 0))
COLUMNS = (
    ("Loss (nats/token)", f"=INDEX(CHINCHILLA_MODEL(A{{r}},{LAW}),1,1)", "loss", 1),
    ("Chinchilla tokens", f"=INDEX(CHINCHILLA_MODEL(A{{r}},{LAW}),1,2)", "count", 3),
    ("Chinchilla FLOPs (train + inference)", "=TOTAL_FLOPS(A{r},D{r},B{r})", "flops", 4),
    ("Optimal params", f"=INDEX(OPT_PARAMS(C{{r}},B{{r}},{LAW}),1,1)", "count", 5),
    ("Optimal tokens", f"=INDEX(OPT_PARAMS(C{{r}},B{{r}},{LAW}),1,2)", "count", 6),
    ("Optimal FLOPs (train + inference)", "=TOTAL_FLOPS(F{r},G{r},B{r})", "flops", 7),
    ("FLOP reduction", "=1-H{r}/E{r}", "percent", 8),
)


def build():
    """The workbook (formulas only; :mod:`.build` adds the cached results)."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = SHEET
    title(ws, "Paper Table 2, in FLOPs")
    block_notes(
        ws,
        [
            "Sardana et al. 2024, App. B.1: compute-optimal vs Chinchilla-style models. Yellow: "
            "inputs; white: formulas (need the xlplan add-in); grey italic: the print.",
            "Each row: a Chinchilla-style model of the given size sets the target loss; the "
            "compute-optimal model reaches it with the fewest training + inference FLOPs.",
        ],
    )
    ws["A4"] = "Loss law preset (pick from the list)"
    put(ws, "B4", "chinchilla", "input")
    law_dropdown(ws, "B4")
    rows = paper_table2()
    write_block(ws, HEADER_ROW, INPUTS, COLUMNS, rows)
    number_rule(ws, f"A{FIRST_ROW}:B{FIRST_ROW + len(rows) - 1}", POSITIVE, "Row input")
    print_by_block(ws, label_width=24, labels_from=4)
    ws.freeze_panes = f"C{FIRST_ROW}"
    name_inputs(wb, {"LawPreset": f"'{SHEET}'!{LAW}"})
    add_checks(
        wb,
        table2_checks(SHEET, range(FIRST_ROW, FIRST_ROW + len(rows)), LAW),
        "Table 2",
        "C4",
        "F4",
    )
    return wb
