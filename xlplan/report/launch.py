"""One calendar per plan: a scheduled plan with a launch deadline is sized and shown on it.

A plan with a monthly schedule (:mod:`.monthly`) in a scenario whose ``[training]`` table
gives ``deadline_days`` is a *launch plan*: it trains on the scenario's cluster
(``training.gpus``, default 256, the cluster of the Deployment sheet) from month 1, the
product launches at the deadline (demand month j served in calendar month L + j, L the
deadline's month), and it is sized on that calendar's present value
(:func:`xlplan.engine.money.launch.cost_optimal_launch`). Its cash flow is
:func:`xlplan.engine.money.cashflow.cashflow` with the same cluster and deadline, so the
cash-flow sheet's present values sum to the present value the plan was sized on.

Without a deadline a scheduled plan stays on the month-0 basis (training in month 0, the
lump the engine's ``cost_optimal_pv`` sizes on): serving cannot start "when training ends"
before the model, hence its training time, is known. Its cash flow keeps that basis and
says so; the Deployment sheet shows the run on the cluster.

:func:`plan_flow` is the one place a report computes a plan's cash flow.
"""

from dataclasses import dataclass

from ..engine.errors import InvalidValueError, XlplanError
from ..engine.money.cashflow import cashflow
from ..engine.money.launch import cost_optimal_launch

__all__ = ["Launch", "is_launch", "size_launch", "plan_flow", "launch_text"]


@dataclass(frozen=True)
class Launch:
    """A launch plan: ``plan`` on the cluster of ``gpus`` by ``deadline_days``; ``free`` the
    same launch on a cluster sized to finish at the deadline (no cap on the model), given
    when the deadline binds (None when the loss does)."""

    plan: object
    free: object
    deadline_days: float
    gpus: float

    @property
    def deadline_cost(self):
        """Present value $ the cluster's cap at the deadline adds (NaN when the loss binds)."""
        return float("nan") if self.free is None else self.plan.pv - self.free.pv


def is_launch(scenario, plan):
    """Whether ``plan`` is sized on the launch calendar (a schedule and a deadline)."""
    return (
        getattr(plan, "monthly", None) is not None and scenario.training.deadline_days is not None
    )


def _refuse_unsupported(plan, where):
    given = "a budget" if plan.has_budget else "unique_tokens"
    raise InvalidValueError(
        f"{where} gives {given} with a monthly schedule and training.deadline_days: a launch "
        "plan is sized for its loss on the deadline's calendar only; drop training."
        f"deadline_days or {'the budget' if plan.has_budget else 'unique_tokens'}",
        argument=where,
        value=None,
    )


def size_launch(scenario, plan):
    """The :class:`Launch` of a launch plan (engine errors name the scenario and the key)."""
    where = f"scenario '{plan.name}'"
    if plan.has_budget or plan.unique_tokens is not None:
        _refuse_unsupported(plan, where)
    m, cluster = plan.monthly, scenario.training
    options = dict(
        discount_rate=m.discount_rate,
        price_change=m.price_change,
        input_tokens=scenario.input_tokens,
        output_tokens=scenario.output_tokens,
        hardware=scenario.hardware,
        law=scenario.law,
    )
    try:
        sized = cost_optimal_launch(
            plan.loss, m.requests_by_month, cluster.deadline_days, cluster.gpus, **options
        )
        free = None
        if sized.binding == "deadline":
            free = cost_optimal_launch(
                plan.loss, m.requests_by_month, cluster.deadline_days, **options
            )
    except XlplanError as error:
        raise error.renamed(f"{where}: training.{error.argument}", assign=" = ") from None
    return Launch(sized, free, cluster.deadline_days, cluster.gpus)


def plan_flow(scenario, plan, params, tokens):
    """The monthly cash flow of ``plan``'s model: on the launch calendar for a launch plan,
    else training in month 0."""
    m = plan.monthly
    calendar = {}
    if is_launch(scenario, plan):
        calendar = dict(gpus=scenario.training.gpus, deadline_days=scenario.training.deadline_days)
    return cashflow(
        params,
        tokens,
        m.requests_by_month,
        m.discount_rate,
        m.price_change,
        scenario.input_tokens,
        scenario.output_tokens,
        scenario.hardware,
        **calendar,
    )


def launch_text(name, launch):
    """One sentence: how a launch plan was sized, which constraint binds and its cost."""
    p = launch.plan
    text = (
        f"'{name}' is sized on its calendar: trained on {launch.gpus:,.0f} GPUs from month 1 "
        f"({p.days:,.1f} days), launched at training.deadline_days = {launch.deadline_days:g} "
        f"(serving from month {p.launch_month:.0f}); the {p.binding} binds"
    )
    if launch.free is None:
        return text + ": the cluster's cap at the deadline does not change the model."
    f = launch.free
    return text + (
        f": without the cluster's cap (a cluster sized to finish at the deadline, "
        f"{f.gpus:,.0f} GPUs) the plan would be {f.params:.4g} params on {f.tokens:.4g} "
        f"tokens, present value ${f.pv:,.0f}; the deadline on this cluster costs "
        f"${launch.deadline_cost:,.0f} (present value)."
    )
