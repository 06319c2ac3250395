"""The report's Risk sheet: demand ranges (regret, robust plan) and the fitted law's spread.

One block per scenario that gives ``requests_low`` and ``requests_high``: the
regret table of the low / base / high plans with the robust plan beneath it,
the plan interval (when the scenario file fits its law to ``runs``), the
lifetime cost of every plan against the demand that actually happens, and two
native charts of it (cost, and regret against the best plan in hindsight).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from ..engine.money.regret import regret_table, robust_plan
from ..engine.paper.sizing import cost_optimal, lifetime_cost
from ..shared.charts import line_series, scatter_chart
from ..shared.numbers import count_text
from ..shared.safe_text import write_text
from ..shared.styles import COUNT_FORMAT, header_row, note, put, set_widths, title

__all__ = [
    "RiskBlock",
    "risk_blocks",
    "risk_sheet",
    "CURVE_POINTS",
    "INTERVAL_LEVEL",
    "INTERVAL_RESAMPLES",
]

CURVE_POINTS = 21  # realised demands from the low to the high scenario
INTERVAL_LEVEL, INTERVAL_RESAMPLES, INTERVAL_SEED = 0.9, 200, 0
PLAN_LABELS = (
    "Plan for low demand",
    "Plan for base demand",
    "Plan for high demand",
    "Robust plan (least worst-case regret)",
)
BLOCK_ROWS = 40  # rows per scenario block, so the charts of one never cover the next


@dataclass(frozen=True, eq=False)
class RiskBlock:
    """The numbers of one scenario's block."""

    name: str
    requests: tuple  # low, base, high lifetime requests
    params: np.ndarray  # low, base, high, robust plan
    tokens: np.ndarray
    cost: np.ndarray  # (4, 3): plan x scenario, lifetime $
    worst_regret: np.ndarray  # (4,)
    demand: np.ndarray  # realised demand of the curves
    curves: np.ndarray  # (4, CURVE_POINTS) lifetime $ of each plan
    best: np.ndarray  # (CURVE_POINTS,) best possible lifetime $ at each demand
    interval: object = None  # PlanInterval, or None without runs
    inference_tokens: float = None


def _interval(scenario, plan):
    if scenario.runs is None:
        return None, None
    from ..fit.plan_interval import PlanIntervalWarning, plan_interval

    tokens = plan.requests * (scenario.input_tokens + scenario.output_tokens)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)  # the sheet states the count
        return plan_interval(
            scenario.runs, plan.loss, tokens, INTERVAL_LEVEL, INTERVAL_RESAMPLES, INTERVAL_SEED
        ), tokens


def _block(scenario, plan):
    options = dict(
        input_tokens=scenario.input_tokens,
        output_tokens=scenario.output_tokens,
        hardware=scenario.hardware,
    )
    requests = np.array([plan.requests_low, plan.requests, plan.requests_high])
    table = regret_table(plan.loss, requests, law=scenario.law, **options)
    robust = robust_plan(plan.loss, requests, law=scenario.law, **options)
    params = np.append(table.params, robust.params)
    tokens = np.append(table.tokens, robust.tokens)
    cost = lifetime_cost(params[:, None], tokens[:, None], requests[None, :], **options).total
    demand = np.linspace(requests[0], requests[2], CURVE_POINTS)
    curves = lifetime_cost(params[:, None], tokens[:, None], demand[None, :], **options).total
    best = cost_optimal(plan.loss, demand, law=scenario.law, **options).optimal.total
    worst = np.append(table.worst_regret, robust.worst_regret)
    interval, inference_tokens = _interval(scenario, plan)
    return RiskBlock(
        plan.name,
        tuple(requests),
        params,
        tokens,
        cost,
        worst,
        demand,
        curves,
        best,
        interval,
        inference_tokens,
    )


def risk_blocks(scenario):
    """A :class:`RiskBlock` for each plan of ``scenario`` with a demand range."""
    return [_block(scenario, plan) for plan in scenario.plans if plan.has_range]


# Line colours: low, base, high demand plans, the robust plan, the best possible.
COLOURS = ("E69F00", "56B4E9", "009E73", "000000", "999999")  # Okabe-Ito: colour-blind safe


def _cost_chart(ws, first, last, y_columns, title_text, y_title, robust_column):
    chart = scatter_chart(
        title_text,
        "Realised lifetime requests",
        y_title,
        size=(9.5, 24),
        style=2,
        x_format=COUNT_FORMAT,
        y_format='"$"#,##0',
    )
    chart.x_axis.scaling.min = ws.cell(first, 1).value  # exactly the low-to-high range
    chart.x_axis.scaling.max = ws.cell(last, 1).value
    for colour, column in zip(COLOURS, y_columns, strict=False):
        series = line_series(ws, 1, column, first, last)  # named by its column's header
        line = series.graphicalProperties.line
        line.solidFill, line.width = colour, 19050
        if column == robust_column:  # the robust plan: thick dashed line with markers
            line.width, line.dashStyle = 44450, "dash"
            series.marker.symbol, series.marker.size = "diamond", 7
            series.marker.graphicalProperties = None
        elif column == robust_column + 1:  # the best possible: dotted
            line.dashStyle = "sysDot"
        chart.series.append(series)
    return chart


