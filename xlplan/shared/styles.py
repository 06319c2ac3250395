"""Cell styles and number formats shared by the templates and the report.

Inputs are blue on light yellow (the finance convention), formula results black
on white, the paper's printed values grey italic.
"""

import math

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from .safe_text import write_text

__all__ = [
    "FORMATS",
    "COUNT_FORMAT",
    "AXIS_COUNT_FORMAT",
    "log_axis",
    "put",
    "header_row",
    "title",
    "note",
    "set_widths",
    "fit_page",
    "repeat_rows",
    "page_break_before",
    "wrap_column",
    "fit_widths",
]

# Large counts as a finance reader writes them (3.78B, 4.30T), by custom number formats, so
# the cell still holds the number: each trailing comma divides the shown value by 1,000.
# Excel and LibreOffice allow two conditions, then a section for the rest.
COUNT_FORMAT = '[>=1000000000000]#,##0.00,,,,"T";[>=1000000000]0.00,,,"B";0.00,,"M"'
# Whole-unit axis labels for log-scale charts: 1M, 10M, ... 1B ... 1T.
AXIS_COUNT_FORMAT = '[>=1000000000000]#,##0,,,,"T";[>=1000000000]0,,,"B";0,,"M"'
FORMATS = {
    "count": COUNT_FORMAT,  # parameters, tokens, lifetime requests
    # Training + inference FLOPs in zettaFLOP (10^21); headers say so.
    "flops": '#,##0.00,,,,,,," ZFLOP"',
    "flops_rate": '#,##0,,,," TFLOP/s"',  # accelerator peaks, in 10^12 FLOP/s
    "bandwidth": '#,##0.00,,,," TB/s"',  # memory bandwidth, 10^12 bytes/s
    "bytes": '#,##0,,," GB"',  # memory, 10^9 bytes
    "usd": '"$"#,##0;-"$"#,##0',  # whole dollars: no cents on budget lines
    "usd_rate": '"$"#,##0.000',  # $/GPU-hour (the paper's inferred $0.986)
    "percent": "0.0%",
    "deviation": "+0.00%;-0.00%;0.00%",
    "points": '+0.00" pt";-0.00" pt";0.00" pt"',
    "loss": "0.000",
    "ratio": "0.00",
    "plain": "General",
    "integer": "#,##0",
    "tolerance": "0.0000000%",  # relative differences: 1e-9 shows as 0.0000001%
    "energy": "#,##0.0",  # MWh and t CO2e, with thousands separators
    "seconds": '0.0000" s"',  # latencies: time per output token, to first token
    "days": '#,##0.00" days"',
}
_INPUT = (Font(color="1F4E9A"), PatternFill("solid", fgColor="FFF4C2"))
_RESULT = (Font(color="000000"), PatternFill(fill_type=None))
_PRINTED = (Font(color="6B6B6B", italic=True), PatternFill("solid", fgColor="F2F2F2"))
KINDS = {"input": _INPUT, "result": _RESULT, "printed": _PRINTED}
_THIN = Side(style="thin", color="A6A6A6")


def log_axis(axis, low=None, high=None):
    """A log-10 axis labelled at every decade, ending at the decades around [low, high]
    (when known: a formula-driven chart leaves its range to the spreadsheet)."""
    axis.scaling.logBase = 10
    axis.majorUnit = 10  # on a log axis: one label per factor of 10
    if low is not None and high is not None and 0 < low <= high:
        axis.scaling.min = 10.0 ** math.floor(math.log10(low) + 1e-9)
        axis.scaling.max = 10.0 ** math.ceil(math.log10(high) - 1e-9)


def put(ws, ref, value, kind="result", fmt="plain", bold=False):
    """Write ``value`` at ``ref`` with the style of ``kind`` and number format ``fmt``."""
    cell = ws[ref]
    cell.value = value
    font, fill = KINDS[kind]
    cell.font = Font(color=font.color, italic=font.italic, bold=bold)
    cell.fill = fill
    cell.number_format = FORMATS[fmt]
    return cell


