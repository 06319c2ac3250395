"""The sheets of a report: summary, the paper's tables, sweeps with charts, assumptions.

Values only (the numbers come from :mod:`.compute` and :mod:`xlplan.paper`), so
every reader shows them without recalculating.
"""

import numpy as np
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.pagebreak import Break

from ..engine.laws import COEFFICIENT_NAMES
from ..paper import TABLE2_COLUMNS, TABLE3_COLUMNS
from ..shared.labels import HARDWARE_LABELS, SERVING_HARDWARE_LABELS
from ..shared.numbers import count_text
from ..shared.safe_text import write_text
from ..shared.styles import (
    FORMATS,
    header_row,
    note,
    page_break_before,
    put,
    repeat_rows,
    set_widths,
    title,
    wrap_column,
)
from . import deployment
from .charts import CHART_ROWS, sweep_chart
from .compute import NOMINAL, PRESENT_VALUE
from .serving import SERVING_COLUMNS

__all__ = [
    "summary_sheet",
    "print_notes_under_table",
    "summary_columns",
    "summary_basis",
    "table_sheet",
    "sweep_sheet",
    "assumptions_sheet",
    "SUMMARY_HEADER",
    "SWEEP_HEADER",
    "summary_cell",
]

SUMMARY_HEADER = 5
# Width of the Summary's "GPUs sized for" text column: the last page block's room left.
_BASIS_WIDTH = 22
# (header, PlanRow attribute, number format); "{basis}" is the sheet's money basis.
SUMMARY_COLUMNS = (
    ("Scenario", "name", "plain"),
    ("Quality (Chinchilla-style params)", "quality", "count"),
    ("Target loss", "loss", "loss"),
    ("Lifetime requests", "requests", "count"),
    ("Recommended params", "params", "count"),
    ("Recommended training tokens", "tokens", "count"),
    ("Training $ ({basis})", "training", "usd"),
    ("Inference $ ({basis})", "inference", "usd"),
    ("Lifetime cost $ ({basis})", "total", "usd"),
    ("Same-quality Chinchilla-style model: lifetime cost $ ({basis})", "chinchilla_total", "usd"),
    ("Saving", "saving", "percent"),
    ("Epochs over the unique data", "epochs", "ratio"),
    ("Training-compute overhead vs Chinchilla-style", "overhead", "percent"),
    ("Training energy MWh", "training_mwh", "energy"),
    ("Inference energy MWh", "inference_mwh", "energy"),
    ("Training emissions t CO2e", "training_t", "energy"),
    ("Inference emissions t CO2e", "inference_t", "energy"),
    ("Budget given (the best model it buys)", "budget", "plain"),
) + SERVING_COLUMNS
# With a monthly schedule somewhere, the cash actually paid, beside the present values.
CASH_COLUMN = ("Cash paid $ (nominal, all months)", "cash_total", "usd")


def summary_basis(rows):
    """The Summary's one money basis: present value if any plan has a schedule (a plan
    without one is undiscounted, so its present value is its nominal cost)."""
    return PRESENT_VALUE if any(row.basis == PRESENT_VALUE for row in rows) else NOMINAL


def summary_columns(rows):
    """(header, attribute, format) of the Summary for these rows, money headers on its basis."""
    basis = summary_basis(rows)
    columns = SUMMARY_COLUMNS + ((CASH_COLUMN,) if basis == PRESENT_VALUE else ())
    return tuple((header.format(basis=basis), key, fmt) for header, key, fmt in columns)


def summary_cell(key, plan):
    """Absolute reference of column ``key`` (a SUMMARY_COLUMNS key) of plan index ``plan``."""
    column = next(c for c, (_, k, _) in enumerate(SUMMARY_COLUMNS, start=1) if k == key)
    return f"Summary!${get_column_letter(column)}${SUMMARY_HEADER + 1 + plan}"


