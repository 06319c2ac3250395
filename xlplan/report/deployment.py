"""The report's Deployment sheet: each recommended model trained on a cluster and served
with its KV cache.

Values only, from :func:`xlplan.report.compute.deploy_rows` (the engine's
``training_time``, ``gpus_for_deadline``, ``training_months``, ``kv_serving`` and
``max_batch``); the Checks sheet ties them to the Summary and the Assumptions by
formula. :class:`DeploymentLayout` says where each figure is.
"""

from dataclasses import dataclass

import numpy as np
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from ..engine.constants import DEFAULT_CLUSTER_GPUS, DEFAULT_CONTEXT_TOKENS
from ..shared.numbers import count_text
from ..shared.safe_text import write_text
from ..shared.styles import header_row, note, put, set_widths, title, wrap_column
from .compute import kv_batch

__all__ = [
    "SHEET",
    "TRAINING_COLUMNS",
    "KV_COLUMNS",
    "LAUNCH_COLUMNS",
    "DeploymentLayout",
    "deployment_sheet",
    "assumption_rows",
    "batch_text",
]

SHEET = "Deployment"
TRAINING_HEADER = 5
# (header, DeployRow attribute, number format) of the two tables.
TRAINING_COLUMNS = (
    ("GPUs training together", "gpus", "integer"),
    ("Training time (days)", "days", "days"),
    ("GPU-hours", "gpu_hours", "integer"),
    ("Training $", "training", "usd"),
    ("Training starts in month", "first_month", "integer"),
    ("Training ends in month (serving starts the month after)", "last_month", "integer"),
    ("Deadline (days)", "deadline_days", "ratio"),
    ("Fewest GPUs that train within the deadline", "deadline_gpus", "integer"),
    ("Training time at that many GPUs (days)", "deadline_run_days", "days"),
)
KV_COLUMNS = (
    ("Context (tokens in each sequence's KV cache)", "context", "integer"),
    ("Batch (sequences decoded together)", "batch", "integer"),
    ("KV-cache bytes per token", "kv_bytes_per_token", "integer"),
    ("With the KV cache: $ per 1M input tokens", "usd_per_million_input", "usd_rate"),
    ("With the KV cache: $ per 1M output tokens", "usd_per_million_output", "usd_rate"),
    ("Context 0 (no KV cache): $ per 1M output tokens", "no_kv_usd_per_million_output", "usd_rate"),
    ("GPUs per copy (weights and the batch's cache)", "gpus_per_copy", "integer"),
    ("Time per output token (s)", "tpot", "seconds"),
    ("Time to first token (s)", "ttft", "seconds"),
    ("KV cache of the batch (bytes)", "kv_cache_bytes", "bytes"),
    ("Largest batch that fits and meets the targets", "max_batch", "integer"),
    ("At the largest batch: $ per 1M output tokens", "max_usd_per_million_output", "usd_rate"),
    ("At the largest batch: GPUs per copy", "max_gpus_per_copy", "integer"),
    ("At the largest batch: time per output token (s)", "max_tpot", "seconds"),
    ("At the largest batch: time to first token (s)", "max_ttft", "seconds"),
)


# The launch plans' table (a schedule and training.deadline_days): (header, key, format),
# the values from :func:`launch_values`.
LAUNCH_COLUMNS = (
    ("Launch deadline (days from the start of training)", "deadline_days", "ratio"),
    ("Serving starts in month (the month after the deadline's)", "launch_month", "integer"),
    ("Constraint that binds", "binding", "plain"),
    ("Present value $ the plan is sized on", "pv", "usd"),
    ("Without the cluster's cap: params", "free_params", "count"),
    ("Without the cap: training tokens", "free_tokens", "count"),
    ("Without the cap: GPUs that train it by the deadline", "free_gpus", "integer"),
    ("Without the cap: present value $", "free_pv", "usd"),
    ("Cost of the deadline on this cluster $ (present value)", "deadline_cost", "usd"),
)
_LOSS_BINDS = "n/a (the loss binds)"


