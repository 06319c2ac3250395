"""Excel error values, and which one each engine exception becomes.

A :class:`CellError` is a ``str`` (so xlwings writes it into the cell as
``"#NUM! loss=1.5 is out of range ..."`` rather than a Python traceback) that
also carries the bare Excel code and the message, which the add-in server and
the formula evaluator turn into a real ``#NUM!`` / ``#VALUE!`` error value.
The evaluator uses the same class for every error a formula can produce.

The engine's exceptions know nothing of Excel; :func:`excel_code` maps them here.
"""

from ..engine.errors import ConvergenceError, InvalidValueError, XlplanError

__all__ = ["CellError", "EXCEL_CODES", "excel_code", "cell_error"]

# Excel's error values, plus "#CIRC!", which the formula evaluator writes for a circular
# reference (Excel warns instead of showing a value).
EXCEL_CODES = (
    "#NULL!",
    "#DIV/0!",
    "#VALUE!",
    "#REF!",
    "#NAME?",
    "#NUM!",
    "#N/A",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
    "#CIRC!",
)

# First match wins, so subclasses come before their bases: a number out of range or a
# solver that failed is #NUM!; a wrong type, shape or name (and anything else) is #VALUE!.
_CODES = ((InvalidValueError, "#NUM!"), (ConvergenceError, "#NUM!"), (XlplanError, "#VALUE!"))


class CellError(str):
    """An Excel error value with a message; ``str(err) == f"{code} {message}"``."""

    __slots__ = ("code", "message")

    def __new__(cls, code, message=""):
        if code not in EXCEL_CODES:
            raise ValueError(f"code={code!r} must be one of {EXCEL_CODES}")
        self = super().__new__(cls, f"{code} {message}" if message else code)
        self.code = code
        self.message = message
        return self

    def __reduce__(self):  # pickled by code and message, e.g. back from a worker process
        return (CellError, (self.code, self.message))

    def __repr__(self):
        return f"CellError({self.code!r}, {self.message!r})"


def excel_code(error):
    """The Excel error value (``"#NUM!"`` or ``"#VALUE!"``) an engine exception becomes."""
    return next(code for kind, code in _CODES if isinstance(error, kind))


def cell_error(error, names=None):
    """The :class:`CellError` of an engine exception, naming its argument as Excel does.

    ``names`` maps engine argument names to the names the Excel function uses.
    """
    parts = getattr(error, "parts", None) or [error]  # several bad arguments at once
    return CellError(
        excel_code(error), "; ".join(str(_renamed(part, names or {})) for part in parts)
    )


def _renamed(error, names):
    excel_name = names.get(error.argument)
    return error if excel_name is None else error.renamed(excel_name)
