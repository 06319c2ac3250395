"""The numbers of a report, all from the engine: resolved scenarios, plan rows, sweeps.

* :func:`resolved` turns a parsed scenario into one ready to price: a law fitted
  to its runs, each plan's loss and Chinchilla size from its goal, and a budget
  plan's loss that of the best model its budget buys.
* :func:`plan_rows` sizes each plan once, with all its constraints (quality or
  budget, monthly schedule, unique tokens), and derives every column a sheet shows
  from that one result: a :class:`PlanRow`, frozen, that no other module patches.
* :func:`deploy_rows` deploys each plan's recommended model as it runs: trained on the
  scenario's cluster (days, GPU-hours, the months it occupies, GPUs for a deadline)
  and served with its KV cache at the scenario's context: a :class:`DeployRow`.
* The sweeps are the paper's Figure 2 (compute-optimal: FLOP saving and size ratio
  against inference tokens) and Figure 6 (cost-optimal: cost saving and size ratio
  against requests), one curve per quality level, each one call.
"""

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from ..engine.data.data_limits import RepetitionWarning
from ..engine.deploy import kvcache, latency, training
from ..engine.deploy.energy import plan_footprint
from ..engine.deploy.serving import gpus_needed, implied_batch, throughput
from ..engine.errors import XlplanError
from ..engine.money.budget import best_for_budget, best_for_flops
from ..engine.money.schedule import present_value_requests
from ..engine.money.timeline import shift_schedule
from ..engine.paper.chinchilla import chinchilla_from_loss, chinchilla_from_params
from ..engine.paper.sizing import compute_optimal, cost_optimal, lifetime_cost
from ..shared.numbers import flops_text
from .launch import is_launch, plan_flow, size_launch
from .monthly import demand_for_sizing

__all__ = [
    "PlanRow",
    "DeployRow",
    "deploy_rows",
    "kv_batch",
    "resolved",
    "plan_rows",
    "sizing_demand",
    "has_power",
    "flops_sweep",
    "cost_sweep",
    "SWEEP_POINTS",
    "PRESENT_VALUE",
    "NOMINAL",
]

SWEEP_POINTS = 57
INFERENCE_TOKENS = np.logspace(9, 16, SWEEP_POINTS)  # Figure 2's x axis
REQUESTS = np.logspace(6, 13, SWEEP_POINTS)  # Figure 6's x axis
# The two money bases a sheet can state: a scheduled plan is sized and priced on
# present value; a plan of lifetime requests on nominal dollars at today's prices.
PRESENT_VALUE, NOMINAL = "present value", "nominal"


@dataclass(frozen=True)
class PlanRow:
    """Every number the report shows for one plan, from one sizing of it.

    Dollars (``training``, ``inference``, ``total``, ``chinchilla_total``) are on
    ``basis``: present value for a plan with a monthly schedule, else nominal at
    today's prices; ``cash_total`` is always the nominal cash paid (the sum of the
    cash-flow months). ``requests`` counts the requests served; ``sizing_requests``
    is what the plan was sized on (present-value requests with a schedule).
    ``gpus_basis`` says which load the GPUs to reserve were sized for. Energy and
    emissions are None when the hardware's board power is unknown. A launch plan
    (:mod:`.launch`) has its dollars on its launch calendar, ``launch`` says how.
    """

    name: str
    quality: float
    loss: float
    requests: float
    sizing_requests: float
    basis: str
    params: float
    tokens: float
    training: float
    inference: float
    total: float
    cash_total: float
    chinchilla_tokens: float
    chinchilla_total: float
    saving: float
    epochs: float
    overhead: float
    budget: str
    training_mwh: object
    inference_mwh: object
    training_t: object
    inference_t: object
    usd_per_million_output: float
    gpus_to_reserve: float
    gpus_basis: str
    launch: object = None  # a launch plan's :class:`~.launch.Launch`, else None


def sizing_demand(plan):
    """(requests a plan is sized on, the basis of its dollars)."""
    if getattr(plan, "monthly", None) is None:
        return plan.requests, NOMINAL
    return demand_for_sizing(plan), PRESENT_VALUE


def resolved(scenario):
    """The parsed scenario with its law fitted (if it gives runs) and every plan's loss."""
    if scenario.law is None:  # the file gives runs: the law is fitted to them
        from ..fit.guard import quiet_fit
        from ..fit.law import fit_law

        with quiet_fit(scenario.law_source.removeprefix("fitted to ")):
            scenario = dataclasses.replace(scenario, law=fit_law(scenario.runs).law)
    plans = tuple(_with_loss(scenario, plan) for plan in scenario.plans)
    return dataclasses.replace(scenario, plans=plans)


