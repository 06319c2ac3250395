"""The report's serving settings and columns: $ per 1M output tokens and GPUs to reserve.

A scenario file may hold a ``[serving]`` table::

    [serving]
    months = 24            # the lifetime requests are served over this many months
    peak_to_average = 2    # reserve GPUs for this multiple of the average load
    batch = 8              # optional: decode MFU from the roofline at this batch size
    context = 4096         # tokens each sequence holds in the KV cache (default 4,096)
    tpot_target = 0.05     # optional: seconds per output token, for the largest batch
    ttft_target = 1        # optional: seconds to the first token, for the largest batch

With ``batch`` the scenario's hardware becomes ``at_batch(hardware, batch)`` for
the whole report, so its costs and its serving columns use the same decode MFU;
without, both use the preset's. A plan with a monthly schedule reserves GPUs for
its peak month instead of lifetime requests over ``months``
(:mod:`xlplan.report.compute` computes the columns). ``context`` and the targets
price serving with the KV cache on the Deployment sheet (the costs above do not
include KV-cache traffic), at ``batch`` or, without one, the whole batch nearest the
one the hardware's decode MFU implies.
"""

from dataclasses import dataclass

from ..engine import validate
from ..engine.constants import DEFAULT_CONTEXT_TOKENS
from ..engine.deploy.serving import at_batch
from ..engine.errors import InvalidTypeError, InvalidValueError, XlplanError

__all__ = ["ServingSettings", "read_serving", "serving_hardware", "SERVING_COLUMNS"]

DEFAULT_MONTHS = 24.0
_KEYS = {"months", "peak_to_average", "batch", "context", "tpot_target", "ttft_target"}
# Beyond these a figure is a typo, not a deployment: ten million tokens in each sequence's
# cache, an hour per token.
MAX_CONTEXT = 1e7
MAX_TARGET_SECONDS = 3600.0
# (header, key, number format) of the summary's serving columns.
SERVING_COLUMNS = (
    ("$ per 1M output tokens", "usd_per_million_output", "usd_rate"),
    ("GPUs to reserve", "gpus_to_reserve", "integer"),
    ("GPUs sized for (load, horizon)", "gpus_basis", "plain"),
)


@dataclass(frozen=True)
class ServingSettings:
    months: float = DEFAULT_MONTHS
    peak_to_average: float = 1.0
    batch: object = None
    context: float = DEFAULT_CONTEXT_TOKENS
    tpot_target: object = None
    ttft_target: object = None


def _number(where, value, low, low_open=False, high=float("inf")):
    """A number under a key of the file; the message spells it as the file does (key = value)."""
    try:
        return validate.scalar(where, value, low=low, low_open=low_open, high=high)
    except XlplanError as error:
        raise error.renamed(where, assign=" = ") from None


def read_serving(table, source):
    """The :class:`ServingSettings` of a scenario's ``[serving]`` table (or the defaults)."""
    if table is None:
        return ServingSettings()
    if not isinstance(table, dict):
        raise InvalidTypeError(
            f"{source}: serving must be a table ({', '.join(sorted(_KEYS))})",
            argument="serving",
            value=table,
        )
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise InvalidValueError(
            f"{source}: unknown key(s) serving.{', serving.'.join(unknown)}; "
            f"allowed: {', '.join(sorted(_KEYS))}",
            argument="serving",
            value=unknown[0],
        )
    batch = table.get("batch")
    months = table.get("months", DEFAULT_MONTHS)
    targets = (
        None
        if table.get(key) is None
        else _number(f"serving.{key}", table[key], 0.0, low_open=True, high=MAX_TARGET_SECONDS)
        for key in ("tpot_target", "ttft_target")
    )
    return ServingSettings(
        _number("serving.months", months, 0.0, low_open=True),
        _number("serving.peak_to_average", table.get("peak_to_average", 1), 1),
        None if batch is None else _number("serving.batch", batch, 1),
        _number(
            "serving.context",
            table.get("context", DEFAULT_CONTEXT_TOKENS),
            0.0,
            high=MAX_CONTEXT,
        ),
        *targets,
    )


def serving_hardware(hardware, settings):
    """The scenario's hardware, with its decode MFU from the roofline if a batch is given."""
    return hardware if settings.batch is None else at_batch(hardware, settings.batch)
