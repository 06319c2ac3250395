"""One description per Excel function, read by every route.

:func:`excel_function` turns a plain function of Excel values into an Excel
function: it records a :class:`FunctionSpec` (name, one-line description taken
from the docstring, argument help, optional flags, result columns) in
:data:`FUNCTIONS`, applies xlwings' open-source UDF decorators from the same
text when xlwings loads the functions, and makes errors come back as a
:class:`~xlplan.excel.cell_error.CellError` value instead of an exception, as in
a worksheet. The add-in's metadata JSON is
generated from :data:`FUNCTIONS` (see :mod:`xlplan.server.metadata`).
"""

import functools
import inspect
import sys
from dataclasses import dataclass, field

from ..engine.args import raise_collected
from ..engine.errors import XlplanError
from . import limits
from .cell_error import CellError, cell_error

__all__ = [
    "Param",
    "FunctionSpec",
    "FUNCTIONS",
    "excel_function",
    "CATEGORY",
    "NAMESPACE",
    "office_name",
]

CATEGORY = "xlplan"
# Office add-ins (ours, and xlwings Lite's with xlplan.lite) show XLPLAN.OPT_PARAMS.
NAMESPACE = "XLPLAN"


def office_name(name):
    """The name an Office add-in registers under the namespace: XLPLAN_HARDWARE is
    XLPLAN.HARDWARE there, not XLPLAN.XLPLAN_HARDWARE (the Python name keeps its prefix)."""
    prefix = f"{NAMESPACE}_"
    return name[len(prefix) :] if name.startswith(prefix) else name


@dataclass(frozen=True)
class Param:
    """One argument: its help text, whether it may be omitted, whether it takes a range.

    ``convert`` turns the Excel value into the engine's argument, ``convert(name,
    value)``, as xlwings' ``@xw.arg`` converters do; None passes the value as it is.
    """

    name: str
    help: str
    optional: bool = False
    range: bool = False
    convert: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class FunctionSpec:
    """An Excel function: ``result`` names the columns of a 1xk answer, () for one number.

    ``slow`` marks functions the server runs in its worker processes with a time limit.
    ``result_shape(args)`` is the (rows, columns) its answer to ``args`` would have
    (see :mod:`xlplan.excel.limits`), known before it computes.
    """

    name: str
    description: str
    params: tuple
    result: tuple
    slow: bool
    func: object
    result_shape: object = None

    @property
    def max_args(self):
        return len(self.params)

    @property
    def min_args(self):
        return sum(not p.optional for p in self.params)


FUNCTIONS = {}

# Engine argument names that the Excel functions spell differently: a message must
# name the argument the user typed.
_EXCEL_NAMES = {"inference_tokens": "inf_tokens"}


def _unexpected(name, error):
    """The cell error of an exception xlplan did not raise on purpose (the last line of
    defence): arithmetic blowing up is a number out of range, anything else a bad value."""
    code = "#NUM!" if isinstance(error, ArithmeticError) else "#VALUE!"
    detail = str(error)[:200] or type(error).__name__
    what = (
        "the inputs are out of any meaningful range"
        if code == "#NUM!"
        else "check the arguments' types and shapes"
    )
    return CellError(code, f"{name} cannot compute this ({type(error).__name__}: {detail}): {what}")


def _catching(func, bound):
    """``func`` answering errors as cells, and refusing an answer over the cell limit
    (``bound``, a :class:`~xlplan.excel.limits.ResultBound`)."""
    name = func.__name__

    @functools.wraps(func)
    def cell_function(*args):
        too_big = bound.refusal(args)
        if too_big is not None:  # before computing anything
            return too_big
        try:
            value = func(*args)
        except XlplanError as error:
            return cell_error(error, _EXCEL_NAMES)
        except Exception as error:
            return _unexpected(name, error)
        return bound.checked(value)

    return cell_function


_NO_BLANK = object()


def _blank(param):
    """What an omitted argument converts to (its default), or _NO_BLANK when required."""
    if param.convert is None or not param.optional:
        return _NO_BLANK
    try:
        return param.convert(param.name, None)
    except XlplanError:
        return _NO_BLANK


def _converting(func, params):
    """``func`` called with every argument converted; all bad arguments in one error.

    A float given to a numeric converter passes as it is: one cell costs a type test.
    """
    converters = tuple(p.convert for p in params)
    if all(c is None for c in converters):
        return func
    count = len(params)
    padding = (None,) * count
    # (position, name, converter, takes a float as it is, blank value): arguments with
    # no converter pass as they are
    plan = tuple(
        (i, p.name, p.convert, getattr(p.convert, "numeric", False), _blank(p))
        for i, p in enumerate(params)
        if p.convert is not None
    )

    @functools.wraps(func)
    def converted(*args):
        if len(args) > count:
            return func(*args)  # Python's own TypeError, shown as #VALUE!
        values = [*args, *padding[len(args) :]]
        errors = None
        for i, name, convert, numeric, blank in plan:
            value = values[i]
            if value is None:
                if blank is not _NO_BLANK:
                    values[i] = blank
                    continue
            elif numeric and type(value) is float:
                continue
            try:
                values[i] = convert(name, value)
            except XlplanError as error:
                errors = (errors or []) + [(i, error)]
        if errors:
            raise_collected(errors)
        return func(*values)

    return converted


def _xlwings_decorated(wrapped, params):
    """``wrapped`` with xlwings' UDF decorators, when xlwings is the one importing xlplan.

    xlwings' desktop route (``UDF MODULES = xlplan.udfs``) imports xlwings and then
    this module, and reads what its decorators store on each function. No other route
    reads them, so the server, the evaluator and scripts skip importing xlwings, which
    pulls in pandas (about 0.2 s).
    """
    xw = sys.modules.get("xlwings")
    if xw is None:
        return wrapped
    for p in params:
        options = {"ndim": 2} if p.range else {}
        wrapped = xw.arg(p.name, doc=p.help, **options)(wrapped)
    return xw.func(category=CATEGORY)(wrapped)


def _check_signature(func, params):
    names = list(inspect.signature(func).parameters)
    if names != [p.name for p in params]:
        raise TypeError(
            f"{func.__name__}: params {[p.name for p in params]} do not match the signature {names}"
        )


def excel_function(*params, result=(), slow=False):
    """Register ``func`` (named as in Excel) with argument help ``params`` (:class:`Param`)."""

    def decorate(func):
        _check_signature(func, params)
        description = inspect.getdoc(func).splitlines()[0]
        bound = limits.ResultBound(func.__name__, [p.name for p in params], result)
        wrapped = _catching(_converting(func, params), bound)
        wrapped.__doc__ = description  # xlwings shows the docstring in the function wizard
        wrapped = _xlwings_decorated(wrapped, params)
        FUNCTIONS[func.__name__] = FunctionSpec(
            func.__name__, description, tuple(params), tuple(result), slow, wrapped, bound.shape
        )
        return wrapped

    return decorate