def launch_values(launch):
    """{LAUNCH_COLUMNS key: value} of a :class:`~.launch.Launch`."""
    p, f = launch.plan, launch.free
    free = dict.fromkeys(("free_params", "free_tokens", "free_gpus", "free_pv"), _LOSS_BINDS)
    if f is not None:
        free = {"free_params": f.params, "free_tokens": f.tokens, "free_gpus": f.gpus}
        free["free_pv"] = f.pv
    return {
        "deadline_days": launch.deadline_days,
        "launch_month": p.launch_month,
        "binding": p.binding,
        "pv": p.pv,
        **free,
        "deadline_cost": _LOSS_BINDS if f is None else launch.deadline_cost,
    }


@dataclass(frozen=True)
class DeploymentLayout:
    """Where the Deployment sheet put each plan's figures; ``rows`` are its DeployRows;
    ``launch_header`` the header row of the launch plans' table (0: none)."""

    rows: tuple
    kv_header: int
    launch_header: int = 0

    def cell(self, key, plan):
        """Absolute reference of figure ``key`` (a DeployRow attribute) of plan index ``plan``."""
        for header, columns in ((TRAINING_HEADER, TRAINING_COLUMNS), (self.kv_header, KV_COLUMNS)):
            for c, (_, k, _) in enumerate(columns, start=2):
                if k == key:
                    return f"'{SHEET}'!${get_column_letter(c)}${header + 1 + plan}"
        raise KeyError(key)

    def launch_cell(self, key, plan):
        """Absolute reference of launch figure ``key`` (LAUNCH_COLUMNS) of plan index ``plan``."""
        launched = [k for k, row in enumerate(self.rows) if row.launch is not None]
        c = next(c for c, (_, k, _) in enumerate(LAUNCH_COLUMNS, start=2) if k == key)
        return f"'{SHEET}'!${get_column_letter(c)}${self.launch_header + 1 + launched.index(plan)}"


def batch_text(scenario):
    """The KV-cache serving batch as text, or why there is none."""
    batch = kv_batch(scenario)
    return count_text(batch) if np.isfinite(batch) else "n/a (no memory settings)"


def _value(value):
    """A number, or "n/a" for NaN (not computable: the note beside the table says why)."""
    if isinstance(value, str):
        return value
    return float(value) if np.isfinite(value) else "n/a"


def _table(ws, top, scenario, rows, columns, heading):
    ws[f"A{top - 1}"] = heading
    header_row(ws, top, 1, ["Scenario"] + [h for h, _, _ in columns])
    ws.row_dimensions[top].height = 60
    for k, (plan, row) in enumerate(zip(scenario.plans, rows, strict=True)):
        r = top + 1 + k
        write_text(ws.cell(r, 1), plan.name)
        for c, (_, key, fmt) in enumerate(columns, start=2):
            cell = put(ws, f"{get_column_letter(c)}{r}", None, "result", fmt)
            cell.value = _value(getattr(row, key))
    return top + 1 + len(rows)


def _notes(ws, top, scenario, rows):
    """Why a figure is n/a, once per distinct reason."""
    reasons = []
    for plan, row in zip(scenario.plans, rows, strict=True):
        for text in (row.kv_note, row.max_batch_note):
            if text and (plan.name, text) not in reasons:
                reasons.append((plan.name, text))
    for r, (name, text) in enumerate(reasons, start=top):
        write_text(ws.cell(r, 1), f"{name}: {text}")
        ws.cell(r, 1).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=8)
    return top + len(reasons)


