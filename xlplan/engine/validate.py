"""Normalising and checking inputs, once, at the top of each public function.

The one home of xlplan's input checks: the engine, the fitter and the faces all
call these, so a rule and its message are written once. Messages name the
argument through the ``{argument}`` placeholder of
:class:`~xlplan.engine.errors.XlplanError`, so a face can rename it.

Scalars stay Python floats (so a single Excel cell takes the cheap ``math``
path); anything array-like becomes a float64 ``ndarray``.

Bad elements of an array are handled by the caller's ``on_invalid`` choice:

``"raise"`` (default)
    raise :class:`~xlplan.engine.errors.InvalidValueError` listing every bad position;
``"nan"``
    replace the bad elements by NaN so they come out as NaN while every other
    element is computed normally; the caller reports a ``valid`` mask.
"""

import math
import numbers

import numpy as np

from .errors import PLACEHOLDER, InvalidTypeError, InvalidValueError

__all__ = [
    "is_scalar",
    "number",
    "scalar",
    "whole_number",
    "coerce_float",
    "check_on_invalid",
    "valid_mask",
    "ON_INVALID",
]

ON_INVALID = ("raise", "nan")
_MAX_LISTED = 5


def _range_text(low, low_open, high, high_open):
    if high == math.inf:
        return f"a finite number {'>' if low_open else '>='} {low:g}"
    left = "(" if low_open else "["
    right = ")" if high_open else "]"
    return f"a number in {left}{low:g}, {high:g}{right}"


def _in_range(x, low, low_open, high, high_open):
    return (
        math.isfinite(x)
        and (x > low if low_open else x >= low)
        and (x < high if high_open else x <= high)
    )


def _as_float(value):
    """float(value), with integers past the float range (a 400-digit cell) as +-inf,
    so they fail the range check like any other too-large number."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def is_scalar(value):
    """True for a Python or numpy real number (not a 0-d or larger array)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def number(
    name, value, *, low=0.0, low_open=True, high=math.inf, high_open=False, on_invalid="raise"
):
    """Check that ``value`` (scalar or array) lies in the range; return it as float(s).

    Parameters
    ----------
    name : str
        Argument name used in messages.
    value : float or array_like
    low, high : float
        Bounds of the allowed range.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    on_invalid : {"raise", "nan"}

    Returns
    -------
    float or ndarray
        ``value`` as a float or float64 array; with ``on_invalid="nan"`` bad
        elements are NaN.
    """
    if type(value) is float and _in_range(value, low, low_open, high, high_open):
        return value  # the common case of one cell: no further checks
    allowed = _range_text(low, low_open, high, high_open)
    if is_scalar(value):
        x = _as_float(value)
        if _in_range(x, low, low_open, high, high_open):
            return x
        if on_invalid == "nan":
            return math.nan
        raise InvalidValueError(
            f"{PLACEHOLDER}={x:g} is out of range: it must be {allowed}", argument=name, value=x
        )
    try:
        try:
            arr = np.asarray(value, dtype=np.float64)
        except OverflowError:  # a huge integer element: convert one by one
            arr = np.vectorize(_as_float, otypes=[np.float64])(np.asarray(value, dtype=object))
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={value!r} is not a number or an array of numbers",
            argument=name,
            value=value,
        ) from None
    with np.errstate(invalid="ignore"):
        ok = (
            np.isfinite(arr)
            & ((arr > low) if low_open else (arr >= low))
            & ((arr < high) if high_open else (arr <= high))
        )
    if ok.all():
        return arr
    if on_invalid == "nan":
        return np.where(ok, arr, np.nan)
    bad = np.argwhere(~ok)
    positions = [tuple(int(i) for i in idx) for idx in bad]
    listed = ", ".join(
        f"{PLACEHOLDER}[{', '.join(map(str, p))}]={arr[p]:g}" for p in positions[:_MAX_LISTED]
    )
    more = f" and {len(positions) - _MAX_LISTED} more" if len(positions) > _MAX_LISTED else ""
    raise InvalidValueError(
        f"{len(positions)} element(s) of {PLACEHOLDER} out of range ({listed}{more}): "
        f"each must be {allowed}",
        argument=name,
        value=float(arr[positions[0]]),
        positions=positions,
    )


def scalar(
    name, value, *, low=0.0, low_open=True, high=math.inf, high_open=False, label="", positions=None
):
    """One real number (not TRUE/FALSE, not an array) in the range; returns it as a float.

    ``label`` goes before the name in messages, e.g. ``"law coefficient "`` or
    ``"row 4: "``. Non-numbers raise :class:`InvalidTypeError`, numbers out of
    range :class:`InvalidValueError`.
    """
    if not is_scalar(value):
        raise InvalidTypeError(
            f"{label}{PLACEHOLDER}={value!r} must be a number", argument=name, value=value
        )
    x = _as_float(value)
    if not _in_range(x, low, low_open, high, high_open):
        raise InvalidValueError(
            f"{label}{PLACEHOLDER}={x:g} is out of range: it must be "
            f"{_range_text(low, low_open, high, high_open)}",
            argument=name,
            value=x,
            positions=positions,
        )
    return x


def whole_number(name, value, *, low=0):
    """A whole number (int or numpy integer, not TRUE/FALSE) >= ``low``; returns an int."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InvalidTypeError(
            f"{PLACEHOLDER}={value!r} must be a whole number", argument=name, value=value
        )
    if value < low:
        raise InvalidValueError(
            f"{PLACEHOLDER}={value} is out of range: it must be a whole number >= {low}",
            argument=name,
            value=value,
        )
    return int(value)


def coerce_float(name, value, *, label=""):
    """``float(value)`` for numbers and numeric text; :class:`InvalidTypeError` otherwise."""
    try:
        return _as_float(value)
    except (TypeError, ValueError):
        raise InvalidTypeError(
            f"{label}{PLACEHOLDER}={value!r} is not a number", argument=name, value=value
        ) from None


def check_on_invalid(on_invalid):
    if on_invalid not in ON_INVALID:
        raise InvalidTypeError(
            f"{PLACEHOLDER}={on_invalid!r} must be one of {ON_INVALID}",
            argument="on_invalid",
            value=on_invalid,
        )


def valid_mask(result):
    """Boolean mask of the finite elements of ``result`` (True for a finite scalar)."""
    if isinstance(result, float):
        return math.isfinite(result)
    return np.isfinite(result)
