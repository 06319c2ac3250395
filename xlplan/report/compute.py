"""The numbers of a report, all from the engine: plans, and the demand sweeps.

The sweeps are the paper's Figure 2 (compute-optimal: FLOP saving and size
ratio against inference tokens) and Figure 6 (cost-optimal: cost saving and
size ratio against requests), one curve per quality level, each one call.
"""

import numpy as np

from ..engine.chinchilla import chinchilla_from_params
from ..engine.sizing import compute_optimal, cost_optimal
from .monthly import demand_for_sizing
from .serving import serving_columns

__all__ = ["plan_rows", "flops_sweep", "cost_sweep", "SWEEP_POINTS"]

SWEEP_POINTS = 57
INFERENCE_TOKENS = np.logspace(9, 16, SWEEP_POINTS)   # Figure 2's x axis
REQUESTS = np.logspace(6, 13, SWEEP_POINTS)           # Figure 6's x axis


def plan_rows(scenario):
    """One dict per scenario plan: cost-optimal and Chinchilla-style models and dollars.

    A plan with a monthly schedule is sized on its present-value requests, so its
    dollars are present values (:mod:`xlplan.engine.schedule`).
    """
    losses = np.array([p.loss for p in scenario.plans])
    requests = np.array([demand_for_sizing(p) for p in scenario.plans])
    plan = cost_optimal(losses, requests, scenario.input_tokens, scenario.output_tokens,
                        hardware=scenario.hardware, law=scenario.law)
    # GPUs serve the requests themselves, not their present value.
    served = np.array([p.requests for p in scenario.plans])
    usd_per_million_output, gpus = serving_columns(scenario, plan.optimal.params, served)
    rows = []
    for k, p in enumerate(scenario.plans):
        rows.append({
            "name": p.name, "quality": p.chinchilla_params, "loss": p.loss,
            "requests": p.requests, "params": plan.optimal.params[k],
            "tokens": plan.optimal.tokens[k], "training": plan.optimal.training[k],
            "inference": plan.optimal.inference[k], "total": plan.optimal.total[k],
            "chinchilla_tokens": plan.chinchilla.tokens[k],
            "chinchilla_total": plan.chinchilla.total[k], "saving": plan.saving[k],
            "usd_per_million_output": usd_per_million_output[k], "gpus_to_reserve": gpus[k]})
    return rows


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
