"""xlplan's Excel functions in xlwings Lite: ``from xlplan.lite import *`` in ``main.py``.

xlwings Lite runs Python inside Excel (Pyodide, on Windows, Mac and the web) and
registers every function of ``main.py`` that carries its ``@func`` mark. This
module builds one such function per entry of the registry
(:data:`xlplan.excel.registry.FUNCTIONS`, filled by importing :mod:`xlplan.udfs`),
so every xlplan Excel function, including ones added later, appears with the
same name, parameters, defaults, help text and results as on the other routes:

* the namespace is ``XLPLAN`` (``__xlwings_func_namespace__`` below, read from the
  module that defines each function), so cells read ``=XLPLAN.OPT_PARAMS(2.1, 1e13)``
  exactly as with xlplan's own Office add-in;
* range arguments arrive as 2-D lists (``ndim=2``), as in the desktop route;
* a 1xk or n x k result is a list of rows, which spills;
* a preset-name argument (``XLPLAN_LAW``, ``XLPLAN_HARDWARE``) is typed
  ``Literal[...]`` of the preset names, which Lite offers as a dropdown;
* bad input raises :class:`ExcelFunctionError`, whose text is our message with the
  Excel code in front (``"#NUM! loss=1.5 is out of range ..."``); xlwings shows a
  raised exception as ``#VALUE!`` with that text on the cell's error flag.

Lite's argument rules hold by construction: every parameter is positional (no
keyword-only argument, no ``*args``), and optional ones come last.

Outside Lite (desktop Python, tests) ``xlwings.func`` and ``xlwings.arg`` are the
open-source package's no-op decorators, so importing this module is harmless.
"""

import inspect
from typing import Literal

from xlwings import arg, func

from . import udfs  # noqa: F401  (fills FUNCTIONS)
from .engine.hardware import HARDWARE_PRESETS
from .engine.laws import LAW_PRESETS
from .excel.cell_error import CellError
from .excel.registry import FUNCTIONS, NAMESPACE, office_name

__xlwings_func_namespace__ = NAMESPACE

# Arguments that take only a preset name: Lite turns Literal[...] into a dropdown
# (an Office custom enum). Arguments that also take a range of coefficients (law=,
# hardware= elsewhere) stay untyped: an enum argument would refuse the range.
PRESET_CHOICES = {
    ("XLPLAN_LAW", "name"): tuple(LAW_PRESETS),
    ("XLPLAN_HARDWARE", "name"): tuple(HARDWARE_PRESETS),
}


class ExcelFunctionError(ValueError):
    """A bad input, raised for Lite to show on the cell: ``str()`` is ``"<code> <message>"``."""

    def __init__(self, error):
        super().__init__(str(error))
        self.code = error.code
        self.message = error.message


def _annotations(spec):
    return {
        p.name: Literal[PRESET_CHOICES[spec.name, p.name]]
        for p in spec.params
        if (spec.name, p.name) in PRESET_CHOICES
    }


def _lite_function(spec):
    """A function named, documented and shaped like ``spec.func``, raising its errors."""
    call = spec.func

    def lite_function(*args):
        result = call(*args)
        if isinstance(result, CellError):
            raise ExcelFunctionError(result)
        return result

    # *args above only forwards; Lite and inspect read this signature: the Excel
    # function's own positional parameters and defaults.
    signature = inspect.signature(call)
    lite_function.__signature__ = signature.replace(return_annotation=inspect.Signature.empty)
    # Lite registers NAMESPACE.__name__: XLPLAN.HARDWARE, as the add-in does
    lite_function.__name__ = lite_function.__qualname__ = office_name(spec.name)
    lite_function.__module__ = __name__  # Lite reads the namespace from this module
    lite_function.__doc__ = spec.description
    lite_function.__annotations__ = _annotations(spec)
    for p in reversed(spec.params):
        options = {"ndim": 2} if p.range else {}
        lite_function = arg(p.name, doc=p.help, **options)(lite_function)
    return func(lite_function)


def _build():
    """Each function under its Office name (what Lite registers and calls back by name,
    XLPLAN.HARDWARE) and, for Python callers, its Python name (XLPLAN_HARDWARE) too."""
    functions = {name: _lite_function(spec) for name, spec in FUNCTIONS.items()}
    globals().update(functions)
    globals().update({office_name(name): f for name, f in functions.items()})
    return sorted(office_name(name) for name in functions)


__all__ = _build()  # noqa: PLE0605 (built from the registry: every function, once)
