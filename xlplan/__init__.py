"""xlplan: inference-aware sizing of language models (Sardana et al. 2024).

The numerical core (laws, hardware, sizing, fitting) knows nothing about Excel;
the Excel functions, server, workbooks, reports and CLI are thin layers over it.
"""

from .engine.chinchilla import (
    ChinchillaModel,
    chinchilla_from_compute,
    chinchilla_from_loss,
    chinchilla_from_params,
)
from .engine.data_limits import RepetitionWarning, data_constrained_loss, epochs, loss_floor
from .engine.errors import (
    ConvergenceError,
    InvalidTypeError,
    InvalidValueError,
    UnreachableLossError,
    XlplanError,
)
from .engine.hardware import GPU, GPUS, HARDWARE_PRESETS, Hardware, get_hardware
from .engine.laws import LAW_PRESETS, ScalingLaw, get_law
from .engine.overhead import compute_overhead, critical_size
from .engine.regret import RegretTable, RobustPlan, expected_cost_plan, regret_table, robust_plan
from .engine.sizing import (
    ModelPlan,
    OptimalPlan,
    compute_optimal,
    cost_optimal,
    lifetime_cost,
    total_flops,
)
from .lawfile import load_law_file, write_law_file

__version__ = "0.1.0"

# The fitter needs pandas and scipy.optimize (about 0.15 s to import); load it on first use.
_FIT_NAMES = ("FitResult", "fit_law", "BootstrapResult", "bootstrap_law", "PlanInterval",
              "PlanDistribution", "plan_interval", "plan_distribution")


def __getattr__(name):
    if name in _FIT_NAMES:
        from . import fit
        return getattr(fit, name)
    raise AttributeError(f"module 'xlplan' has no attribute {name!r}")


__all__ = [
    "ScalingLaw", "LAW_PRESETS", "get_law", "load_law_file", "write_law_file",
    "GPU", "GPUS", "Hardware", "HARDWARE_PRESETS", "get_hardware",
    "ChinchillaModel", "chinchilla_from_loss", "chinchilla_from_params",
    "chinchilla_from_compute",
    "ModelPlan", "OptimalPlan", "compute_optimal", "cost_optimal", "total_flops",
    "lifetime_cost",
    "XlplanError", "InvalidValueError", "InvalidTypeError", "UnreachableLossError",
    "ConvergenceError",
    "data_constrained_loss", "loss_floor", "epochs", "RepetitionWarning",
    "compute_overhead", "critical_size",
    "FitResult", "fit_law", "BootstrapResult", "bootstrap_law",
    "RegretTable", "RobustPlan", "regret_table", "robust_plan", "expected_cost_plan",
    "PlanInterval", "PlanDistribution", "plan_interval", "plan_distribution",
]
