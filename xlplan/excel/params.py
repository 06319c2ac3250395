"""The arguments several Excel functions share, described once.

Each :class:`~xlplan.excel.registry.Param` carries the help text Excel's
function wizard and the add-in show; defaults come from
:mod:`xlplan.engine.constants`, so the text cannot drift from the numbers.
"""

from ..engine.constants import (
                                DEFAULT_HARDWARE,
                                DEFAULT_INPUT_TOKENS,
                                DEFAULT_LAW,
                                DEFAULT_OUTPUT_TOKENS,
)
from .registry import Param

__all__ = ["LAW", "HARDWARE", "PARAMS", "TOKENS", "LOSS", "REQUESTS", "INPUT_TOKENS",
           "OUTPUT_TOKENS"]

# Office's schemas allow at most 128 characters per argument description (tested).
LAW = Param("law", "Loss law: a preset such as \"chinchilla\" or a 1x5 range A, B, E, alpha, "
            f"beta (from XLPLAN_LAW or FIT_COEFFS). Default {DEFAULT_LAW}.",
            optional=True, range=True)
HARDWARE = Param("hardware", "Hardware: a preset name such as \"paper-a100\" or a 1x7 (or "
                 f"1x10) range as XLPLAN_HARDWARE returns. Default {DEFAULT_HARDWARE}.",
                 optional=True, range=True)
PARAMS = Param("params", "Model size: number of parameters, e.g. 7E9.")
TOKENS = Param("tokens", "Training tokens, e.g. 1.4E12.")
LOSS = Param("loss", "Target pre-training loss in nats per token; must exceed the law's E.")
REQUESTS = Param("requests", "Lifetime inference requests, >= 0.")
INPUT_TOKENS = Param("input_tokens",
                     f"Prompt tokens per request. Default {DEFAULT_INPUT_TOKENS:g}.",
                     optional=True)
OUTPUT_TOKENS = Param("output_tokens",
                      f"Generated tokens per request. Default {DEFAULT_OUTPUT_TOKENS:g}.",
                      optional=True)
