"""One block of a paper table: inputs, formula columns, printed values and deviations.

Columns A and B are the row's inputs (Chinchilla-style model size and demand);
C to I are formulas; K to Q the paper's printed values (corrected where the
print has a typo, with a note in column Z); S to Y the deviation of each
computed cell from the print.
"""

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..shared.styles import fit_widths, header_row, note, put, wrap_column

__all__ = [
    "write_block",
    "print_by_block",
    "block_notes",
    "RESULT_COLUMNS",
    "PRINTED_START",
    "DEVIATION_START",
]

RESULT_COLUMNS = "CDEFGHI"
PRINTED_START = 11  # column K
DEVIATION_START = 19  # column S
NOTE_COLUMN = "Z"


def write_block(ws, top, inputs, columns, rows):
    """Write a block with its header at row ``top``; returns the first data row.

    ``inputs``: two (header, fmt, paper column index) for columns A and B.
    ``columns``: seven (header, formula with ``{r}`` for the row, fmt, paper column index).
    ``rows``: rows of :class:`xlplan.paper.Cell`, in the paper's column order.
    """
    headers = [h for h, _, _ in inputs] + [h for h, _, _, _ in columns]
    header_row(ws, top, 1, headers, align="center")
    header_row(ws, top, PRINTED_START, [f"printed: {h}" for h, _, _, _ in columns], align="center")
    header_row(
        ws, top, DEVIATION_START, [f"deviation: {h}" for h, _, _, _ in columns], align="center"
    )
    header_row(ws, top, 26, ["note"])
    for offset, cells in enumerate(rows):
        r = top + 1 + offset
        for letter, (_, fmt, index) in zip("AB", inputs, strict=True):
            put(ws, f"{letter}{r}", cells[index].reference, "input", fmt)
        for k, (_, formula, fmt, index) in enumerate(columns):
            mine = f"{RESULT_COLUMNS[k]}{r}"
            printed = f"{get_column_letter(PRINTED_START + k)}{r}"
            put(ws, mine, formula.format(r=r), "result", fmt)
            put(ws, printed, cells[index].reference, "printed", fmt)
            deviation = f"{get_column_letter(DEVIATION_START + k)}{r}"
            if cells[index].is_percent:
                put(ws, deviation, f"=100*({mine}-{printed})", "result", "points")
            else:
                put(ws, deviation, f"={mine}/{printed}-1", "result", "deviation")
        notes = "; ".join(c.note for c in cells if c.note)
        if notes:
            ws[f"{NOTE_COLUMN}{r}"] = notes
    return top + 1


def print_by_block(ws, label_width, labels_from, scale=None):
    """Print each block on landscape pages of its own: xlplan's formulas (C:I), the print
    (K:Q), the deviations (S:Y), the notes (Z), each with the row inputs (A:B) and the title
    row repeated, columns sized to their contents. One page 26 columns wide was unreadable."""
    fit_widths(ws, low=10, high=18, skip=("A", NOTE_COLUMN))
    ws.column_dimensions["A"].width = label_width
    ws.column_dimensions[NOTE_COLUMN].width = 60
    for spacer in ("J", "R"):
        ws.column_dimensions[spacer].width = 2
    wrap_column(ws, "A", top=labels_from)  # labels wrap; the title notes above run across
    wrap_column(ws, NOTE_COLUMN, top=labels_from)
    ws.page_setup.scale = scale  # None: the shared default
    ws.print_title_cols = "A:B"
    ws.print_title_rows = "1:1"
    for last in ("I", "R", "Y"):  # a page ends after each block
        ws.col_breaks.append(Break(id=ws[f"{last}1"].column))


def block_notes(ws, texts, first_row=2):
    """Notes under the title, in C:I (merged, wrapped): columns A:B repeat on every printed
    page, where a note starting in A would be cut at B's edge."""
    for row, text in enumerate(texts, start=first_row):
        note(ws, f"C{row}", text)
        ws.merge_cells(f"C{row}:I{row}")
        ws[f"C{row}"].alignment = Alignment(wrap_text=True, vertical="top")
