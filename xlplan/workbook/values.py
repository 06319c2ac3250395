"""Worksheet values during evaluation: error values and text that remembers its cell."""

__all__ = ["ErrorValue", "CellText", "is_error", "to_number", "first_error"]


class ErrorValue(str):
    """An Excel error value (``#NUM!``, ``#VALUE!``, ...) with the message behind it."""

    __slots__ = ("code", "message")

    def __new__(cls, code, message=""):
        self = super().__new__(cls, code)
        self.code = code
        self.message = message
        return self

    @classmethod
    def from_cell_error(cls, error):
        """From :class:`xlplan.excel.cell_error.CellError` (what :mod:`xlplan.udfs` returns)."""
        return cls(error.code, error.message)


class CellText(str):
    """Text read from a cell; keeps its address so an error can name it."""

    __slots__ = ("address",)

    def __new__(cls, text, address):
        self = super().__new__(cls, text)
        self.address = address
        return self


def is_error(value):
    return isinstance(value, ErrorValue)


def first_error(values):
    return next((v for v in values if isinstance(v, ErrorValue)), None)


def to_number(value):
    """Excel's coercion of an operand to a number, or an :class:`ErrorValue` saying why not."""
    if isinstance(value, ErrorValue):
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
            return ErrorValue("#VALUE!", f"{where}text {str(value)!r} where a number belongs")
    if isinstance(value, list):
        return ErrorValue("#VALUE!", "a range or array where one number belongs")
    return ErrorValue("#VALUE!", f"{value!r} is not a number")
