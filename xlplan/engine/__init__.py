"""The numerical core: loss laws, hardware, Chinchilla and inference-aware sizing.

Pure numpy/scipy. Nothing here knows about Excel, files, xlwings, openpyxl or
the server; every face of xlplan is a thin adapter over these functions.
"""

from .data.data_limits import RepetitionWarning, data_constrained_loss, epochs, loss_floor
from .errors import (
    ConvergenceError,
    InvalidTypeError,
    InvalidValueError,
    UnreachableLossError,
    XlplanError,
)
from .hardware import GPU, GPUS, HARDWARE_PRESETS, Hardware, get_hardware
from .laws import LAW_PRESETS, ScalingLaw, get_law
from .money.regret import RegretTable, RobustPlan, expected_cost_plan, regret_table, robust_plan
from .paper.chinchilla import (
    ChinchillaModel,
    chinchilla_from_compute,
    chinchilla_from_loss,
    chinchilla_from_params,
)
from .paper.overhead import compute_overhead, critical_size
from .paper.sizing import (
    ModelPlan,
    OptimalPlan,
    compute_optimal,
    cost_optimal,
    lifetime_cost,
    total_flops,
)

__all__ = [
    "ScalingLaw",
    "LAW_PRESETS",
    "get_law",
    "GPU",
    "GPUS",
    "Hardware",
    "HARDWARE_PRESETS",
    "get_hardware",
    "ChinchillaModel",
    "chinchilla_from_loss",
    "chinchilla_from_params",
    "chinchilla_from_compute",
    "ModelPlan",
    "OptimalPlan",
    "compute_optimal",
    "cost_optimal",
    "total_flops",
    "lifetime_cost",
    "RegretTable",
    "RobustPlan",
    "regret_table",
    "robust_plan",
    "expected_cost_plan",
    "XlplanError",
    "InvalidValueError",
    "InvalidTypeError",
    "UnreachableLossError",
    "ConvergenceError",
    "data_constrained_loss",
    "loss_floor",
    "epochs",
    "RepetitionWarning",
    "compute_overhead",
    "critical_size",
]