def _write_table(ws, top, block):
    header_row(
        ws,
        top,
        1,
        [
            "Plan",
            "Params",
            "Training tokens",
            f"Lifetime $ (nominal) if low demand ({count_text(block.requests[0])} requests)",
            f"Lifetime $ (nominal) if base demand ({count_text(block.requests[1])})",
            f"Lifetime $ (nominal) if high demand ({count_text(block.requests[2])})",
            "Worst-case regret $ (nominal) over [low, high]",
        ],
    )
    for i, label in enumerate(PLAN_LABELS):
        r = top + 1 + i
        put(ws, f"A{r}", label, "result", bold=i == 3)
        put(ws, f"B{r}", float(block.params[i]), "result", "count", bold=i == 3)
        put(ws, f"C{r}", float(block.tokens[i]), "result", "count", bold=i == 3)
        for j in range(3):
            put(ws, f"{'DEF'[j]}{r}", float(block.cost[i, j]), "result", "usd")
        put(ws, f"G{r}", float(block.worst_regret[i]), "result", "usd", bold=i == 3)
    return top + len(PLAN_LABELS) + 1


def _write_interval(ws, top, block, scenario):
    if block.interval is None:
        note(
            ws,
            f"A{top}",
            'Plan interval: give `runs = "runs.csv"` in the scenario file to '
            "see how well your runs pin the plan down.",
        )
        return top + 2
    result = block.interval
    ws[f"A{top}"] = (
        f"Plan interval: compute-optimal model for "
        f"{count_text(block.inference_tokens)} "
        f"inference tokens (base requests x {count_text(scenario.input_tokens)}+"
        f"{count_text(scenario.output_tokens)} tokens), {result.n_used} of "
        f"{result.n_resamples} bootstrap refits of the law, {result.level:.0%} "
        "two-sided; each column's quantiles taken separately"
    )
    header_row(ws, top + 1, 1, ["", "Params", "Training tokens", "Total FLOPs"])
    rows = zip(
        ("low", "median", "high", "law fitted to all runs"),
        (*result.as_rows(), result.point),
        strict=True,
    )
    for i, (label, values) in enumerate(rows):
        r = top + 2 + i
        ws[f"A{r}"] = label
        for c, value in enumerate(values):
            put(ws, f"{'BCD'[c]}{r}", float(value), "result", "count")
    if result.message:
        note(ws, f"A{top + 6}", f"Excluded: {result.message}.")
    return top + 8


def _write_curves(ws, top, block):
    labels = list(PLAN_LABELS) + ["Best possible (plan made knowing the demand)"]
    header_row(
        ws,
        top,
        1,
        ["Realised lifetime requests"]
        + labels
        + [f"Regret $ (nominal): {label}" for label in PLAN_LABELS],
    )
    for k, demand in enumerate(block.demand):
        r = top + 1 + k
        put(ws, f"A{r}", float(demand), "result", "count")
        for i in range(4):
            put(ws, f"{get_column_letter(2 + i)}{r}", float(block.curves[i, k]), "result", "usd")
            put(
                ws,
                f"{get_column_letter(7 + i)}{r}",
                float(block.curves[i, k] - block.best[k]),
                "result",
                "usd",
            )
        put(ws, f"F{r}", float(block.best[k]), "result", "usd")
    return top + 1, top + len(block.demand)


def _write_block(ws, top, block, scenario):
    write_text(
        ws[f"A{top}"],
        f"{block.name}: demand from {count_text(block.requests[0])} to "
        f"{count_text(block.requests[2])} lifetime requests (base "
        f"{count_text(block.requests[1])})",
    )
    ws[f"A{top}"].font = Font(bold=True, size=12)
    row = _write_table(ws, top + 1, block) + 1
    row = _write_interval(ws, row, block, scenario)
    first, last = _write_curves(ws, row, block)
    ws.add_chart(
        _cost_chart(
            ws,
            first,
            last,
            range(2, 7),
            "Lifetime cost vs realised demand",
            "Lifetime cost $",
            robust_column=5,
        ),
        f"L{top}",
    )
    ws.add_chart(
        _cost_chart(
            ws,
            first,
            last,
            range(7, 11),
            "Regret vs realised demand (cost above the best possible)",
            "Regret $",
            robust_column=10,
        ),
        f"L{top + 20}",
    )
    return max(last + 2, top + BLOCK_ROWS)


def risk_sheet(ws, scenario, blocks):
    """Write the blocks; the sheet explains the regret rule once, at the top.

    Returns the first row of each block (its title; the plan table follows, low, base,
    high and robust plan in the rows 2 to 5 below it).
    """
    title(
        ws,
        "Risk: demand ranges and how well the law is known",
        "Regret = lifetime cost of a plan minus the cost of the best plan for the demand that "
        "actually happens. The robust plan has the least worst-case regret over the whole "
        "range; regret is convex in demand, so its worst case is at the low or high end.",
    )
    note(
        ws,
        "A3",
        "A risk-neutral team minimising expected cost should take the plan for the "
        "mean demand: cost is linear in demand.",
    )
    top, tops = 5, []
    for block in blocks:
        tops.append(top)
        top = _write_block(ws, top, block, scenario)
    set_widths(ws, {"A": 44} | {get_column_letter(c): 16 for c in range(2, 11)})
    return tops
