"""Native Excel line charts of a sweep: one curve per quality level, log demand axis."""

from ..shared.charts import line_series, scatter_chart
from ..shared.styles import AXIS_COUNT_FORMAT, log_axis

__all__ = ["sweep_chart", "PALETTE", "DASHES", "CHART_HEIGHT", "CHART_WIDTH", "CHART_ROWS"]

# Okabe & Ito (2008): eight colours told apart by colour-blind readers; the first five
# (orange, sky blue, bluish green, vermillion, blue) differ in lightness too, and each series
# also gets its own dash so a grey print separates them.
PALETTE = ("E69F00", "56B4E9", "009E73", "D55E00", "0072B2", "CC79A7", "F0E442", "000000")
DASHES = ("solid", "dash", "sysDot", "lgDash", "dashDot", "lgDashDot", "sysDash", "solid")
# Large enough to read on a landscape page of its own (cm); about CHART_ROWS rows tall.
CHART_HEIGHT, CHART_WIDTH = 12.5, 24.0
CHART_ROWS = 26


def sweep_chart(
    ws, title, x_title, y_title, first_row, last_row, x_column, y_columns, labels, y_format
):
    """A scatter chart with lines of columns ``y_columns`` against ``x_column`` (log scale)."""
    # 1M, 1B, 1T on the log axis: no E+ on a printed axis
    chart = scatter_chart(
        title,
        x_title,
        y_title,
        size=(CHART_HEIGHT, CHART_WIDTH),
        style=2,
        x_format=AXIS_COUNT_FORMAT,
        y_format=y_format,
    )
    xs_values = [ws.cell(r, x_column).value for r in range(first_row, last_row + 1)]
    log_axis(chart.x_axis, min(xs_values), max(xs_values))
    for k, (column, label) in enumerate(zip(y_columns, labels, strict=True)):
        series = line_series(ws, x_column, column, first_row, last_row, label)
        line = series.graphicalProperties.line
        line.solidFill = PALETTE[k % len(PALETTE)]
        line.width, line.dashStyle = 28575, DASHES[k % len(DASHES)]  # 2.25 pt
        chart.series.append(series)
    return chart
