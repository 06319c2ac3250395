"""The identities a report's Checks sheet recomputes, between its sheets.

Each :class:`~xlplan.shared.checks.Check` reads cells of the report's sheets by
formula (the Summary, the Assumptions, the cash flow, the budget and risk
sheets) and, where a face shows no cell of its own (the serving model's
GPU-hours), the number that face's engine function gives. A value patched into
any of those cells turns its check, and the master check, to ERROR.
"""

from dataclasses import dataclass, field

import numpy as np

from ..engine.constants import HOURS_PER_MONTH
from ..engine.deploy.serving import gpus_needed
from ..shared.checks import Check
from ..shared.numbers import count_text
from .compute import has_power
from .deployment_checks import deployment_checks
from .sheets import summary_cell

__all__ = ["Layout", "report_checks"]

CASH = "'Cash flow'!"
BUDGET = "'What a budget buys'!"


@dataclass(frozen=True)
class Layout:
    """Where the report put what the checks read."""

    assumptions: dict  # assumption label -> value cell
    cashflow: dict = field(default_factory=dict)  # plan -> (month 0, last month, totals row)
    risk: dict = field(default_factory=dict)  # plan -> first row of its Risk block
    budget_plan: int = 0  # plan the budget sheet's dollars come from
    budget_sheets: dict = field(default_factory=dict)  # every budget sheet -> its plan
    deployment: object = None  # the Deployment sheet's DeploymentLayout


def _cells(plan):
    return {
        key: summary_cell(key, plan)
        for key in (
            "requests",
            "params",
            "tokens",
            "training",
            "inference",
            "total",
            "chinchilla_total",
            "saving",
            "training_mwh",
            "inference_mwh",
            "training_t",
            "inference_t",
            "gpus_to_reserve",
        )
    }


def _priced(plan, s, a):
    """Training and inference dollars of one plan recomputed from the Assumptions."""
    training = (
        f"=6*{s['params']}*{s['tokens']}/({a['Train peak FLOP/s']}*{a['Train MFU']}"
        f"*3600)*{a['Train $/GPU-hour']}"
    )
    checks = [
        Check(
            f"{plan.name}: training $ + inference $ = lifetime cost $",
            f"={s['training']}+{s['inference']}",
            f"={s['total']}",
            "usd",
            "Summary: training $, inference $; lifetime cost $",
        ),
        Check(
            f"{plan.name}: saving = 1 - lifetime cost / Chinchilla-style cost",
            f"=1-{s['total']}/{s['chinchilla_total']}",
            f"={s['saving']}",
            "percent",
            "Summary: lifetime cost $, Chinchilla-style cost $; saving",
        ),
        Check(
            f"{plan.name}: training $ = 6 N D / (peak x MFU x 3,600 s) x $ per GPU-hour",
            training,
            f"={s['training']}",
            "usd",
            "Summary params, tokens; Assumptions hardware; Summary training $",
        ),
    ]
    if plan.monthly is None:
        inference = (
            f"={s['requests']}*2*{s['params']}*({a['Input tokens per request']}/"
            f"{a['Prefill MFU']}+{a['Output tokens per request']}/{a['Decode MFU']})"
            f"/{a['Inference peak FLOP/s']}/3600*{a['Inference $/GPU-hour']}"
        )
        checks.append(
            Check(
                f"{plan.name}: inference $ = requests x 2 N x (prompt / prefill "
                "MFU + output / decode MFU) / peak / 3,600 x $ per GPU-hour",
                inference,
                f"={s['inference']}",
                "usd",
                "Summary requests, params; Assumptions hardware; Summary inference $",
            )
        )
    return checks


