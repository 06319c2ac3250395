"""The error value an Excel function returns instead of raising.

A :class:`CellError` is a ``str`` (so xlwings writes it into the cell as
``"#NUM! loss=1.5 is out of range ..."`` rather than a Python traceback) that
also carries the bare Excel code and the message, which the add-in server and
formula engines turn into a real ``#NUM!`` / ``#VALUE!`` error value.
"""

from ..engine.errors import XlplanError

__all__ = ["CellError", "EXCEL_CODES"]

# The Excel error values xlplan produces.
EXCEL_CODES = ("#NUM!", "#VALUE!", "#N/A")


class CellError(str):
    """An Excel error value with a message; ``str(err) == f"{code} {message}"``."""

    __slots__ = ("code", "message")

    def __new__(cls, code, message):
        if code not in EXCEL_CODES:
            raise ValueError(f"code={code!r} must be one of {EXCEL_CODES}")
        self = super().__new__(cls, f"{code} {message}")
        self.code = code
        self.message = message
        return self

    @classmethod
    def from_exception(cls, error: XlplanError):
        return cls(error.excel_code, str(error))

    def __reduce__(self):  # pickled by code and message, e.g. back from a worker process
        return (CellError, (self.code, self.message))

    def __repr__(self):
        return f"CellError({self.code!r}, {self.message!r})"
