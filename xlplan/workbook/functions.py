"""The functions a formula can call: xlplan's (from :mod:`xlplan.udfs`) and a few of Excel's.

Arguments arrive evaluated: numbers, text, ``None`` for blank, 2-D lists for
ranges and arrays, :class:`~.values.CellError` for errors. ``IF`` and
``IFERROR`` are lazy and live in the evaluator.
"""

import decimal
import inspect
import math

from .. import udfs
from ..excel.cell_error import CellError
from .values import CellText, first_error, to_number

__all__ = ["FUNCTIONS", "call", "known", "check_arguments", "excel_round"]


def _flat(args):
    for arg in args:
        if isinstance(arg, list):
            yield from (v for row in arg for v in row)
        else:
            yield arg


def _numbers_in(args):
    """Numbers for SUM/MIN/MAX/AVERAGE: like Excel, text and blanks inside ranges are skipped."""
    values = []
    for arg in args:
        if isinstance(arg, list):
            values += [
                v
                for row in arg
                for v in row
                if isinstance(v, (CellError, int, float)) and not isinstance(v, bool)
            ]
        else:
            values.append(to_number(arg))
    return values


def _aggregate(reduce):
    def function(*args):
        values = _numbers_in(args)
        return first_error(values) or reduce(values)

    return function


def _average(values):
    return sum(values) / len(values) if values else CellError("#DIV/0!", "AVERAGE of nothing")


def _unary(math_function):
    def function(value):
        number = to_number(value)
        if isinstance(number, CellError):
            return number
        try:
            return float(math_function(number))
        except (ValueError, OverflowError):
            return CellError("#NUM!", f"{math_function.__name__}({number!r}) is undefined")

    return function


def _index(array, row, column=None):
    if isinstance(array, CellError):  # as Excel: INDEX of an error is that error
        return array
    table = array if isinstance(array, list) else [[array]]
    row_n, column_n = to_number(row), to_number(1 if column is None else column)
    error = first_error([row_n, column_n])
    if error:
        return error
    if column is None and len(table) == 1:  # INDEX(one row, n) picks the n-th column
        row_n, column_n = 1.0, row_n
    r, c = int(row_n), int(column_n)
    if not (1 <= r <= len(table) and 1 <= c <= len(table[0])):
        return CellError(
            "#REF!", f"INDEX({r}, {c}) is outside a {len(table)}x{len(table[0])} array"
        )
    return table[r - 1][c - 1]


# Decimal digits that can matter when rounding a double: its shortest repr has at most
# 17 significant digits and exponents from -324 to 308.
_MAX_PLACES = 400
_EXACT = decimal.Context(prec=2 * _MAX_PLACES, rounding=decimal.ROUND_HALF_UP)


def excel_round(number, places, rounding=decimal.ROUND_HALF_UP):
    """Excel's ROUND: half away from zero, on the number as Excel shows it.

    ``rounding=decimal.ROUND_UP`` is Excel's ROUNDUP (away from zero).

    Python's ``round`` rounds half to even on the binary value (2.5 -> 2,
    0.125 -> 0.12, since 0.125 is exact and 2.675 is stored below 2.675).
    Excel rounds the shortest decimal that reads back as the double (its
    ``repr``), so ROUND(2.5, 0) = 3, ROUND(0.125, 2) = 0.13, ROUND(2.675, 2) = 2.68.
    ``places`` is truncated to a whole number; a negative one rounds left of the point.
    """
    places = max(-_MAX_PLACES, min(_MAX_PLACES, int(places)))
    if not math.isfinite(number):
        return number
    exact = decimal.Decimal(repr(number))
    step = decimal.Decimal(1).scaleb(-places)
    rounded = float(exact.quantize(step, rounding=rounding, context=_EXACT))
    return rounded + 0.0  # -0.0 (e.g. ROUND(-0.4, 0)) shows as 0, as in Excel


def _round(value, digits=0):
    number, places = to_number(value), to_number(digits)
    return first_error([number, places]) or excel_round(number, places)


def _roundup(value, digits=0):
    """Excel's ROUNDUP: away from zero (ROUNDUP(-1.2, 0) = -2), on the number as shown."""
    number, places = to_number(value), to_number(digits)
    return first_error([number, places]) or excel_round(number, places, decimal.ROUND_UP)


def _npv(rate, *values):
    """Excel's NPV: the i-th number (in order, ranges row by row) over (1 + rate)**i."""
    rate_n, numbers = to_number(rate), _numbers_in(values)
    error = first_error([rate_n, *numbers])
    if error:
        return error
    if rate_n == -1.0:
        return CellError("#DIV/0!", "NPV with rate -1 divides by zero")
    try:
        return sum(v / (1.0 + rate_n) ** i for i, v in enumerate(numbers, start=1))
    except (OverflowError, ZeroDivisionError):
        return CellError("#NUM!", f"NPV at rate {rate_n!r} overflows")


FUNCTIONS = {
    "INDEX": _index,
    "NPV": _npv,
    "ISBLANK": lambda value: value is None,
    # COUNT: how many numbers (TRUE/FALSE and text inside ranges do not count, as in Excel).
    "COUNT": lambda *args: float(
        sum(isinstance(v, (int, float)) and not isinstance(v, bool) for v in _flat(args))
    ),
    "SUM": _aggregate(sum),
    "MIN": _aggregate(lambda v: min(v) if v else 0.0),
    "MAX": _aggregate(lambda v: max(v) if v else 0.0),
    "AVERAGE": _aggregate(_average),
    "ROUND": _round,
    "ROUNDUP": _roundup,
    "ABS": _unary(abs),
    "LN": _unary(math.log),
    "EXP": _unary(math.exp),
    "LOG10": _unary(math.log10),
    "SQRT": _unary(math.sqrt),
}
XLPLAN_FUNCTIONS = {name: getattr(udfs, name) for name in udfs.FUNCTIONS}


def _plain(value):
    """What :mod:`xlplan.udfs` expects: plain str, 2-D lists, blanks as None."""
    if isinstance(value, CellError):
        return value
    if isinstance(value, list):
        return [[_plain(v) for v in row] for row in value]
    return str(value) if isinstance(value, str) else value


def _call_xlplan(name, args):
    error = first_error(_flat(args))
    if error:
        return error
    result = XLPLAN_FUNCTIONS[name](*[_plain(a) for a in args])
    if isinstance(result, CellError):
        # Name the cell behind a text argument the function rejected.
        texts = sorted(
            {
                f"{v.address} holds {str(v)!r}"
                for v in _flat(args)
                if isinstance(v, CellText) and repr(str(v)) in result.message
            }
        )
        where = f" ({'; '.join(texts)})" if texts and result.code == "#VALUE!" else ""
        return CellError(result.code, f"{name}: {result.message}{where}")
    return result


def known(name):
    """True when a formula may call ``name`` (IF and IFERROR live in the evaluator)."""
    return name in XLPLAN_FUNCTIONS or name in FUNCTIONS


def check_arguments(name, args):
    """``None`` if ``name`` takes this many arguments, else a message saying what it takes."""
    function = XLPLAN_FUNCTIONS.get(name) or FUNCTIONS[name]
    try:
        inspect.signature(function).bind(*args)
    except TypeError:
        return f"{name} does not take {len(args)} argument(s)"
    return None


def call(name, args):
    """Result of the known function ``name`` (see :func:`known`) on evaluated ``args``."""
    if name in XLPLAN_FUNCTIONS:
        return _call_xlplan(name, args)
    return FUNCTIONS[name](*args)
