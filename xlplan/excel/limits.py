"""How many cells one Excel function may answer, checked before it computes anything.

Most functions answer a fixed 1xk row; a few grow with their arguments
(``REGRET_TABLE`` answers k x (k+1) cells for k scenarios, ``CASHFLOW`` (months+1)
x 6 plus its months before launch on a calendar, ``DEMAND_RAMP`` months x 1). A
request of a few kilobytes could otherwise ask for gigabytes of answer.
:data:`ESTIMATORS` declares, per function, the shape of its answer from its
arguments, and :func:`refusal` turns an answer over the limit into a ``#VALUE!``
cell error naming the size and the limit, before the function
runs. The limit is :data:`MAX_RESULT_CELLS` (which a desktop set-up may change) unless
a route sets another for the calls it makes (:func:`result_limit`; ``xlplan serve
--max-result-cells``).

Every cell of an answer is a finite float, at most :data:`BYTES_PER_CELL` bytes of
JSON, so the cell limit bounds the bytes too (100,000 cells: about 2.5 MB).

>>> estimate = estimator("REGRET_TABLE", ("loss", "requests_scenarios"), ())
>>> estimate((2.1, [[1e9, 1e10, 1e11]]))
(3, 4)
>>> refusal("REGRET_TABLE", estimate, (2.1, [list(range(1, 4001))])).message[:62]
'REGRET_TABLE: the result would be 16,004,000 cells (4000 x 400'
"""

import contextlib
import contextvars
import math

from ..engine.deploy.training import training_months, training_time
from .cell_error import CellError

__all__ = [
    "MAX_RESULT_CELLS",
    "BYTES_PER_CELL",
    "ESTIMATORS",
    "estimator",
    "cell_count",
    "result_limit",
    "current_limit",
    "refusal",
    "oversized",
    "shape",
    "ResultBound",
    "estimated_shape",
]

# Most cells one call may answer: a 315 x 316 table, about 2.5 MB of JSON; any fixed-shape
# function answers at most 10, CASHFLOW of 1,200 months 7,206.
MAX_RESULT_CELLS = 100_000
# Longest JSON text of one finite float ("-2.2250738585072014e-308") and its comma.
BYTES_PER_CELL = 25

# Set by result_limit() for the calls of one block; unset, MAX_RESULT_CELLS as it is then
# (so a desktop set-up may change the module's value).
_LIMIT = contextvars.ContextVar("xlplan_max_result_cells")


def cell_count(value):
    """Cells of an Excel value: 1 for a scalar, the sum of row lengths for a range."""
    if isinstance(value, (list, tuple)):
        return sum(len(r) if isinstance(r, (list, tuple)) else 1 for r in value)
    return 1


# Largest count an estimate reports, so a message about months=1E300 stays short.
_LARGEST_COUNT = 10**15


def _whole(value):
    """A positive whole count from one cell (a number or numeric text), or 1 if none."""
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return 1
    return max(1, min(math.ceil(number), _LARGEST_COUNT)) if math.isfinite(number) else 1


def _cell(value):
    while isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _months_before_launch(a):
    """CASHFLOW's calendar months before serving: the deadline's, else the training run's
    (0 without a calendar); the engine refuses a run past 1,200 months."""
    gpus, deadline = _cell(a.get("gpus")), _cell(a.get("deadline_days"))
    if gpus is None and deadline is None:
        return 0
    if deadline is None:
        params, tokens, hardware = (_cell(a[k]) for k in ("params", "tokens", "hardware"))
        deadline = training_time(float(params), float(tokens), float(gpus), hardware).days
    return int(min(training_months(float(deadline))[1], 1200))


# Shape (rows, columns) of each function's answer whose size depends on its arguments,
# from the arguments by name (missing ones are None). Every other function answers
# one row of its declared result columns (one cell if it declares none).
ESTIMATORS = {
    "REGRET_TABLE": lambda a: (
        cell_count(a["requests_scenarios"]),
        cell_count(a["requests_scenarios"]) + 1,
    ),
    "DEMAND_RAMP": lambda a: (_whole(a["months"]), 1),
    "CASHFLOW": lambda a: (cell_count(a["requests_by_month"]) + 1 + _months_before_launch(a), 6),
    "PLAN_INTERVAL": lambda a: (3, 3),
}


def estimator(name, param_names, result):
    """``estimate(args) -> (rows, columns)`` of function ``name``'s answer to ``args``."""
    declared = ESTIMATORS.get(name)
    if declared is None:
        fixed = (1, max(1, len(result)))
        return lambda args: fixed

    def estimate(args):
        named = dict.fromkeys(param_names)
        named.update(zip(param_names, args, strict=False))
        return declared(named)

    return estimate


def current_limit():
    """The most cells a call may answer here (see :func:`result_limit`)."""
    return _LIMIT.get(MAX_RESULT_CELLS)


@contextlib.contextmanager
def result_limit(cells):
    """Within this block (this thread or task), calls may answer at most ``cells`` cells."""
    token = _LIMIT.set(int(cells))
    try:
        yield
    finally:
        _LIMIT.reset(token)


def oversized(name, rows, columns, limit=None):
    """The ``#VALUE!`` error of an answer of ``rows x columns`` over the limit, or None."""
    limit = current_limit() if limit is None else limit
    cells = rows * columns
    if cells <= limit:
        return None
    return CellError(
        "#VALUE!",
        f"{name}: the result would be {cells:,} cells ({rows} x "
        f"{columns}), more than the limit of {limit:,} cells: ask for a smaller "
        "table (fewer scenarios or months)",
    )


def shape(value):
    """(rows, columns) of a function's answer: a number is 1 x 1, a list of rows r x c."""
    if isinstance(value, list) and all(isinstance(r, list) for r in value):
        return len(value), max((len(r) for r in value), default=0)
    return 1, 1


def estimated_shape(estimate, args):
    """``estimate(args)``, or None for arguments too malformed to tell (the function
    will refuse them with its own error)."""
    try:
        return estimate(tuple(args))
    except Exception:
        return None


def refusal(name, estimate, args, limit=None):
    """:func:`oversized` for the answer ``estimate`` expects from ``args``; None if it
    fits or cannot be estimated."""
    expected = estimated_shape(estimate, args)
    return None if expected is None else oversized(name, *expected, limit)


class ResultBound:
    """The answer-size check of one Excel function, for the wrapper every route calls.

    ``refusal(args)`` before it computes (None, or the ``#VALUE!`` to answer instead);
    ``checked(value)`` after, for the functions whose answer grows (an estimator that
    fell short still cannot let a larger answer out). A fixed-shape function costs one
    comparison.
    """

    def __init__(self, name, param_names, result):
        self.name = name
        self.shape = estimator(name, list(param_names), result)
        self.fixed = None if name in ESTIMATORS else max(1, len(result))

    def refusal(self, args):
        if self.fixed is None:
            return refusal(self.name, self.shape, args)
        if self.fixed <= _LIMIT.get(MAX_RESULT_CELLS):
            return None
        return oversized(self.name, 1, self.fixed)

    def checked(self, value):
        if self.fixed is not None:
            return value
        return oversized(self.name, *shape(value)) or value
