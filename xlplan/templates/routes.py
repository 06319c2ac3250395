"""One template, two routes: the function names each Excel route stores in the file.

* ``desktop`` (xlwings add-in, Excel for Windows): plain names, ``OPT_PARAMS(``.
* ``addin`` (xlplan's Office add-in, and xlwings Lite with ``xlplan.lite``): the
  functions are Office custom functions named ``XLPLAN.OPT_PARAMS``, and Excel
  writes such a call into the .xlsx as ``_xldudf_XLPLAN_OPT_PARAMS(``: the prefix
  ``_xldudf_`` marks a JavaScript custom function, and the namespace's dot becomes an
  underscore (seen in workbooks Excel saved: ``_xldudf_CX_GET(...)`` for the
  function ``CX.GET``; OfficeDev/office-js issues #5611 and #108). Written as
  ``XLPLAN.OPT_PARAMS(`` instead, Excel would not link the cell to the add-in and the
  cell would stay uncalculated (office-js issue #108).

The formulas are rewritten token by token (openpyxl's tokenizer), so text inside
strings and sheet names is never touched.
"""

from openpyxl.formula.tokenizer import Token, Tokenizer

from .. import udfs  # noqa: F401  (fills FUNCTIONS)
from ..excel.registry import FUNCTIONS, NAMESPACE, office_name

__all__ = ["ROUTES", "ADDIN_PREFIX", "stored_name", "route_formula", "to_route"]

# route -> sub-directory of the templates' directory ("" = the directory itself, as before)
ROUTES = {"desktop": "", "addin": "addin"}
ADDIN_PREFIX = f"_xldudf_{NAMESPACE}_"


def stored_name(name, route):
    """How ``route``'s Excel stores a call of xlplan's function ``name`` in a file (the
    add-in's XLPLAN.HARDWARE, Python's XLPLAN_HARDWARE, as _xldudf_XLPLAN_HARDWARE)."""
    return ADDIN_PREFIX + office_name(name) if route == "addin" else name


def route_formula(formula, route):
    """``formula`` (plain names) with every xlplan function call written for ``route``."""
    if route == "desktop" or not isinstance(formula, str) or not formula.startswith("="):
        return formula
    parts = ["="]
    for token in Tokenizer(formula).items:
        value = token.value
        if (
            token.type == Token.FUNC
            and token.subtype == Token.OPEN
            and value[:-1].upper() in FUNCTIONS
        ):
            value = stored_name(value[:-1].upper(), route) + "("
        parts.append(value)
    return "".join(parts)


def to_route(workbook, route):
    """Rewrite every formula cell of an openpyxl ``workbook`` in place for ``route``."""
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.value = route_formula(cell.value, route)
    return workbook
