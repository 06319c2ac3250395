"""The budget planner's KV-cache block: serving the recommended model with its KV cache.

The serving block above prices decode by the roofline on the weights alone (the plan's
cost model); this block adds the keys and values each decode step reads. Inputs: the
tokens each sequence holds in the cache (context length), a batch, and optional TPOT /
TTFT targets. Results, live formulas over xlplan's Excel functions on the recommended
model (B19) and the ten hardware settings (B13:K13): KV bytes per token (``KV_BYTES``,
the default shape rule at the inference precision K13), serving at the batch with and
without the cache (``SERVING_KV``), and the largest batch that fits in memory and meets
the targets (``MAX_BATCH``). Every KV figure reads the one KV-bytes cell.
:func:`add_kv_block` returns its cells by label, for the Checks sheet.
"""

from ..engine.constants import DEFAULT_CONTEXT_TOKENS
from ..shared.styles import header_row, note, put
from .inputs import AT_LEAST_ONE, NON_NEGATIVE, POSITIVE, number_rule

__all__ = [
    "add_kv_block",
    "INPUTS",
    "RESULTS",
    "CONTEXT",
    "BATCH",
    "TPOT",
    "TTFT",
    "KV_BYTES",
    "DEFAULT_BATCH",
]

HW10 = "$B$13:$K$13"
CONTEXT = "Context length: tokens each sequence holds in the KV cache"
BATCH = "Batch: sequences decoded together, each with its cache"
TPOT = "Time per output token target, seconds, optional (blank: none)"
TTFT = "Time to first token target, seconds, optional (blank: none)"
DEFAULT_BATCH = 16.0
# (label, value, format) of the inputs.
INPUTS = (
    (CONTEXT, DEFAULT_CONTEXT_TOKENS, "integer"),
    (BATCH, DEFAULT_BATCH, "integer"),
    (TPOT, 0.02, "seconds"),
    (TTFT, 1.0, "seconds"),
)
KV_BYTES = "KV-cache bytes per token (default shape rule for B19, at K13 bytes per element)"
AT_BATCH = "With the KV cache, at the batch above: "
NO_KV = "Without the KV cache (context 0), at the batch above: $ per 1M output tokens"
MAX = "Largest batch that fits in memory and meets the targets"
AT_MAX = "At the largest batch: "
# (label, formula with {name} for other cells, format, bold).
RESULTS = (
    (KV_BYTES, "=KV_BYTES($B$19,$K$13)", "integer", False),
    (AT_BATCH + "decode MFU", "=INDEX({kv},1,1)", "percent", False),
    (AT_BATCH + "decode tokens/s per GPU", "=INDEX({kv},1,2)", "integer", False),
    (AT_BATCH + "$ per 1M input tokens", "=INDEX({kv},1,3)", "usd_rate", False),
    (AT_BATCH + "$ per 1M output tokens", "=INDEX({kv},1,4)", "usd_rate", True),
    (NO_KV, "=INDEX({no_kv},1,4)", "usd_rate", False),
    (
        AT_BATCH + "GPUs per copy (weights and the batch's cache)",
        "=INDEX({kv},1,5)",
        "integer",
        True,
    ),
    (AT_BATCH + "time per output token", "=INDEX({kv},1,6)", "seconds", False),
    (AT_BATCH + "time to first token", "=INDEX({kv},1,7)", "seconds", False),
    (AT_BATCH + "KV cache of the batch (bytes)", "=INDEX({kv},1,8)", "bytes", False),
    (MAX, "=INDEX({max},1,1)", "integer", True),
    (AT_MAX + "$ per 1M output tokens", "=INDEX({max},1,5)", "usd_rate", True),
    (AT_MAX + "GPUs per copy", "=INDEX({max},1,6)", "integer", False),
    (AT_MAX + "time per output token", "=INDEX({max},1,7)", "seconds", False),
    (AT_MAX + "time to first token", "=INDEX({max},1,8)", "seconds", False),
)


def serving_kv(params, context, batch, kv, input_tokens="$B$8", gpus=None):
    """The SERVING_KV call of the block (no targets: a batch that misses one is no error)."""
    copy = "" if gpus is None else f",{gpus}"
    return f"SERVING_KV({params},{context},{HW10},{batch},,,{input_tokens},{kv}{copy})"


def add_kv_block(ws, top):
    """Write the block with its header at row ``top``; returns {label: cell reference}."""
    header_row(ws, top, 1, ["Serving the recommended model with its KV cache"])
    note(
        ws,
        f"A{top + 1}",
        "Roofline with the KV cache: each decode step reads the weights and every cached key "
        "and value of the batch (the whole context: an upper bound). Not in the plan's costs "
        "above, which price decode on the weights alone.",
    )
    refs = {label: f"B{top + 2 + k}" for k, (label, _, _) in enumerate(INPUTS)}
    for label, value, fmt in INPUTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], value, "input", fmt)
    number_rule(ws, refs[CONTEXT], NON_NEGATIVE, "Context length")
    number_rule(ws, refs[BATCH], AT_LEAST_ONE, "Batch", whole=True)
    for label in (TPOT, TTFT):
        number_rule(ws, refs[label], POSITIVE, label.split(",")[0], optional=True)
    first = top + 3 + len(INPUTS)
    header_row(ws, first - 1, 1, ["KV-cache serving results"])
    refs |= {label: f"B{first + k}" for k, (label, *_) in enumerate(RESULTS)}
    cell = {label: f"$B${ref[1:]}" for label, ref in refs.items()}
    kv = cell[KV_BYTES]
    names = {
        "kv": serving_kv("$B$19", cell[CONTEXT], cell[BATCH], kv),
        "no_kv": serving_kv("$B$19", 0, cell[BATCH], kv),
        "max": f"MAX_BATCH($B$19,{cell[CONTEXT]},{cell[TPOT]},{cell[TTFT]},{HW10},$B$8,{kv})",
    }
    for label, formula, fmt, bold in RESULTS:
        ws[f"A{refs[label][1:]}"] = label
        put(ws, refs[label], formula.format(**names), "result", fmt, bold=bold)
    return refs
