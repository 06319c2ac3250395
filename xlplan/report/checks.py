"""The identities a report's Checks sheet recomputes, between its sheets.

Each :class:`~xlplan.shared.checks.Check` reads cells of the report's sheets by
formula (the Summary, the Assumptions, the cash flow, the budget and risk
sheets) and, where a face shows no cell of its own (the serving model's
GPU-hours), the number that face's engine function gives. A value patched into
any of those cells turns its check, and the master check, to ERROR.
"""

from dataclasses import dataclass, field

import numpy as np

from ..engine.constants import DAYS_PER_YEAR, HOURS_PER_DAY, HOURS_PER_MONTH, MONTHS_PER_YEAR
from ..engine.deploy.serving import gpus_needed
from ..shared.checks import Check
from ..shared.numbers import count_text
from .compute import has_power
from .deployment import LAUNCH_COLUMNS
from .deployment_checks import deployment_checks
from .monthly import launch_month
from .sheets import summary_cell

__all__ = ["Layout", "report_checks"]

CASH = "'Cash flow'!"
LAUNCH_KEYS = {key for _, key, _ in LAUNCH_COLUMNS}
BUDGET = "'What a budget buys'!"


@dataclass(frozen=True)
class Layout:
    """Where the report put what the checks read."""

    assumptions: dict  # assumption label -> value cell
    cashflow: dict = field(default_factory=dict)  # plan -> (month 0, last month, totals row)
    risk: dict = field(default_factory=dict)  # plan -> first row of its Risk block
    budget_plan: int = 0  # plan the budget sheet's dollars come from
    budget_sheets: dict = None  # every budget sheet -> its plan (None: the one default sheet)
    deployment: object = None  # the Deployment sheet's DeploymentLayout
    launch: dict = field(default_factory=dict)  # launch plan -> its Launch (.launch)

    def nominal_training(self, plan):
        """Cell of a plan's training $ at today's price: the Summary's, or for a launch plan
        (whose Summary dollars are present values on its calendar) the Cash flow's total of
        its training months."""
        if plan in self.launch:
            return f"{CASH}$G${self.cashflow[plan][2]}"
        return summary_cell("training", plan)


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


def _priced(plan, s, a, nominal):
    """Training and inference dollars of one plan recomputed from the Assumptions;
    ``nominal`` the cell of its training $ at today's price."""
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
            f"={nominal}",
            "usd",
            "Summary params, tokens; Assumptions hardware; "
            + ("Summary training $" if nominal == s["training"] else "Cash flow training $"),
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


def _schedule(scenario, row, plan, s, a, rows, layout, k):
    """A monthly plan's cash flow against the Summary and the serving model."""
    m0, last, total = rows
    serving = m0 + int(launch_month(row))  # the row of the first serving month
    first = f"{CASH}$C${serving}:$C${last}"
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
        *(
            _launch(plan, s, a, rows, layout, k)
            if row.launch is not None
            else [
                Check(
                    f"{plan.name}: training $ = the month-0 cost",
                    f"={CASH}$E${m0}",
                    f"={s['training']}",
                    "usd",
                    f"Cash flow E{m0}; Summary training $",
                )
            ]
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
            f"=MAX({CASH}$D${serving}:$D${last})*{a['Peak load / average load']}",
            "ratio",
            f"Summary GPUs to reserve; Cash flow D{serving}:D{last}",
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
                f"serving model (gpus_needed); Cash flow C{serving}:C{last}",
            )
        )
    if has_power(scenario.hardware):
        checks.append(
            Check(
                f"{plan.name}: inference energy = GPU-hours of the months x board power x PUE",
                f"=SUM({first})*{a['Board power, inference GPU']}*{a['PUE']}/1000000",
                f"={s['inference_mwh']}",
                "energy",
                f"Cash flow C{serving}:C{last}, Assumptions; Summary inference MWh",
            )
        )
    return checks


