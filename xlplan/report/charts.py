"""Native Excel line charts of a sweep: one curve per quality level, log demand axis."""

from openpyxl.chart import Reference, ScatterChart, Series

__all__ = ["sweep_chart"]


def sweep_chart(ws, title, x_title, y_title, first_row, last_row, x_column, y_columns,
                labels, y_format):
    """A scatter chart with lines of columns ``y_columns`` against ``x_column`` (log scale)."""
    chart = ScatterChart()
    chart.title = title
    chart.style = 12
    chart.height, chart.width = 8.5, 16
    chart.x_axis.title, chart.y_axis.title = x_title, y_title
    chart.x_axis.scaling.logBase = 10
    chart.x_axis.number_format = "0E+0"
    chart.y_axis.number_format = y_format
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides axes otherwise
    chart.legend.position = "b"
    xs = Reference(ws, min_col=x_column, min_row=first_row, max_row=last_row)
    for column, label in zip(y_columns, labels, strict=True):
        ys = Reference(ws, min_col=column, min_row=first_row, max_row=last_row)
        series = Series(ys, xs, title=label)
        series.marker.symbol = "none"
        series.smooth = False
        chart.series.append(series)
    return chart
