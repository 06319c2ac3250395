"""Input cells that refuse a bad number, and names for the key inputs.

A data validation on each numeric input makes Excel (and LibreOffice) refuse a
typed -5 in the cell, with a message naming the input and its allowed range,
instead of answering it with a sheet of errors. Defined names (``TargetParams``,
``DiscountRate``, ...) let a reader jump to the key inputs and use them in
formulas of their own; the template's formulas keep their cell references.
"""

from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation

__all__ = [
    "number_rule",
    "name_inputs",
    "POSITIVE",
    "NON_NEGATIVE",
    "SHARE",
    "RATE",
    "CHANGE",
    "AT_LEAST_ONE",
    "MFU",
]

# (operator, low, high, text) of the allowed ranges
POSITIVE = ("greaterThan", 0, None, "a number > 0")
NON_NEGATIVE = ("greaterThanOrEqual", 0, None, "a number >= 0")
SHARE = ("between", 0, 1, "a share from 0% to 100%")
RATE = ("between", 0, 1, "a rate from 0% to 100% a year")
CHANGE = ("greaterThan", -1, None, "a change above -100%")
AT_LEAST_ONE = ("greaterThanOrEqual", 1, None, "a number >= 1")
MFU = ("between", 0.0001, 1, "a share above 0% up to 100%")


def number_rule(ws, refs, rule, what, whole=False, optional=False):
    """Refuse anything but a number in ``rule``'s range in ``refs`` (e.g. "B5" or "C39:C74").

    ``what`` names the input in the message; ``optional`` lets the cell stay blank.
    """
    operator, low, high, text = rule
    validation = DataValidation(
        type="whole" if whole else "decimal",
        operator=operator,
        formula1=str(low),
        formula2=None if high is None else str(high),
        allow_blank=optional,
    )
    validation.errorTitle = f"{what}: not allowed"[:32]
    validation.error = f"{what} must be {text}" + (" (or blank)" if optional else "") + "."
    validation.promptTitle, validation.prompt = what[:32], f"Enter {text}."
    validation.showErrorMessage = validation.showInputMessage = True
    ws.add_data_validation(validation)
    validation.add(refs)
    return validation


def name_inputs(wb, names):
    """Define workbook names: ``names`` maps a name to an absolute reference."""
    for name, reference in names.items():
        wb.defined_names[name] = DefinedName(name, attr_text=reference)
