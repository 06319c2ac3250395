"""The xlplan Excel functions, under their Excel names.

Each is a plain Python callable taking Excel values (numbers, numeric text,
``None`` or ``""`` for a blank cell, 1-D or 2-D lists for ranges) and returning a
number or a 1xk list of lists (one row, which spills right in Excel). Bad input
never raises: the function returns a :class:`~xlplan.excel.cell_error.CellError`,
a ``str`` such as ``"#NUM! loss=1.5 is out of range ..."`` carrying ``.code``
(``"#NUM!"`` or ``"#VALUE!"``) and ``.message``, like a worksheet error value.

The functions live in :mod:`xlplan.excel`, one module per capability; this module
is their one face: the xlwings UDF module (``UDF MODULES = xlplan.udfs``) and what
``xlplan serve`` calls. :data:`FUNCTIONS` maps each name to its description.

>>> OPT_PARAMS(2.1, "1e12")  # doctest: +ELLIPSIS
[[4780762668.4..., 698163775674.7...]]
>>> OPT_PARAMS(1.5, 1e12).code
'#NUM!'
"""

from .engine import laws  # noqa: F401  (kept for scripts that read udfs.laws)
from .excel.cell_error import CellError
from .excel.registry import FUNCTIONS

# isort: off
# Imported in the order the functions are listed (the add-in's metadata follows it).
from .excel.sizing_functions import (
    SCALING_LOSS,
    CHINCHILLA_MODEL,
    CHINCHILLA_OPT,
    OPT_PARAMS,
    TOTAL_FLOPS,
    COST_OPT,
    LIFETIME_COST,
)
from .excel.law_functions import FIT_COEFFS, XLPLAN_LAW, XLPLAN_HARDWARE, _fitted  # noqa: F401
from .excel.budget_functions import (
    BEST_FOR_FLOPS,
    BEST_FOR_BUDGET,
    LOSS_AT_BUDGET,
    ENERGY_EMISSIONS,
)
from .excel.data_functions import OVERHEAD, CRITICAL_SIZE, EPOCHS
from .excel.risk_functions import REGRET_TABLE, ROBUST_OPT, PLAN_INTERVAL
from .excel.schedule_functions import DEMAND_RAMP, LIFETIME_PV, COST_OPT_PV, CASHFLOW
from .excel.serving_functions import SERVING, GPUS_NEEDED, BREAKEVEN_REQUESTS
from .excel.deploy_functions import (
    MODEL_SHAPE,
    KV_BYTES,
    SERVING_KV,
    MAX_BATCH,
    COST_OPT_KV,
    TRAINING_TIME,
    TRAINING_GPUS,
    TRAINING_MONTHS,
)
from .excel.launch_functions import COST_OPT_LAUNCH
# isort: on

__all__ = [
    "SCALING_LOSS",
    "CHINCHILLA_MODEL",
    "CHINCHILLA_OPT",
    "OPT_PARAMS",
    "TOTAL_FLOPS",
    "COST_OPT",
    "LIFETIME_COST",
    "FIT_COEFFS",
    "XLPLAN_LAW",
    "XLPLAN_HARDWARE",
    "FUNCTIONS",
    "CellError",
    "REGRET_TABLE",
    "ROBUST_OPT",
    "PLAN_INTERVAL",
    "OVERHEAD",
    "CRITICAL_SIZE",
    "EPOCHS",
    "DEMAND_RAMP",
    "LIFETIME_PV",
    "COST_OPT_PV",
    "CASHFLOW",
    "SERVING",
    "GPUS_NEEDED",
    "BREAKEVEN_REQUESTS",
    "BEST_FOR_FLOPS",
    "BEST_FOR_BUDGET",
    "LOSS_AT_BUDGET",
    "ENERGY_EMISSIONS",
    "MODEL_SHAPE",
    "KV_BYTES",
    "SERVING_KV",
    "MAX_BATCH",
    "COST_OPT_KV",
    "TRAINING_TIME",
    "TRAINING_GPUS",
    "TRAINING_MONTHS",
    "COST_OPT_LAUNCH",
]

# Appended: the KV-aware money functions (registered when deploy_functions is imported above).
from .excel.deploy_functions import BEST_FOR_BUDGET_KV, COST_OPT_PV_KV

__all__ += ["COST_OPT_PV_KV", "BEST_FOR_BUDGET_KV"]
