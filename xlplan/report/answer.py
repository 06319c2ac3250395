"""The report's first page, "Answer": the model to train, its cost, its saving, its GPUs.

One printed page for a finance reader: the master check of the Checks sheet;
per scenario the recommended model (parameters, training tokens), the lifetime
cost (nominal, and present value where a monthly schedule exists), the saving
against the Chinchilla-style model of the same quality, training GPU-hours and
GPUs to reserve for serving, the days and months of training on the scenario's
cluster and the $ per 1M output tokens with the KV cache; the robust plan where a
demand range is given; the key assumptions. Every number is a formula reading the
sheet that computes it, so the page and the detail sheets cannot disagree.
"""

from openpyxl.styles import Alignment, Font

from ..shared.checks import highlight
from ..shared.numbers import count_text
from ..shared.safe_text import write_text
from ..shared.styles import header_row, note, put, set_widths
from .compute import has_power
from .deployment import batch_text
from .sheets import summary_cell

__all__ = ["answer_sheet", "fit_one_page", "SHEET", "MASTER_ROW", "TABLE_HEADER"]

SHEET = "Answer"
MASTER_ROW = 4
TABLE_HEADER = 6
_CASH = "'Cash flow'!"


# Headers printed bold: the answer itself.
_BOLD = (
    "Recommended model: parameters",
    "Lifetime cost $ (training + serving, nominal)",
    "Saving vs the Chinchilla-style model",
)


def _deployment_columns(scenario):
    """The training-on-a-cluster and KV-cache serving columns (the Deployment sheet)."""
    gpus = count_text(scenario.training.gpus)
    context = count_text(scenario.serving.context)

    def deployed(key):
        return lambda k, layout: f"={layout.deployment.cell(key, k)}"

    return [
        (f"Training on {gpus} GPUs: days", deployed("days"), "days"),
        ("Training: from month 1 to month", deployed("last_month"), "integer"),
        (
            f"Serving with the KV cache ({context} tokens): $ per 1M output tokens",
            deployed("usd_per_million_output"),
            "usd_rate",
        ),
    ]


def _columns(has_schedule):
    """(header, formula maker (plan index, layout) -> formula or None, format)."""

    def nominal(k, layout):
        if k in layout.cashflow:  # the months' nominal costs
            return f"={_CASH}$E${layout.cashflow[k][2]}"
        return f"={summary_cell('total', k)}"

    columns = [
        ("Recommended model: parameters", lambda k, _: f"={summary_cell('params', k)}", "count"),
        ("Training tokens", lambda k, _: f"={summary_cell('tokens', k)}", "count"),
        ("Lifetime cost $ (training + serving, nominal)", nominal, "usd"),
    ]
    if has_schedule:
        columns.append(
            (
                "Lifetime cost $, present value (monthly schedules)",
                lambda k, layout: f"={summary_cell('total', k)}" if k in layout.cashflow else None,
                "usd",
            )
        )
    return columns + [
        (
            "Chinchilla-style model of the same quality: cost $",
            lambda k, _: f"={summary_cell('chinchilla_total', k)}",
            "usd",
        ),
        (
            "Saving vs the Chinchilla-style model",
            lambda k, _: f"={summary_cell('saving', k)}",
            "percent",
        ),
        (
            "Training: GPU-hours",
            lambda k, layout: (
                f"={layout.nominal_training(k)}/{layout.assumptions['Train $/GPU-hour']}"
            ),
            "integer",
        ),
        (
            "Serving: GPUs to reserve",
            lambda k, _: f"={summary_cell('gpus_to_reserve', k)}",
            "integer",
        ),
    ]


def _plans(ws, scenario, layout):
    columns = _columns(bool(layout.cashflow))
    if layout.deployment is not None:
        columns += _deployment_columns(scenario)
    header_row(ws, TABLE_HEADER, 1, ["Scenario"] + [h for h, _, _ in columns])
    for k, plan in enumerate(scenario.plans):
        r = TABLE_HEADER + 1 + k
        write_text(ws.cell(r, 1), plan.name).alignment = Alignment(wrap_text=True, vertical="top")
        for c, (header, formula, fmt) in enumerate(columns, start=2):
            value = formula(k, layout)
            if value is not None:
                put(ws, ws.cell(r, c).coordinate, value, "result", fmt, bold=header in _BOLD)
    ws.row_dimensions[TABLE_HEADER].height = 48
    return TABLE_HEADER + len(scenario.plans) + 1, len(columns) + 1


