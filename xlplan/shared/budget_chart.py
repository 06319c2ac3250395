"""The "what a budget buys" chart: loss against model size at a fixed total budget.

Two curves (all of the budget to training, T = 0; and the scenario's inference
volume), each with its optimum marked, model size on a log axis. Used by the
budget planner template and the report, so both draw the same picture.
"""

from openpyxl.chart.marker import Marker

from .charts import line_series, scatter_chart
from .styles import AXIS_COUNT_FORMAT, log_axis

__all__ = ["budget_chart", "CURVE_POINTS"]

CURVE_POINTS = 41


def _series(ws, x_column, y_column, first, last, title, color, marker=None):
    series = line_series(ws, x_column, y_column, first, last, title)
    if marker:
        series.marker = Marker(symbol=marker, size=10)
        series.marker.graphicalProperties.solidFill = color
        series.marker.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.noFill = True
    else:
        series.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.width = 28000
    return series


def budget_chart(ws, first, last, columns, optimum_rows, y_range=None, x_range=(None, None)):
    """The chart from curve columns (x0, y0, xT, yT) and optimum rows in columns x0, y0.

    ``optimum_rows`` = (row of the all-to-training (T = 0) optimum, row of the
    inference-aware one), both in ``columns[4:6]``; ``y_range`` = (min, max) fixes the loss
    axis and ``x_range`` the sizes the axis must span (values-only sheets); None leaves them
    to the spreadsheet.
    """
    x0, y0, xt, yt, ox, oy = columns
    # 12 cm tall: room for the plot under a two-line title and legend. 100M, 1B, 10B on
    # the log axis: no E+ on a printed axis.
    chart = scatter_chart(
        "Loss against model size at a fixed total budget",
        "Model size (parameters, log scale)",
        "Loss (nats/token)",
        size=(12, 18),
        style=13,
        x_format=AXIS_COUNT_FORMAT,
        y_format="0.00",
    )
    log_axis(chart.x_axis, *x_range)
    if y_range is not None:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = y_range
    chart.series.append(_series(ws, x0, y0, first, last, "All to training (T = 0)", "1F4E9A"))
    chart.series.append(_series(ws, xt, yt, first, last, "With the scenario's inference", "C0504D"))
    chinchilla, best = optimum_rows
    chart.series.append(
        _series(
            ws,
            ox,
            oy,
            chinchilla,
            chinchilla,
            "All-to-training optimum",
            "1F4E9A",
            marker="diamond",
        )
    )
    chart.series.append(
        _series(ws, ox, oy, best, best, "Best model for the budget", "C0504D", marker="circle")
    )
    return chart
