"""The "what a budget buys" chart: loss against model size at a fixed total budget.

Two curves (all of the budget to training, T = 0; and the scenario's inference
volume), each with its optimum marked, model size on a log axis. Used by the
budget planner template and the report, so both draw the same picture.
"""

from openpyxl.chart import Reference, ScatterChart, Series
from openpyxl.chart.marker import Marker

from .styles import AXIS_COUNT_FORMAT, log_axis

__all__ = ["budget_chart", "CURVE_POINTS"]

CURVE_POINTS = 41


def _series(ws, x_column, y_column, first, last, title, color, marker=None):
    xs = Reference(ws, min_col=x_column, min_row=first, max_row=last)
    ys = Reference(ws, min_col=y_column, min_row=first, max_row=last)
    series = Series(ys, xs, title=title)
    series.smooth = False
    if marker:
        series.marker = Marker(symbol=marker, size=10)
        series.marker.graphicalProperties.solidFill = color
        series.marker.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.noFill = True
    else:
        series.marker = Marker(symbol="none")
        series.graphicalProperties.line.solidFill = color
        series.graphicalProperties.line.width = 28000
    return series


def budget_chart(ws, first, last, columns, optimum_rows, y_range=None, x_range=(None, None)):
    """The chart from curve columns (x0, y0, xT, yT) and optimum rows in columns x0, y0.

    ``optimum_rows`` = (row of the Chinchilla optimum, row of the inference-aware one),
    both in ``columns[4:6]``; ``y_range`` = (min, max) fixes the loss axis and ``x_range``
    the sizes the axis must span (values-only sheets); None leaves them to the spreadsheet.
    """
    x0, y0, xt, yt, ox, oy = columns
    chart = ScatterChart()
    chart.title = "Loss against model size at a fixed total budget"
    chart.style = 13
    chart.height, chart.width = 12, 18  # room for the plot under a two-line title and legend
    chart.x_axis.title = "Model size (parameters, log scale)"
    chart.y_axis.title = "Loss (nats/token)"
    log_axis(chart.x_axis, *x_range)
    chart.x_axis.number_format = AXIS_COUNT_FORMAT  # 100M, 1B, 10B: no E+ on a printed axis
    chart.y_axis.number_format = "0.00"
    if y_range is not None:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = y_range
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
    chart.legend.position = "b"
    chart.legend.overlay = False
    chart.series.append(_series(ws, x0, y0, first, last, "Chinchilla (T = 0): all to training",
                                "1F4E9A"))
    chart.series.append(_series(ws, xt, yt, first, last, "With the scenario's inference",
                                "C0504D"))
    chinchilla, best = optimum_rows
    chart.series.append(_series(ws, ox, oy, chinchilla, chinchilla, "Chinchilla optimum",
                                "1F4E9A", marker="diamond"))
    chart.series.append(_series(ws, ox, oy, best, best, "Best model for the budget",
                                "C0504D", marker="circle"))
    return chart
