"""The Excel functions, one module per capability, and what they share.

``sizing_functions`` (the paper's sizing), ``law_functions`` (presets and fits),
``budget_functions``, ``schedule_functions``, ``risk_functions``, ``data_functions``
and ``serving_functions`` hold the functions; :mod:`xlplan.udfs` is their one face.
``registry`` records each function and converts its arguments (declared in ``params``
from the engine's :mod:`xlplan.engine.args`), ``convert`` turns cells into engine
arguments and results into cells, ``cell_error`` turns engine errors into error values.
"""
