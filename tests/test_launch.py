"""Training on a calendar and PV-optimal sizing under a launch deadline, against independent
checks: a month-by-month cash flow written out in plain Python, a zooming brute force along
the loss constraint, the closed form where it applies, and the identities between them."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import xlplan
from xlplan import udfs
from xlplan.engine.deploy.training import gpus_for_deadline, training_months, training_time
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.money import schedule
from xlplan.engine.money.cashflow import cashflow
from xlplan.engine.money.launch import BINDING_TOLERANCE, cost_optimal_launch
from xlplan.engine.money.timeline import training_shares, training_weight
from xlplan.engine.paper.sizing import lifetime_cost
from xlplan.excel.cell_error import CellError

LAW = xlplan.get_law("chinchilla")
MONTH_DAYS = 365 / 12
RAMP = schedule.demand_ramp(2e7, 0.25, 36, 3e8)


# ---- independent arithmetic, in plain Python ------------------------------------------


def _training_dollars(hw, n, tokens):
    return 6 * n * tokens * hw.train_price_per_hour / (3600 * hw.train_peak_flops * hw.train_mfu)


def _run_days(hw, n, tokens, gpus):
    return 6 * n * tokens / (gpus * hw.train_peak_flops * hw.train_mfu) / 86400


def _per_param_request(hw, d_in=70.0, d_out=215.0):
    return (
        2
        * hw.inference_price_per_hour
        / (3600 * hw.inference_peak_flops)
        * (d_in / hw.prefill_mfu + d_out / hw.decode_mfu)
    )


def _calendar_pv(n, tokens, months, days, launch_after, discount, change, hw):
    """(training PV, inference PV): training day by day into months, serving from month L+1."""
    dollars, training = _training_dollars(hw, n, tokens), 0.0
    m = 1
    while (m - 1) * MONTH_DAYS < days * (1 - 1e-12):
        in_month = min(days, m * MONTH_DAYS) - (m - 1) * MONTH_DAYS
        training += dollars * in_month / days / (1 + discount) ** (m / 12)
        m += 1
    inference = 0.0
    for j, requests in enumerate(months, start=1):
        t = launch_after + j
        cost = n * requests * _per_param_request(hw) * (1 + change) ** ((t - 1) / 12)
        inference += cost / (1 + discount) ** (t / 12)
    return training, inference


def _tokens_on_constraint(loss, n, law=LAW):
    return (law.B / (loss - law.E - law.A / n**law.alpha)) ** (1 / law.beta)


def _brute_force(loss, months, deadline, gpus, discount, change, hw, law=LAW):
    """Cheapest N along the constraint (N below the Chinchilla N), dropping runs past the
    deadline: a dense grid in log N, then four zooms around the best feasible point.
    ``gpus=None``: the run fills the deadline."""
    gap = loss - law.E
    n_min = (law.A / gap) ** (1 / law.alpha)
    n_chin = xlplan.chinchilla_from_loss(loss, law).params
    launch_after = math.ceil(deadline / MONTH_DAYS - 1e-9)

    def pv(n):
        tokens = _tokens_on_constraint(loss, n, law)
        days = deadline if gpus is None else _run_days(hw, n, tokens, gpus)
        if days > deadline:
            return math.inf
        return sum(_calendar_pv(n, tokens, months, days, launch_after, discount, change, hw))

    low, high = math.log(n_min * (1 + 1e-9)), math.log(n_chin)
    for _ in range(5):
        grid = np.linspace(low, high, 401)
        values = [pv(math.exp(x)) for x in grid]
        i = int(np.argmin(values))
        low, high = grid[max(i - 1, 0)], grid[min(i + 1, len(grid) - 1)]
    n = math.exp(grid[i])
    return n, _tokens_on_constraint(loss, n, law), values[i]


# ---- the calendar cash flow ---------------------------------------------------------------

H100 = xlplan.get_hardware("h100")
A100 = xlplan.get_hardware("paper-a100")


def test_without_a_calendar_the_cash_flow_is_the_old_one_bit_for_bit():
    old = cashflow(7e9, 1.4e11, RAMP, 0.1, -0.25, 70, 215, "h100")
    new = cashflow(7e9, 1.4e11, RAMP, 0.1, -0.25, 70, 215, "h100", None, None)
    assert_array_equal(new.table(), old.table())
    assert new.table()[0, 4] == lifetime_cost(7e9, 1.4e11, 0.0, hardware="h100").training


@pytest.mark.parametrize(
    "n, tokens, gpus, hw", [(70e9, 4.2547e12, 1024, "h100"), (7e9, 2e12, 64, "paper-a100")]
)
def test_calendar_identities(n, tokens, gpus, hw):
    flow = cashflow(n, tokens, RAMP, 0.1, -0.25, hardware=hw, gpus=gpus)
    run = training_time(n, tokens, gpus, hw)
    last = int(training_months(run.days)[1])
    training_rows = slice(1, last + 1)
    # Dollars and GPU-hours of the training months: the plan's, to rounding.
    bill = lifetime_cost(n, tokens, 0.0, hardware=hw)
    assert_allclose(flow.cost[training_rows].sum(), bill.training, rtol=1e-14)
    assert_allclose(flow.gpu_hours[training_rows].sum(), run.gpu_hours, rtol=1e-14)
    # Months with training are exactly training_months; full months average `gpus` GPUs.
    assert np.all(flow.gpu_hours[training_rows] > 0) and flow.requests[training_rows].sum() == 0
    assert_allclose(flow.average_gpus[1:last], gpus, rtol=1e-13)
    # Serving starts the month after, with the ramp shifted by `last` months.
    assert_array_equal(flow.requests[last + 1 :], RAMP)
    assert flow.month[-1] == last + len(RAMP) and flow.cost[0] == 0.0
    # Every row against the independent arithmetic.
    training, inference = _calendar_pv(
        n, tokens, RAMP, run.days, last, 0.1, -0.25, xlplan.get_hardware(hw)
    )
    assert_allclose(flow.present_value[training_rows].sum(), training, rtol=1e-13)
    assert_allclose(flow.present_value[last + 1 :].sum(), inference, rtol=1e-13)


def test_a_deadline_shifts_the_ramp_and_without_gpus_the_run_fills_it():
    flow = cashflow(7e9, 2e12, [1e8, 2e8], 0.1, gpus=512, deadline_days=100)
    assert flow.requests.tolist() == [0, 0, 0, 0, 0, 1e8, 2e8]  # launch in month 5
    assert flow.cost[2:5].sum() == 0 and flow.cost[1] > 0  # 7 days of training in month 1
    filled = cashflow(7e9, 2e12, [1e8, 2e8], 0.1, deadline_days=100)
    shares = training_shares(100.0, 4)
    assert_allclose(filled.cost[1:5] / filled.cost[1:5].sum(), shares, rtol=1e-14)
    assert_allclose(shares, [MONTH_DAYS / 100] * 3 + [1 - 3 * MONTH_DAYS / 100], rtol=1e-14)


def test_calendar_flows_broadcast_and_pad_shorter_plans_with_zeros():
    gpus = np.array([1024.0, 64.0])
    flow = cashflow(7e9, 2e12, RAMP, 0.1, -0.25, gpus=gpus)
    for k, g in enumerate(gpus):
        one = cashflow(7e9, 2e12, RAMP, 0.1, -0.25, gpus=g)
        rows = one.cost.shape[-1]
        assert_allclose(flow.table()[k, :rows], one.table(), rtol=1e-15)
        assert np.all(flow.table()[k, rows:, 1:] == 0)


def test_training_weight_is_the_shares_discounted():
    days = np.array([0.5, 30.0, MONTH_DAYS, 31.0, 400.0, 36500.0])
    for d in (0.0, 0.1, 2.0):
        shares = training_shares(days, 1200)
        factors = (1 + d) ** (-np.arange(1, 1201) / 12)
        assert_allclose(training_weight(days, d), shares @ factors, rtol=1e-13)
    assert training_weight(45.0, 0.0) == 1.0


def test_calendar_errors_name_the_argument_the_value_and_the_minimum():
    with pytest.raises(InvalidValueError, match=r"deadline_days=30 ends in month 1, before "):
        cashflow(70e9, 4.2547e12, [1e9], gpus=1024, hardware="h100", deadline_days=30)
    with pytest.raises(InvalidValueError, match=r"gpus=0.001 trains for .* past 1,200 months"):
        cashflow(70e9, 4.2547e12, [1e9], gpus=1e-3, hardware="h100")
    with pytest.raises(InvalidValueError, match=r"deadline_days=40000 is out of range"):
        cashflow(7e9, 2e12, [1e9], deadline_days=40000)


# ---- PV-optimal sizing under a deadline ----------------------------------------------------

SCENARIOS = [  # loss, schedule, deadline, gpus, discount, change, hardware
    (2.1, [1e8] * 36, 90, 8, 0.1, -0.25, H100),  # the deadline binds
    (2.1, [1e8] * 36, 90, 20, 0.1, -0.25, H100),  # the loss binds, a two-month run
    (2.1, [1e8] * 36, 90, 64, 0.1, -0.25, H100),  # the loss binds, a short run
    (2.0, list(RAMP), 200, 60, 0.3, -0.4, A100),  # a ramp, a steep discount, 6 months
    (2.0, list(RAMP), 200, 80, 0.0, 0.0, A100),  # zero rates, the deadline binds
    (1.95, [3e9] * 24, 120, None, 0.1, -0.25, H100),  # the run fills the deadline
    (2.3, [1e10] * 12, 45, 16, 0.05, 0.1, H100),  # dearer GPUs later, heavy demand
]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"s{i}" for i in range(len(SCENARIOS))])
def test_the_optimum_against_a_brute_force(scenario):
    loss, months, deadline, gpus, d, g, hw = scenario
    plan = cost_optimal_launch(loss, months, deadline, gpus, d, g, hardware=hw)
    n, tokens, pv = _brute_force(loss, months, deadline, gpus, d, g, hw)
    assert_allclose(plan.params, n, rtol=1e-6)
    assert_allclose(plan.tokens, tokens, rtol=1e-6)
    assert_allclose(plan.pv, pv, rtol=1e-9)
    assert plan.pv <= pv * (1 + 1e-12)  # never worse than the best point found
    # The answer reaches the loss, trains by the deadline and launches after it.
    assert_allclose(LAW.loss(plan.params, plan.tokens), loss, rtol=1e-12)
    assert plan.days <= deadline * (1 + 1e-12)
    assert plan.launch_month == math.ceil(deadline / MONTH_DAYS - 1e-9) + 1
    assert plan.binding == ("deadline" if plan.days > deadline * (1 - 1e-9) and gpus else "loss")


def test_binding_on_both_sides_of_the_boundary_and_exactly_at_it():
    loss, months, deadline, d, g = 2.1, [1e8] * 36, 90.0, 0.1, -0.25
    # On 10 GPUs the run ends in month 3, as the deadline's, and the loss binds.
    free = cost_optimal_launch(loss, months, deadline, 10, d, g, hardware=H100)
    assert free.binding == "loss" and 2 * MONTH_DAYS < free.days < deadline
    # The cluster on which that optimum's run takes exactly the deadline.
    at = training_time(free.params, free.tokens, 1.0, H100).days / deadline
    exact = cost_optimal_launch(loss, months, deadline, at, d, g, hardware=H100)
    assert exact.binding == "loss"
    assert_allclose(exact.days, deadline, rtol=1e-12)
    # The same model (month 3's optimum); its longer run is discounted more.
    assert_allclose([exact.params, exact.tokens], [free.params, free.tokens], rtol=1e-12)
    assert exact.pv < free.pv
    above = cost_optimal_launch(loss, months, deadline, at * 1.001, d, g, hardware=H100)
    assert above.binding == "loss" and above.params == free.params
    below = cost_optimal_launch(loss, months, deadline, at * 0.999, d, g, hardware=H100)
    assert below.binding == "deadline"
    assert_allclose(below.days, deadline, rtol=1e-12)
    # On the cap: a larger model trained for less, costing a little more.
    assert below.params > free.params and below.tokens < free.tokens
    assert abs(below.pv / exact.pv - 1) < 1e-4
    assert BINDING_TOLERANCE < 1e-6


def test_a_far_deadline_at_zero_discount_is_cost_optimal_pv_on_the_shifted_schedule():
    months, deadline = list(RAMP), 400.0
    shifted = [0.0] * math.ceil(deadline / MONTH_DAYS) + months
    lump = schedule.cost_optimal_pv(2.05, shifted, 0.0, -0.25, hardware=H100)
    for gpus in (None, 4096.0, 300.0):
        plan = cost_optimal_launch(2.05, months, deadline, gpus, 0.0, -0.25, hardware=H100)
        assert plan.binding == "loss"
        assert_allclose(plan.params, lump.optimal.params, rtol=1e-13)
        assert_allclose(plan.pv, lump.optimal.total, rtol=1e-13)


def test_without_gpus_it_is_the_closed_form_with_training_weighed_by_the_deadline():
    months, deadline, d, g = list(RAMP), 100.0, 0.2, -0.25
    plan = cost_optimal_launch(2.05, months, deadline, None, d, g, hardware=H100)
    weight = training_weight(deadline, d)
    shifted = np.array([0.0] * 4 + months)
    lump = schedule.cost_optimal_pv(2.05, shifted / weight, d, g, hardware=H100)
    assert_allclose([plan.params, plan.tokens], [lump.optimal.params, lump.optimal.tokens])
    assert_allclose(plan.training_pv, lump.optimal.training * weight, rtol=1e-13)
    cluster = gpus_for_deadline(plan.params, plan.tokens, deadline, "h100")
    assert (plan.gpus, plan.days) == (cluster.gpus, cluster.days)
    assert plan.days <= deadline and plan.binding == "loss"


@pytest.mark.parametrize("gpus", [None, 8.0, 20.0, 64.0])
def test_the_cash_flow_of_the_plan_adds_up_to_its_present_value(gpus):
    months, deadline = [1e8] * 36, 90.0
    plan = cost_optimal_launch(2.1, months, deadline, gpus, 0.1, -0.25, hardware=H100)
    flow = cashflow(
        plan.params,
        plan.tokens,
        months,
        0.1,
        -0.25,
        hardware=H100,
        gpus=gpus,
        deadline_days=deadline,
    )
    assert_allclose(flow.present_value.sum(), plan.pv, rtol=1e-13)
    assert flow.requests[int(plan.launch_month)] == 1e8
    assert flow.requests[int(plan.launch_month) - 1] == 0


def test_arrays_broadcast_and_equal_a_loop():
    losses = np.array([2.1, 2.05, 2.2, 2.1])
    gpus = np.array([8.0, 20.0, 64.0, 9.0])
    deadlines = np.array([90.0, 90.0, 60.0, 120.0])
    months = np.array([[1e8] * 36, [2e8] * 36, [5e7] * 36, [1e9] * 36])
    plan = cost_optimal_launch(losses, months, deadlines, gpus, 0.1, -0.25, hardware=H100)
    assert plan.params.shape == (4,) and plan.binding.dtype.kind == "U"
    for k in range(4):
        one = cost_optimal_launch(
            float(losses[k]),
            months[k],
            float(deadlines[k]),
            float(gpus[k]),
            0.1,
            -0.25,
            hardware=H100,
        )
        for field in ("params", "tokens", "days", "gpus", "launch_month", "pv"):
            assert_allclose(getattr(plan, field)[k], getattr(one, field), rtol=1e-13)
        assert plan.binding[k] == one.binding
    assert set(plan.binding) == {"loss", "deadline"}
    grid = cost_optimal_launch(2.1, [1e8] * 12, np.array([[60.0], [90.0]]), None)
    assert grid.params.shape == (2, 1) and isinstance(grid.binding[0, 0], str)


def test_an_unreachable_deadline_names_the_deadline_the_least_days_and_gpus():
    chin = xlplan.chinchilla_from_loss(2.1)
    least = training_time(chin.params, chin.tokens, 4.0, "h100").days
    fewest = gpus_for_deadline(chin.params, chin.tokens, 90.0, "h100").gpus
    with pytest.raises(InvalidValueError) as caught:
        cost_optimal_launch(2.1, [1e8] * 36, 90, 4, hardware="h100")
    error = caught.value
    assert error.argument == "deadline_days" and error.value == 90.0
    assert str(error).startswith("deadline_days=90 is too short for loss=2.1 on gpus=4")
    assert f"deadline_days >= {least:,.2f}" in str(error) and f"gpus >= {fewest:,.0f}" in str(error)
    assert least == pytest.approx(103.55, abs=0.01) and fewest == 5
    # The fewest GPUs it names do reach the loss in time.
    assert cost_optimal_launch(2.1, [1e8] * 36, 90, fewest, hardware="h100").binding == "deadline"


def test_bad_arguments_are_all_named():
    with pytest.raises(InvalidValueError) as caught:
        cost_optimal_launch(1.0, [1e8, -1.0], 0.0, -2.0, -0.1)
    assert set(caught.value.positions_by_argument) == {
        "loss",
        "requests_by_month",
        "deadline_days",
        "gpus",
        "discount_rate",
    }


# ---- Excel -------------------------------------------------------------------------------


def test_excel_cost_opt_launch_is_the_engine_row():
    plan = cost_optimal_launch(2.1, [1e8] * 36, 90, 8, 0.1, -0.25, hardware="h100")
    row = udfs.COST_OPT_LAUNCH(2.1, [[1e8] * 36], 90, 8, 0.1, -0.25, None, None, "h100")
    assert row == [
        [plan.params, plan.tokens, plan.days, plan.gpus, plan.launch_month, plan.pv, 1.0]
    ]
    free = udfs.COST_OPT_LAUNCH(2.1, [[1e8]] * 36, 90, None, 0.1, -0.25, None, None, "h100")
    assert free[0][-1] == 0.0 and free[0][3] == float(int(free[0][3]))
    cell = udfs.COST_OPT_LAUNCH(2.1, [[1e8] * 36], 90, 4, None, None, None, None, "h100")
    assert isinstance(cell, CellError) and cell.code == "#NUM!"
    assert cell.message.startswith("deadline_days=90 is too short")


def test_excel_cashflow_takes_gpus_and_a_deadline():
    rows = udfs.CASHFLOW(7e9, 2e12, [[1e8], [2e8]], 0.1, None, None, None, None, 512, 100)
    flow = cashflow(7e9, 2e12, [1e8, 2e8], 0.1, gpus=512, deadline_days=100)
    assert rows == flow.table().tolist() and len(rows) == 7
    old = udfs.CASHFLOW(7e9, 2e12, [[1e8], [2e8]], 0.1)
    assert old == cashflow(7e9, 2e12, [1e8, 2e8], 0.1).table().tolist()
    late = udfs.CASHFLOW(70e9, 4.2547e12, [[1e9]], None, None, None, None, "h100", 1024, 30)
    assert late.code == "#NUM!" and late.message.startswith("deadline_days=30 ends in month 1")


@pytest.mark.parametrize("gpus, winner", [(52.245, 2), (52.98, 1)])
def test_two_local_minima_a_month_apart_the_global_one_wins(gpus, winner):
    """At a steep discount (100% a year) the optima of month 1 and month 2 straddle the month
    boundary, so the present value has a local minimum on each side (the boundary itself is
    a local maximum); which one is global depends on the cluster."""
    loss, months, deadline, d = 2.1, [1e9] * 24, 200.0, 1.0
    shifted = np.array([0.0] * 7 + months)
    pieces = []
    for m in (1, 2):
        lump = schedule.cost_optimal_pv(loss, shifted / (1 + d) ** (-m / 12), d, hardware=H100)
        n, tokens = lump.optimal.params, lump.optimal.tokens
        run = training_time(n, tokens, gpus, H100).days
        assert (run < MONTH_DAYS) == (m == 1)  # each optimum lies in its own month
        flow = cashflow(n, tokens, months, d, hardware=H100, gpus=gpus, deadline_days=deadline)
        pieces.append((flow.present_value.sum(), n))
    plan = cost_optimal_launch(loss, months, deadline, gpus, d, hardware=H100)
    assert_allclose(plan.params, pieces[winner - 1][1], rtol=1e-13)
    assert plan.pv < pieces[2 - winner][0]  # the other local minimum costs more
    n, _, pv = _brute_force(loss, months, deadline, gpus, d, 0.0, H100)
    assert_allclose(plan.params, n, rtol=1e-6)
    assert plan.pv <= pv * (1 + 1e-12)