def _ranges(ws, top, scenario, layout, blocks):
    """The demand-range lines: low / high, the base-case and the robust plan."""
    header_row(
        ws,
        top,
        1,
        [
            "Demand range (lifetime requests)",
            "Low",
            "High",
            "Base-case plan: parameters",
            "Robust plan: parameters",
            "Robust plan: training tokens",
            "Worst-case regret $: base-case plan",
            "Worst-case regret $: robust plan",
        ],
    )
    ranged = list(layout.risk)
    for r, (k, block) in enumerate(zip(ranged, blocks, strict=True), start=top + 1):
        first = layout.risk[k]
        write_text(ws.cell(r, 1), scenario.plans[k].name).alignment = Alignment(wrap_text=True)
        put(ws, f"B{r}", float(block.requests[0]), "result", "count")
        put(ws, f"C{r}", float(block.requests[2]), "result", "count")
        for letter, ref, fmt, bold in (
            ("D", f"B{first + 3}", "count", False),
            ("E", f"B{first + 5}", "count", True),
            ("F", f"C{first + 5}", "count", False),
            ("G", f"G{first + 3}", "usd", False),
            ("H", f"G{first + 5}", "usd", True),
        ):
            put(ws, f"{letter}{r}", f"=Risk!${ref[0]}${ref[1:]}", "result", fmt, bold=bold)
    ws.row_dimensions[top].height = 32
    return top + len(ranged) + 2


def _assumption_lines(scenario):
    hw, serving = scenario.hardware, scenario.serving
    lines = [
        ("Law", scenario.law_source),
        (
            "Hardware",
            f"{hw.name}: training ${hw.train_price_per_hour:.2f} per GPU-hour at "
            f"{hw.train_mfu:.0%} MFU; inference ${hw.inference_price_per_hour:.3f} per "
            f"GPU-hour, prefill MFU {hw.prefill_mfu:.0%}, decode MFU {hw.decode_mfu:.2%}",
        ),
        (
            "Tokens per request",
            f"{count_text(scenario.input_tokens)} prompt + "
            f"{count_text(scenario.output_tokens)} generated",
        ),
        (
            "Serving",
            f"lifetime requests over {count_text(serving.months)} months (plans "
            f"without a schedule); GPUs reserved for {serving.peak_to_average:.2f}x the "
            "average load"
            + (
                ""
                if serving.batch is None
                else f"; decode MFU from the roofline at batch {count_text(serving.batch)}"
            ),
        ),
        (
            "Deployment",
            f"training on {count_text(scenario.training.gpus)} GPUs from month 1, serving "
            "from the month after it ends; serving with the KV cache at "
            f"{count_text(serving.context)} tokens per sequence, batch "
            f"{batch_text(scenario)} (the costs above ignore KV-cache traffic): "
            "the Deployment sheet",
        ),
    ]
    if has_power(hw):
        lines.append(
            (
                "Energy",
                f"PUE {scenario.pue:.2f}; grid {scenario.grid_kg_per_kwh:.3f} "
                f"kg CO2e/kWh; board power {hw.train_power_watts:,.0f} W training, "
                f"{hw.inference_power_watts:,.0f} W inference",
            )
        )
    for plan in scenario.plans:
        m = plan.monthly
        if m is not None:
            lines.append(
                (
                    f"Schedule of '{plan.name}'",
                    f"{m.description}; discount rate "
                    f"{m.discount_rate:.1%} a year; GPU price {m.price_change:+.1%} a "
                    "year",
                )
            )
    return lines + [("Every setting", "with its unit and source: the Assumptions sheet")]


def _assumptions(ws, top, scenario, width):
    header_row(ws, top, 1, ["Key assumptions"])
    lines = _assumption_lines(scenario)
    for r, (label, text) in enumerate(lines, start=top + 1):
        write_text(ws.cell(r, 1), label).font = Font(bold=True)
        ws.cell(r, 1).alignment = Alignment(wrap_text=True, vertical="top")
        write_text(ws.cell(r, 2), text).alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=width)
    return top + len(lines) + 1


def answer_sheet(ws, scenario, layout, blocks, master, stamp):
    """Write the first page; ``master`` is the Checks sheet's master check cell."""
    ws.title = SHEET
    write_text(ws["A1"], f"{scenario.title}: the answer")
    ws["A1"].font = Font(bold=True, size=16)
    note(
        ws,
        "A2",
        "For each scenario, the model to train and what it costs over its life, "
        "against the Chinchilla-style model of the same quality (Sardana et al. 2024). "
        f"Details on the following sheets. {stamp}",
    )
    ws.merge_cells("A2:I2")  # wrapped across the table's width, not running off the page
    ws["A2"].alignment = Alignment(wrap_text=True, vertical="top")
    ws[f"A{MASTER_ROW}"] = "Master check (Checks sheet)"
    ws[f"A{MASTER_ROW}"].font = Font(bold=True, size=12)
    put(ws, f"B{MASTER_ROW}", f"={master}", "result", bold=True)
    ws[f"B{MASTER_ROW}"].font = Font(bold=True, size=14)
    highlight(ws, f"B{MASTER_ROW}")
    top, width = _plans(ws, scenario, layout)
    if layout.cashflow:
        note(
            ws,
            f"A{top}",
            "Plans with a monthly schedule are sized and compared on present "
            "value: their saving and Chinchilla-style cost are present values.",
        )
        top += 1
    top += 1
    if blocks:
        top = _ranges(ws, top, scenario, layout, blocks)
    _assumptions(ws, top, scenario, width)
    set_widths(ws, {"A": 36} | {letter: 15 for letter in "BCDEFGHIJKLM"})


def fit_one_page(ws):
    """The answer prints on one page (after the shared page setup, which fits width only)."""
    ws.page_setup.fitToHeight = 1
    ws.print_title_rows = None
