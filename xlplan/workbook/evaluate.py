"""Evaluate every formula of an openpyxl workbook, as Excel would, without Excel.

Results of several values spill from the formula's cell to the right and down,
as in Excel 365; an array formula (``{=...}``, openpyxl ``ArrayFormula``) fills
its own range. A formula the evaluator cannot read, an unknown function, a
missing sheet or a circular reference is listed by cell address in
:attr:`Evaluation.unsupported`, never left silently blank.
"""

import bisect
import math
import operator
from dataclasses import dataclass, field

from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from ..excel.cell_error import CellError
from . import functions
from .parse import UnsupportedFormula, parse
from .values import CellText, SparseRange, first_error, to_number

__all__ = ["Evaluation", "EvaluationLimit", "evaluate", "address", "MAX_CELL_READS"]

MAX_PASSES = 4  # extra passes only when a cell read a spill range before it was filled
# Ranges of more cells than this are read as the cells in them that hold something
# (SparseRange): =SUM(A2:XFD1048576) costs what the sheet holds, not 17 billion reads.
RANGE_CELLS = 100_000
# IF and IFERROR evaluate only the arguments they need: (fewest, most) arguments.
_LAZY_ARGUMENTS = {"IF": (2, 3), "IFERROR": (2, 2)}
# Functions that skip blanks, so a large range may reach them as its filled cells only.
_SKIP_BLANKS = frozenset({"SUM", "MIN", "MAX", "AVERAGE"})
# Cells all formulas together may read (over every pass): 10,000 formulas each summing
# the same 10,000 cells would otherwise run for minutes. xlplan's templates read <16,000.
MAX_CELL_READS = 2_000_000


class EvaluationLimit(Exception):
    """The workbook needs more than :data:`MAX_CELL_READS` cell reads; nothing is written."""


_ARITHMETIC = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
}
_COMPARE = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


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
        return [
            (address(*key), value)
            for key, value in self.values.items()
            if isinstance(value, CellError)
        ]

    @property
    def root_errors(self):
        """(address, error) of the cells where an error starts: its formula failed."""
        return [
            (address(*key), value)
            for key, value in self.values.items()
            if isinstance(value, CellError) and key not in self.inherited
        ]

    @property
    def inherited_errors(self):
        """(address, error) of the cells whose error is one read from another cell."""
        return [
            (address(*key), value)
            for key, value in self.values.items()
            if isinstance(value, CellError) and key in self.inherited
        ]