def header_row(ws, row, column, labels, align=None):
    """Bold, wrapped, underlined headers; ``align="center"`` over columns of numbers, so a
    header sits above its number rather than beside the next column's."""
    for offset, label in enumerate(labels):
        cell = write_text(ws.cell(row, column + offset), label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom", horizontal=align)
        cell.border = Border(bottom=_THIN)


def title(ws, text, subtitle=""):
    write_text(ws["A1"], text)
    ws["A1"].font = Font(bold=True, size=14)
    if subtitle:
        note(ws, "A2", subtitle)


def note(ws, ref, text):
    write_text(ws[ref], text)
    ws[ref].font = Font(italic=True, color="595959")


def set_widths(ws, widths):
    """Column widths, e.g. ``{"A": 30, "B": 14}``."""
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def fit_page(ws):
    """Print (and PDF) landscape, all columns on one page width; rows of wrapped text tall
    enough for every line (a header no longer loses its first line)."""
    ws.page_setup.orientation = "landscape"
    # A sheet with its own column breaks prints block by block at a fixed scale instead.
    ws.sheet_properties.pageSetUpPr.fitToPage = not ws.col_breaks.brk
    if ws.col_breaks.brk:
        ws.page_setup.scale = ws.page_setup.scale or BLOCK_PRINT_SCALE
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    fit_wrapped_heights(ws)
    page_header(ws)


def page_header(ws):
    """Every printed page names its sheet and title, its number of the total, and the date."""
    heading = ws["A1"].value if isinstance(ws["A1"].value, str) else ws.title
    heading = heading if len(heading) <= 90 else heading[:87] + "..."
    ws.oddHeader.left.text = "&A"  # the sheet's name
    ws.oddHeader.right.text = heading.replace("&", "&&")
    ws.oddFooter.left.text = "Printed &D"
    ws.oddFooter.right.text = "Page &P of &N"
    for part in (ws.oddHeader.left, ws.oddHeader.right, ws.oddFooter.left, ws.oddFooter.right):
        part.size = 9


BLOCK_PRINT_SCALE = 66  # percent: a block of nine 12-16 character columns fits a landscape A4
_LINE_POINTS = 15.0  # one line of 11 pt text (larger fonts scale it)
_DEFAULT_WIDTH = 8.43  # Excel's default column width, characters


def _lines(text, width, bold):
    """Lines ``text`` takes when wrapped in a column ``width`` characters wide (greedy, by
    words; bold text is about 10% wider)."""
    room = max(1.0, (width - 1) / (1.1 if bold else 1.0))
    lines = 0
    for paragraph in str(text).split("\n"):
        used, lines = None, lines + 1
        for word in paragraph.split():
            if used is None:
                used = len(word)
            elif used + 1 + len(word) <= room:
                used += 1 + len(word)
            else:
                used, lines = len(word), lines + 1
            while used > room:  # a word longer than the column breaks across lines
                used, lines = used - room, lines + 1
    return lines


def fit_wrapped_heights(ws):
    """Raise each row holding wrapped text to the height its longest cell needs (a merged
    cell wraps across the width of all its columns)."""
    merged = {
        (m.min_row, m.min_col): range(m.min_col, m.max_col + 1) for m in ws.merged_cells.ranges
    }
    for row in ws.iter_rows():
        need = 0
        for cell in row:
            if not (isinstance(cell.value, str) and cell.alignment.wrap_text) or (
                cell.value.startswith("=")
            ):  # a formula's text is not what shows
                continue
            columns = merged.get((cell.row, cell.column), [cell.column])
            width = sum(
                ws.column_dimensions[get_column_letter(c)].width or _DEFAULT_WIDTH for c in columns
            )
            scale = max(1.0, (cell.font.sz or 11) / 11)
            need = max(need, _lines(cell.value, width / scale, bool(cell.font.b)) * scale)
        if need:
            dimension = ws.row_dimensions[row[0].row]
            dimension.height = max(dimension.height or 0, need * _LINE_POINTS + 3)


def repeat_rows(ws, first, last=None):
    """Print rows ``first``..``last`` at the top of every printed page (Excel's print titles),
    so a table that runs onto a second page keeps its headers."""
    ws.print_title_rows = f"{first}:{last or first}"


def page_break_before(ws, row):
    """Start a new printed page at ``row`` (e.g. before a chart)."""
    ws.row_breaks.append(Break(id=row - 1))


def wrap_column(ws, letter, top=1):
    """Wrap the text of column ``letter`` from row ``top`` down, so long labels are not cut."""
    for (cell,) in ws.iter_rows(
        min_row=top, min_col=ws[f"{letter}1"].column, max_col=ws[f"{letter}1"].column
    ):
        if cell.value is not None:
            cell.alignment = Alignment(
                wrap_text=True,
                vertical=cell.alignment.vertical or "top",
                horizontal=cell.alignment.horizontal,
            )


# Characters a cell's shown value takes, by number format (the widest a value of it shows).
_SHOWN = {
    "count": 9,
    "flops": 16,
    "flops_rate": 13,
    "usd": 14,
    "usd_rate": 8,
    "percent": 7,
    "deviation": 8,
    "points": 9,
    "loss": 6,
    "ratio": 8,
    "integer": 11,
    "plain": 10,
}


def fit_widths(ws, low=8, high=60, skip=()):
    """Size every column to its widest label or shown number (text of wrapped headers
    counts by its longest word, as it wraps), between ``low`` and ``high`` characters.

    Titles and notes (12 pt and larger, or italic) run across empty cells and do not count.
    """
    shown = {v: k for k, v in FORMATS.items()}
    widths = {}
    for row in ws.iter_rows():
        for cell in row:
            note_text = cell.font.italic and isinstance(cell.value, str)  # printed numbers count
            if cell.value is None or note_text or (cell.font.sz or 11) >= 12:
                continue
            if isinstance(cell.value, str) and not cell.value.startswith("="):
                words = cell.value.split() if cell.alignment.wrap_text else [cell.value]
                need = max((len(w) for w in words), default=0)
            else:
                need = _SHOWN.get(shown.get(cell.number_format, "plain"), 10)
            letter = get_column_letter(cell.column)
            widths[letter] = max(widths.get(letter, 0), need + 2)
    for letter, width in widths.items():
        if letter not in skip:
            ws.column_dimensions[letter].width = min(max(width, low), high)
