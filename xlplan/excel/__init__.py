"""Excel-facing helpers: value coercion, the cell error value and the function registry.

Nothing here computes; :mod:`xlplan.udfs` uses these to turn Excel values into
engine arguments and engine results (or errors) back into cell values.
"""
