"""Excel functions of data limits and small models: OVERHEAD, CRITICAL_SIZE, EPOCHS.

Re-exported by :mod:`xlplan.udfs`, so xlwings, the server, functions.json and the
workbook evaluator see them with the other functions. The numbers come from
:mod:`xlplan.engine.paper.overhead` and :mod:`xlplan.engine.data.data_limits`.

>>> round(OVERHEAD(0.3), 4), round(CRITICAL_SIZE(), 4)
(1.0556, 0.0974)
>>> OVERHEAD(0.05).code
'#NUM!'
"""

from ..engine.data import data_limits
from ..engine.paper import overhead
from . import convert, params
from .registry import Param, excel_function

__all__ = ["OVERHEAD", "CRITICAL_SIZE", "EPOCHS"]

_LAW = params.LAW


@excel_function(Param("size_fraction", "Model size as a fraction of the Chinchilla-optimal "
                      "size at the same loss, e.g. 0.3; must exceed CRITICAL_SIZE."), _LAW)
def OVERHEAD(size_fraction, law=None):
    """Extra training compute (1.0 = +100%) of a smaller model reaching the Chinchilla loss."""
    return convert.result(overhead.compute_overhead(
        convert.number("size_fraction", size_fraction), convert.law(law)))


@excel_function(_LAW)
def CRITICAL_SIZE(law=None):
    """Smallest fraction of the Chinchilla-optimal size that can reach its loss (de Vries)."""
    return convert.result(overhead.critical_size(convert.law(law)))


@excel_function(Param("tokens", "Training tokens, counting repeats, e.g. 2E12."),
                Param("unique_tokens", "Unique tokens available. Default: unlimited (1 "
                      "epoch).", optional=True))
def EPOCHS(tokens, unique_tokens=None):
    """Passes over the unique data: tokens / MIN(unique_tokens, tokens); 1 if unlimited."""
    return convert.result(data_limits.epochs(
        convert.number("tokens", tokens),
        convert.optional_number("unique_tokens", unique_tokens, None)))