def _serving(scenario, row, plan, s, a):
    """The serving model's GPU-hours against the cost model's (plans without a schedule)."""
    months = scenario.serving.months
    needs = gpus_needed(
        row.params,
        row.requests / months,
        scenario.input_tokens,
        scenario.output_tokens,
        scenario.hardware,
    )
    hours = float(needs.gpu_hours_per_month) * months
    return [
        Check(
            f"{plan.name}: serving GPU-hours ({hours:,.0f}, GPUS_NEEDED over "
            f"{count_text(months)} months) x inference $ per GPU-hour = inference $",
            f"={hours!r}*{a['Inference $/GPU-hour']}",
            f"={s['inference']}",
            "usd",
            "serving model (gpus_needed); Assumptions; Summary inference $",
        ),
        Check(
            f"{plan.name}: GPUs to reserve cover the average load x peak / average",
            f"={s['gpus_to_reserve']}",
            f"={hours!r}/{months!r}/{HOURS_PER_MONTH!r}*{a['Peak load / average load']}",
            "ratio",
            "Summary GPUs to reserve; serving model, Assumptions",
            at_least=True,
        ),
    ]


def _schedule(scenario, row, plan, s, a, rows):
    """A monthly plan's cash flow against the Summary and the serving model."""
    m0, last, total = rows
    first = f"{CASH}$C${m0 + 1}:$C${last}"
    rate = a[f"Discount rate of '{plan.name}'"]
    checks = [
        Check(
            f"{plan.name}: the months' requests sum to the lifetime requests",
            f"={CASH}$B${total}",
            f"={s['requests']}",
            "count",
            f"Cash flow B{total}; Summary lifetime requests",
        ),
        Check(
            f"{plan.name}: the months' present values sum to the lifetime cost (PV)",
            f"={CASH}$F${total}",
            f"={s['total']}",
            "usd",
            f"Cash flow F{total}; Summary lifetime cost $",
        ),
        Check(
            f"{plan.name}: PV = NPV: month 0 + Excel's NPV of months 1 on = lifetime cost",
            f"={CASH}$E${m0}+NPV((1+{rate})^(1/12)-1,{CASH}$E${m0 + 1}:$E${last})",
            f"={s['total']}",
            "usd",
            f"Cash flow E{m0}:E{last}, Assumptions discount rate; Summary lifetime cost $",
        ),
        Check(
            f"{plan.name}: training $ = the month-0 cost",
            f"={CASH}$E${m0}",
            f"={s['training']}",
            "usd",
            f"Cash flow E{m0}; Summary training $",
        ),
        Check(
            f"{plan.name}: cumulative spend in the last month = the months' total cost",
            f"={CASH}$I${last}",
            f"={CASH}$E${total}",
            "usd",
            f"Cash flow I{last}; E{total}",
        ),
        Check(
            f"{plan.name}: GPUs to reserve cover the peak month's average GPUs x peak / average",
            f"={s['gpus_to_reserve']}",
            f"=MAX({CASH}$D${m0 + 1}:$D${last})*{a['Peak load / average load']}",
            "ratio",
            f"Summary GPUs to reserve; Cash flow D{m0 + 1}:D{last}",
            at_least=True,
        ),
    ]
    if scenario.hardware.has_serving_settings:
        hours = float(
            np.sum(
                gpus_needed(
                    row.params,
                    np.array(plan.monthly.requests_by_month),
                    scenario.input_tokens,
                    scenario.output_tokens,
                    scenario.hardware,
                ).gpu_hours_per_month
            )
        )
        checks.append(
            Check(
                f"{plan.name}: serving GPU-hours of the months (GPUS_NEEDED) = the cash flow's",
                f"={hours!r}",
                f"=SUM({first})",
                "integer",
                f"serving model (gpus_needed); Cash flow C{m0 + 1}:C{last}",
            )
        )
    if has_power(scenario.hardware):
        checks.append(
            Check(
                f"{plan.name}: inference energy = GPU-hours of the months x board power x PUE",
                f"=SUM({first})*{a['Board power, inference GPU']}*{a['PUE']}/1000000",
                f"={s['inference_mwh']}",
                "energy",
                f"Cash flow C{m0 + 1}:C{last}, Assumptions; Summary inference MWh",
            )
        )
    return checks