def summary_sheet(ws, scenario, rows, stamp):
    ws.title = "Summary"
    title(
        ws,
        f"{scenario.title}: the cheapest model for each scenario",
        f"Recommended = the model that reaches the scenario's quality for the least training + "
        f"inference dollars (Sardana et al. 2024), or for a budget scenario the best model "
        f"the budget buys. {stamp}",
    )
    tokens = (count_text(scenario.input_tokens), count_text(scenario.output_tokens))
    serving = scenario.serving
    note(
        ws,
        "A3",
        f"Law: {scenario.law_source}. Hardware: {scenario.hardware.name}. "
        f"{tokens[0]} input + {tokens[1]} output tokens per request. GPUs to reserve: for "
        f"the load in 'GPUs sized for' (lifetime requests over {count_text(serving.months)} "
        f"months, or a schedule's peak month), "
        f"{count_text(serving.peak_to_average)}x the average load at peak (roofline bound, "
        f"KV cache ignored here: the Deployment sheet prices it). Energy = GPU-hours x board "
        f"power x PUE {scenario.pue:g}; "
        f"emissions at {scenario.grid_kg_per_kwh:g} kg CO2e/kWh. Details on the other sheets.",
    )
    columns = summary_columns(rows)
    header_row(ws, SUMMARY_HEADER, 1, [h for h, _, _ in columns])
    for r, row in enumerate(rows, start=SUMMARY_HEADER + 1):
        for c, (_, key, fmt) in enumerate(columns, start=1):
            cell = put(
                ws,
                f"{get_column_letter(c)}{r}",
                None,
                "result",
                fmt,
                bold=key in ("params", "total", "saving"),
            )
            write_text(cell, _plain(getattr(row, key)))  # the scenario's name is user text
    ws.row_dimensions[SUMMARY_HEADER].height = 48
    # Long scenario names wrap in a wide first column instead of being cut at the next cell.
    set_widths(ws, {"A": 40} | {get_column_letter(c): 14 for c in range(2, len(columns) + 1)})
    wrap_column(ws, "A", top=SUMMARY_HEADER + 1)
    for row in (2, 3, 4):  # notes wrap within the first printed page, not run off onto blank ones
        ws.merge_cells(f"A{row}:H{row}")
        ws[f"A{row}"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = f"B{SUMMARY_HEADER + 1}"
    repeat_rows(ws, SUMMARY_HEADER)
    # the wide table prints on three pages (dollars, then savings and data, then energy and
    # serving), each naming its plans in column A
    ws.print_title_cols = "A:A"
    for last in ("H", "N"):
        ws.col_breaks.append(Break(id=ws[f"{last}1"].column))
    _print_blocks(ws, columns, SUMMARY_HEADER + len(rows))


def _print_blocks(ws, columns, bottom):
    """One print area per page block: the title and notes (merged over A:H) print on the
    first page only; the later blocks start at the table's header, so the repeated column
    A does not show the notes cut at its edge. The serving basis text wraps in its column
    (it ran past the page edge)."""
    basis = next((c for c, (_, key, _) in enumerate(columns, start=1) if key == "gpus_basis"), None)
    if basis is not None:
        letter = get_column_letter(basis)
        ws.column_dimensions[letter].width = _BASIS_WIDTH
        wrap_column(ws, letter, top=SUMMARY_HEADER + 1)
        for row in ws.iter_rows(min_row=SUMMARY_HEADER + 1, max_row=bottom):
            for cell in row:  # numbers level with the first line of the wrapped texts
                cell.alignment = Alignment(
                    wrap_text=cell.alignment.wrap_text,
                    vertical="top",
                    horizontal=cell.alignment.horizontal,
                )
    _summary_print_area(ws, len(columns), bottom, bottom)


def _summary_print_area(ws, width, bottom, notes_bottom):
    """Three page blocks: A:H from the title down to the last note under the table, then
    I:N and O:last from the table's header to its last plan."""
    last = get_column_letter(width)
    ws.print_area = [
        f"A1:H{notes_bottom}",
        f"I{SUMMARY_HEADER}:N{bottom}",
        f"O{SUMMARY_HEADER}:{last}{bottom}",
    ]


def print_notes_under_table(ws, rows):
    """Extend the Summary's first page block to the notes written under its table (the
    data-limit note, how each launch plan was sized), which otherwise would not print."""
    bottom = SUMMARY_HEADER + len(rows)
    _summary_print_area(ws, len(summary_columns(rows)), bottom, max(bottom, ws.max_row))


def _plain(value):
    if isinstance(value, str) or value is None:  # None: not given (e.g. energy without power)
        return value
    # NaN: not computable (e.g. GPUs for hardware without memory settings).
    return float(value) if np.isfinite(value) else "n/a"


def table_sheet(ws, heading, subtitle, table, rows):
    """A paper table: xlplan's values, the print, the deviation, one grid each."""
    columns = TABLE2_COLUMNS if table == 2 else TABLE3_COLUMNS
    title(ws, heading, subtitle)
    top = 4
    for label, field in (
        ("xlplan", "computed"),
        ("printed (typos corrected)", "reference"),
        ("deviation of xlplan from the print", "deviation"),
    ):
        ws.cell(top, 1, label).font = Font(bold=True, size=11)
        header_row(ws, top + 1, 1, ["row"] + list(columns))
        for i, cells in enumerate(rows, start=1):
            r = top + 1 + i
            ws.cell(r, 1, i)
            for c, cell in enumerate(cells, start=2):
                fmt = _table_format(cell, field, c)
                put(
                    ws,
                    f"{get_column_letter(c)}{r}",
                    float(getattr(cell, field)),
                    "result" if field != "reference" else "printed",
                    fmt,
                )
        top += len(rows) + 3
    notes = [
        f"row {i}, {c.column}: {c.note}"
        for i, cells in enumerate(rows, start=1)
        for c in cells
        if c.note
    ]
    for k, text in enumerate(notes):
        note(ws, f"A{top + k}", text)
    for r in (5, 13, 21):
        ws.row_dimensions[r].height = 32
    set_widths(ws, {"A": 6} | {get_column_letter(c): 16 for c in range(2, 11)})
    repeat_rows(ws, 1, 2)


def _table_format(cell, field, column):
    if field == "deviation":
        return "points" if cell.is_percent else "deviation"
    if cell.is_percent:
        return "percent"
    if column == 3:
        return "loss"
    if "FLOPs" in cell.column:
        return "flops"
    return "usd" if "$" in cell.column else "count"


# The sweep sheets print their two charts first, a page each, then the table: its header row
# repeats on every page of the table and, printed after the charts, on none of theirs.
SWEEP_CHARTS = 4
SWEEP_HEADER = SWEEP_CHARTS + 2 * CHART_ROWS + 1


def sweep_sheet(ws, heading, subtitle, x_label, xs, sizes, saving, ratio, saving_label):
    """Two native charts, then the sweep data (one column per quality level)."""
    title(ws, heading, subtitle)
    labels = [f"{size / 1e9:g}B-class quality" for size in sizes]
    header = SWEEP_HEADER
    header_row(
        ws,
        header,
        1,
        [x_label] + [f"{saving_label}: {s}" for s in labels] + [f"size ratio: {s}" for s in labels],
        align="center",
    )
    for i, x in enumerate(xs):
        r = header + 1 + i
        put(ws, f"A{r}", float(x), "result", "count")
        for k in range(len(sizes)):
            put(ws, f"{get_column_letter(2 + k)}{r}", float(saving[k, i]), "result", "percent")
            put(
                ws,
                f"{get_column_letter(2 + len(sizes) + k)}{r}",
                float(ratio[k, i]),
                "result",
                "ratio",
            )
    first, last = header + 1, header + len(xs)
    n = len(sizes)
    # Each chart on a printed page of its own: beside the table they made the sheet too
    # wide, and fitting it to the page width shrank them.
    chart_rows = (SWEEP_CHARTS, SWEEP_CHARTS + CHART_ROWS)
    for row in (*chart_rows[1:], header):
        page_break_before(ws, row)
    ws.add_chart(
        sweep_chart(
            ws,
            f"{saving_label} vs {x_label.lower()}",
            x_label,
            saving_label,
            first,
            last,
            1,
            range(2, 2 + n),
            labels,
            "0%",
        ),
        f"A{chart_rows[0]}",
    )
    ws.add_chart(
        sweep_chart(
            ws,
            "Optimal size / Chinchilla-style size",
            x_label,
            "params ratio",
            first,
            last,
            1,
            range(2 + n, 2 + 2 * n),
            labels,
            "0.00",
        ),
        f"A{chart_rows[1]}",
    )
    ws.row_dimensions[header].height = 60
    set_widths(ws, {get_column_letter(c): 12 for c in range(1, 2 * n + 2)})
    repeat_rows(ws, header)  # a table longer than a page keeps its headers on every page


def _assumption_rows(scenario):
    """(assumption, value, unit, source, format) of the law, hardware and demand settings."""
    law, hardware = scenario.law, scenario.hardware
    law_source = f"{scenario.law_source}; {law.source}" if law.source else scenario.law_source
    rows = [
        ("Scenario file", scenario.source, "", "--scenario", "plain"),
        ("Loss law", law.name, "", law_source, "plain"),
        (
            "Law form",
            "L(N, D) = E + A / N^alpha + B / D^beta",
            "loss in nats per token; N parameters, D training tokens",
            "Hoffmann et al. 2022, Eq. 2",
            "plain",
        ),
    ]
    units = {
        "A": "nats x params^alpha",
        "B": "nats x tokens^beta",
        "E": "nats per token",
        "alpha": "exponent (no unit)",
        "beta": "exponent (no unit)",
    }
    rows += [
        (f"Law coefficient {name}", float(value), units[name], law_source, "plain")
        for name, value in zip(COEFFICIENT_NAMES, law.as_tuple(), strict=True)
    ]
    source = f"hardware preset '{hardware.name}'"
    rows.append(("Hardware", hardware.name, "", hardware.description or "scenario file", "plain"))
    for label, key, value in zip(
        HARDWARE_LABELS, hardware.setting_names(), hardware.as_tuple(), strict=True
    ):
        if key.endswith("mfu"):
            unit, fmt = "share of peak FLOP/s (MFU)", "percent"
        elif "peak" in key:
            unit, fmt = "FLOP/s per GPU (TFLOP/s = 10^12)", "flops_rate"
        else:
            unit, fmt = "US$ per GPU-hour", "usd_rate"
        rows.append(
            (
                label[0].upper() + label[1:],
                float(value),
                unit,
                f"{source} (key hardware.{key})",
                fmt,
            )
        )
    if hardware.has_serving_settings:
        units = ("bytes per second", "bytes", "bytes per weight")
        formats = ("bandwidth", "bytes", "ratio")
        rows += [
            (
                label[0].upper() + label[1:],
                float(value),
                unit,
                f"{source} (key hardware.{key})",
                fmt,
            )
            for label, key, value, unit, fmt in zip(
                SERVING_HARDWARE_LABELS,
                hardware.setting_names(True)[7:],
                hardware.as_tuple(True)[7:],
                units,
                formats,
                strict=True,
            )
        ]
    rows += _serving_rows(scenario) + deployment.assumption_rows(scenario)
    rows += _energy_rows(scenario) + _schedule_rows(scenario)
    given = "scenario key {}, default 70 / 215 as in Sardana et al. 2024"
    rows += [
        (
            "Input tokens per request",
            scenario.input_tokens,
            "tokens",
            given.format("input_tokens"),
            "integer",
        ),
        (
            "Output tokens per request",
            scenario.output_tokens,
            "tokens",
            given.format("output_tokens"),
            "integer",
        ),
        ("Training FLOPs", "6 N D", "FLOPs", "Sardana et al. 2024, Eq. 3", "plain"),
        ("Inference FLOPs", "2 N per token", "FLOPs", "Sardana et al. 2024, Eq. 3", "plain"),
    ]
    return rows


def _serving_rows(scenario):
    """How the serving columns are computed: months, peak load, batch."""
    serving = scenario.serving
    batch = (
        "not given: the decode MFU is the hardware's (the roofline at the batch it "
        "implies), for costs and serving alike"
        if serving.batch is None
        else serving.batch
    )
    return [
        (
            "Serving months",
            serving.months,
            "months: lifetime requests are served over "
            "them (plans without a monthly schedule; a schedule's GPUs serve its peak "
            "month)",
            "scenario key serving.months (default 24)",
            "plain",
        ),
        (
            "Peak load / average load",
            serving.peak_to_average,
            "ratio: GPUs are reserved for the peak",
            "scenario key serving.peak_to_average (default 1)",
            "ratio",
        ),
        (
            "Serving batch",
            batch,
            "sequences decoded together (roofline decode MFU)",
            "scenario key serving.batch",
            "integer",
        ),
    ]


def _energy_rows(scenario):
    """Board powers, PUE and grid intensity: what turns GPU-hours into MWh and t CO2e."""
    hardware = scenario.hardware
    source = f"hardware preset '{hardware.name}' (key hardware.{{}})"
    return [
        (
            "Board power, training GPU",
            _given(hardware.train_power_watts),
            "W",
            source.format("train_power_watts"),
            "integer",
        ),
        (
            "Board power, inference GPU",
            _given(hardware.inference_power_watts),
            "W",
            source.format("inference_power_watts"),
            "integer",
        ),
        (
            "PUE",
            scenario.pue,
            "data-centre energy / IT energy",
            "scenario key pue (default 1.58: Uptime Institute 2023 industry average)",
            "ratio",
        ),
        (
            "Grid carbon intensity",
            scenario.grid_kg_per_kwh,
            "kg CO2e per kWh",
            "scenario key grid_kg_per_kwh (default 0.481: Ember, world average 2023)",
            "loss",
        ),
    ]


def _given(value):
    """A setting's value, or a note when the hardware does not know it (NaN)."""
    return float(value) if np.isfinite(value) else "not given: energy left blank"


def _schedule_rows(scenario):
    """Each monthly schedule: its demand, discount rate and GPU price trend."""
    rows = []
    for k, plan in enumerate(scenario.plans, start=1):
        m = getattr(plan, "monthly", None)
        if m is None:
            continue
        key = f"scenarios[{k}]"
        rows += [
            (
                f"Demand of '{plan.name}'",
                m.description,
                "requests a month",
                f"scenario key {key}.monthly_ramp or requests_by_month",
                "plain",
            ),
            (
                f"Discount rate of '{plan.name}'",
                m.discount_rate,
                "a year",
                f"scenario key {key}.discount_rate (default 0)",
                "percent",
            ),
            (
                f"GPU price change of '{plan.name}'",
                m.price_change,
                "a year",
                f"scenario key {key}.price_change (default 0)",
                "percent",
            ),
        ]
    return rows


def assumptions_sheet(ws, scenario, stamp_rows):
    """Every assumption with its value, unit and source; the provenance rows last.

    Returns {assumption: absolute reference of its value cell}, for formulas that read it.
    """
    ws.title = "Assumptions"
    title(ws, "Assumptions and provenance")
    header_row(ws, 3, 1, ["Assumption", "Value", "Unit", "Source"])
    rows = _assumption_rows(scenario)
    # (label, value) or (label, value, source) rows from the other sheets' modules.
    rows += [
        (label, value, "", rest[0] if rest else "", "plain") for label, value, *rest in stamp_rows
    ]
    cells = {}
    for r, (label, value, unit, source, fmt) in enumerate(rows, start=4):
        # Names, file names and sources are the user's text: stored as text, never formulas.
        write_text(ws.cell(r, 1), label)
        cell = write_text(ws.cell(r, 2), value)
        cell.number_format = FORMATS[fmt if not isinstance(value, str) else "plain"]
        write_text(ws.cell(r, 3), unit)
        write_text(ws.cell(r, 4), source)
        cells[label] = f"Assumptions!$B${r}"
    set_widths(ws, {"A": 34, "B": 40, "C": 30, "D": 70})
    for letter in "ABCD":
        wrap_column(ws, letter, top=4)
    for (cell,) in ws.iter_rows(min_row=4, min_col=2, max_col=2):
        if not isinstance(cell.value, str):  # numbers sit next to their label, not far right
            cell.alignment = Alignment(horizontal="left", vertical="top")
    repeat_rows(ws, 3)
    return cells
