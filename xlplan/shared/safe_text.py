"""Write text that came from a user into a workbook as text, never as a formula.

openpyxl stores any string starting with ``=`` as a formula, so a scenario named
``=cmd|' /C calc'!A0`` would become a live formula in the report (formula
injection). :func:`write_text` stores the string as a text cell whatever it
starts with; :func:`clean_text` also drops the control characters XML cannot
hold (openpyxl raises on them) and cuts text at Excel's cell limit.
"""

import re

__all__ = ["clean_text", "write_text", "MAX_CELL_CHARS"]

MAX_CELL_CHARS = 32_767  # Excel's limit for the text of one cell
# Characters XML 1.0 cannot hold (tab, line feed and carriage return it can).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_text(value):
    """``value`` as text an .xlsx can hold: control characters as U+FFFD, at most
    :data:`MAX_CELL_CHARS` characters."""
    text = _ILLEGAL.sub("\ufffd", str(value))
    return text if len(text) <= MAX_CELL_CHARS else text[: MAX_CELL_CHARS - 1] + "\u2026"


def write_text(cell, value):
    """Store ``value`` in the openpyxl ``cell``; a string always as text, never a formula.

    Non-strings (numbers, None) are stored as they are. Returns the cell.
    """
    if isinstance(value, str):
        cell.value = clean_text(value)
        cell.data_type = "s"  # after the assignment, which makes "=..." a formula
    else:
        cell.value = value
    return cell
