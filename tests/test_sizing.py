"""The sizing engine against independent checks: analytic optima, brute force, constraints."""

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import xlplan
from xlplan.engine.errors import ConvergenceError
from xlplan.engine.laws import LAW_PRESETS
from xlplan.engine.paper import sizing, solver

LAW = xlplan.get_law("chinchilla")


def _params_on_constraint(law, loss, tokens):
    """N such that L(N, tokens) = loss."""
    return (law.A / (loss - law.E - law.B / tokens**law.beta)) ** (1 / law.alpha)


def _brute_force(law, loss, r):
    """Minimise N (D + r) over log D along the constraint with a bounded scalar search."""
    chin = xlplan.chinchilla_from_loss(loss, law)
    floor = math.log(chin.tokens) + 1e-9  # below this D, N blows up or stops existing

    def cost(log_d):
        d = math.exp(log_d)
        return math.log(_params_on_constraint(law, loss, d) * (d + r))

    result = minimize_scalar(
        cost, bounds=(floor, floor + 12), method="bounded", options={"xatol": 1e-10}
    )
    return math.exp(result.x)


@pytest.mark.parametrize("law_name", list(LAW_PRESETS))
@pytest.mark.parametrize("loss_above_e,demand", [(0.3, 1e12), (0.05, 1e15), (0.8, 1e9)])
def test_optimum_matches_brute_force_minimum(law_name, loss_above_e, demand):
    law = LAW_PRESETS[law_name]
    plan = xlplan.compute_optimal(law.E + loss_above_e, demand, law)
    tokens = _brute_force(law, law.E + loss_above_e, demand / 3)
    assert_allclose(plan.optimal.tokens, tokens, rtol=1e-5)


def test_optimum_satisfies_the_loss_constraint_and_neighbours_cost_more():
    loss, demand = 2.1, 3e12
    plan = xlplan.compute_optimal(loss, demand)
    n, d = plan.optimal.params, plan.optimal.tokens
    assert_allclose(LAW.loss(n, d), loss, rtol=1e-14)
    best = xlplan.total_flops(n, d, demand)
    assert_allclose(best, plan.optimal.total, rtol=1e-14)
    for factor in (0.99, 0.999, 1.001, 1.01):
        d2 = d * factor
        assert xlplan.total_flops(_params_on_constraint(LAW, loss, d2), d2, demand) > best


def test_zero_demand_gives_the_analytic_chinchilla_optimum():
    loss = np.array([1.8, 2.0, 2.5, 3.5])
    plan = xlplan.compute_optimal(loss, 0.0)
    chin = xlplan.chinchilla_from_loss(loss)
    assert_allclose(plan.optimal.params, chin.params, rtol=1e-14)
    assert np.all(plan.iterations == 0)
    # The analytic optimum is the brute-force minimum of 6 N D on the constraint.
    for value, tokens in zip(loss, chin.tokens, strict=True):
        assert_allclose(_brute_force(LAW, value, 0.0), tokens, rtol=1e-5)
    # And the solver's limit as demand vanishes.
    tiny = xlplan.compute_optimal(loss, 1e-3)
    assert_allclose(tiny.optimal.params, chin.params, rtol=1e-12)


def test_chinchilla_constructors_agree_on_one_frontier():
    model = xlplan.chinchilla_from_params(7e9)
    same = xlplan.chinchilla_from_loss(model.loss)
    assert_allclose([same.params, same.tokens], [7e9, model.tokens], rtol=1e-12)
    by_compute = xlplan.chinchilla_from_compute(model.training_flops)
    assert_allclose([by_compute.params, by_compute.tokens], [7e9, model.tokens], rtol=1e-12)
    # Lowest loss for its compute: moving along 6 N D = C in either direction loses.
    c = model.training_flops
    for factor in (0.98, 1.02):
        n = 7e9 * factor
        assert LAW.loss(n, c / (6 * n)) > model.loss
    assert_allclose(model.tokens, 276e9, rtol=2e-3)  # Table 2 prints 276B
    assert_allclose(model.loss, LAW.loss(7e9, model.tokens), rtol=1e-15)


