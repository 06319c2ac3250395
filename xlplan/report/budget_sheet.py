"""The report's "What a budget buys" sheets: the best model for a dollar budget, and the chart.

Every budget scenario gets a sheet, its budget on its plan's money basis (present
value with a monthly schedule, priced on present-value requests; else nominal);
without a budget scenario, one sheet spends the first scenario's recommended
lifetime cost, on the same basis, and buys (by duality) that recommended model. A plan
with ``unique_tokens`` buys under that data cap (data-constrained loss) as its Summary
row is sized.
The "all to training" column is the largest model the budget trains (T = 0), not
the Summary's same-quality Chinchilla-style model. Values only, computed by
:mod:`xlplan.engine.money.budget` and :mod:`xlplan.engine.deploy.energy`; the chart
is the same as the budget planner's.
"""

import math
import warnings

import numpy as np
from openpyxl.styles import Font

from ..engine.data.data_limits import RepetitionWarning
from ..engine.deploy.energy import plan_footprint
from ..engine.money.budget import best_for_budget, loss_at_dollars
from ..engine.paper.sizing import lifetime_cost
from ..shared.budget_chart import CURVE_POINTS, budget_chart
from ..shared.safe_text import write_text
from ..shared.styles import header_row, note, page_break_before, put, set_widths, title
from .compute import PRESENT_VALUE, has_power

__all__ = [
    "budget_plans",
    "budget_view",
    "budget_sheet",
    "sheet_name",
    "CURVE_HEADER",
    "SHEET",
    "ALL_TO_TRAINING",
]

SHEET = "What a budget buys"
ALL_TO_TRAINING = "All to training (T = 0): the largest model it trains, unserved"

CURVE_HEADER = 30
# Inference curve: a tenth of the best size up to 10x, or 0.9 of the size whose serving
# alone takes the whole budget (where the loss goes to infinity), whichever is smaller.
_SPAN, _SERVING_SHARE = 10.0, 0.9


def budget_plans(scenario, rows=None):
    """Indices of the plans that get a sheet: every budget scenario, else the first plan
    priced on the month-0 basis the sheet prices on (none if every plan is a launch plan:
    :mod:`.launch`)."""
    budgets = [k for k, p in enumerate(scenario.plans) if p.has_budget]
    if budgets:
        return budgets
    if rows is None:
        return [0]
    return [k for k, row in enumerate(rows) if row.launch is None][:1]


def sheet_name(n):
    """The n-th budget sheet's name (n from 1)."""
    return SHEET if n == 1 else f"{SHEET} ({n})"


def _choose(plan, row):
    """(dollars, requests to price, where the dollars come from) on the row's basis."""
    if not math.isnan(plan.budget_dollars):
        return plan.budget_dollars, row.sizing_requests, f"scenario '{plan.name}'"
    return (
        row.total,
        row.sizing_requests,
        f"the recommended lifetime cost of scenario '{plan.name}'",
    )


def budget_view(scenario, rows, k):
    """Everything the sheet of plan ``k`` shows, as a dict of engine results."""
    plan, row = scenario.plans[k], rows[k]
    dollars, requests, origin = _choose(plan, row)
    # The plan's data cap too: the same money buys the Summary's plan (by duality).
    options = dict(
        input_tokens=scenario.input_tokens,
        output_tokens=scenario.output_tokens,
        hardware=scenario.hardware,
        law=scenario.law,
        unique_tokens=plan.unique_tokens,
    )
    with warnings.catch_warnings():  # the Summary's epoch note covers the repetition
        warnings.simplefilter("ignore", RepetitionWarning)
        best = best_for_budget(dollars, requests, **options)
        chin = best_for_budget(dollars, 0.0, **options)
    costs = [
        lifetime_cost(
            m.params,
            m.tokens,
            requests,
            scenario.input_tokens,
            scenario.output_tokens,
            scenario.hardware,
        )
        for m in (best, chin)
    ]
    # Energy serves the requests themselves, not their present value.
    footprints = (
        [
            plan_footprint(
                m.params,
                m.tokens,
                plan.requests,
                scenario.input_tokens,
                scenario.output_tokens,
                scenario.hardware,
                scenario.pue,
                scenario.grid_kg_per_kwh,
            )
            for m in (best, chin)
        ]
        if has_power(scenario.hardware)
        else None
    )
    span = (
        _SPAN
        if costs[0].inference == 0
        else min(_SPAN, _SERVING_SHARE * dollars / costs[0].inference)
    )
    x0 = chin.params * np.logspace(-1, 1, CURVE_POINTS)
    xt = best.params * 0.1 * (span / 0.1) ** np.linspace(0, 1, CURVE_POINTS)
    return {
        "dollars": dollars,
        "requests": requests,
        "origin": origin,
        "plan": k,
        "best": best,
        "basis": row.basis,
        "unique_tokens": plan.unique_tokens,
        "chinchilla": chin,
        "costs": costs,
        "footprints": footprints,
        "curves": (
            x0,
            loss_at_dollars(x0, dollars, 0.0, **options),
            xt,
            loss_at_dollars(xt, dollars, requests, **options),
        ),
    }


def _table(ws, top, headers, rows):
    header_row(ws, top, 1, headers)
    for r, (label, values, fmt) in enumerate(rows, start=top + 1):
        write_text(ws.cell(r, 1), label)
        for column, value in zip("BC", values, strict=False):
            put(ws, f"{column}{r}", float(value), "result", fmt)