def deployment_sheet(ws, scenario, rows):
    """Write the sheet of ``rows`` (:func:`~.compute.deploy_rows`); returns its layout."""
    ws.title = SHEET
    serving, cluster = scenario.serving, scenario.training
    title(
        ws,
        "Deployment as it runs: training on a cluster, serving with the KV cache",
        f"Training on {count_text(cluster.gpus)} GPUs (scenario key training.gpus) at the "
        "hardware's training settings, perfect scaling; training starts in month 1 "
        "(a month is 365/12 days) and serving the month after it ends.",
    )
    note(
        ws,
        "A3",
        f"Serving with the KV cache: {count_text(serving.context)} tokens in each "
        f"sequence's cache (serving.context), batch {batch_text(scenario)}, "
        "the cache sized by xlplan's default shape rule at the inference precision. The "
        "Summary's costs and GPUs price decode on the weights alone (KV-cache traffic "
        "ignored); this sheet adds it.",
    )
    for row in (2, 3):
        ws.merge_cells(f"A{row}:J{row}")
        ws[f"A{row}"].alignment = Alignment(wrap_text=True, vertical="top")
    end = _table(ws, TRAINING_HEADER, scenario, rows, TRAINING_COLUMNS, "Training on the cluster")
    kv_header = end + 3
    end = _table(ws, kv_header, scenario, rows, KV_COLUMNS, "Serving with the KV cache")
    end = _notes(ws, end + 1, scenario, rows)
    launch_header = _launch_table(ws, end + 3, scenario, rows)
    set_widths(ws, {"A": 36} | {get_column_letter(c): 14 for c in range(2, 18)})
    wrap_column(ws, "A", top=TRAINING_HEADER + 1)
    return DeploymentLayout(rows, kv_header, launch_header)


def _launch_table(ws, top, scenario, rows):
    """The launch plans (a schedule and a deadline): how each was sized; 0 if none."""
    launched = [(p, r) for p, r in zip(scenario.plans, rows, strict=True) if r.launch is not None]
    if not launched:
        return 0
    note(
        ws,
        f"A{top - 2}",
        "Scenarios with a monthly schedule and training.deadline_days are sized on their "
        "calendar: trained on the cluster above from month 1, launched at the deadline "
        "(serving from the month after the deadline's), present value minimised under "
        "the loss and the deadline. When the deadline binds, the same launch without the "
        "cluster's cap (a cluster sized to finish at the deadline) shows what it costs.",
    )
    ws.merge_cells(f"A{top - 2}:J{top - 2}")
    ws[f"A{top - 2}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[top - 2].height = 45
    header_row(ws, top, 1, ["Scenario"] + [h for h, _, _ in LAUNCH_COLUMNS])
    ws[f"A{top - 1}"] = "Launch at the deadline"
    ws.row_dimensions[top].height = 60
    for r, (plan, row) in enumerate(launched, start=top + 1):
        write_text(ws.cell(r, 1), plan.name)
        values = launch_values(row.launch)
        for c, (_, key, fmt) in enumerate(LAUNCH_COLUMNS, start=2):
            cell = put(ws, f"{get_column_letter(c)}{r}", None, "result", fmt)
            cell.value = _value(values[key])
    return top


def assumption_rows(scenario):
    """(assumption, value, unit, source, format) rows of the training and KV settings."""
    serving, cluster = scenario.serving, scenario.training
    given = "not given"
    return [
        (
            "Training GPUs",
            cluster.gpus,
            "GPUs training together",
            f"scenario key training.gpus (default {DEFAULT_CLUSTER_GPUS:,.0f})",
            "integer",
        ),
        (
            "Training deadline",
            given if cluster.deadline_days is None else cluster.deadline_days,
            "days",
            "scenario key training.deadline_days",
            "ratio",
        ),
        (
            "KV-cache context",
            serving.context,
            "tokens each sequence holds in the KV cache",
            f"scenario key serving.context (default {DEFAULT_CONTEXT_TOKENS:,.0f})",
            "integer",
        ),
        (
            "KV-cache serving batch",
            _value(kv_batch(scenario)),
            "sequences decoded together on the Deployment sheet",
            "scenario key serving.batch, else the whole batch nearest the one the decode "
            "MFU implies",
            "integer",
        ),
        (
            "TPOT target",
            given if serving.tpot_target is None else serving.tpot_target,
            "seconds per output token, for the largest batch",
            "scenario key serving.tpot_target",
            "seconds",
        ),
        (
            "TTFT target",
            given if serving.ttft_target is None else serving.ttft_target,
            "seconds to the first token, for the largest batch",
            "scenario key serving.ttft_target",
            "seconds",
        ),
    ]
