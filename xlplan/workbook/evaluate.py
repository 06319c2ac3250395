"""Evaluate every formula of an openpyxl workbook, as Excel would, without Excel.

Results of several values spill from the formula's cell to the right and down,
as in Excel 365; an array formula (``{=...}``, openpyxl ``ArrayFormula``) fills
its own range. A formula the evaluator cannot read, an unknown function, a
missing sheet or a circular reference is listed by cell address in
:attr:`Evaluation.unsupported`, never left silently blank.
"""

import math
import operator
from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from ..excel.cell_error import CellError
from . import functions
from .parse import UnsupportedFormula, parse
from .values import CellText, first_error, to_number

__all__ = ["Evaluation", "evaluate", "address"]

MAX_PASSES = 4  # extra passes only when a cell read a spill range before it was filled
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
               "^": operator.pow}
_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, ">": operator.gt,
            "<=": operator.le, ">=": operator.ge}


def address(sheet, row, column):
    """``'My sheet'!B3`` style address of a cell."""
    name = f"'{sheet}'" if not sheet.replace("_", "").isalnum() else sheet
    return f"{name}!{get_column_letter(column)}{row}"


@dataclass
class Evaluation:
    """Results: ``values[(sheet, row, column)]`` for every formula and spilled cell."""

    values: dict = field(default_factory=dict)
    spills: dict = field(default_factory=dict)  # (sheet, row, column) of anchor -> "E1:F1"
    unsupported: list = field(default_factory=list)  # (address, formula, reason)
    # Formula cells whose error came from a cell they read (not from their own formula).
    inherited: set = field(default_factory=set)

    @property
    def errors(self):
        """(address, error value) of every cell whose result is an Excel error."""
        return [(address(*key), value) for key, value in self.values.items()
                if isinstance(value, CellError)]

    @property
    def root_errors(self):
        """(address, error) of the cells where an error starts: its formula failed."""
        return [(address(*key), value) for key, value in self.values.items()
                if isinstance(value, CellError) and key not in self.inherited]

    @property
    def inherited_errors(self):
        """(address, error) of the cells whose error is one read from another cell."""
        return [(address(*key), value) for key, value in self.values.items()
                if isinstance(value, CellError) and key in self.inherited]


