"""What a budget buys, against independent checks: brute force along the budget, duality
with the cost-optimal solver both ways (FLOPs and dollars), Chinchilla at T = 0, bad input."""

import math
import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.optimize import minimize_scalar

import xlplan
from xlplan import udfs
from xlplan.engine.errors import ConvergenceError, InvalidTypeError, InvalidValueError
from xlplan.engine.laws import LAW_PRESETS
from xlplan.engine.money import budget
from xlplan.engine.money.budget import (
    best_for_budget,
    best_for_flops,
    loss_at_budget,
    loss_at_dollars,
)
from xlplan.excel.cell_error import CellError


def _loss_on_budget(law, n, flops, demand):
    """L(N, D) with D = (C - 2 N T) / (6 N), written out independently of the module."""
    d = (flops - 2 * n * demand) / (6 * n)
    return law.E + law.A / n**law.alpha + law.B / d**law.beta


def _brute_force_params(law, flops, demand):
    """Minimise the loss over log N along the budget: a dense grid, then a bounded search."""
    top = math.log(flops / (2 * demand)) if demand > 0 else math.log(flops / 6)
    grid = np.linspace(top - 60, top - 1e-9, 20001)
    n = np.exp(grid)
    k = int(np.argmin(_loss_on_budget(law, n, flops, demand)))
    low, high = grid[max(k - 1, 0)], grid[min(k + 1, grid.size - 1)]
    result = minimize_scalar(
        lambda x: _loss_on_budget(law, math.exp(x), flops, demand),
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return math.exp(result.x)


@pytest.mark.parametrize("law_name", list(LAW_PRESETS))
@pytest.mark.parametrize("flops, demand", [(1e23, 2e12), (1e20, 1e13), (1e25, 1e9), (3e21, 1e14)])
def test_optimum_matches_brute_force_along_the_budget(law_name, flops, demand):
    law = LAW_PRESETS[law_name]
    plan = best_for_flops(flops, demand, law)
    assert_allclose(plan.params, _brute_force_params(law, flops, demand), rtol=1e-6)
    # and nothing on the budget beats it: neighbours on both sides have a higher loss
    for factor in (0.999, 1.001):
        assert _loss_on_budget(law, plan.params * factor, flops, demand) > plan.loss
    assert_allclose(plan.loss, _loss_on_budget(law, plan.params, flops, demand), rtol=1e-13)


def test_first_order_condition_holds_to_1e10():
    law = xlplan.get_law("chinchilla")
    plan = best_for_flops(np.logspace(18, 28, 41)[:, None], np.logspace(6, 16, 41)[None, :])
    n, d, r = plan.params, plan.tokens, np.logspace(6, 16, 41)[None, :] / 3
    lhs = law.alpha * law.A / n**law.alpha
    rhs = law.beta * law.B / d**law.beta * (1 + r / d)
    assert_allclose(lhs, rhs, rtol=1e-10)


def test_the_whole_budget_is_spent():
    flops = np.logspace(16, 30, 29)[:, None]
    demand = np.logspace(0, 18, 19)[None, :]
    plan = best_for_flops(flops, demand)
    assert_allclose(plan.best.total, np.broadcast_to(flops, plan.params.shape), rtol=1e-13)
    assert_allclose(
        plan.best.total, 6 * plan.params * plan.tokens + 2 * plan.params * demand, rtol=1e-13
    )
    assert np.all(plan.valid)


def test_no_demand_is_chinchilla_from_compute_exactly():
    flops = np.logspace(15, 30, 31)
    plan = best_for_flops(flops, 0.0)
    chin = xlplan.chinchilla_from_compute(flops)
    assert_array_equal(plan.params, chin.params)
    assert_array_equal(plan.tokens, chin.tokens)
    assert_array_equal(plan.loss, chin.loss)
    assert_array_equal(plan.best.training, chin.training_flops)
    one = best_for_flops(1e23, 0)
    assert (one.params, one.loss, one.iterations) == (
        xlplan.chinchilla_from_compute(1e23).params,
        xlplan.chinchilla_from_compute(1e23).loss,
        0,
    )
    mixed = best_for_flops(flops, np.where(np.arange(31) % 2 == 0, 0.0, 1e12))
    assert_array_equal(mixed.params[::2], chin.params[::2])


@pytest.mark.parametrize("law_name", ["chinchilla", "epoch-2024", "sardana-all"])
def test_duality_in_flops_both_ways(law_name):
    law = LAW_PRESETS[law_name]
    losses = law.E + np.array([0.05, 0.2, 0.4, 0.8])[:, None]
    demand = np.array([1e9, 1e12, 1e15])[None, :]
    # a target loss -> the compute-optimal plan -> its total buys exactly that plan
    plan = xlplan.compute_optimal(losses, demand, law)
    best = best_for_flops(plan.optimal.total, demand, law)
    assert_allclose(best.params, plan.optimal.params, rtol=2e-9)
    assert_allclose(best.tokens, plan.optimal.tokens, rtol=2e-9)
    assert_allclose(best.loss, np.broadcast_to(losses, best.loss.shape), rtol=1e-12)
    # a budget -> its best loss -> the cheapest model of that loss costs the budget
    flops = np.array([1e20, 1e23, 1e26])[:, None]
    best = best_for_flops(flops, demand, law)
    back = xlplan.compute_optimal(best.loss, demand, law)
    assert_allclose(back.optimal.total, np.broadcast_to(flops, best.loss.shape), rtol=2e-9)
    assert_allclose(back.optimal.params, best.params, rtol=2e-9)


@pytest.mark.parametrize("hardware", ["paper-a100", "h100"])
def test_duality_in_dollars_both_ways(hardware):
    losses = np.array([1.9, 2.1, 2.5])[:, None]
    requests = np.array([1e7, 1e9, 1e11])[None, :]
    plan = xlplan.cost_optimal(losses, requests, 70, 215, hardware=hardware)
    best = best_for_budget(plan.optimal.total, requests, 70, 215, hardware=hardware)
    assert_allclose(best.params, plan.optimal.params, rtol=2e-9)
    assert_allclose(best.loss, np.broadcast_to(losses, best.loss.shape), rtol=1e-12)
    assert_allclose(best.best.total, plan.optimal.total, rtol=1e-13)
    dollars = np.array([1e5, 1e7, 1e9])[:, None]
    best = best_for_budget(dollars, requests, hardware=hardware)
    back = xlplan.cost_optimal(best.loss, requests, hardware=hardware)
    assert_allclose(back.optimal.total, np.broadcast_to(dollars, best.loss.shape), rtol=2e-9)


def test_dollars_match_brute_force_with_rates_from_lifetime_cost():
    """The $ rates read back from lifetime_cost of a 1-param, 1-token model; brute force."""
    dollars, requests, law = 2e6, 5e9, xlplan.get_law("chinchilla")
    unit = xlplan.lifetime_cost(1.0, 1.0, requests, hardware="h100")
    k_train, k_inf = unit.training, unit.inference

    def loss(x):
        n = math.exp(x)
        return (
            law.E
            + law.A / n**law.alpha
            + law.B / ((dollars - k_inf * n) / (k_train * n)) ** law.beta
        )

    top = math.log(dollars / k_inf)
    grid = np.linspace(top - 40, top - 1e-9, 40001)
    k = int(np.argmin([loss(x) for x in grid]))
    result = minimize_scalar(
        loss, bounds=(grid[k - 1], grid[k + 1]), method="bounded", options={"xatol": 1e-10}
    )
    best = best_for_budget(dollars, requests, hardware="h100")
    assert_allclose(best.params, math.exp(result.x), rtol=1e-6)
    assert_allclose(best.best.total, dollars, rtol=1e-13)
    assert_allclose(
        loss_at_dollars(best.params, dollars, requests, hardware="h100"), best.loss, rtol=1e-12
    )


def test_loss_at_budget_is_the_curve_and_its_minimum_is_the_best_model():
    flops, demand = 1e23, 2e12
    best = best_for_flops(flops, demand)
    sizes = best.params * np.logspace(-1, 0.4, 141)
    curve = loss_at_budget(sizes, flops, demand)
    assert_allclose(
        curve, _loss_on_budget(xlplan.get_law("chinchilla"), sizes, flops, demand), rtol=1e-13
    )
    assert curve.min() >= best.loss
    assert loss_at_budget(best.params, flops, demand) == pytest.approx(best.loss, rel=1e-14)
    # T = 0: the Chinchilla curve, whose minimum is chinchilla_from_compute
    chin = xlplan.chinchilla_from_compute(flops)
    assert loss_at_budget(chin.params, flops, 0) == pytest.approx(chin.loss, rel=1e-14)


def test_array_equals_loop():
    rng = np.random.default_rng(1)
    flops = 10 ** rng.uniform(17, 29, 200)
    demand = np.where(rng.random(200) < 0.1, 0.0, 10 ** rng.uniform(5, 17, 200))
    plan = best_for_flops(flops, demand)
    for k in range(200):
        one = best_for_flops(float(flops[k]), float(demand[k]))
        assert isinstance(one.params, float) and isinstance(one.iterations, int)
        assert_allclose(
            [one.params, one.tokens, one.loss],
            [plan.params[k], plan.tokens[k], plan.loss[k]],
            rtol=1e-12,
        )


def test_extreme_but_valid_inputs_get_an_answer():
    plan = best_for_flops([1e6, 1e40, 1e23, 1e23], [0.0, 1e2, 1e-300, 1e30])
    assert np.all(np.isfinite(plan.params)) and np.all(plan.valid)
    assert_allclose(plan.best.total, [1e6, 1e40, 1e23, 1e23], rtol=1e-12)
    tiny = best_for_flops(1e6, 0.0)  # a budget too small to train anything sensible
    assert tiny.params < 1e3 and tiny.loss > 10
    # inference volume that dwarfs the budget: a tiny model, nearly all budget to serving
    squeezed = best_for_flops(1e23, 1e30)
    assert squeezed.params < 1e23 / 2e30 and squeezed.best.inference > 0.5e23


def test_never_returns_unconverged(monkeypatch):
    """Out of iterations (here: the full-array sweeps only) is an error, never a guess."""
    monkeypatch.setattr(budget, "MAX_ITERATIONS", budget.VECTOR_SWEEPS)
    monkeypatch.setattr(budget, "T_TOLERANCE", 1e-300)
    with pytest.raises(ConvergenceError, match="did not converge in 4 iterations"):
        best_for_flops(np.logspace(18, 28, 50), 2e12)
    monkeypatch.setattr(budget, "MAX_ITERATIONS", 1)
    with pytest.raises(ConvergenceError, match="did not converge in 1 iterations"):
        best_for_flops(1e23, 2e12)  # the scalar path too


@pytest.mark.parametrize(
    "call, argument, text",
    [
        (lambda: best_for_flops(0, 1e12), "total_flops", "total_flops=0 is out of range"),
        (lambda: best_for_flops(-1e20, 1e12), "total_flops", "must be a finite number > 0"),
        (lambda: best_for_flops(math.nan, 1e12), "total_flops", "total_flops=nan"),
        (lambda: best_for_flops(1e23, -5), "inference_tokens", "must be a finite number >= 0"),
        (lambda: best_for_budget(0, 1e9), "dollars", "dollars=0 is out of range"),
        (lambda: best_for_budget(1e6, -1), "requests", "requests=-1"),
        (lambda: loss_at_budget(3e10, 1e23, 2e12), "params", "params must be < 2.5e+10"),
        (lambda: loss_at_budget([1e9, 2.5e10], 1e23, 2e12), "params", "1 element"),
        (lambda: loss_at_dollars(1e12, 1e6, 1e12), "params", "uses the whole budget dollars=1e+06"),
    ],
)
def test_bad_input_names_the_argument(call, argument, text):
    with pytest.raises(InvalidValueError, match=re.escape(text)) as info:
        call()
    assert info.value.argument == argument


def test_bad_elements_become_nan_on_request():
    plan = best_for_flops([1e23, -1.0, 1e21], [1e12, 1e12, 0], on_invalid="nan")
    assert_array_equal(plan.valid, [True, False, True])
    assert np.isfinite(plan.params[0]) and np.isnan(plan.params[1])
    assert np.isnan(loss_at_budget([1e9, 3e10], 1e23, 2e12, on_invalid="nan")[1])
    with pytest.raises(InvalidTypeError, match="total_flops"):
        best_for_flops("lots", 1e12)


def test_excel_functions():
    assert {"BEST_FOR_FLOPS", "BEST_FOR_BUDGET", "LOSS_AT_BUDGET", "ENERGY_EMISSIONS"} <= set(
        udfs.FUNCTIONS
    ) & set(udfs.__all__)
    assert udfs.FUNCTIONS["BEST_FOR_BUDGET"].result == ("params", "tokens", "loss")
    plan = best_for_flops(1e23, 2e12)
    assert udfs.BEST_FOR_FLOPS(1e23, "2e12") == [[plan.params, plan.tokens, plan.loss]]
    dollars = best_for_budget(5e6, 2e9, 70, 215, hardware="h100")
    assert udfs.BEST_FOR_BUDGET(5e6, 2e9, None, "", "h100") == [
        [dollars.params, dollars.tokens, dollars.loss]
    ]
    assert udfs.LOSS_AT_BUDGET(1e10, 1e23, 2e12) == loss_at_budget(1e10, 1e23, 2e12)
    errors = [
        udfs.LOSS_AT_BUDGET(3e10, 1e23, 2e12),
        udfs.BEST_FOR_FLOPS(0, 1),
        udfs.BEST_FOR_FLOPS("abc", 1),
        udfs.BEST_FOR_BUDGET(1e6, "many"),
        udfs.BEST_FOR_FLOPS(1e23, -1),
        udfs.LOSS_AT_BUDGET(1e9, 1e23, 1e12, "nope"),
    ]
    assert [e.code for e in errors] == ["#NUM!", "#NUM!", "#VALUE!", "#VALUE!", "#NUM!", "#VALUE!"]
    assert all(isinstance(e, CellError) for e in errors)
    assert "whole budget" in errors[0].message and "params=3e+10" in errors[0].message
    assert errors[4].message.startswith("inf_tokens=-1")  # the Excel argument's name
    assert "requests='many'" in errors[3].message
