"""Native Excel charts (openpyxl): the set-up every xlplan chart shares, written once.

Used by the templates' and the report's charts (:mod:`.budget_chart`,
:mod:`.spend_chart`, :mod:`xlplan.report.charts`, the report's data-limits and
risk sheets).
"""

from openpyxl.chart import Reference, ScatterChart, Series

__all__ = ["show_axes", "scatter_chart", "line_series"]


def show_axes(*axes):
    """Show ``axes``: openpyxl 3.1 writes every axis as deleted, which hides it in Excel."""
    for axis in axes:
        axis.delete = False


def scatter_chart(title, x_title, y_title, *, size, style, x_format=None, y_format=None):
    """An empty scatter chart: titles, size, axis formats, both axes shown, the legend below
    the plot (not over it, so the plot keeps the chart's width). A log axis:
    :func:`xlplan.shared.styles.log_axis`.

    Parameters
    ----------
    title, x_title, y_title : str
        Chart and axis titles.
    size : (float, float)
        Height and width, cm.
    style : int
        Excel's chart style number.
    x_format, y_format : str, optional
        Number formats of the axis labels.
    """
    chart = ScatterChart()
    chart.title, chart.style = title, style
    chart.height, chart.width = size
    chart.x_axis.title, chart.y_axis.title = x_title, y_title
    chart.x_axis.number_format, chart.y_axis.number_format = x_format, y_format
    show_axes(chart.x_axis, chart.y_axis)
    chart.legend.position, chart.legend.overlay = "b", False
    return chart


def line_series(ws, x_column, y_column, first, last, title=None):
    """Column ``y_column`` against ``x_column`` over rows ``first`` to ``last``: a straight
    line without markers. ``title`` None: the cell above the y values names the series."""
    xs = Reference(ws, min_col=x_column, min_row=first, max_row=last)
    if title is None:
        ys = Reference(ws, min_col=y_column, min_row=first - 1, max_row=last)
        series = Series(ys, xs, title_from_data=True)
    else:
        series = Series(
            Reference(ws, min_col=y_column, min_row=first, max_row=last), xs, title=title
        )
    series.marker.symbol = "none"
    series.smooth = False
    return series