def _with_loss(scenario, plan):
    """A plan with loss and Chinchilla size from its goal (quality, or budget)."""
    law = scenario.law
    if plan.has_budget:
        loss = _budget_model(scenario, plan).loss
    elif math.isnan(plan.loss):
        loss = float(chinchilla_from_params(plan.chinchilla_params, law).loss)
        return dataclasses.replace(plan, loss=loss)
    else:
        loss = plan.loss
    return dataclasses.replace(
        plan, loss=loss, chinchilla_params=float(chinchilla_from_loss(loss, law).params)
    )


def _budget_model(scenario, plan):
    """The best model a budget plan's dollars (on its basis) or FLOPs buy."""
    requests, _ = sizing_demand(plan)
    per_request = (scenario.input_tokens, scenario.output_tokens)
    if math.isnan(plan.budget_flops):
        return best_for_budget(
            plan.budget_dollars,
            requests,
            *per_request,
            hardware=scenario.hardware,
            law=scenario.law,
        )
    return best_for_flops(plan.budget_flops, plan.requests * sum(per_request), scenario.law)


def plan_rows(scenario):
    """One :class:`PlanRow` per plan of a resolved scenario, in the scenario's order."""
    return tuple(_plan_row(scenario, plan) for plan in scenario.plans)


def _plan_row(scenario, plan):
    if is_launch(scenario, plan):
        return _launch_row(scenario, plan)
    requests, basis = sizing_demand(plan)
    options = dict(
        input_tokens=scenario.input_tokens,
        output_tokens=scenario.output_tokens,
        hardware=scenario.hardware,
        law=scenario.law,
    )
    # The Chinchilla-style reference is that of unlimited data, whatever the plan's limit.
    reference = cost_optimal(plan.loss, requests, **options).chinchilla
    model, epochs, budget = _model(scenario, plan, requests, options)
    cost = lifetime_cost(
        model.params,
        model.tokens,
        requests,
        scenario.input_tokens,
        scenario.output_tokens,
        scenario.hardware,
    )
    gpus, gpus_basis = _gpus_to_reserve(scenario, plan, model.params)
    return PlanRow(
        name=plan.name,
        quality=plan.chinchilla_params,
        loss=plan.loss,
        requests=plan.requests,
        sizing_requests=requests,
        basis=basis,
        params=float(model.params),
        tokens=float(model.tokens),
        training=float(cost.training),
        inference=float(cost.inference),
        total=float(cost.total),
        cash_total=_cash_total(scenario, plan, model, cost),
        chinchilla_tokens=float(reference.tokens),
        chinchilla_total=float(reference.total),
        saving=1.0 - float(cost.total) / float(reference.total),
        epochs=epochs,
        overhead=float(cost.training) / float(reference.training) - 1.0,
        budget=budget,
        **_energy(scenario, model, plan.requests),
        usd_per_million_output=float(
            throughput(model.params, scenario.hardware).usd_per_million_output
        ),
        gpus_to_reserve=gpus,
        gpus_basis=gpus_basis,
    )


def _launch_row(scenario, plan):
    """A launch plan: sized, priced and compared on its launch calendar (:mod:`.launch`)."""
    launch = size_launch(scenario, plan)
    sized, m = launch.plan, plan.monthly
    offset = sized.launch_month - 1.0
    # The present-value requests it serves (kernel: a late launch may serve past month 1,200).
    requests = float(
        present_value_requests.kernel(
            shift_schedule(m.requests_by_month, offset),
            m.discount_rate,
            m.price_change,
        )
    )
    # The same-quality Chinchilla-style model, on the same cluster and launch calendar.
    chin = cost_optimal(
        plan.loss,
        requests,
        input_tokens=scenario.input_tokens,
        output_tokens=scenario.output_tokens,
        hardware=scenario.hardware,
        law=scenario.law,
    ).chinchilla
    chin_pv = float(np.sum(plan_flow(scenario, plan, chin.params, chin.tokens).present_value))
    gpus, gpus_basis = _gpus_to_reserve(scenario, plan, sized.params)
    return PlanRow(
        name=plan.name,
        quality=plan.chinchilla_params,
        loss=plan.loss,
        requests=plan.requests,
        sizing_requests=requests,
        basis=PRESENT_VALUE,
        params=float(sized.params),
        tokens=float(sized.tokens),
        training=float(sized.training_pv),
        inference=float(sized.inference_pv),
        total=float(sized.pv),
        cash_total=_scheduled_cash(scenario, plan, sized),
        chinchilla_tokens=float(chin.tokens),
        chinchilla_total=chin_pv,
        saving=1.0 - float(sized.pv) / chin_pv,
        epochs=1.0,
        # training compute against the Chinchilla model's (nominal training $ are N D x a rate)
        overhead=float(sized.params * sized.tokens) / float(chin.params * chin.tokens) - 1.0,
        budget="",
        **_energy(scenario, sized, plan.requests),
        usd_per_million_output=float(
            throughput(sized.params, scenario.hardware).usd_per_million_output
        ),
        gpus_to_reserve=gpus,
        gpus_basis=gpus_basis,
        launch=launch,
    )