def test_randomised_inputs_over_the_useful_range_always_converge():
    rng = np.random.default_rng(20240722)
    for law in LAW_PRESETS.values():
        loss = rng.uniform(law.E + 0.01, max(4.0, law.E + 0.02), 20000)
        demand = np.where(rng.random(20000) < 0.05, 0.0, 10 ** rng.uniform(0, 16, 20000))
        plan = xlplan.compute_optimal(loss, demand, law)
        n, d = plan.optimal.params, plan.optimal.tokens
        assert np.all(np.isfinite(n) & np.isfinite(d))
        assert_allclose(law.loss(n, d), loss, rtol=1e-12)
        assert plan.iterations.max() < solver.MAX_ITERATIONS
        # Never worse than the equal-loss Chinchilla model, never smaller data.
        assert np.all(plan.optimal.total <= plan.chinchilla.total * (1 + 1e-12))
        assert np.all(d >= plan.chinchilla.tokens * (1 - 1e-12))


def test_array_call_equals_a_loop_of_scalar_calls():
    loss = np.array([[1.75, 2.0], [2.5, 3.9]])
    demand = np.array([[1e16, 0.0], [5e10, 1.0]])
    plan = xlplan.compute_optimal(loss, demand)
    assert plan.optimal.params.shape == (2, 2)
    for idx in np.ndindex(loss.shape):
        one = xlplan.compute_optimal(float(loss[idx]), float(demand[idx]))
        assert isinstance(one.optimal.params, float)
        assert_allclose(plan.optimal.params[idx], one.optimal.params, rtol=4e-15)
        assert_allclose(plan.optimal.tokens[idx], one.optimal.tokens, rtol=4e-15)


def test_broadcasting_a_sweep_in_one_call():
    loss = np.linspace(1.8, 2.6, 5)[:, None]
    demand = np.logspace(9, 15, 7)[None, :]
    plan = xlplan.cost_optimal(loss, demand / 285)
    assert plan.optimal.params.shape == (5, 7)
    assert plan.chinchilla.params.shape == (5, 7)
    # More demand always means a smaller model trained longer.
    assert np.all(np.diff(plan.optimal.params, axis=1) < 0)
    assert np.all(np.diff(plan.optimal.tokens, axis=1) > 0)


def test_cost_optimal_with_unit_prices_is_compute_optimal():
    """One objective: dollars with equal costs per FLOP and MFU 1 reduce to Eq. 3."""
    unit = xlplan.Hardware(3600.0, 1.0, 1.0, 3600.0, 1.0, 1.0, 1.0)  # $1 per FLOP
    requests, d_in, d_out = 1e9, 100.0, 300.0
    dollars = xlplan.cost_optimal(2.0, requests, d_in, d_out, hardware=unit)
    flops = xlplan.compute_optimal(2.0, requests * (d_in + d_out))
    assert_allclose(dollars.optimal.params, flops.optimal.params, rtol=1e-14)
    assert_allclose(dollars.optimal.total, flops.optimal.total, rtol=1e-14)


def test_lifetime_cost_by_hand_for_table3_first_row():
    # 1B params on 27.4B tokens; 175M requests of 70 + 215 tokens on paper-a100.
    cost = xlplan.lifetime_cost(1e9, 27.4e9, 175e6)
    train = 6 * 1e9 * 27.4e9 * 1.50 / (3600 * 3.12e14 * 0.5)
    infer = 2 * 1e9 * 175e6 * (70 / 0.5 + 215 / 0.01) * 1.10 / (3600 * 6.24e14)
    assert_allclose(
        [cost.training, cost.inference, cost.total], [train, infer, train + infer], rtol=1e-14
    )
    assert_allclose(cost.total, 4147.6, rtol=1e-4)


def test_cost_optimum_is_a_true_minimum_of_dollars():
    hw = xlplan.get_hardware("h100")
    loss, requests = 2.05, 3e9
    plan = xlplan.cost_optimal(loss, requests, hardware=hw)
    n, d = plan.optimal.params, plan.optimal.tokens
    assert_allclose(LAW.loss(n, d), loss, rtol=1e-14)
    best = xlplan.lifetime_cost(n, d, requests, hardware=hw).total
    assert_allclose(best, plan.optimal.total, rtol=1e-14)
    for factor in (0.995, 1.005):
        d2 = d * factor
        assert (
            xlplan.lifetime_cost(
                _params_on_constraint(LAW, loss, d2), d2, requests, hardware=hw
            ).total
            > best
        )