class _Evaluator:
    def __init__(self, workbook):
        self.workbook = workbook
        # The stored cells only: iter_rows() would create every blank of the used area.
        self.stored = {ws.title: ws._cells for ws in workbook.worksheets}
        self.formulas = {
            (ws.title, row, column): cell.value
            for ws in workbook.worksheets
            for (row, column), cell in sorted(ws._cells.items())
            if _is_formula(cell)
        }
        # Each sheet's formula cells as sorted (row, column): the formulas inside a range
        # are found by bisection, not by a scan of every formula for every range.
        self.formula_index = {ws.title: [] for ws in workbook.worksheets}
        for sheet, row, column in self.formulas:
            self.formula_index[sheet].append((row, column))
        self.reads = 0
        self.spilled = {}  # cell -> value, from spills and array formulas
        self.empty_reads, self.empty_ranges = set(), []
        self.calls, self.trees, self.depends, self.inside = {}, {}, {}, {}
        self.result = Evaluation()

    def run(self):
        for _ in range(MAX_PASSES):
            self.memo, self.active, self.empty_reads, self.calls = {}, set(), set(), {}
            self.empty_ranges, self.ranges, self.range_keys = [], {}, {}
            self.result.unsupported, self.result.inherited, self.errors_read = [], set(), []
            for key in self.formulas:
                self.ensure(key)
            if not self.read_before_spilled():
                break
        self.result.values = dict(self.memo)
        self.result.values.update(self.spilled)
        return self.result

    def count(self, reads):
        """Add ``reads`` to the cells read so far; stop past :data:`MAX_CELL_READS`."""
        self.reads += reads
        if self.reads > MAX_CELL_READS:
            raise EvaluationLimit(
                f"its formulas read more than {MAX_CELL_READS:,} cells in "
                "all (large ranges read by many formulas); xlplan recalc "
                "stops there"
            )

    def read_before_spilled(self):
        """True when a cell was read empty and a spill has since filled it."""
        if self.empty_reads & set(self.spilled):
            return True
        self.count(len(self.empty_ranges) * len(self.spilled))
        return any(
            sheet == s and top <= r <= bottom and left <= c <= right
            for sheet, left, top, right, bottom in self.empty_ranges
            for (s, r, c) in self.spilled
        )

    def tree(self, key):
        """The parsed formula of ``key`` (parsed once), or the UnsupportedFormula it raised."""
        if key not in self.trees:
            formula = self.formulas[key]
            try:
                self.trees[key] = parse(
                    formula.text if isinstance(formula, ArrayFormula) else formula
                )
            except UnsupportedFormula as error:
                self.trees[key] = error
        return self.trees[key]

    def dependencies(self, key):
        """The formula cells ``key``'s formula reads (both branches of an IF)."""
        if key not in self.depends:
            found, tree = {}, self.tree(key)  # a dict: first-seen order, deterministic
            nodes = [] if isinstance(tree, UnsupportedFormula) else [tree]
            while nodes:
                node = nodes.pop()
                # Children pushed right to left: inputs in the order the formula reads them,
                # so cells are evaluated (and their errors listed) in the order recursion had.
                if node[0] == "ref":
                    found.update(dict.fromkeys(self.formulas_in(node[1], key[0])))
                elif node[0] == "call":
                    nodes.extend(reversed(node[2]))
                else:
                    nodes.extend(reversed([part for part in node[1:] if isinstance(part, tuple)]))
            self.depends[key] = list(found)
        return self.depends[key]

    def formulas_in(self, text, sheet):
        """Formula cells inside the reference ``text`` (none if it cannot be read)."""
        try:
            sheet, (left, top, right, bottom) = self.resolve(text, sheet)
        except UnsupportedFormula:
            return ()
        if (left, top) == (right, bottom):
            return [(sheet, top, left)] if (sheet, top, left) in self.formulas else ()
        box = (sheet, left, top, right, bottom)
        if box not in self.inside:  # found once: many formulas often read one range
            index = self.formula_index[sheet]
            rows = index[
                bisect.bisect_left(index, (top, 0)) : bisect.bisect_right(index, (bottom, math.inf))
            ]
            self.count(len(rows))
            self.inside[box] = [
                (sheet, row, column) for row, column in rows if left <= column <= right
            ]
        return self.inside[box]

    def ensure(self, root):
        """Evaluate ``root`` after the formula cells it reads, without recursion.

        A depth-first walk with an explicit stack, so that a chain of 5,000 cells, each
        reading the next, is evaluated from its far end; a cell met again while its own
        inputs are pending closes a circle and gets #CIRC!.
        """
        if root in self.memo:
            return
        inputs_of = self.dependencies(root)
        self.count(len(inputs_of))  # each walk costs its cells' inputs
        stack, pending = [(root, iter(inputs_of))], {root}
        while stack:
            key, inputs = stack[-1]
            for dependency in inputs:
                if dependency in self.memo:
                    continue
                if dependency in pending:
                    self.circular(dependency)
                    continue
                inputs_of = self.dependencies(dependency)
                self.count(len(inputs_of))
                stack.append((dependency, iter(inputs_of)))
                pending.add(dependency)
                break
            else:
                stack.pop()
                pending.discard(key)
                if key not in self.memo:
                    self.cell(key)

    def circular(self, key):
        self.memo[key] = CellError("#CIRC!", "circular reference")
        self.unsupported_at(key, "circular reference")

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
        stored = self.stored[sheet].get((row, column))
        value = None if stored is None else stored.value
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
        self.errors_read.append(set())
        try:
            tree = self.tree(key)
            if isinstance(tree, UnsupportedFormula):
                raise tree
            value = self.node(tree, key[0])
            if isinstance(value, SparseRange):  # the formula is the range itself: it spills
                value = value.dense(RANGE_CELLS, UnsupportedFormula)
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
            self.result.spills[key] = (
                f"{get_column_letter(left)}{top}:{get_column_letter(right)}{bottom}"
            )
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                inside = r - top < len(table) and c - left < len(table[0])
                cell_value = _scalar(table[r - top][c - left]) if inside else CellError("#N/A")
                if (sheet, r, c) != key:
                    self.spilled[(sheet, r, c)] = cell_value
        return _scalar(table[0][0])

    def blocked(self, sheet, left, top, right, bottom, anchor):
        stored = self.stored[sheet]
        for r in range(top, bottom + 1):
            for c in range(left, right + 1):
                cell = stored.get((r, c))
                if (sheet, r, c) != anchor and cell is not None and cell.value is not None:
                    return f"{address(sheet, r, c)} holds {cell.value!r}"
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
            # =A1+A2+...+A4000 parses as a left-leaning chain: walk it in a loop, left to
            # right as Excel does, so a long sum costs no recursion.
            chain = []
            while tree[0] == "bin":
                chain.append(tree)
                tree = tree[2]
            value = self.node(tree, sheet)
            for _, op, _, right in reversed(chain):
                value = _binary(op, value, self.node(right, sheet))
            return value
        return self.call(tree[1], tree[2], sheet)

    def call(self, name, args, sheet):
        lazy = _LAZY_ARGUMENTS.get(name)
        if lazy and not lazy[0] <= len(args) <= lazy[1]:
            raise UnsupportedFormula(f"{name} does not take {len(args)} argument(s)")
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
        values = [self.argument(self.node(arg, sheet), name) for arg in args]
        wrong_count = functions.check_arguments(name, values)
        if wrong_count:
            raise UnsupportedFormula(wrong_count)
        # One call per distinct arguments: five INDEX(FIT_COEFFS(runs), 1, k) cells fit once.
        key = (name, tuple(self.range_keys.get(id(v)) or _hashable(v) for v in values))
        if key not in self.calls:
            try:
                self.calls[key] = functions.call(name, values)
            except Exception as error:  # a fault inside a function: name it, never hide it
                raise UnsupportedFormula(
                    f"{name} failed with {type(error).__name__}: {error}"
                ) from error
        return self.calls[key]

    def argument(self, value, name):
        """A large range as ``name`` takes it: its filled cells, or every cell (bounded)."""
        if not isinstance(value, SparseRange):
            return value
        if name not in _SKIP_BLANKS:
            return value.dense(RANGE_CELLS, UnsupportedFormula)
        present = value.present()  # the same list each time: its call-cache key is kept
        if id(present) not in self.range_keys:
            self.range_keys[id(present)] = _hashable(present)
        return present

    def resolve(self, text, sheet):
        """(sheet, (left, top, right, bottom)) of the reference ``text`` read on ``sheet``."""
        if "!" in text:
            sheet, text = text.rsplit("!", 1)
            sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        if sheet not in self.workbook.sheetnames:
            raise UnsupportedFormula(
                f"refers to sheet '{sheet}', which the workbook does not "
                f"have (sheets: {', '.join(self.workbook.sheetnames)})"
            )
        try:
            box = range_boundaries(text.replace("$", ""))
        except (ValueError, TypeError):
            raise UnsupportedFormula(
                f"cannot read reference {text!r} (defined names are not supported)"
            ) from None
        if None in box:
            raise UnsupportedFormula(f"whole-row or whole-column reference {text!r}")
        return sheet, box

    def reference(self, text, sheet):
        sheet, (left, top, right, bottom) = self.resolve(text, sheet)
        if (left, top) == (right, bottom):
            return self.cell((sheet, top, left))
        box = (sheet, left, top, right, bottom)
        if box in self.ranges:  # read once per pass: many formulas often read one range
            table, errors = self.ranges[box]
            if self.errors_read:
                self.errors_read[-1].update(errors)
            return table
        rows, columns = bottom - top + 1, right - left + 1
        if rows * columns > RANGE_CELLS:
            return self.sparse(text, box)
        self.count(rows * columns)
        table = [
            [self.cell((sheet, r, c)) for c in range(left, right + 1)]
            for r in range(top, bottom + 1)
        ]
        self.ranges[box] = (
            table,
            {id(v) for row in table for v in row if isinstance(v, CellError)},
        )
        # The call cache's key for this table, computed once; its id is stable while
        # self.ranges holds it (this pass).
        self.range_keys[id(table)] = _hashable(table)
        return table

    def sparse(self, text, box):
        """A range larger than RANGE_CELLS as the cells in it that hold something."""
        sheet, left, top, right, bottom = box
        rows, columns = bottom - top + 1, right - left + 1
        # The cells that hold something: stored ones and spilled results, in row order.
        self.count(len(self.stored[sheet]) + len(self.spilled))
        inside = {
            (r, c) for (r, c) in self.stored[sheet] if top <= r <= bottom and left <= c <= right
        }
        inside.update(
            (r, c)
            for (s, r, c) in self.spilled
            if s == sheet and top <= r <= bottom and left <= c <= right
        )
        self.empty_ranges.append((sheet, left, top, right, bottom))
        cells = {}
        for r, c in sorted(inside):
            value = self.cell((sheet, r, c))
            if value is not None:
                cells[(r - top, c - left)] = value
        found = SparseRange(text, rows, columns, cells)
        self.ranges[box] = (found, {id(v) for v in cells.values() if isinstance(v, CellError)})
        return found


def _hashable(value):
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return (type(value).__name__, str(value)) if isinstance(value, str) else value


def _is_formula(cell):
    """A formula cell: one openpyxl types as a formula. Text that starts with "=" but is
    stored as text (a scenario named "=1+1", see shared/safe_text) is not evaluated."""
    return cell.data_type == "f" or isinstance(cell.value, ArrayFormula)


def _scalar(value):
    if isinstance(value, list):
        return value[0][0] if value and value[0] else None
    if isinstance(value, float) and not math.isfinite(value):
        return CellError("#NUM!", f"result {value} is not a finite number")
    return value


def _number(value):
    if isinstance(value, (list, SparseRange)):
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
    if isinstance(value, (list, SparseRange)):
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
