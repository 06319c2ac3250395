"""Recalculate a workbook headlessly: load, set inputs, evaluate, write with cached values.

The written file keeps every formula (live in Excel with the add-in) and holds
each result as the cell's cached value, spilled results in the cells to the
right as Excel places them, so any reader shows the numbers.
"""

import re

from openpyxl.packaging.custom import StringProperty
from openpyxl.utils.cell import column_index_from_string, get_column_letter, range_boundaries

from ..engine.errors import XlplanError
from ..excel.cell_error import CellError
from ..shared.atomic import atomic_path, check_not_same
from ..shared.safe_read import FileInputError
from ..shared.safe_xlsx import load_workbook
from .cache import write_cached_values
from .evaluate import EvaluationLimit, evaluate

__all__ = ["WorkbookError", "load", "apply_settings", "save", "recalc_file", "parse_setting"]

# Custom document property listing the spill ranges xlplan wrote, so that the
# next recalculation clears them instead of seeing them as occupied (#SPILL!).
SPILL_PROPERTY = "xlplan spill ranges"
# Excel's own calculation engine id: with it, Excel shows the cached values on
# opening instead of recalculating (and without the add-in showing #NAME?).
EXCEL_CALC_ID = 191029
MAX_ROW, MAX_COLUMN = 1_048_576, 16_384  # Excel's last row, and column XFD
_SETTING = re.compile(r"^(?:'((?:[^']|'')+)'|([^!']+))!\$?([A-Za-z]{1,3})\$?([0-9]+)=(.*)$")


class WorkbookError(XlplanError):
    """A workbook xlplan cannot read or evaluate; the message names the sheet and cell."""


def load(path):
    """An openpyxl workbook with its formulas, or a one-line error saying why not."""
    try:
        workbook = load_workbook(path, "workbook", "input")
    except FileInputError as error:
        raise WorkbookError(str(error)) from None
    _clear_previous_spills(workbook)
    return workbook


def _clear_previous_spills(workbook):
    for prop in list(workbook.custom_doc_props.props):
        if prop.name != SPILL_PROPERTY:
            continue
        for entry in filter(None, str(prop.value).split(";")):
            sheet, _, ref = entry.rpartition("!")
            try:
                left, top, right, bottom = range_boundaries(ref)
            except (ValueError, TypeError):
                continue  # not a range xlplan wrote: nothing of ours to clear
            if sheet not in workbook.sheetnames or None in (left, top, right, bottom):
                continue
            # The cells that exist, not every address of the range (which may be the sheet).
            cells = workbook[sheet]._cells
            for r, c in [
                key
                for key in cells
                if top <= key[0] <= bottom and left <= key[1] <= right and key != (top, left)
            ]:
                if cells[(r, c)].data_type != "f":
                    cells[(r, c)].value = None
        workbook.custom_doc_props.props.remove(prop)


def parse_setting(text):
    """``'Sheet name'!B3=2e12`` -> (sheet, "B3", value); numbers become floats."""
    match = _SETTING.match(text.strip())
    if not match:
        raise WorkbookError(
            f"--set {text!r} must look like Sheet!B3=2e12 (quote a sheet "
            "name with spaces: 'My sheet'!B3=2e12)"
        )
    quoted, plain, column, row, raw = match.groups()
    sheet = quoted.replace("''", "'") if quoted else plain
    if not 1 <= column_index_from_string(column.upper()) <= MAX_COLUMN:
        raise WorkbookError(
            f"--set {text!r}: column {column.upper()} is past XFD, Excel's last column"
        )
    if not 1 <= int(row) <= MAX_ROW:
        raise WorkbookError(
            f"--set {text!r}: row {int(row)} is outside Excel's rows 1 to {MAX_ROW:,}"
        )
    try:
        value = float(raw)
    except ValueError:
        value = raw
    return sheet, f"{column.upper()}{row}", value


def apply_settings(workbook, settings):
    """Set input cells: ``settings`` is a list of (sheet, coordinate, value)."""
    for sheet, coordinate, value in settings:
        if sheet not in workbook.sheetnames:
            raise WorkbookError(
                f"--set {sheet}!{coordinate}: the workbook has no sheet "
                f"'{sheet}' (sheets: {', '.join(workbook.sheetnames)})"
            )
        cell = workbook[sheet][coordinate]
        if isinstance(cell.value, str) and cell.value.startswith("="):
            raise WorkbookError(
                f"--set {sheet}!{coordinate}: the cell holds the formula "
                f"{cell.value}; --set changes input cells only"
            )
        cell.value = value


def _check(evaluation):
    if len(evaluation.unsupported) == 1:  # the usual case, and a hostile one: one line
        where, formula, reason = evaluation.unsupported[0]
        raise WorkbookError(
            f"{where} cannot be evaluated, nothing written: {_shown(formula)}: {reason}"
        )
    if evaluation.unsupported:
        lines = [
            f"  {where}: {_shown(formula)}: {reason}"
            for where, formula, reason in evaluation.unsupported
        ]
        raise WorkbookError(
            f"{len(lines)} formula(s) cannot be evaluated, nothing written:\n" + "\n".join(lines)
        )


def save(workbook, evaluation, destination, *, live=False):
    """Write ``workbook`` to ``destination`` atomically, results cached in every formula cell.

    ``live=True`` (templates) asks Excel to recalculate on opening; otherwise
    Excel shows the cached results until an input changes.
    """
    _check(evaluation)
    for (sheet, row, column), value in evaluation.values.items():
        cell = workbook[sheet].cell(row, column)
        if cell.data_type != "f":  # a spilled cell holds a plain value, as in Excel's files
            cell.value = value.code if isinstance(value, CellError) else _plain(value)
    spills = ";".join(f"{sheet}!{ref}" for (sheet, _, _), ref in evaluation.spills.items())
    if spills:
        workbook.custom_doc_props.append(StringProperty(name=SPILL_PROPERTY, value=spills))
    workbook.calculation.fullCalcOnLoad = live
    if not live:
        workbook.calculation.calcId = EXCEL_CALC_ID
    cached = {}
    for (sheet, row, column), value in evaluation.values.items():
        cached.setdefault(sheet, {})[f"{get_column_letter(column)}{row}"] = value
    with atomic_path(destination) as final:
        plain = final.with_name(final.name + ".openpyxl")
        try:
            workbook.save(plain)
            write_cached_values(plain, final, cached)
        finally:
            plain.unlink(missing_ok=True)


def _shown(formula, limit=80):
    """A formula as a message quotes it: at most ``limit`` characters."""
    return formula if len(formula) <= limit else f"{formula[:limit]}... ({len(formula):,} chars)"


def _plain(value):
    return str(value) if isinstance(value, str) else value


def recalc_file(source, destination, settings=()):
    """Recalculate ``source`` into ``destination``; returns the :class:`Evaluation`."""
    check_not_same(source, destination)
    workbook = load(source)
    apply_settings(workbook, settings)
    try:
        evaluation = evaluate(workbook)
    except EvaluationLimit as error:
        raise WorkbookError(
            f"{str(source)!r} cannot be evaluated, nothing written: {error}"
        ) from None
    save(workbook, evaluation, destination)
    return evaluation
