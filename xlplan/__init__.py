"""xlplan: inference-aware sizing of language models (Sardana et al. 2024).

The numerical core (laws, hardware, sizing, fitting) knows nothing about Excel;
the Excel functions, server, workbooks, reports and CLI are thin layers over it.
"""

from . import engine
from .engine import *  # noqa: F403  (the engine's public surface, listed once in engine.__all__)
from .lawfile import load_law_file, write_law_file

__version__ = "0.1.0"

# The fitter needs pandas and scipy.optimize (about 0.15 s to import); load it on first use.
_FIT_NAMES = (
    "FitResult",
    "fit_law",
    "BootstrapResult",
    "bootstrap_law",
    "PlanInterval",
    "PlanDistribution",
    "plan_interval",
    "plan_distribution",
)


def __getattr__(name):
    if name in _FIT_NAMES:
        from . import fit

        return getattr(fit, name)
    raise AttributeError(f"module 'xlplan' has no attribute {name!r}")


__all__ = [  # noqa: PLE0604 (the engine's names, listed once in engine.__all__)
    *engine.__all__,
    "load_law_file",
    "write_law_file",
    *_FIT_NAMES,
]
