"""The report's data limits: epochs and training-compute overhead per plan, the overhead curve.

* A plan's epochs over its unique data (Muennighoff et al. 2023) and its
  training-compute overhead against the Chinchilla-style model (de Vries 2023) are
  columns of its :class:`~xlplan.report.compute.PlanRow`, sized once with its data
  limit; :func:`epoch_note` and :func:`assumption_rows` describe them.
* :func:`overhead_sheet` draws the overhead curve for k = 0.1 to 1 with the
  critical size k* marked.
"""

import numpy as np

from ..engine.data.data_limits import EPOCH_WARNING, repetition_constants
from ..engine.paper.overhead import compute_overhead, critical_size
from ..shared.charts import line_series, scatter_chart
from ..shared.numbers import count_text
from ..shared.styles import header_row, note, put, set_widths, title

__all__ = ["overhead_sheet", "epoch_note", "assumption_rows", "SIZE_FRACTIONS"]

SIZE_FRACTIONS = np.round(np.linspace(0.1, 1.0, 37), 6)
# The curve rises without bound towards k*: the chart's overhead axis stops here.
AXIS_MAX = 4.0


def assumption_rows(scenario):
    """(label, text) rows for the Assumptions sheet: the data limits and the decay constants."""
    law = scenario.law
    r_d, r_n = repetition_constants(law)
    whose = (
        "the law's own"
        if law.R_D_star is not None and law.R_N_star is not None
        else "Muennighoff et al. 2023's C4 values, an approximation for this law"
    )
    limits = sorted({plan.unique_tokens for plan in scenario.plans} - {None})
    return [
        (
            "Unique training tokens",
            ", ".join(count_text(u) for u in limits) + " (per scenario "
            "as given; the others unlimited)"
            if limits
            else "unlimited in every scenario",
        ),
        (
            "Repeated data (Muennighoff et al. 2023)",
            f"R_D* = {r_d:g}, R_N* = {r_n:g}: {whose}; epochs above {EPOCH_WARNING:g} are flagged",
        ),
    ]


def epoch_note(rows):
    """A note for the summary when some plan repeats its data more than 4 times, else None."""
    many = [row.name for row in rows if row.epochs > EPOCH_WARNING]
    if not many:
        return None
    return (
        f"More than {EPOCH_WARNING:g} epochs over the unique data in: {', '.join(many)}. "
        "Repeated data is worth noticeably less beyond that (Muennighoff et al. 2023)."
    )


def overhead_sheet(ws, scenario):
    """Overhead of a model k times the Chinchilla size (same loss), with k* marked."""
    law = scenario.law
    k_star = critical_size(law)
    overhead = compute_overhead(SIZE_FRACTIONS, law, on_invalid="nan")
    title(
        ws,
        "Training-compute overhead of a smaller model (de Vries 2023)",
        f"Law: {scenario.law_source}. A model k times the Chinchilla-optimal size needs more "
        "tokens to reach the same loss; extra training compute = k k_D - 1, the same at any "
        "budget.",
    )
    note(
        ws,
        "A3",
        f"Critical size k* = {k_star:.2%} of the Chinchilla size: below it no "
        f"amount of data reaches the loss (the overhead is infinite). Blank cells: k at or "
        f"below k*. The chart's axis stops at +{AXIS_MAX:.0%}.",
    )
    header = 5
    header_row(
        ws,
        header,
        1,
        ["Size fraction k", "Training-compute overhead", "k* marker: k", "k* marker: overhead"],
    )
    for i, (k, value) in enumerate(zip(SIZE_FRACTIONS, overhead, strict=True)):
        put(ws, f"A{header + 1 + i}", float(k), "result", "percent")
        put(
            ws,
            f"B{header + 1 + i}",
            float(value) if np.isfinite(value) else None,
            "result",
            "percent",
        )
    for i, y in enumerate((0.0, AXIS_MAX)):  # a vertical line at k*
        put(ws, f"C{header + 1 + i}", float(k_star), "result", "percent")
        put(ws, f"D{header + 1 + i}", y, "result", "percent")
    ws.add_chart(_chart(ws, header + 1, header + len(SIZE_FRACTIONS), k_star), "F5")
    set_widths(ws, {"A": 14, "B": 16, "C": 14, "D": 16})
    ws.row_dimensions[header].height = 45  # "Training-compute overhead" on three lines
    return overhead


def _chart(ws, first, last, k_star):
    chart = scatter_chart(
        "Extra training compute vs model size (fraction of Chinchilla-optimal)",
        "size fraction k",
        "training-compute overhead",
        size=(9, 16),
        style=12,
        x_format="0%",
        y_format="0%",
    )
    chart.x_axis.scaling.min, chart.x_axis.scaling.max = 0.0, 1.0
    chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0.0, AXIS_MAX
    marker = line_series(ws, 3, 4, first, first + 1, f"critical size k* = {k_star:.1%}")
    chart.series.extend([line_series(ws, 1, 2, first, last, "overhead"), marker])
    marker.graphicalProperties.line.dashStyle = "dash"
    return chart
