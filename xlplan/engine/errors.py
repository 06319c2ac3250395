"""The exceptions xlplan raises on purpose.

Every message names the argument, the value given and what is allowed, in words
a finance user understands. A message names its argument through the
placeholder ``{argument}`` (and ``{argument}=`` for "name=value"), filled in
from :attr:`XlplanError.argument` when the error is shown. A face that spells
an argument differently (``inf_tokens`` in Excel, ``--loss-col`` on the command
line) shows the same error under its own name with :meth:`XlplanError.renamed`;
no face edits message text. Which Excel error value each exception becomes is
the Excel layer's business (:mod:`xlplan.excel.cell_error`).
"""

import copy

__all__ = [
    "XlplanError",
    "InvalidValueError",
    "UnreachableLossError",
    "InvalidTypeError",
    "ConvergenceError",
]

PLACEHOLDER = "{argument}"


class XlplanError(Exception):
    """Base class of every error xlplan raises on purpose.

    Attributes
    ----------
    template : str
        The message, with ``{argument}`` where the argument's name goes.
    argument : str or None
        Name of the offending argument.
    value : object
        The value given (for arrays, the first offending element).

    Examples
    --------
    >>> error = XlplanError("{argument}=-1 is out of range", argument="inference_tokens")
    >>> str(error)
    'inference_tokens=-1 is out of range'
    >>> str(error.renamed("inf_tokens")), str(error.renamed("--demand", " "))
    ('inf_tokens=-1 is out of range', '--demand -1 is out of range')
    """

    def __init__(self, message, argument=None, value=None):
        super().__init__(message)
        self.template = message
        self.argument = argument
        self.value = value
        self.assign = "="

    def __str__(self):
        if self.argument is None:
            return self.template
        return self.template.replace(PLACEHOLDER + "=", self.argument + self.assign).replace(
            PLACEHOLDER, self.argument
        )

    def renamed(self, name, assign="="):
        """The same error naming its argument ``name``, with ``assign`` between name and value."""
        other = copy.copy(self)
        other.argument, other.assign = name, assign
        return other


class InvalidValueError(XlplanError, ValueError):
    """A number outside its allowed range (Excel ``#NUM!``).

    Attributes
    ----------
    positions : list of tuple or None
        For array inputs, the indices of every offending element.
    """

    def __init__(self, message, argument=None, value=None, positions=None):
        super().__init__(message, argument, value)
        self.positions = positions


class UnreachableLossError(InvalidValueError):
    """A target loss at or below the law's irreducible loss E."""


class InvalidTypeError(XlplanError, TypeError):
    """Wrong type or shape, or an unknown preset name (Excel ``#VALUE!``)."""


class ConvergenceError(XlplanError, RuntimeError):
    """A solver that did not converge; never returned as a silent best guess."""