def _energy(plan, s, a):
    """MWh and t CO2e against the dollars they come from."""
    checks = [
        Check(
            f"{plan.name}: training energy = training $ / $ per GPU-hour x board power x PUE",
            f"={s['training']}/{a['Train $/GPU-hour']}*"
            f"{a['Board power, training GPU']}*{a['PUE']}/1000000",
            f"={s['training_mwh']}",
            "energy",
            "Summary training $, Assumptions; Summary training MWh",
        )
    ]
    if plan.monthly is None:
        checks.append(
            Check(
                f"{plan.name}: inference energy = inference $ / $ per GPU-hour x board power x PUE",
                f"={s['inference']}/"
                f"{a['Inference $/GPU-hour']}*{a['Board power, inference GPU']}*"
                f"{a['PUE']}/1000000",
                f"={s['inference_mwh']}",
                "energy",
                "Summary inference $, Assumptions; Summary inference MWh",
            )
        )
    for what in ("training", "inference"):
        checks.append(
            Check(
                f"{plan.name}: {what} emissions = {what} MWh x grid intensity",
                f"={s[what + '_mwh']}*{a['Grid carbon intensity']}",
                f"={s[what + '_t']}",
                "energy",
                f"Summary {what} MWh, Assumptions; Summary {what} t CO2e",
            )
        )
    return checks


def _budget(scenario, layout):
    checks = []
    for sheet, k in (layout.budget_sheets or {BUDGET[1:-2]: layout.budget_plan}).items():
        plan, ref = scenario.plans[k], f"'{sheet}'!"
        checks.append(
            Check(
                f"{sheet}: the best model's lifetime cost = the budget",
                f"={ref}$B$14",
                f"={ref}$B$5",
                "usd",
                f"{sheet} B14; B5",
            )
        )
        checks.append(
            Check(
                f"{sheet} spends the money of '{plan.name}' on the same model (params)",
                f"={ref}$B$9",
                f"={summary_cell('params', k)}",
                "count",
                f"{sheet} B9; Summary recommended params",
            )
        )
    for k, plan in enumerate(scenario.plans):
        if not np.isnan(plan.budget_dollars):
            checks.append(
                Check(
                    f"{plan.name}: lifetime cost = the budget given",
                    f"={summary_cell('total', k)}",
                    plan.budget_dollars,
                    "usd",
                    "Summary lifetime cost $; the scenario's budget_dollars",
                )
            )
    return checks


def _risk(plan, s, top):
    base, robust = top + 3, top + 5
    return [
        Check(
            f"{plan.name}: the Risk sheet's plan for base demand = the Summary's plan",
            f"=Risk!$B${base}",
            f"={s['params']}",
            "count",
            f"Risk B{base}; Summary recommended params",
        ),
        Check(
            f"{plan.name}: worst-case regret of the base-case plan at least the robust plan's",
            f"=Risk!$G${base}",
            f"=Risk!$G${robust}",
            "usd",
            f"Risk G{base}; G{robust}",
            at_least=True,
        ),
    ]


def report_checks(scenario, rows, layout):
    """Every check of a report: per plan, then the budget sheet."""
    a = layout.assumptions
    checks = []
    for k, (plan, row) in enumerate(zip(scenario.plans, rows, strict=True)):
        s = _cells(k)
        checks += _priced(plan, s, a)
        if k in layout.cashflow:
            checks += _schedule(scenario, row, plan, s, a, layout.cashflow[k])
        elif scenario.hardware.has_serving_settings:
            checks += _serving(scenario, row, plan, s, a)
        if has_power(scenario.hardware):
            checks += _energy(plan, s, a)
        if k in layout.risk and plan.unique_tokens is None:
            checks += _risk(plan, s, layout.risk[k])
    if layout.deployment is not None:
        checks += deployment_checks(scenario, rows, layout.deployment, a)
    return checks + _budget(scenario, layout)
