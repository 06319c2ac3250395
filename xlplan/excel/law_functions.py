"""Excel functions of laws and hardware: presets, and a law fitted to your runs.

``FIT_COEFFS`` runs on the server's slow path (worker processes with a time
limit); a fit is remembered for the same runs and options, because Excel
evaluates it once for every cell that uses it.

>>> XLPLAN_LAW("chinchilla")
[[406.4, 410.7, 1.69, 0.336, 0.283]]
"""

import functools

import numpy as np

from ..engine import laws
from ..engine.hardware import get_hardware
from ..fit import args as fit_args
from ..shared.labels import HARDWARE_LABELS, POWER_LABELS, SERVING_HARDWARE_LABELS
from . import convert
from .params import RUNS, excel_param
from .registry import Param, excel_function

__all__ = ["FIT_COEFFS", "XLPLAN_LAW", "XLPLAN_HARDWARE", "FIT_CACHE_SIZE"]


@excel_function(
    RUNS,
    excel_param(fit_args.MAX_TOKENS_PER_PARAM),
    excel_param(fit_args.DELTA),
    result=laws.COEFFICIENT_NAMES,
    slow=True,
)
def FIT_COEFFS(runs, max_tokens_per_param=None, delta=None):
    """Law coefficients A, B, E, alpha, beta (1x5) fitted to your training runs."""
    # Imported here: reading runs pulls in pandas, which the cheap functions never need.
    from ..fit.runs import load_runs

    return convert.row(*_fitted(_runs_key(load_runs(runs)), max_tokens_per_param, delta))


# Excel evaluates FIT_COEFFS(range) once for every cell that uses it, e.g. as the law
# of a column of OPT_PARAMS: the fit (0.2-1 s) is remembered for the same runs and
# options. The key is the numbers the fit uses, after parsing (the bytes of the
# float64 arrays), never the cells: TRUE and 1, or "1e9" and 1E9, can parse
# differently, so only what is fitted may decide whether two fits are the same.
# Failed fits raise, so they are never cached.
FIT_CACHE_SIZE = 32


def _runs_key(runs):
    """Hashable (params, tokens, loss) of parsed runs: bytes of their float64 arrays."""
    return tuple(
        np.ascontiguousarray(a, dtype=np.float64).tobytes()
        for a in (runs.params, runs.tokens, runs.loss)
    )


@functools.lru_cache(maxsize=FIT_CACHE_SIZE)
def _fitted(runs_key, max_tokens_per_param, delta):
    # Imported here: fitting pulls in the optimiser, which the cheap functions never need.
    from ..fit.law import fit_law
    from ..fit.runs import Runs

    params, tokens, loss = (np.frombuffer(b, dtype=np.float64) for b in runs_key)
    result = fit_law(
        Runs(params, tokens, loss), max_tokens_per_param=max_tokens_per_param, delta=delta
    )
    return result.law.as_tuple()


@excel_function(
    Param(
        "name", 'Preset name, e.g. "chinchilla", "epoch-2024", "sardana-all".', convert=convert.text
    ),
    result=laws.COEFFICIENT_NAMES,
)
def XLPLAN_LAW(name):
    """Coefficients A, B, E, alpha, beta (1x5) of a preset loss law."""
    return convert.row(*laws.get_law(name).as_tuple())


@excel_function(
    Param("name", 'Preset name, e.g. "paper-a100", "h100".', convert=convert.text),
    Param(
        "all",
        "TRUE: all ten settings (adds memory bandwidth, memory, bytes "
        "per weight for SERVING, GPUS_NEEDED). Default FALSE: seven.",
        optional=True,
        convert=convert.flag,
    ),
    Param(
        "power",
        "TRUE: two more columns, board power (W) of the training and "
        "the inference GPU, for ENERGY_EMISSIONS. Default FALSE.",
        optional=True,
        convert=convert.flag,
    ),
    result=HARDWARE_LABELS + SERVING_HARDWARE_LABELS + POWER_LABELS,
)
def XLPLAN_HARDWARE(name, all=None, power=None):
    """Settings (1x7, or 1x10 with all) of a hardware preset: prices, peaks, utilisations."""
    hardware = get_hardware(name)
    settings = hardware.as_tuple(all=all)
    if power:
        settings += (hardware.train_power_watts, hardware.inference_power_watts)
    return convert.row(*settings)
