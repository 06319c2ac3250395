"""Budgets over time against independent checks: identities, a month-by-month loop, brute force."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import xlplan
from xlplan import udfs
from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.engine.money import schedule
from xlplan.engine.money.cashflow import cashflow
from xlplan.excel.cell_error import CellError

LAW = xlplan.get_law("chinchilla")
HW = xlplan.get_hardware("paper-a100")
RAMP = schedule.demand_ramp(2e7, 0.25, 36, 3e8)


def _ramps(count, months, seed):
    """Random launch ramps: first month, growth and peak drawn per schedule."""
    rng = np.random.default_rng(seed)
    first = 10 ** rng.uniform(5, 8, count)
    growth = rng.uniform(-0.05, 0.4, count)
    peak = first * 10 ** rng.uniform(0, 2.5, count)
    return schedule.demand_ramp(first, growth, months, peak)


# ---- independent arithmetic, month by month in plain Python ---------------------------


def _dollars_per_param_request(hw, d_in=70.0, d_out=215.0):
    return (
        2
        * hw.inference_price_per_hour
        / (3600 * hw.inference_peak_flops)
        * (d_in / hw.prefill_mfu + d_out / hw.decode_mfu)
    )


def _training_dollars(hw, n, d):
    return 6 * n * d * hw.train_price_per_hour / (3600 * hw.train_peak_flops * hw.train_mfu)


def _monthly_pv(n, d, months, discount, change, hw=HW):
    """Total present value written out month by month, as a finance user would."""
    per_request = _dollars_per_param_request(hw)
    inference = 0.0
    for t, requests in enumerate(months, start=1):
        cost = n * requests * per_request * (1 + change) ** ((t - 1) / 12)
        inference += cost / (1 + discount) ** (t / 12)
    return _training_dollars(hw, n, d), inference


def _tokens_on_constraint(loss, n):
    return (LAW.B / (loss - LAW.E - LAW.A / n**LAW.alpha)) ** (1 / LAW.beta)


def _brute_force_params(loss, months, discount, change):
    """Minimise the month-by-month total PV over log N along the loss constraint."""
    n_floor = (LAW.A / (loss - LAW.E)) ** (1 / LAW.alpha)  # below it, no D reaches loss
    n_chin = xlplan.chinchilla_from_loss(loss).params  # the optimum is never above it

    def total(log_n):
        n = math.exp(log_n)
        return math.log(
            sum(_monthly_pv(n, _tokens_on_constraint(loss, n), months, discount, change))
        )

    result = minimize_scalar(
        total,
        bounds=(math.log(n_floor) + 1e-6, math.log(n_chin) + 0.1),
        method="bounded",
        options={"xatol": 1e-9},
    )
    return math.exp(result.x), math.exp(result.fun)


# ---- zero rates: the lump-sum functions, bit for bit --------------------------------------


def test_zero_rates_give_the_lump_sum_results_bit_for_bit():
    ramps = _ramps(50, 60, seed=1)
    losses = np.linspace(1.9, 2.6, 50)
    total = ramps.sum(axis=-1)
    pv = schedule.cost_optimal_pv(losses, ramps)
    lump = xlplan.cost_optimal(losses, total)
    for side in ("optimal", "chinchilla"):
        for field in ("params", "tokens", "training", "inference", "total"):
            assert np.array_equal(
                getattr(getattr(pv, side), field), getattr(getattr(lump, side), field)
            ), (side, field)
    for k in range(3):  # the scalar path too
        one = schedule.cost_optimal_pv(losses[k], ramps[k])
        assert one.optimal.params == xlplan.cost_optimal(losses[k], total[k]).optimal.params
        cost = schedule.lifetime_pv(7e9, 2e12, ramps[k])
        lump_cost = xlplan.lifetime_cost(7e9, 2e12, total[k])
        assert (cost.training, cost.inference) == (lump_cost.training, lump_cost.inference)


def test_zero_rates_in_excel_equal_cost_opt_and_lifetime_cost():
    months = [[float(v)] for v in RAMP]
    total = float(np.sum(RAMP))
    loss = float(xlplan.chinchilla_from_params(7e9).loss)
    assert udfs.COST_OPT_PV(loss, months) == udfs.COST_OPT(loss, total)
    assert udfs.COST_OPT_PV(loss, months, 0, 0, 100, 300, "h100", "epoch-2024") == udfs.COST_OPT(
        loss, total, 100, 300, "h100", "epoch-2024"
    )
    assert udfs.LIFETIME_PV(7e9, 2e12, months) == udfs.LIFETIME_COST(7e9, 2e12, total)
    flow = np.array(udfs.CASHFLOW(7e9, 2e12, months))
    assert np.array_equal(flow[:, 4], flow[:, 5])  # nothing discounted at zero rates
    assert_allclose(flow[:, 5].sum(), udfs.LIFETIME_COST(7e9, 2e12, total)[0][2], rtol=1e-13)


def test_an_all_zero_schedule_gives_the_chinchilla_model():
    plan = schedule.cost_optimal_pv(2.1, np.zeros(24), 0.1, -0.3)
    chin = xlplan.chinchilla_from_loss(2.1)
    assert (plan.optimal.params, plan.optimal.tokens) == (chin.params, chin.tokens)
    assert plan.optimal.inference == 0.0 and plan.saving == 0.0


# ---- present value: a month-by-month loop, brute force, monotonicity -----------------


@pytest.mark.parametrize(
    "discount, change", [(0.05, -0.4), (0.1, -0.25), (0.2, 0.1), (0.0, -0.1), (0.15, 0.0)]
)
def test_lifetime_pv_is_the_month_by_month_sum(discount, change):
    training, inference = _monthly_pv(7e9, 2e12, RAMP, discount, change)
    plan = schedule.lifetime_pv(7e9, 2e12, RAMP, discount, change)
    assert_allclose([plan.training, plan.inference], [training, inference], rtol=1e-12)


@pytest.mark.parametrize("discount", [0.05, 0.1, 0.2])
@pytest.mark.parametrize("change", [-0.4, -0.25, 0.0, 0.1])
def test_pv_optimum_is_the_brute_force_minimum(discount, change):
    loss = float(xlplan.chinchilla_from_params(13e9).loss)
    months = _ramps(1, 48, seed=int(discount * 100 - change * 10))[0] * 20
    params, total = _brute_force_params(loss, months, discount, change)
    plan = schedule.cost_optimal_pv(loss, months, discount, change)
    assert plan.optimal.params < 0.98 * plan.chinchilla.params  # inference matters here
    assert_allclose(plan.optimal.params, params, rtol=2e-5)
    assert_allclose(plan.optimal.total, total, rtol=1e-10)
    assert plan.optimal.total <= total * (1 + 1e-12)  # never above the brute-force minimum
    training, inference = _monthly_pv(
        plan.optimal.params, plan.optimal.tokens, months, discount, change
    )
    assert_allclose(
        [plan.optimal.training, plan.optimal.inference], [training, inference], rtol=1e-12
    )
    assert LAW.loss(plan.optimal.params, plan.optimal.tokens) == pytest.approx(loss, abs=1e-12)


def test_a_higher_discount_rate_never_gives_a_smaller_model():
    discounts = np.linspace(0.0, 0.6, 61)
    for change in (-0.4, -0.25, 0.0, 0.1):
        ramps = _ramps(8, 120, seed=3)
        loss = np.linspace(1.9, 2.5, 8)[:, None]
        plan = schedule.cost_optimal_pv(loss, ramps[:, None, :], discounts[None, :], change)
        params = plan.optimal.params
        assert np.all(np.diff(params, axis=1) > 0)  # strictly, since every ramp has demand
        assert np.all(params <= plan.chinchilla.params)


def test_many_schedules_at_once_equal_one_at_a_time():
    ramps = _ramps(40, 120, seed=4)
    rng = np.random.default_rng(5)
    discount, change = rng.uniform(0, 0.2, 40), rng.uniform(-0.4, 0.1, 40)
    losses = rng.uniform(1.9, 2.6, 40)
    plan = schedule.cost_optimal_pv(losses, ramps, discount, change)
    r_pv = schedule.present_value_requests(ramps, discount, change)
    for k in range(40):
        one = schedule.cost_optimal_pv(
            float(losses[k]), ramps[k], float(discount[k]), float(change[k])
        )
        assert isinstance(one.optimal.params, float)
        assert_allclose(plan.optimal.params[k], one.optimal.params, rtol=1e-12)
        assert_allclose(
            r_pv[k],
            sum(
                ramps[k][t] * (1 + change[k]) ** (t / 12) / (1 + discount[k]) ** ((t + 1) / 12)
                for t in range(120)
            ),
            rtol=1e-12,
        )


# ---- cash flow ------------------------------------------------------------------------


def test_cashflow_rows_and_columns():
    n, d, discount, change = 7e9, 2e12, 0.1, -0.25
    flow = cashflow(n, d, RAMP, discount, change)
    table = flow.table()
    assert table.shape == (37, 6)
    assert table[:, 0].tolist() == list(range(37))
    pv = schedule.lifetime_pv(n, d, RAMP, discount, change)
    # Row 1 is month 0: training, no requests, present value = cost.
    hours = 6 * n * d / (3600 * HW.train_peak_flops * HW.train_mfu)
    assert_allclose(table[0], [0, 0, hours, hours / 730, pv.training, pv.training], rtol=1e-13)
    assert table[0, 4] == pv.training
    t = np.arange(1, 37)
    flops = 2 * n * RAMP * (70 / HW.prefill_mfu + 215 / HW.decode_mfu)
    gpu_hours = flops / (3600 * HW.inference_peak_flops)
    assert_allclose(table[1:, 2], gpu_hours, rtol=1e-13)
    assert_allclose(table[1:, 3], gpu_hours / 730, rtol=1e-13)
    cost = gpu_hours * HW.inference_price_per_hour * (1 + change) ** ((t - 1) / 12)
    assert_allclose(table[1:, 4], cost, rtol=1e-13)
    assert_allclose(table[1:, 5], cost / (1 + discount) ** (t / 12), rtol=1e-13)
    assert_allclose(table[:, 5].sum(), pv.total, rtol=1e-13)


def test_cashflow_of_many_plans_at_once():
    ramps = _ramps(5, 24, seed=6)
    flow = cashflow(np.full(5, 7e9), 2e12, ramps, np.linspace(0, 0.2, 5), -0.2)
    assert flow.table().shape == (5, 25, 6)
    for k in range(5):
        one = cashflow(7e9, 2e12, ramps[k], np.linspace(0, 0.2, 5)[k], -0.2)
        assert_allclose(flow.table()[k], one.table(), rtol=1e-14)


def test_excel_cashflow_is_the_engine_and_sums_to_lifetime_pv():
    months = [[float(v) for v in RAMP]]  # a row works as well as a column
    flow = udfs.CASHFLOW(7e9, 2e12, months, 0.1, -0.25, 100, 300, "h100")
    assert len(flow) == 37 and all(len(row) == 6 for row in flow)
    assert all(type(v) is float for row in flow for v in row)
    engine = cashflow(7e9, 2e12, RAMP, 0.1, -0.25, 100, 300, "h100").table()
    assert_allclose(flow, engine, rtol=0)
    total = udfs.LIFETIME_PV(7e9, 2e12, months, 0.1, -0.25, 100, 300, "h100")[0][2]
    assert_allclose(sum(row[5] for row in flow), total, rtol=1e-13)


# ---- the demand ramp -----------------------------------------------------------------


def test_demand_ramp_values():
    ramp = udfs.DEMAND_RAMP(1e6, 0.5, 6, 4e6)
    assert ramp == [[1e6], [1.5e6], [2.25e6], [3.375e6], [4e6], [4e6]]
    assert udfs.DEMAND_RAMP(1e6, -0.5, 3) == [[1e6], [5e5], [2.5e5]]
    assert udfs.DEMAND_RAMP("2e6", 0, "2", "") == [[2e6], [2e6]]
    many = schedule.demand_ramp([1e6, 2e6], [0.1, 0.2], 3, [1.15e6, 1e9])
    assert_allclose(many, [[1e6, 1.1e6, 1.15e6], [2e6, 2.4e6, 2.88e6]], rtol=1e-15)


def test_blank_months_count_as_zero_and_one_cell_is_one_month():
    full = udfs.LIFETIME_PV(7e9, 2e12, [[1e8], [0.0], [3e8]], 0.1)
    assert udfs.LIFETIME_PV(7e9, 2e12, [[1e8], [None], [3e8]], 0.1) == full
    assert udfs.LIFETIME_PV(7e9, 2e12, [[1e8], [""], ["3e8"]], 0.1) == full
    assert udfs.LIFETIME_PV(7e9, 2e12, 1e8) == udfs.LIFETIME_COST(7e9, 2e12, 1e8)


# ---- bad input -----------------------------------------------------------------------


def _error(value, code, *words):
    assert isinstance(value, CellError), value
    assert value.code == code, value
    for word in words:
        assert word in value.message, value.message


def test_bad_rates_and_months_name_argument_value_and_range():
    months = [[1e8], [2e8], [-5.0], [1e8]]
    _error(
        udfs.LIFETIME_PV(7e9, 2e12, months), "#NUM!", "requests_by_month", "month 3", "-5", ">= 0"
    )
    _error(
        udfs.COST_OPT_PV(2.1, [[1e8], ["lots"]]),
        "#VALUE!",
        "requests_by_month",
        "month 2",
        "'lots'",
    )
    _error(udfs.CASHFLOW(7e9, 2e12, [[True]]), "#VALUE!", "month 1")
    _error(udfs.COST_OPT_PV(2.1, [[1e8]], -0.01), "#NUM!", "discount_rate=-0.01", ">= 0")
    _error(udfs.COST_OPT_PV(2.1, [[1e8]], 0.1, -1), "#NUM!", "price_change=-1", "> -1")
    _error(udfs.COST_OPT_PV(2.1, [[1e8]], "ten"), "#VALUE!", "discount_rate")
    _error(udfs.LIFETIME_PV(7e9, 2e12, [[1.0]] * 1201), "#NUM!", "1,201 months", "1,200")
    _error(
        udfs.LIFETIME_PV(7e9, 2e12, [[1.0, 2.0], [3.0, 4.0]]),
        "#VALUE!",
        "one row or one column",
        "2x2",
    )
    _error(udfs.COST_OPT_PV(1.5, [[1e8]]), "#NUM!", "loss=1.5")
    _error(udfs.DEMAND_RAMP(1e6, 0.1, 0), "#NUM!", "months=0", "1 to 1,200")
    _error(udfs.DEMAND_RAMP(1e6, 0.1, 12.5), "#NUM!", "months=12.5", "whole number")
    _error(udfs.DEMAND_RAMP(1e6, -1, 12), "#NUM!", "monthly_growth=-1", "> -1")
    _error(udfs.DEMAND_RAMP(-1, 0.1, 12), "#NUM!", "first_month_requests=-1")
    _error(udfs.DEMAND_RAMP(1e6, 0.1, 12, -3), "#NUM!", "peak_requests=-3")
    _error(udfs.DEMAND_RAMP(1e6, 3, 1200), "#NUM!", "monthly_growth=3", "month")
    assert udfs.DEMAND_RAMP(1e6, 3, 1200, 1e9)[-1] == [1e9]  # a cap keeps it finite


def test_engine_errors_for_many_schedules_name_schedule_and_month():
    ramps = np.ones((3, 10))
    ramps[1, 4] = np.nan
    ramps[2, 0] = -2
    with pytest.raises(
        InvalidValueError,
        match=r"schedule \(1,\) month 5 = nan.*"
        r"schedule \(2,\) month 1 = -2",
    ) as error:
        schedule.present_value_requests(ramps)
    assert error.value.positions == [(1, 4), (2, 0)]
    plan = schedule.cost_optimal_pv(2.1, ramps, on_invalid="nan")
    assert np.isfinite(plan.optimal.params[0]) and np.isnan(plan.optimal.params[1:]).all()
    with pytest.raises(InvalidValueError, match="between 1 and 1,200"):
        schedule.present_value_requests(np.ones((2, 0)))
    with pytest.raises(InvalidTypeError, match="requests_by_month"):
        schedule.present_value_requests([[1.0, "x"]])
    with pytest.raises(InvalidValueError, match=r"discount_rate\[1\]=-0.1"):
        schedule.cost_optimal_pv(2.1, np.ones((2, 5)), [0.1, -0.1])


@pytest.mark.parametrize("months", [1, 7, 8, 12, 100, 129, 300, 1200])
def test_a_list_of_floats_sums_as_the_array_path_does(months):
    """One cell's schedule (a list) is priced in math: bit for bit at zero rates, within
    1e-15 with rates (one power per month, math's and numpy's may differ in the last bit)."""
    rng = np.random.default_rng(months)
    ramp = (rng.uniform(0, 1, months) * 10 ** rng.uniform(3, 12, months)).tolist()
    for d, g in [(0.0, 0.0), (0.1, -0.25), (0.0, 0.5), (0.3, 0.0)]:
        one = schedule.present_value_requests(ramp, d, g)
        array = schedule.present_value_requests(np.array(ramp), d, g)
        assert isinstance(one, float)
        if d == g == 0.0:
            assert one == array == float(np.sum(ramp))
        else:
            assert one == pytest.approx(array, rel=1e-15, abs=0)
        plan = schedule.cost_optimal_pv(2.1, ramp, d, g).optimal
        assert plan.params == pytest.approx(
            schedule.cost_optimal_pv([2.1], np.array(ramp), d, g).optimal.params[0], rel=1e-13
        )


def test_a_list_past_the_float_range_names_the_culprit_as_an_array_does():
    with pytest.raises(InvalidValueError, match="price_change=1e\\+40 is too large"):
        schedule.present_value_requests([1e6] * schedule.LIST_MONTHS, 0.0, 1e40)
    with pytest.raises(InvalidValueError, match="sums past the float range"):
        schedule.present_value_requests([1.5e308, 1.5e308])
    assert cashflow(7e9, 1.4e11, [1e8, 2e8]).requests.tolist() == [0.0, 1e8, 2e8]
