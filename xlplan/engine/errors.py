"""The exceptions xlplan raises, each mapped to the Excel error value it becomes.

Every message names the argument, the value given and what is allowed, in words
a finance user understands. The Excel layers show ``str(error)`` next to
``error.excel_code`` and never a traceback.
"""

__all__ = [
    "XlplanError",
    "InvalidValueError",
    "UnreachableLossError",
    "InvalidTypeError",
    "ConvergenceError",
]


class XlplanError(Exception):
    """Base class of every error xlplan raises on purpose."""

    excel_code = "#VALUE!"


class InvalidValueError(XlplanError, ValueError):
    """A number outside its allowed range (Excel ``#NUM!``).

    Attributes
    ----------
    argument : str
        Name of the offending argument.
    value : object
        The value given (for arrays, the first offending element).
    positions : list of tuple or None
        For array inputs, the indices of every offending element.
    """

    excel_code = "#NUM!"

    def __init__(self, message, argument=None, value=None, positions=None):
        super().__init__(message)
        self.argument = argument
        self.value = value
        self.positions = positions


class UnreachableLossError(InvalidValueError):
    """A target loss at or below the law's irreducible loss E."""


class InvalidTypeError(XlplanError, TypeError):
    """Wrong type or shape, or an unknown preset name (Excel ``#VALUE!``)."""

    excel_code = "#VALUE!"

    def __init__(self, message, argument=None, value=None):
        super().__init__(message)
        self.argument = argument
        self.value = value


class ConvergenceError(XlplanError, RuntimeError):
    """A solver that did not converge; never returned as a silent best guess."""

    excel_code = "#NUM!"
