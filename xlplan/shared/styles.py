"""Cell styles and number formats shared by the templates and the report.

Inputs are blue on light yellow (the finance convention), formula results black
on white, the paper's printed values grey italic.
"""

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

__all__ = ["FORMATS", "put", "header_row", "title", "note", "set_widths", "fit_page"]

FORMATS = {
    "count": "0.00E+00",     # parameters, tokens, requests
    "flops": "0.00E+00",
    "usd": '"$"#,##0',
    "usd_rate": '"$"#,##0.000',
    "percent": "0.0%",
    "deviation": "+0.00%;-0.00%;0.00%",
    "points": '+0.00" pt";-0.00" pt";0.00" pt"',
    "loss": "0.000",
    "ratio": "0.00",
    "plain": "General",
    "integer": "#,##0",
}
_INPUT = (Font(color="1F4E9A"), PatternFill("solid", fgColor="FFF4C2"))
_RESULT = (Font(color="000000"), PatternFill(fill_type=None))
_PRINTED = (Font(color="6B6B6B", italic=True), PatternFill("solid", fgColor="F2F2F2"))
KINDS = {"input": _INPUT, "result": _RESULT, "printed": _PRINTED}
_THIN = Side(style="thin", color="A6A6A6")


def put(ws, ref, value, kind="result", fmt="plain", bold=False):
    """Write ``value`` at ``ref`` with the style of ``kind`` and number format ``fmt``."""
    cell = ws[ref]
    cell.value = value
    font, fill = KINDS[kind]
    cell.font = Font(color=font.color, italic=font.italic, bold=bold)
    cell.fill = fill
    cell.number_format = FORMATS[fmt]
    return cell


def header_row(ws, row, column, labels):
    for offset, label in enumerate(labels):
        cell = ws.cell(row, column + offset, label)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="bottom")
        cell.border = Border(bottom=_THIN)


def title(ws, text, subtitle=""):
    ws["A1"] = text
    ws["A1"].font = Font(bold=True, size=14)
    if subtitle:
        note(ws, "A2", subtitle)


def note(ws, ref, text):
    ws[ref] = text
    ws[ref].font = Font(italic=True, color="595959")


def set_widths(ws, widths):
    """Column widths, e.g. ``{"A": 30, "B": 14}``."""
    for letter, width in widths.items():
        ws.column_dimensions[letter].width = width


def fit_page(ws):
    """Print (and PDF) landscape, all columns on one page width."""
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