def _model(scenario, plan, requests, options):
    """(model with params and tokens, epochs over the unique data, budget text)."""
    if plan.has_budget and plan.unique_tokens is None:
        model = _budget_model(scenario, plan)
        budget = (
            f"${plan.budget_dollars:,.0f}"
            if math.isnan(plan.budget_flops)
            else flops_text(plan.budget_flops)
        )
        return model, 1.0, budget  # unlimited data: one pass, as OptimalPlan.epochs counts
    with warnings.catch_warnings():  # the summary carries its own note (epoch_note)
        warnings.simplefilter("ignore", RepetitionWarning)
        sized = cost_optimal(plan.loss, requests, **options, unique_tokens=plan.unique_tokens)
    budget = (
        ""
        if not plan.has_budget
        else (
            f"${plan.budget_dollars:,.0f} (model sized at its loss under the data limit)"
            if math.isnan(plan.budget_flops)
            else flops_text(plan.budget_flops)
        )
    )
    return sized.optimal, float(sized.epochs), budget


def _cash_total(scenario, plan, model, cost):
    """Nominal cash paid: the cash-flow months' sum with a schedule, else the total."""
    if getattr(plan, "monthly", None) is None:
        return float(cost.total)
    return _scheduled_cash(scenario, plan, model)


def _scheduled_cash(scenario, plan, model):
    """Nominal cash paid by a plan with a schedule: the sum of its cash-flow months."""
    return float(np.sum(plan_flow(scenario, plan, model.params, model.tokens).cost))


def _gpus_to_reserve(scenario, plan, params):
    """(GPUs to reserve, the load they are sized for): the peak month of a schedule, else
    lifetime requests spread over the serving months; NaN without memory settings."""
    settings, monthly = scenario.serving, getattr(plan, "monthly", None)
    if monthly is None:
        per_month = plan.requests / settings.months
        basis = f"lifetime requests over {settings.months:g} months"
    else:
        months = np.asarray(monthly.requests_by_month)
        peak = int(np.argmax(months))
        per_month = float(months[peak])
        basis = f"peak month {peak + 1} of {len(months)}"
    if not scenario.hardware.has_serving_settings:
        return math.nan, basis
    needs = gpus_needed(
        params,
        per_month,
        scenario.input_tokens,
        scenario.output_tokens,
        scenario.hardware,
        settings.peak_to_average,
    )
    return float(needs.peak), f"{basis}, x{settings.peak_to_average:g} at peak"


@dataclass(frozen=True)
class DeployRow:
    """One plan's recommended model as it runs: training on the cluster, serving with its
    KV cache (floats; NaN where not computable, with the reason in ``kv_note`` or
    ``max_batch_note``).

    Training: ``gpus`` train for ``days`` (``gpu_hours``, ``training`` $) in months
    ``first_month`` to ``last_month``; with a deadline, ``deadline_gpus`` train in
    ``deadline_run_days``. Serving, at ``batch`` sequences of ``context`` tokens, each
    token ``kv_bytes_per_token`` in the cache: ``usd_per_million_output`` (and
    ``_input``), ``gpus_per_copy``, ``tpot`` / ``ttft`` (s), ``kv_cache_bytes`` of the
    batch; ``no_kv_usd_per_million_output`` is the same batch at context 0.
    ``max_batch`` is the largest batch that fits and meets the targets, with its
    ``max_`` figures.
    """

    gpus: float
    days: float
    gpu_hours: float
    training: float
    first_month: float
    last_month: float
    deadline_days: float
    deadline_gpus: float
    deadline_run_days: float
    context: float
    batch: float
    kv_bytes_per_token: float
    usd_per_million_input: float
    usd_per_million_output: float
    no_kv_usd_per_million_output: float
    gpus_per_copy: float
    tpot: float
    ttft: float
    kv_cache_bytes: float
    max_batch: float
    max_usd_per_million_output: float
    max_gpus_per_copy: float
    max_tpot: float
    max_ttft: float
    kv_note: str = ""
    max_batch_note: str = ""
    launch: object = None  # the plan's Launch (a schedule and a deadline), else None


def kv_batch(scenario):
    """The batch the Deployment sheet serves at: ``serving.batch``, else the whole batch
    nearest the one the hardware's decode MFU implies (at least 1); NaN for hardware
    without its serving settings (no KV-cache serving to price)."""
    if scenario.serving.batch is not None:
        return float(scenario.serving.batch)
    if not scenario.hardware.has_serving_settings:
        return math.nan
    implied = implied_batch(scenario.hardware)
    return float(max(1, round(implied))) if math.isfinite(implied) else 1.0


