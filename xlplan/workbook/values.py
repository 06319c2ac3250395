"""Worksheet values during evaluation: error values and text that remembers its cell."""

from ..excel.cell_error import CellError

__all__ = ["CellText", "to_number", "first_error"]


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
