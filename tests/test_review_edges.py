"""Adversarial edge cases of the monthly, data-limit and range functions (review)."""

import numpy as np

import xlplan.udfs as udfs
from xlplan.engine.laws import get_law
from xlplan.excel.cell_error import CellError


def test_cost_opt_pv_refuses_a_model_that_underflows_to_zero_params():
    # loss=1E308 used to give [[0.0, 1.6e-228]]: a model of 0 parameters in a cell.
    # COST_OPT answers #NUM! for the same loss; the monthly twin must agree.
    answer = udfs.COST_OPT_PV(1e308, [1e9] * 12)
    assert isinstance(answer, CellError) and answer.code == "#NUM!"
    assert "params" in answer.message
    assert isinstance(udfs.COST_OPT(1e308, 1e9), CellError)


def test_robust_opt_with_equal_scenarios_is_the_cost_optimal_plan_with_no_regret():
    params, tokens, regret = udfs.ROBUST_OPT(2.3, [1e9, 1e9])[0]
    expected = udfs.COST_OPT(2.3, 1e9)[0]
    np.testing.assert_allclose([params, tokens], expected, rtol=1e-9)
    assert regret == 0.0


def _cost(params, tokens, requests):
    return float(udfs.LIFETIME_COST(params, tokens, requests)[0][2])


def test_robust_opt_regret_is_the_minimax_over_the_whole_demand_interval():
    # Independent brute force: plans on a dense grid of sizes along L(N, D) = loss (tokens
    # solved from the law's own formula), regret against each demand's cost-optimal plan
    # on a dense grid of demands including the interval's interior.
    lo, hi, loss = 1e8, 1e12, 2.3
    law = get_law()
    params, _tokens, regret = udfs.ROBUST_OPT(loss, [lo, hi])[0]
    demands = np.geomspace(lo, hi, 41)
    best = np.array([_cost(*udfs.COST_OPT(loss, R)[0], R) for R in demands])
    n_min = (law.A / (loss - law.E)) ** (1 / law.alpha)

    def worst(n):
        d = (law.B / ((loss - law.E) - law.A / n**law.alpha)) ** (1 / law.beta)
        return max(_cost(n, d, R) - b for R, b in zip(demands, best, strict=True))

    # The cost-optimal sizes for lo and hi lie inside [1.01, 10] x n_min here.
    grid = np.geomspace(n_min * 1.01, n_min * 10, 3000)
    brute = min(worst(n) for n in grid)
    # The plan's own worst regret over the interior grid never exceeds its stated worst
    # case, and no grid plan does better than the stated minimax (beyond grid error).
    assert worst(params) <= regret * (1 + 1e-9)
    assert regret <= brute * (1 + 1e-3)
    np.testing.assert_allclose(regret, brute, rtol=2e-3)
