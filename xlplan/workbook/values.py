"""Worksheet values during evaluation: error values and text that remembers its cell."""

from ..excel.cell_error import CellError

__all__ = ["CellText", "SparseRange", "to_number", "first_error"]


class CellText(str):
    """Text read from a cell; keeps its address so an error can name it."""

    __slots__ = ("address",)

    def __new__(cls, text, address):
        self = super().__new__(cls, text)
        self.address = address
        return self


def first_error(values):
    return next((v for v in values if isinstance(v, CellError)), None)


def to_number(value):
    """Excel's coercion of an operand to a number, or an :class:`CellError` saying why not."""
    if isinstance(value, CellError):
        return value
    if value is None:
        return 0.0
    if isinstance(value, (bool, int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            where = f"{value.address} holds " if isinstance(value, CellText) else ""
            return CellError("#VALUE!", f"{where}text {str(value)!r} where a number belongs")
    if isinstance(value, list):
        return CellError("#VALUE!", "a range or array where one number belongs")
    return CellError("#VALUE!", f"{value!r} is not a number")


class SparseRange:
    """A range too large to list cell by cell: only the cells in it that hold something.

    ``cells`` maps (row, column) offsets from the top-left corner to values, in row
    order. SUM, MIN, MAX and AVERAGE skip blanks, so they need only these; anything
    else that wants every cell gets :meth:`dense`, which refuses beyond ``limit``.
    """

    def __init__(self, reference, rows, columns, cells):
        self.reference, self.rows, self.columns, self.cells = reference, rows, columns, cells
        self._present = None

    def present(self):
        """The values of the cells that hold something, as a one-row range (one list,
        made once)."""
        if self._present is None:
            self._present = [list(self.cells.values())]
        return self._present

    def dense(self, limit, unsupported):
        """Every cell as a 2-D list; ``unsupported`` (an exception class) beyond ``limit``."""
        if self.rows * self.columns > limit:
            raise unsupported(
                f"range {self.reference} has {self.rows * self.columns:,} cells; "
                f"beyond {limit:,} only SUM, MIN, MAX and AVERAGE take a range"
            )
        table = [[None] * self.columns for _ in range(self.rows)]
        for (r, c), value in self.cells.items():
            table[r][c] = value
        return table
