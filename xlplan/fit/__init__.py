"""Fitting a loss law to training runs (the paper's Section 5, Eq. 4).

Reading runs, the Huber objective, the batched L-BFGS, the multi-start search,
the fit and the bootstrap. Depends on the engine, never on a face.
"""

from .bootstrap import BootstrapResult, bootstrap_law
from .law import FitResult, fit_law
from .plan_interval import PlanDistribution, PlanInterval, plan_distribution, plan_interval
from .runs import Runs, load_runs

__all__ = [
    "FitResult",
    "fit_law",
    "BootstrapResult",
    "bootstrap_law",
    "Runs",
    "load_runs",
    "PlanInterval",
    "PlanDistribution",
    "plan_interval",
    "plan_distribution",
]
