"""The report's "What a budget buys" sheet: the best model for a dollar budget, and the chart.

The budget is the first scenario's ``budget_dollars``; without one, the first
scenario's recommended lifetime cost (whose best model is, by duality, that
recommended model). Values only, computed by :mod:`xlplan.engine.money.budget` and
:mod:`xlplan.engine.deploy.energy`; the chart is the same as the budget planner's.
"""

import math

import numpy as np
from openpyxl.styles import Font

from ..engine.deploy.energy import plan_footprint
from ..engine.money.budget import best_for_budget, loss_at_dollars
from ..engine.paper.sizing import lifetime_cost
from ..shared.budget_chart import CURVE_POINTS, budget_chart
from ..shared.safe_text import write_text
from ..shared.styles import header_row, note, page_break_before, put, set_widths, title
from .compute import has_power

__all__ = ["budget_view", "budget_sheet", "CURVE_HEADER"]

CURVE_HEADER = 30
# Inference curve: a tenth of the best size up to 10x, or 0.9 of the size whose serving
# alone takes the whole budget (where the loss goes to infinity), whichever is smaller.
_SPAN, _SERVING_SHARE = 10.0, 0.9


def _choose(scenario, rows):
    """(dollars, requests, where the budget comes from, index of that scenario)."""
    for k, plan in enumerate(scenario.plans):
        if not math.isnan(plan.budget_dollars):
            return plan.budget_dollars, plan.requests, f"scenario '{plan.name}'", k
    first = rows[0]
    return (float(first["total"]), scenario.plans[0].requests,
            f"the recommended lifetime cost of scenario '{first['name']}'", 0)


def budget_view(scenario, rows):
    """Everything the sheet shows, as a dict of engine results."""
    dollars, requests, origin, index = _choose(scenario, rows)
    options = dict(input_tokens=scenario.input_tokens, output_tokens=scenario.output_tokens,
                   hardware=scenario.hardware, law=scenario.law)
    best = best_for_budget(dollars, requests, **options)
    chin = best_for_budget(dollars, 0.0, **options)
    costs = [lifetime_cost(m.params, m.tokens, requests, scenario.input_tokens,
                           scenario.output_tokens, scenario.hardware) for m in (best, chin)]
    footprints = [plan_footprint(m.params, m.tokens, requests, scenario.input_tokens,
                                 scenario.output_tokens, scenario.hardware, scenario.pue,
                                 scenario.grid_kg_per_kwh) for m in (best, chin)
                  ] if has_power(scenario.hardware) else None
    span = _SPAN if costs[0].inference == 0 else min(
        _SPAN, _SERVING_SHARE * dollars / costs[0].inference)
    x0 = chin.params * np.logspace(-1, 1, CURVE_POINTS)
    xt = best.params * 0.1 * (span / 0.1) ** np.linspace(0, 1, CURVE_POINTS)
    return {"dollars": dollars, "requests": requests, "origin": origin, "plan": index,
            "best": best,
            "chinchilla": chin, "costs": costs, "footprints": footprints,
            "curves": (x0, loss_at_dollars(x0, dollars, 0.0, **options),
                       xt, loss_at_dollars(xt, dollars, requests, **options))}


def _table(ws, top, headers, rows):
    header_row(ws, top, 1, headers)
    for r, (label, values, fmt) in enumerate(rows, start=top + 1):
        write_text(ws.cell(r, 1), label)
        for column, value in zip("BC", values, strict=False):
            put(ws, f"{column}{r}", float(value), "result", fmt)


def budget_sheet(ws, scenario, view):
    title(ws, "What a budget buys: the best model you can train and serve for a fixed budget",
          f"Budget: {view['origin']}. Hardware: {scenario.hardware.name}; law: "
          f"{scenario.law_source}.")
    note(ws, "A3", "Spending it all on training (Chinchilla) buys a bigger model that the "
         "budget then cannot serve; the best model is smaller and trained on more tokens.")
    _table(ws, 4, ["Inputs", "", ""], [
        ("Total lifetime budget ($)", [view["dollars"]], "usd"),
        ("Lifetime requests", [view["requests"]], "count")])
    best, chin, costs = view["best"], view["chinchilla"], view["costs"]
    _table(ws, 8, ["The best model for the budget", "Serving the requests",
                   "Chinchilla (T = 0): all to training"], [
        ("Model size (parameters)", [best.params, chin.params], "count"),
        ("Training tokens", [best.tokens, chin.tokens], "count"),
        ("Loss (nats/token)", [best.loss, chin.loss], "loss"),
        ("Training $", [c.training for c in costs], "usd"),
        ("Serving the lifetime requests $", [c.inference for c in costs], "usd"),
        ("Lifetime cost $", [c.total for c in costs], "usd"),
        ("Over the budget by $", [c.total - view["dollars"] for c in costs], "usd")])
    f = view["footprints"]
    if f is None:
        note(ws, "A17", "Energy and emissions: give train_power_watts and "
             "inference_power_watts in the scenario's [hardware] table.")
    else:
        _energy_table(ws, scenario, f)
    _curves(ws, view)
    set_widths(ws, {"A": 40, "B": 18, "C": 18, "D": 18, "E": 16, "F": 12})
    for r in (8, 17, CURVE_HEADER):
        ws.row_dimensions[r].height = 30


def _energy_table(ws, scenario, f):
    _table(ws, 17, [f"Energy and emissions (PUE {scenario.pue:g}, "
                    f"{scenario.grid_kg_per_kwh:g} kg CO2e/kWh)", "", ""], [
        ("Training energy (MWh)", [x.training_mwh for x in f], "energy"),
        ("Inference energy (MWh)", [x.inference_mwh for x in f], "energy"),
        ("Training emissions (t CO2e)", [x.training_t for x in f], "energy"),
        ("Inference emissions (t CO2e)", [x.inference_t for x in f], "energy")])


def _curves(ws, view):
    page_break_before(ws, CURVE_HEADER - 1)  # the chart's data: a page of its own, titled
    ws[f"A{CURVE_HEADER - 1}"] = "Chart data: loss of each model size at the budget"
    ws[f"A{CURVE_HEADER - 1}"].font = Font(bold=True)
    header_row(ws, CURVE_HEADER, 1, ["Params (T = 0 curve)", "Loss, all to training",
                                     "Params (inference curve)", "Loss, serving the requests",
                                     "Optimum: params", "loss"])
    first = CURVE_HEADER + 1
    for k, values in enumerate(zip(*view["curves"], strict=True)):
        for column, value, fmt in zip("ABCD", values, ("count", "loss", "count", "loss"),
                                     strict=True):
            put(ws, f"{column}{first + k}", float(value), "result", fmt)
    for r, model in ((first, view["chinchilla"]), (first + 1, view["best"])):
        put(ws, f"E{r}", float(model.params), "result", "count")
        put(ws, f"F{r}", float(model.loss), "result", "loss")
    ws.add_chart(budget_chart(ws, first, first + CURVE_POINTS - 1, (1, 2, 3, 4, 5, 6),
                              (first, first + 1), _loss_axis(view), _size_axis(view)), "E4")


def _size_axis(view):
    """The model sizes both curves span (the size axis ends at the decades around them)."""
    sizes = np.concatenate([view["curves"][0], view["curves"][2]])
    return float(sizes.min()), float(sizes.max())


def _loss_axis(view):
    """Loss axis bounds around both curves (a spreadsheet would start it at 0 otherwise)."""
    losses = np.concatenate([view["curves"][1], view["curves"][3]])
    return math.floor(losses.min() * 20) / 20, math.ceil(losses.max() * 20) / 20
