"""The numbers of a report, all from the engine: plans, and the demand sweeps.

The sweeps are the paper's Figure 2 (compute-optimal: FLOP saving and size
ratio against inference tokens) and Figure 6 (cost-optimal: cost saving and
size ratio against requests), one curve per quality level, each one call.
"""

import numpy as np

from ..engine.deploy.energy import plan_footprint
from ..engine.money.budget import best_for_budget, best_for_flops
from ..engine.paper.chinchilla import chinchilla_from_loss, chinchilla_from_params
from ..engine.paper.sizing import compute_optimal, cost_optimal, lifetime_cost
from ..shared.numbers import flops_text
from .monthly import demand_for_sizing
from .serving import serving_columns

__all__ = ["plan_rows", "flops_sweep", "cost_sweep", "SWEEP_POINTS"]

SWEEP_POINTS = 57
INFERENCE_TOKENS = np.logspace(9, 16, SWEEP_POINTS)   # Figure 2's x axis
REQUESTS = np.logspace(6, 13, SWEEP_POINTS)           # Figure 6's x axis


def plan_rows(scenario):
    """One dict per scenario plan: the recommended model and its dollars, energy, emissions.

    A quality scenario's model is the cost-optimal one (a plan with a monthly schedule
    is sized on its present-value requests, so its dollars are present values); a
    budget scenario's is the best model its budget buys (in dollars, or in FLOPs and
    then priced), beside the Chinchilla-style model of the same loss.
    """
    rows = [_budget_row(scenario, p) if p.has_budget else None for p in scenario.plans]
    quality = [k for k, row in enumerate(rows) if row is None]
    if quality:
        losses = np.array([scenario.plans[k].loss for k in quality])
        requests = np.array([demand_for_sizing(scenario.plans[k]) for k in quality])
        plan = cost_optimal(losses, requests, scenario.input_tokens, scenario.output_tokens,
                            hardware=scenario.hardware, law=scenario.law)
        for i, k in enumerate(quality):
            rows[k] = _row(scenario.plans[k], scenario.plans[k].loss,
                           scenario.plans[k].chinchilla_params, plan, i)
    # GPUs serve the requests themselves, not their present value.
    served = np.array([p.requests for p in scenario.plans])
    usd_per_million_output, gpus = serving_columns(
        scenario, np.array([row["params"] for row in rows]), served)
    for k, row in enumerate(rows):
        row.update(_energy(scenario, row), usd_per_million_output=usd_per_million_output[k],
                   gpus_to_reserve=gpus[k])
    return rows


def _row(p, loss, quality, plan, i, budget=""):
    return {
        "name": p.name, "quality": quality, "loss": loss, "requests": p.requests,
        "params": plan.optimal.params[i], "tokens": plan.optimal.tokens[i],
        "training": plan.optimal.training[i], "inference": plan.optimal.inference[i],
        "total": plan.optimal.total[i], "chinchilla_tokens": plan.chinchilla.tokens[i],
        "chinchilla_total": plan.chinchilla.total[i], "saving": plan.saving[i],
        "budget": budget}


def _budget_row(scenario, p):
    """The best model of a budget scenario, priced, beside the equal-loss Chinchilla model."""
    per_request = (scenario.input_tokens, scenario.output_tokens)
    if np.isnan(p.budget_flops):
        best = best_for_budget(p.budget_dollars, p.requests, *per_request,
                               hardware=scenario.hardware, law=scenario.law)
        budget = f"${p.budget_dollars:,.0f}"
    else:
        best = best_for_flops(p.budget_flops, p.requests * sum(per_request), scenario.law)
        budget = flops_text(p.budget_flops)
    # the Chinchilla-style comparison at the loss the budget reaches
    plan = cost_optimal(np.array([best.loss]), p.requests, *per_request,
                        hardware=scenario.hardware, law=scenario.law)
    row = _row(p, best.loss, float(chinchilla_from_loss(best.loss, scenario.law).params),
               plan, 0, budget)
    cost = lifetime_cost(best.params, best.tokens, p.requests, *per_request,
                         hardware=scenario.hardware)
    row.update(params=best.params, tokens=best.tokens, training=cost.training,
               inference=cost.inference, total=cost.total,
               saving=1.0 - cost.total / row["chinchilla_total"])
    return row


def has_power(hardware):
    """Whether the hardware knows its board powers (a table of 7 bare settings does not)."""
    return not (np.isnan(hardware.train_power_watts) or np.isnan(hardware.inference_power_watts))


def _energy(scenario, row):
    if not has_power(scenario.hardware):  # energy left blank rather than failing the report
        return dict.fromkeys(("training_mwh", "inference_mwh", "training_t", "inference_t"))
    f = plan_footprint(row["params"], row["tokens"], row["requests"], scenario.input_tokens,
                       scenario.output_tokens, scenario.hardware, scenario.pue,
                       scenario.grid_kg_per_kwh)
    return {"training_mwh": f.training_mwh, "inference_mwh": f.inference_mwh,
            "training_t": f.training_t, "inference_t": f.inference_t}


def _losses(scenario):
    sizes = np.asarray(scenario.sweep_quality_params)
    return sizes, np.asarray(chinchilla_from_params(sizes, scenario.law).loss)


def flops_sweep(scenario):
    """(inference tokens, sizes, FLOP saving[size, point], params ratio[size, point])."""
    sizes, losses = _losses(scenario)
    plan = compute_optimal(losses[:, None], INFERENCE_TOKENS[None, :], scenario.law)
    return INFERENCE_TOKENS, sizes, plan.saving, plan.params_ratio


def cost_sweep(scenario):
    """(requests, sizes, cost saving[size, point], params ratio[size, point])."""
    sizes, losses = _losses(scenario)
    plan = cost_optimal(losses[:, None], REQUESTS[None, :], scenario.input_tokens,
                        scenario.output_tokens, hardware=scenario.hardware, law=scenario.law)
    return REQUESTS, sizes, plan.saving, plan.params_ratio
