"""The planner's Checks rows for its training and KV-cache blocks, as live formulas.

Each reads a cell a block shows and recomputes it another way: by hand (GPUs x days x 24,
the calendar's ROUNDUP, the shape rule, the batch's memory), from another block (the
plan's training dollars) or by another function (``SERVING`` without the cache, and
``SERVING_KV`` at the batch ``MAX_BATCH`` shows). A number typed over a block's result
turns its row, and the master check, to ERROR.
"""

from ..engine.constants import DAYS_PER_YEAR, HOURS_PER_DAY, MONTHS_PER_YEAR
from ..shared.checks import Check
from ..shared.shape_rule import rule_params_formula
from . import kv_block, training_block
from .kv_block import HW10, serving_kv

__all__ = ["deploy_checks"]

P = "Planner!"


def _abs(ref):
    return f"{P}${ref[0]}${ref[1:]}"


def _training(t):
    c = {label: _abs(ref) for label, ref in t.items()}
    days, hours = c[training_block.DAYS], c[training_block.GPU_HOURS]
    gpus, deadline = c[training_block.GPUS], c[training_block.DEADLINE]
    return [
        Check(
            "Training on the cluster: GPUs x days x 24 = GPU-hours",
            f"={gpus}*{days}*{HOURS_PER_DAY:g}",
            f"={hours}",
            "integer",
            f"Planner {t[training_block.GPUS]}, {t[training_block.DAYS]}; "
            f"{t[training_block.GPU_HOURS]}",
        ),
        Check(
            "Training on the cluster: GPU-hours x training $ per GPU-hour = training $",
            f"={hours}*{P}$B$13",
            f"={c[training_block.DOLLARS]}",
            "usd",
            f"Planner {t[training_block.GPU_HOURS]}, B13; {t[training_block.DOLLARS]}",
        ),
        Check(
            "Training on the cluster costs the plan's training $",
            f"={c[training_block.DOLLARS]}",
            f"={P}$B$21",
            "usd",
            f"Planner {t[training_block.DOLLARS]}; B21",
        ),
        Check(
            f"Training ends in month ROUNDUP(days / ({DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g}))",
            f"=ROUNDUP({days}/({DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g}),0)",
            f"={c[training_block.END]}",
            "integer",
            f"Planner {t[training_block.DAYS]}; {t[training_block.END]}",
        ),
        Check(
            "Training starts in month 1",
            "=1",
            f"={c[training_block.START]}",
            "integer",
            f"the calendar's convention; Planner {t[training_block.START]}",
        ),
        Check(
            "The fewest GPUs for the deadline train within it (deadline >= days at that count)",
            f"=IF(ISBLANK({deadline}),{hours},{deadline})",
            f"=IF(ISBLANK({deadline}),{hours},{hours}/{c[training_block.FOR_DEADLINE]}"
            f"/{HOURS_PER_DAY:g})",
            "ratio",
            f"Planner {t[training_block.DEADLINE]}; {t[training_block.GPU_HOURS]} / "
            f"{t[training_block.FOR_DEADLINE]} / 24",
            at_least=True,
        ),
    ]


def _kv(k):
    c = {label: _abs(ref) for label, ref in k.items()}
    kv, batch, context = c[kv_block.KV_BYTES], c[kv_block.BATCH], c[kv_block.CONTEXT]
    largest = c[kv_block.MAX]
    tpot, ttft = c[kv_block.TPOT], c[kv_block.TTFT]
    copy = c[kv_block.AT_MAX + "GPUs per copy"]
    at_max = serving_kv(f"{P}$B$19", context, largest, kv, f"{P}$B$8", copy).replace(
        HW10, f"{P}{HW10}"
    )
    at_batch = kv_block.AT_BATCH
    return [
        Check(
            "KV bytes per token = 2 x layers x 8 KV heads x 128 head dim x bytes per element: "
            "the layers it implies give the recommended size by the shape rule "
            "(N = 204,800 L^3 + 262,144 L^2)",
            "=" + rule_params_formula(kv, f"{P}$K$13"),
            f"={P}$B$19",
            "count",
            f"Planner {k[kv_block.KV_BYTES]}, K13; B19",
        ),
        Check(
            "KV cache of the batch = batch x context x KV bytes per token",
            f"={batch}*{context}*{kv}",
            f"={c[at_batch + 'KV cache of the batch (bytes)']}",
            "count",
            f"Planner {k[kv_block.BATCH]}, {k[kv_block.CONTEXT]}, {k[kv_block.KV_BYTES]}; "
            f"{k[at_batch + 'KV cache of the batch (bytes)']}",
        ),
        Check(
            "Serving with context 0 = serving without the KV cache (SERVING at the same batch): "
            "$ per 1M output tokens",
            f"={c[kv_block.NO_KV]}",
            f"=INDEX(SERVING({P}$B$19,{P}{HW10},{batch}),1,5)",
            "usd_rate",
            f"Planner {k[kv_block.NO_KV]}; SERVING at batch {k[kv_block.BATCH]}",
        ),
        Check(
            "The largest batch fits: GPUs per copy x memory >= weights + the batch's KV cache",
            f"={copy}*{P}$J$13",
            f"={P}$B$19*{P}$K$13+{largest}*{context}*{kv}",
            "bytes",
            f"Planner {k[kv_block.AT_MAX + 'GPUs per copy']}, J13, B19, K13, "
            f"{k[kv_block.MAX]}; the batch's cache",
            at_least=True,
        ),
        Check(
            "The largest batch meets the TPOT target (SERVING_KV at that batch)",
            f"=IF(ISBLANK({tpot}),INDEX({at_max},1,6),{tpot})",
            f"=INDEX({at_max},1,6)",
            "seconds",
            f"Planner {k[kv_block.TPOT]}; SERVING_KV at {k[kv_block.MAX]}",
            at_least=True,
        ),
        Check(
            "The largest batch meets the TTFT target (SERVING_KV at that batch)",
            f"=IF(ISBLANK({ttft}),INDEX({at_max},1,7),{ttft})",
            f"=INDEX({at_max},1,7)",
            "seconds",
            f"Planner {k[kv_block.TTFT]}; SERVING_KV at {k[kv_block.MAX]}",
            at_least=True,
        ),
    ]


def deploy_checks(training, kv):
    """The rows for the training block's and the KV block's {label: cell} maps."""
    return _training(training) + _kv(kv)