def budget_sheet(ws, scenario, view):
    basis = view["basis"]
    title(
        ws,
        "What a budget buys: the best model you can train and serve for a fixed budget",
        f"Budget: {view['origin']}. Every $ on this sheet is {basis}"
        + (
            " (each month discounted, at its GPU price)"
            if basis == PRESENT_VALUE
            else " (today's prices)"
        )
        + f". Hardware: {scenario.hardware.name}; law: "
        f"{scenario.law_source}.",
    )
    limit = (
        ""
        if view["unique_tokens"] is None
        else f" Both models train on the plan's {view['unique_tokens']:,.0f} unique tokens, "
        "repeated as needed (data-constrained loss, Muennighoff et al. 2023)."
    )
    note(
        ws,
        "A3",
        "Spending it all on training (T = 0) buys a bigger model that the budget "
        "then cannot serve; the best model is smaller and trained on more tokens. (Not the "
        "Summary's same-quality Chinchilla-style model, which costs more than the budget.)" + limit,
    )
    requests = (
        "Present-value requests (each month's, discounted and priced as its dollars)"
        if basis == PRESENT_VALUE
        else "Lifetime requests"
    )
    _table(
        ws,
        4,
        ["Inputs", "", ""],
        [
            (f"Total lifetime budget $ ({basis})", [view["dollars"]], "usd"),
            (requests, [view["requests"]], "count"),
        ],
    )
    best, chin, costs = view["best"], view["chinchilla"], view["costs"]
    _table(
        ws,
        8,
        ["The best model for the budget", "Serving the requests", ALL_TO_TRAINING],
        [
            ("Model size (parameters)", [best.params, chin.params], "count"),
            ("Training tokens", [best.tokens, chin.tokens], "count"),
            ("Loss (nats/token)", [best.loss, chin.loss], "loss"),
            (f"Training $ ({basis})", [c.training for c in costs], "usd"),
            (f"Serving the requests $ ({basis})", [c.inference for c in costs], "usd"),
            (f"Lifetime cost $ ({basis})", [c.total for c in costs], "usd"),
            (f"Over the budget by $ ({basis})", [c.total - view["dollars"] for c in costs], "usd"),
        ],
    )
    f = view["footprints"]
    if f is None:
        note(
            ws,
            "A17",
            "Energy and emissions: give train_power_watts and "
            "inference_power_watts in the scenario's [hardware] table.",
        )
    else:
        _energy_table(ws, scenario, f)
    _curves(ws, view)
    set_widths(ws, {"A": 40, "B": 18, "C": 18, "D": 18, "E": 16, "F": 12})
    for r in (17, CURVE_HEADER):
        ws.row_dimensions[r].height = 30
    ws.row_dimensions[8].height = 48  # the T = 0 header wraps to three lines


def _energy_table(ws, scenario, f):
    _table(
        ws,
        17,
        [
            f"Energy and emissions (PUE {scenario.pue:g}, "
            f"{scenario.grid_kg_per_kwh:g} kg CO2e/kWh)",
            "",
            "",
        ],
        [
            ("Training energy (MWh)", [x.training_mwh for x in f], "energy"),
            ("Inference energy (MWh)", [x.inference_mwh for x in f], "energy"),
            ("Training emissions (t CO2e)", [x.training_t for x in f], "energy"),
            ("Inference emissions (t CO2e)", [x.inference_t for x in f], "energy"),
        ],
    )


def _curves(ws, view):
    page_break_before(ws, CURVE_HEADER - 1)  # the chart's data: a page of its own, titled
    ws[f"A{CURVE_HEADER - 1}"] = "Chart data: loss of each model size at the budget"
    ws[f"A{CURVE_HEADER - 1}"].font = Font(bold=True)
    header_row(
        ws,
        CURVE_HEADER,
        1,
        [
            "Params (T = 0 curve)",
            "Loss, all to training (T = 0)",
            "Params (inference curve)",
            "Loss, serving the requests",
            "Optimum: params",
            "loss",
        ],
    )
    first = CURVE_HEADER + 1
    for k, values in enumerate(zip(*view["curves"], strict=True)):
        for column, value, fmt in zip(
            "ABCD", values, ("count", "loss", "count", "loss"), strict=True
        ):
            put(ws, f"{column}{first + k}", float(value), "result", fmt)
    for r, model in ((first, view["chinchilla"]), (first + 1, view["best"])):
        put(ws, f"E{r}", float(model.params), "result", "count")
        put(ws, f"F{r}", float(model.loss), "result", "loss")
    ws.add_chart(
        budget_chart(
            ws,
            first,
            first + CURVE_POINTS - 1,
            (1, 2, 3, 4, 5, 6),
            (first, first + 1),
            _loss_axis(view),
            _size_axis(view),
        ),
        "E4",
    )


def _size_axis(view):
    """The model sizes both curves span (the size axis ends at the decades around them)."""
    sizes = np.concatenate([view["curves"][0], view["curves"][2]])
    return float(sizes.min()), float(sizes.max())


def _loss_axis(view):
    """Loss axis bounds around both curves (a spreadsheet would start it at 0 otherwise)."""
    losses = np.concatenate([view["curves"][1], view["curves"][3]])
    return math.floor(losses.min() * 20) / 20, math.ceil(losses.max() * 20) / 20
