"""Excel functions of data limits and small models: OVERHEAD, CRITICAL_SIZE, EPOCHS.

Re-exported by :mod:`xlplan.udfs`, so xlwings, the server, functions.json and the
workbook evaluator see them with the other functions. The numbers come from
:mod:`xlplan.engine.paper.overhead` and :mod:`xlplan.engine.data.data_limits`.

>>> round(OVERHEAD(0.3), 4), round(CRITICAL_SIZE(), 4)
(1.0556, 0.0974)
>>> OVERHEAD(0.05).code
'#NUM!'
"""

from ..engine import args
from ..engine.data import data_limits
from ..engine.paper import overhead
from . import convert
from .params import LAW, excel_param
from .registry import excel_function

__all__ = ["OVERHEAD", "CRITICAL_SIZE", "EPOCHS"]


@excel_function(excel_param(overhead.SIZE_FRACTION, converter=convert.number), LAW)
def OVERHEAD(size_fraction, law=None):
    """Extra training compute (1.0 = +100%) of a smaller model reaching the Chinchilla loss."""
    return convert.result(overhead.compute_overhead(size_fraction, law))


@excel_function(LAW)
def CRITICAL_SIZE(law=None):
    """Smallest fraction of the Chinchilla-optimal size that can reach its loss (de Vries)."""
    return convert.result(overhead.critical_size(law))


@excel_function(
    excel_param(args.TOKENS, help="Training tokens, counting repeats, e.g. 2E12."),
    excel_param(args.UNIQUE_TOKENS, help="Unique tokens available. Default: unlimited (1 epoch)."),
)
def EPOCHS(tokens, unique_tokens=None):
    """Passes over the unique data: tokens / MIN(unique_tokens, tokens); 1 if unlimited."""
    return convert.result(data_limits.epochs(tokens, unique_tokens))