def _launch(plan, s, a, rows, layout, k):
    """A launch plan's calendar: the cash flow against the Summary and the Deployment sheet."""
    m0, last, total = rows
    launch = layout.launch[k]
    deployed = layout.deployment

    def d(key):
        return deployed.launch_cell(key, k) if key in LAUNCH_KEYS else deployed.cell(key, k)

    serving = m0 + int(launch.plan.launch_month)
    month = f"({DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g})"
    checks = [
        Check(
            f"{plan.name}: the training months' present values sum to the Summary's training $",
            f"=SUM({CASH}$F${m0}:$F${serving - 1})",
            f"={s['training']}",
            "usd",
            f"Cash flow F{m0}:F{serving - 1}; Summary training $ (PV)",
        ),
        Check(
            f"{plan.name}: the serving months' present values sum to the Summary's inference $",
            f"=SUM({CASH}$F${serving}:$F${last})",
            f"={s['inference']}",
            "usd",
            f"Cash flow F{serving}:F{last}; Summary inference $ (PV)",
        ),
        Check(
            f"{plan.name}: the training months' dollars sum to the plan's training $",
            f"={CASH}$G${total}",
            f"={d('training')}",
            "usd",
            f"Cash flow G{total}; Deployment training $",
        ),
        Check(
            f"{plan.name}: no requests are served before the launch month",
            f"=SUM({CASH}$B${m0}:$B${serving - 1})",
            0.0,
            "count",
            f"Cash flow B{m0}:B{serving - 1}",
        ),
        Check(
            f"{plan.name}: the cash flow's first serving month = the Deployment sheet's",
            f"={CASH}$A${serving}",
            f"={d('launch_month')}",
            "integer",
            f"Cash flow A{serving}; Deployment serving starts in month",
        ),
        Check(
            f"{plan.name}: serving starts the month after the deadline's: ROUNDUP(deadline / "
            f"({DAYS_PER_YEAR:g}/{MONTHS_PER_YEAR:g})) + 1",
            f"=ROUNDUP({d('deadline_days')}/{month},0)+1",
            f"={d('launch_month')}",
            "integer",
            "Deployment deadline; serving starts in month",
        ),
        Check(
            f"{plan.name}: training ends before serving starts",
            f"={d('launch_month')}",
            f"={d('last_month')}+1",
            "integer",
            "Deployment serving starts in month; training ends in month",
            at_least=True,
        ),
        Check(
            f"{plan.name}: the present value it was sized on = the Summary's lifetime cost",
            f"={d('pv')}",
            f"={s['total']}",
            "usd",
            "Deployment present value; Summary lifetime cost $ (PV)",
        ),
    ]
    if launch.free is not None:  # the deadline binds
        checks += [
            Check(
                f"{plan.name}: the deadline binds: 6 N D / (GPUs x peak x MFU x "
                f"{HOURS_PER_DAY * 3600:g} s) <= deadline days",
                f"={d('deadline_days')}",
                f"=6*{s['params']}*{s['tokens']}/({d('gpus')}*{a['Train peak FLOP/s']}*"
                f"{a['Train MFU']}*{HOURS_PER_DAY * 3600:g})",
                "ratio",
                "Deployment deadline; Summary params, tokens, Deployment GPUs, Assumptions",
                at_least=True,
            ),
            Check(
                f"{plan.name}: without the cluster's cap the present value is no higher",
                f"={d('pv')}",
                f"={d('free_pv')}",
                "usd",
                "Deployment present value; without the cap",
                at_least=True,
            ),
            Check(
                f"{plan.name}: cost of the deadline = present value - present value without "
                "the cap",
                f"={d('pv')}-{d('free_pv')}",
                f"={d('deadline_cost')}",
                "usd",
                "Deployment present values; cost of the deadline",
            ),
        ]
    return checks


def _energy(plan, s, a, nominal):
    """MWh and t CO2e against the dollars they come from (``nominal``: training $ today)."""
    checks = [
        Check(
            f"{plan.name}: training energy = training $ / $ per GPU-hour x board power x PUE",
            f"={nominal}/{a['Train $/GPU-hour']}*"
            f"{a['Board power, training GPU']}*{a['PUE']}/1000000",
            f"={s['training_mwh']}",
            "energy",
            ("Summary" if nominal == s["training"] else "Cash flow")
            + " training $, Assumptions; Summary training MWh",
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
    sheets = layout.budget_sheets
    if sheets is None:
        sheets = {BUDGET[1:-2]: layout.budget_plan}
    for sheet, k in sheets.items():
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
        checks += _priced(plan, s, a, layout.nominal_training(k))
        if k in layout.cashflow:
            checks += _schedule(scenario, row, plan, s, a, layout.cashflow[k], layout, k)
        elif scenario.hardware.has_serving_settings:
            checks += _serving(scenario, row, plan, s, a)
        if has_power(scenario.hardware):
            checks += _energy(plan, s, a, layout.nominal_training(k))
        if k in layout.risk and plan.unique_tokens is None:
            checks += _risk(plan, s, layout.risk[k])
    if layout.deployment is not None:
        checks += deployment_checks(scenario, rows, layout.deployment, a, layout.nominal_training)
    return checks + _budget(scenario, layout)
