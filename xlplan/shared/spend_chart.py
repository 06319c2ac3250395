"""The monthly spend chart of a cash-flow table: columns per month, cumulative spend as a line.

A native Excel chart (openpyxl): training and inference dollars as stacked
columns against the month, and the cumulative spend as a line on a second axis
at the right, since the cumulative total soon dwarfs any one month. Used by the
``monthly_budget.xlsx`` template and by the report's cash-flow sheet.
"""

from openpyxl.chart import BarChart, LineChart, Reference

from .charts import show_axes

__all__ = ["spend_chart"]


def spend_chart(
    ws,
    header_row,
    last_row,
    month_col,
    training_col,
    inference_col,
    cumulative_col,
    title="Monthly spend",
):
    """Chart of the table whose headers are on ``header_row`` and data below, to ``last_row``.

    ``training_col`` and ``inference_col`` must be adjacent (training first);
    the header cells give the series names.
    """
    bars = BarChart()
    bars.type, bars.grouping, bars.overlap = "col", "stacked", 100
    bars.title = title
    bars.height, bars.width = 9, 18
    bars.add_data(
        Reference(
            ws, min_col=training_col, max_col=inference_col, min_row=header_row, max_row=last_row
        ),
        titles_from_data=True,
    )
    months = Reference(ws, min_col=month_col, min_row=header_row + 1, max_row=last_row)
    bars.set_categories(months)
    bars.y_axis.title = "spend in the month ($)"  # the categories are the months
    bars.y_axis.number_format = '"$"#,##0'
    bars.y_axis.majorGridlines = None
    line = LineChart()
    line.add_data(
        Reference(ws, min_col=cumulative_col, min_row=header_row, max_row=last_row),
        titles_from_data=True,
    )
    line.set_categories(months)
    line.y_axis.axId = 200  # a second value axis, on the right
    line.y_axis.title = "cumulative spend ($)"
    line.y_axis.number_format = '"$"#,##0'
    line.y_axis.crosses = "max"
    show_axes(bars.x_axis, bars.y_axis, line.y_axis)
    line.series[0].marker.symbol = "none"
    line.series[0].smooth = False
    bars.legend.position = "b"
    bars += line
    return bars