class _Evaluator:
    def __init__(self, workbook):
        self.workbook = workbook
        self.formulas = {(ws.title, cell.row, cell.column): cell.value
                         for ws in workbook.worksheets for row in ws.iter_rows()
                         for cell in row if _is_formula(cell.value)}
        self.spilled = {}  # cell -> value, from spills and array formulas
        self.empty_reads = set()
        self.calls = {}
        self.result = Evaluation()

    def run(self):
        for _ in range(MAX_PASSES):
            self.memo, self.active, self.empty_reads, self.calls = {}, set(), set(), {}
            self.result.unsupported, self.result.inherited, self.errors_read = [], set(), []
            for key in self.formulas:
                self.cell(key)
            if not self.empty_reads & set(self.spilled):
                break
        self.result.values = dict(self.memo)
        self.result.values.update(self.spilled)
        return self.result

    def cell(self, key):
        value = self.cell_value(key)
        if isinstance(value, CellError) and self.errors_read:
            self.errors_read[-1].add(id(value))  # the formula being evaluated read an error
        return value

    def cell_value(self, key):
        if key in self.memo:
            return self.memo[key]
        if key in self.formulas:
            return self.formula_cell(key)
        if key in self.spilled:
            return self.spilled[key]
        sheet, row, column = key
        value = self.workbook[sheet].cell(row, column).value
        if value is None:
            self.empty_reads.add(key)
        if isinstance(value, str):
            return CellText(value, address(*key))
        return value

    def formula_cell(self, key):
        if key in self.active:
            self.memo[key] = CellError("#CIRC!", "circular reference")
            self.unsupported_at(key, "circular reference")
            return self.memo[key]
        self.active.add(key)
        formula = self.formulas[key]
        text = formula.text if isinstance(formula, ArrayFormula) else formula
        self.errors_read.append(set())
        try:
            value = self.node(parse(text), key[0])
        except UnsupportedFormula as error:
            self.unsupported_at(key, str(error))
            value = CellError("#NAME?", str(error))
        read = self.errors_read.pop()
        if isinstance(value, CellError) and id(value) in read:
            self.result.inherited.add(key)  # passed on unchanged from a cell it read
        self.active.discard(key)
        self.memo[key] = self.place(key, formula, value)
        return self.memo[key]

    def unsupported_at(self, key, reason):
        formula = self.formulas[key]
        text = formula.text if isinstance(formula, ArrayFormula) else formula
        self.result.unsupported.append((address(*key), text, reason))

    def place(self, key, formula, value):
        """The anchor's own value; spills the rest of an array result."""
        table = value if isinstance(value, list) else [[value]]
        sheet, row, column = key
        if isinstance(formula, ArrayFormula):
            left, top, right, bottom = range_boundaries(formula.ref)
        elif len(table) * len(table[0]) == 1:
            return _scalar(table[0][0])
        else:
            left, top = column, row
            right, bottom = column + len(table[0]) - 1, row + len(table) - 1
            blocked = self.blocked(sheet, left, top, right, bottom, key)
            if blocked:
                return CellError("#SPILL!", f"the spill range is not empty: {blocked}")
            self.result.spills[key] = (f"{get_column_letter(left)}{top}:"
                                       f"{get_column_letter(right)}{bottom}")
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                inside = r - top < len(table) and c - left < len(table[0])
                cell_value = _scalar(table[r - top][c - left]) if inside else CellError("#N/A")
                if (sheet, r, c) != key:
                    self.spilled[(sheet, r, c)] = cell_value
        return _scalar(table[0][0])

    def blocked(self, sheet, left, top, right, bottom, anchor):
        worksheet = self.workbook[sheet]
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                if (sheet, r, c) != anchor and worksheet.cell(r, c).value is not None:
                    return f"{address(sheet, r, c)} holds {worksheet.cell(r, c).value!r}"
        return None

    def node(self, tree, sheet):
        kind = tree[0]
        if kind in ("num", "str", "bool"):
            return tree[1]
        if kind == "err":
            return CellError(tree[1])
        if kind == "blank":
            return None
        if kind == "ref":
            return self.reference(tree[1], sheet)
        if kind == "neg":
            number = _number(self.node(tree[1], sheet))
            return number if isinstance(number, CellError) else -number
        if kind == "pct":
            number = _number(self.node(tree[1], sheet))
            return number if isinstance(number, CellError) else number / 100.0
        if kind == "bin":
            return _binary(tree[1], self.node(tree[2], sheet), self.node(tree[3], sheet))
        return self.call(tree[1], tree[2], sheet)

    def call(self, name, args, sheet):
        if name == "IF":
            condition = _number(self.node(args[0], sheet))
            if isinstance(condition, CellError):
                return condition
            branch = args[1] if condition else (args[2] if len(args) > 2 else ("bool", False))
            return self.node(branch, sheet)
        if name == "IFERROR":
            value = self.node(args[0], sheet)
            return self.node(args[1], sheet) if isinstance(value, CellError) else value
        if not functions.known(name):
            raise UnsupportedFormula(f"unknown function {name}")
        values = [self.node(arg, sheet) for arg in args]
        wrong_count = functions.check_arguments(name, values)
        if wrong_count:
            raise UnsupportedFormula(wrong_count)
        # One call per distinct arguments: five INDEX(FIT_COEFFS(runs), 1, k) cells fit once.
        key = (name, _hashable(values))
        if key not in self.calls:
            try:
                self.calls[key] = functions.call(name, values)
            except Exception as error:  # a fault inside a function: name it, never hide it
                raise UnsupportedFormula(
                    f"{name} failed with {type(error).__name__}: {error}") from error
        return self.calls[key]

    def reference(self, text, sheet):
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        if sheet not in self.workbook.sheetnames:
            raise UnsupportedFormula(f"refers to sheet '{sheet}', which the workbook does not "
                                     f"have (sheets: {', '.join(self.workbook.sheetnames)})")
        try:
            left, top, right, bottom = range_boundaries(text.replace("$", ""))
        except ValueError:
            raise UnsupportedFormula(f"cannot read reference {text!r} (defined names "
                                     "are not supported)") from None
        if None in (left, top, right, bottom):
            raise UnsupportedFormula(f"whole-row or whole-column reference {text!r}")
        if (left, top) == (right, bottom):
            return self.cell((sheet, top, left))
        return [[self.cell((sheet, r, c)) for c in range(left, right + 1)]
                for r in range(top, bottom + 1)]


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return (type(value).__name__, str(value)) if isinstance(value, str) else value


def _is_formula(value):
    return isinstance(value, ArrayFormula) or (isinstance(value, str) and value.startswith("="))


def _scalar(value):
    if isinstance(value, list):
        return value[0][0] if value and value[0] else None
    if isinstance(value, float) and not math.isfinite(value):
        return CellError("#NUM!", f"result {value} is not a finite number")
    return value


def _number(value):
    if isinstance(value, list):
        raise UnsupportedFormula("arithmetic on a whole range or array")
    return to_number(value)


def _text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return "" if value is None else str(value)


# Excel orders values of different types: every number < every text < FALSE < TRUE.
# Text compares case-insensitively; nothing is converted (="1"=1 is FALSE).
_NUMBER_RANK, _TEXT_RANK, _BOOLEAN_RANK = 0, 1, 2


def _comparable(value, other):
    """``value`` as a (type rank, value) pair; a blank takes the type of ``other``."""
    if isinstance(value, list):
        raise UnsupportedFormula("comparison of a whole range or array")
    if value is None:
        value = "" if isinstance(other, str) else (False if isinstance(other, bool) else 0.0)
    if isinstance(value, bool):
        return (_BOOLEAN_RANK, value)
    if isinstance(value, str):
        return (_TEXT_RANK, value.lower())
    return (_NUMBER_RANK, value)


def _binary(op, left, right):
    if op == "&":
        return first_error([left, right]) or _text(left) + _text(right)
    if op in _COMPARE:
        error = first_error([left, right])
        if error:
            return error
        return _COMPARE[op](_comparable(left, right), _comparable(right, left))
    a, b = _number(left), _number(right)
    error = first_error([a, b])
    if error:
        return error
    try:
        result = _ARITHMETIC[op](a, b)
    except ZeroDivisionError:
        return CellError("#DIV/0!", "division by zero")
    except OverflowError:
        return CellError("#NUM!", f"{a!r} {op} {b!r} overflows")
    if isinstance(result, complex):
        return CellError("#NUM!", f"{a!r} ^ {b!r} is not a real number")
    return result


def evaluate(workbook):
    """Evaluate all formulas of an openpyxl ``workbook`` (loaded with formulas)."""
    return _Evaluator(workbook).run()
