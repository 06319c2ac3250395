"""Fitting a loss law to training runs (the paper's Section 5, Eq. 4).

Reading runs, the Huber objective, the batched L-BFGS, the multi-start search,
the fit and the bootstrap. Depends on the engine, never on a face.

The modules load on first use of a name (pandas and the optimiser take about 0.15 s):
the Excel functions read the declarations of :mod:`xlplan.fit.args` without them.
"""

import importlib

_HOMES = {
    "FitResult": "law",
    "fit_law": "law",
    "BootstrapResult": "bootstrap",
    "bootstrap_law": "bootstrap",
    "Runs": "runs",
    "load_runs": "runs",
    "PlanInterval": "plan_interval",
    "PlanDistribution": "plan_interval",
    "plan_interval": "plan_interval",
    "plan_distribution": "plan_interval",
}

__all__ = list(_HOMES)


def __getattr__(name):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'xlplan.fit' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