def test_paper_headline_numbers():
    # Sec. 2: 30B-Chinchilla-quality model, 1e13 inference tokens: 13.6B params,
    # 2.84x the data, 28% fewer FLOPs.
    chin = xlplan.chinchilla_from_params(30e9)
    plan = xlplan.compute_optimal(chin.loss, 1e13)
    assert f"{plan.optimal.params / 1e9:.1f}" == "13.6"
    assert f"{plan.tokens_ratio:.2f}" == "2.84"
    assert round(100 * plan.saving) == 28


def test_solver_residual_is_at_machine_precision():
    law = LAW
    gap = np.array([0.01, 0.3, 2.0])
    r = np.array([1e16, 1e11, 1.0]) / 3
    tokens = solver.solve_tokens(law, gap, r).tokens
    c1 = law.B * (law.alpha + law.beta) / law.alpha
    c2 = law.beta * law.B * r / law.alpha
    residual = (c1 * tokens**-law.beta + c2 * tokens ** (-law.beta - 1)) / gap - 1
    assert np.all(np.abs(residual) < 1e-13)


def _useful_range(law, n=300):
    """Loss E+0.01 to 4 and lifetime demand 1 to 1e16 tokens, as a broadcast grid."""
    return (np.linspace(law.E + 0.01, 4.0, n)[:, None], np.logspace(0, 16, n)[None, :])


def test_halley_iterations_over_the_useful_range_are_bounded_as_the_solver_says():
    """3 iterations for beta >= 0.24, a 4th for part of the sardana-100/250/500 grid."""
    for name, law in LAW_PRESETS.items():
        loss, demand = _useful_range(law)
        iterations = xlplan.compute_optimal(loss, demand, law).iterations
        scalar = [
            xlplan.compute_optimal(float(x), float(d), law).iterations
            for x in loss[::30, 0]
            for d in demand[0, ::30]
        ]
        expected = 4 if law.beta < 0.2 else 3
        assert iterations.max() == expected and max(scalar) <= expected, name
        assert iterations.min() == solver.VECTOR_SWEEPS, name
        if expected == 4:
            assert 0.02 < (iterations == 4).mean() < 0.08, name


def test_solver_returns_a_result_object():
    result = solver.solve_tokens(LAW, 0.3, 1e12 / 3)
    assert isinstance(result, solver.SolverResult)
    assert result.converged is True and 1 <= result.iterations < solver.MAX_ITERATIONS
    assert_allclose(LAW.loss(result.params, result.tokens), LAW.E + 0.3, rtol=1e-13)
    with pytest.raises(AttributeError):  # frozen
        result.tokens = 1.0
    arrays = solver.solve_tokens(LAW, np.array([0.3, 0.5]), np.array([0.0, 1e12]))
    assert arrays.converged.tolist() == [True, True] and arrays.iterations[0] == 0


@pytest.mark.parametrize("shape", ["scalar", "array"])
def test_too_few_iterations_raise_convergence_error(shape, monkeypatch):
    """The sardana-100 grid needs 4 iterations in places: a limit of 3 must fail loudly."""
    law = LAW_PRESETS["sardana-100"]
    loss, demand = _useful_range(law)
    iterations = xlplan.compute_optimal(loss, demand, law).iterations
    i, j = np.argwhere(iterations == 4)[0]
    monkeypatch.setattr(solver, "MAX_ITERATIONS", 3)
    args = (float(loss[i, 0]), float(demand[0, j])) if shape == "scalar" else (loss, demand)
    with pytest.raises(ConvergenceError, match="did not converge in 3 iterations"):
        xlplan.compute_optimal(*args, law)
    # Within the limit, the same inputs still solve.
    monkeypatch.setattr(solver, "MAX_ITERATIONS", 4)
    assert np.all(np.isfinite(xlplan.compute_optimal(*args, law).optimal.params))


def test_the_chinchilla_baseline_costs_no_second_solve(monkeypatch):
    calls = []
    original = solver.solve_tokens
    monkeypatch.setattr(sizing, "solve_tokens", lambda *a: calls.append(a) or original(*a))
    plan = xlplan.compute_optimal(np.array([1.9, 2.1]), 1e12)
    assert len(calls) == 1
    chin = xlplan.chinchilla_from_loss(np.array([1.9, 2.1]))
    assert np.array_equal(plan.chinchilla.params, chin.params)
    assert np.array_equal(plan.chinchilla.tokens, chin.tokens)
