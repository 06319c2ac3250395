"""The Checks sheet: each identity between two faces of one plan, its difference and a flag.

A check names one quantity as two places show it (e.g. the Summary's lifetime
cost, and its training plus inference dollars) as two cells: formulas that read
those places, or numbers a report computed. The sheet computes the difference,
the relative difference and OK / ERROR against one stated relative tolerance,
and rolls every row up into one master check (:data:`MASTER`), which the first
page of each workbook shows. All of it is formulas, so a value typed over a
result, or an input that breaks an identity, turns the master check to ERROR.
"""

from dataclasses import dataclass

from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill

from .safe_text import write_text
from .styles import header_row, note, put, set_widths, title, wrap_column

__all__ = ["Check", "checks_sheet", "highlight", "SHEET", "MASTER", "TOLERANCE", "FIRST_ROW"]

SHEET = "Checks"
TOLERANCE = 1e-9  # relative: |a - b| <= 1e-9 x max(|a|, |b|)
TOLERANCE_CELL, MASTER_CELL = "B4", "B5"
MASTER = f"{SHEET}!${MASTER_CELL[0]}${MASTER_CELL[1:]}"
HEADER = 7
FIRST_ROW = HEADER + 1
_RED = PatternFill("solid", fgColor="F8CBAD")
_GREEN = PatternFill("solid", fgColor="C6EFCE")


@dataclass(frozen=True)
class Check:
    """One identity: ``left`` must equal ``right`` (or be at least it, ``at_least``).

    ``left`` / ``right``: a formula (text starting with ``=``) or a number;
    ``fmt``: the number format of both values and their difference;
    ``where``: where the two values come from, as a reader finds them.
    """

    label: str
    left: object
    right: object
    fmt: str
    where: str
    at_least: bool = False


def _relative(row, at_least):
    b, c = f"B{row}", f"C{row}"
    if at_least:  # only a shortfall counts
        return f"=IF({b}>={c},0,({c}-{b})/MAX(ABS({b}),ABS({c})))"
    return f"=IF({b}={c},0,ABS({b}-{c})/MAX(ABS({b}),ABS({c})))"


def _flag(ref):
    return f'=IFERROR(IF({ref}<=${TOLERANCE_CELL[0]}${TOLERANCE_CELL[1:]},"OK","ERROR"),"ERROR")'


def highlight(ws, ref):
    """ERROR in ``ref`` shows red and bold, OK green (conditional formats: they follow the
    value when it is recalculated)."""
    ws.conditional_formatting.add(
        ref, CellIsRule(operator="equal", formula=['"ERROR"'], fill=_RED, font=Font(bold=True))
    )
    ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=['"OK"'], fill=_GREEN))


def checks_sheet(wb, checks, subject):
    """Append the Checks sheet of ``checks`` to ``wb``; returns the master check's reference.

    ``subject`` names what is checked, for the subtitle (e.g. "the budget planner").
    """
    ws = wb.create_sheet(SHEET)
    title(
        ws,
        f"Checks: {subject} agrees with itself",
        "Each row reads one quantity from two places; OK when they agree to the relative "
        "tolerance, ERROR otherwise (or when either cannot be computed).",
    )
    note(
        ws,
        "A3",
        "A value typed over a formula, or sheets that price the same plan "
        "differently, shows here as ERROR, and in the master check on the first page.",
    )
    ws[f"A{TOLERANCE_CELL[1:]}"] = (
        "Relative tolerance: |difference| at most this share of "
        "the larger value (one part in a billion)"
    )
    ws[f"A{TOLERANCE_CELL[1:]}"].alignment = Alignment(wrap_text=True)
    put(ws, TOLERANCE_CELL, TOLERANCE, "result", "tolerance")
    last = FIRST_ROW + len(checks) - 1
    ws[f"A{MASTER_CELL[1:]}"] = f"Master check: all {len(checks)} checks below"
    ws[f"A{MASTER_CELL[1:]}"].font = Font(bold=True, size=12)
    put(
        ws,
        MASTER_CELL,
        f'=IFERROR(IF(MAX($E${FIRST_ROW}:$E${last})<={TOLERANCE_CELL},"OK","ERROR"),"ERROR")',
        "result",
        bold=True,
    )
    highlight(ws, MASTER_CELL)
    header_row(
        ws,
        HEADER,
        1,
        [
            "Check (what must hold)",
            "Value",
            "Compared with",
            "Difference (0 within the tolerance)",
            "Relative difference",
            "Result",
            "Where the two values come from",
        ],
    )
    for row, check in enumerate(checks, start=FIRST_ROW):
        write_text(ws[f"A{row}"], check.label)  # a label may start with a scenario's name
        put(ws, f"B{row}", check.left, "result", check.fmt)
        put(ws, f"C{row}", check.right, "result", check.fmt)
        # a rounding residue within the tolerance would print as "-$0"
        put(ws, f"D{row}", f"=IF(E{row}<={TOLERANCE_CELL},0,B{row}-C{row})", "result", check.fmt)
        put(ws, f"E{row}", _relative(row, check.at_least), "result", "tolerance")
        put(ws, f"F{row}", _flag(f"E{row}"), "result", bold=True)
        ws[f"G{row}"] = check.where
    highlight(ws, f"F{FIRST_ROW}:F{last}")
    set_widths(ws, {"A": 52, "B": 16, "C": 16, "D": 14, "E": 14, "F": 9, "G": 46})
    for letter in "AG":
        wrap_column(ws, letter, top=FIRST_ROW)
    ws.print_title_rows = f"{HEADER}:{HEADER}"
    return MASTER