def deploy_rows(scenario, rows):
    """One :class:`DeployRow` per :class:`PlanRow`, from the engine's deployment functions."""
    return tuple(_deploy_row(scenario, row) for row in rows)


def _deploy_row(scenario, row):
    settings, hw = scenario.training, scenario.hardware
    run = training.training_time(row.params, row.tokens, settings.gpus, hw)
    first, last = training.training_months(run.days)
    deadline = (math.nan, math.nan, math.nan)
    if settings.deadline_days is not None:
        fast = training.gpus_for_deadline(row.params, row.tokens, settings.deadline_days, hw)
        deadline = (settings.deadline_days, fast.gpus, fast.days)
    return DeployRow(
        run.gpus,
        run.days,
        run.gpu_hours,
        run.dollars,
        first,
        last,
        *deadline,
        **_kv(scenario, row.params),
        launch=row.launch,
    )


_KV_KEYS = (
    "kv_bytes_per_token",
    "usd_per_million_input",
    "usd_per_million_output",
    "no_kv_usd_per_million_output",
    "gpus_per_copy",
    "tpot",
    "ttft",
    "kv_cache_bytes",
)
_MAX_KEYS = ("max_batch", "max_usd_per_million_output", "max_gpus_per_copy", "max_tpot", "max_ttft")


def _kv(scenario, params):
    """Serving with the KV cache at the scenario's context: the batch, and the largest."""
    serving, hw = scenario.serving, scenario.hardware
    out = {"context": serving.context, "batch": kv_batch(scenario)}
    if not hw.has_serving_settings:
        note = "n/a: the hardware gives no memory settings (bandwidth, memory, bytes per weight)"
        return (
            out
            | dict.fromkeys(_KV_KEYS + _MAX_KEYS, math.nan)
            | {
                "kv_note": note,
                "max_batch_note": note,
            }
        )
    kv = kvcache.kv_bytes_default(params, hw)
    try:
        s, off = (
            kvcache.kv_serving(params, hw, out["batch"], c, kv, scenario.input_tokens)
            for c in (serving.context, 0.0)
        )
    except XlplanError as error:  # e.g. no prompt tokens: no prefill to time
        note = f"n/a: {error}"
        return (
            out
            | dict.fromkeys(_KV_KEYS + _MAX_KEYS, math.nan)
            | {
                "kv_note": note,
                "max_batch_note": note,
            }
        )
    out |= {
        "kv_bytes_per_token": float(kv),
        "usd_per_million_input": s.usd_per_million_input,
        "usd_per_million_output": s.usd_per_million_output,
        "no_kv_usd_per_million_output": off.usd_per_million_output,
        "gpus_per_copy": s.gpus_per_copy,
        "tpot": s.tpot,
        "ttft": s.ttft,
        "kv_cache_bytes": s.kv_cache_bytes,
    }
    try:
        plan = latency.max_batch(
            params,
            hw,
            serving.context,
            serving.tpot_target,
            serving.ttft_target,
            kv,
            scenario.input_tokens,
        )
    except XlplanError as error:  # unbounded, or a target batch 1 misses: said in the cell
        return out | dict.fromkeys(_MAX_KEYS, math.nan) | {"max_batch_note": f"n/a: {error}"}
    m = plan.serving
    return out | {
        "max_batch": plan.batch,
        "max_usd_per_million_output": m.usd_per_million_output,
        "max_gpus_per_copy": m.gpus_per_copy,
        "max_tpot": m.tpot,
        "max_ttft": m.ttft,
    }


def has_power(hardware):
    """Whether the hardware knows its board powers (a table of 7 bare settings does not)."""
    return not (np.isnan(hardware.train_power_watts) or np.isnan(hardware.inference_power_watts))


def _energy(scenario, model, requests):
    """Energy and emissions of training the model and serving ``requests`` (physical
    requests: energy has no present value)."""
    keys = ("training_mwh", "inference_mwh", "training_t", "inference_t")
    if not has_power(scenario.hardware):  # energy left blank rather than failing the report
        return dict.fromkeys(keys)
    f = plan_footprint(
        model.params,
        model.tokens,
        requests,
        scenario.input_tokens,
        scenario.output_tokens,
        scenario.hardware,
        scenario.pue,
        scenario.grid_kg_per_kwh,
    )
    return {key: float(getattr(f, key)) for key in keys}


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
    plan = cost_optimal(
        losses[:, None],
        REQUESTS[None, :],
        scenario.input_tokens,
        scenario.output_tokens,
        hardware=scenario.hardware,
        law=scenario.law,
    )
    return REQUESTS, sizes, plan.saving, plan.params_ratio
