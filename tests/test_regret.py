"""Demand scenarios: regret table, robust plan and expected-cost plan against brute force."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import xlplan
from xlplan import udfs
from xlplan.engine.errors import InvalidTypeError, InvalidValueError, UnreachableLossError
from xlplan.engine.money.regret import expected_cost_plan, regret_table, robust_plan
from xlplan.excel.cell_error import CellError

# (loss, scenarios, hardware, law): three to five scenarios, given in any order.
CASES = [
    (2.0, [1e9, 1e10, 1e11], "paper-a100", "chinchilla"),
    (2.1, [3e10, 5e8, 2e9, 7e9, 1e11], "h100", "chinchilla"),
    (2.3, [1e8, 1.2e8], "a100-40gb", "epoch-2024"),
    (2.05, [2e9, 4e10, 1e10, 2e10], "paper-a100-table3", "sardana-all"),
]
GRID = 200_001


def _rates(hardware):
    unit = xlplan.lifetime_cost(1.0, 1.0, 1.0, hardware=hardware)
    return unit.training, unit.inference  # $ per param-token, $ per param-request


def _constraint(law, loss, params):
    """Training tokens reaching ``loss`` with ``params`` (the law solved for D)."""
    gap = loss - law.E - law.A / params**law.alpha
    return (law.B / gap) ** (1.0 / law.beta)


def _size_range(law, loss):
    """Log-size bounds of the constraint: from just above the smallest feasible N to 1e16."""
    smallest = (law.A / (loss - law.E)) ** (1.0 / law.alpha)
    return np.log(smallest * (1 + 1e-9)), np.log(1e16)


def _refine(function, grid):
    """Minimum of ``function`` over ``grid`` (log N), refined by Brent within one step.

    Brent runs on the offset from the best grid point, so its relative tolerance
    (sqrt(eps) |x|) does not limit the precision in log N.
    """
    values = function(grid)
    i = int(np.argmin(values))
    step = grid[1] - grid[0]
    found = minimize_scalar(
        lambda t: function(grid[i] + t),
        bounds=(-step, step),
        method="bounded",
        options={"xatol": 1e-13},
    )
    return grid[i] + found.x, found.fun, grid[i], values[i]


def _best_cost(law, loss, hardware, requests):
    """C*(R) by brute force: dense grid over log N along the constraint, then Brent."""
    k_train, c = _rates(hardware)

    def cost(log_n):
        n = np.exp(log_n)
        return n * (k_train * _constraint(law, loss, n) + c * requests)

    return _refine(cost, np.linspace(*_size_range(law, loss), GRID))[1]


@pytest.mark.parametrize("loss, scenarios, hardware, law", CASES)
def test_regret_entries_are_lifetime_costs_of_the_plans(loss, scenarios, hardware, law):
    table = regret_table(loss, scenarios, hardware=hardware, law=law)
    k = len(scenarios)
    rows = udfs.REGRET_TABLE(loss, [scenarios], None, None, hardware, law)
    assert len(rows) == k and all(len(r) == k + 1 for r in rows)
    for i, r_i in enumerate(scenarios):
        params, tokens = udfs.COST_OPT(loss, r_i, None, None, hardware, law)[0]
        assert_allclose([table.params[i], table.tokens[i]], [params, tokens], rtol=1e-13)
        for j, r_j in enumerate(scenarios):
            total = udfs.LIFETIME_COST(params, tokens, r_j, None, None, hardware)[0][2]
            assert_allclose(rows[i][j], total, rtol=1e-13)
            assert_allclose(
                table.regret[i, j], total - table.cost[j, j], rtol=1e-12, atol=1e-9 * total
            )
        assert_allclose(rows[i][k], max(table.regret[i]), rtol=1e-13)


@pytest.mark.parametrize("loss, scenarios, hardware, law", CASES)
def test_diagonal_is_zero_and_each_plan_is_best_for_its_own_demand(loss, scenarios, hardware, law):
    table = regret_table(loss, scenarios, hardware=hardware, law=law)
    assert np.all(np.diag(table.regret) == 0.0)
    assert np.all(table.regret >= 0)
    law_ = xlplan.get_law(law)
    for j, requests in enumerate(scenarios):  # the diagonal is C*(R_j), found by brute force
        assert_allclose(table.cost[j, j], _best_cost(law_, loss, hardware, requests), rtol=1e-10)


@pytest.mark.parametrize("loss, scenarios, hardware, law", CASES)
def test_worst_regret_over_scenarios_is_worst_over_the_whole_interval(
    loss, scenarios, hardware, law
):
    # Regret is convex in demand, so no demand between the scenarios is worse.
    table = regret_table(loss, scenarios, hardware=hardware, law=law)
    demand = np.linspace(min(scenarios), max(scenarios), 401)
    best = xlplan.cost_optimal(loss, demand, hardware=hardware, law=law).optimal.total
    for i in range(len(scenarios)):
        cost = xlplan.lifetime_cost(
            table.params[i], table.tokens[i], demand, hardware=hardware
        ).total
        assert_allclose(np.max(cost - best), table.worst_regret[i], rtol=1e-9)


def _worst_regret_along_constraint(law, loss, hardware, low, high):
    """max(regret at R_lo, regret at R_hi) as a function of log N on the constraint."""
    k_train, c = _rates(hardware)
    ends = xlplan.cost_optimal(loss, np.array([low, high]), hardware=hardware, law=law)
    best_low, best_high = ends.optimal.total

    def worst(log_n):
        n = np.exp(log_n)
        spend = n * k_train * _constraint(law, loss, n)
        return np.maximum(spend + n * c * low - best_low, spend + n * c * high - best_high)

    return worst


@pytest.mark.parametrize("loss, scenarios, hardware, law", CASES)
def test_robust_plan_beats_every_row_and_matches_a_dense_grid(loss, scenarios, hardware, law):
    plan = robust_plan(loss, scenarios, hardware=hardware, law=law)
    table = regret_table(loss, scenarios, hardware=hardware, law=law)
    assert np.all(plan.worst_regret <= table.worst_regret * (1 + 1e-12))
    law_ = xlplan.get_law(law)
    assert_allclose(law_.loss(plan.params, plan.tokens), loss, rtol=1e-13)
    worst = _worst_regret_along_constraint(law_, loss, hardware, min(scenarios), max(scenarios))
    grid = np.linspace(*_size_range(law_, loss), GRID)
    log_n, least, grid_best, grid_least = _refine(worst, grid)
    assert abs(grid_best - np.log(plan.params)) <= grid[1] - grid[0]
    assert plan.worst_regret <= grid_least * (1 + 1e-12)
    assert_allclose(plan.params, np.exp(log_n), rtol=1e-9)
    assert_allclose(plan.worst_regret, least, rtol=1e-9)
    # the worst case over a dense grid of demands is at an end of the interval
    demand = np.linspace(min(scenarios), max(scenarios), 401)
    best = xlplan.cost_optimal(loss, demand, hardware=hardware, law=law).optimal.total
    cost = xlplan.lifetime_cost(plan.params, plan.tokens, demand, hardware=hardware).total
    assert_allclose(np.max(cost - best), plan.worst_regret, rtol=1e-9)
    assert_allclose(plan.regret_low, plan.regret_high, rtol=1e-9)


def test_robust_opt_excel_function_matches_the_engine():
    plan = robust_plan(2.1, [5e8, 2e9, 3e10], hardware="h100")
    assert udfs.ROBUST_OPT(2.1, [[5e8], [2e9], [3e10]], None, None, "h100") == [
        [plan.params, plan.tokens, plan.worst_regret]
    ]
    assert udfs.ROBUST_OPT("2.1", [["5e8", 2e9, 3e10]], "", "", "h100", "") == [
        [plan.params, plan.tokens, plan.worst_regret]
    ]


def test_equal_scenarios_give_the_plan_itself_with_no_regret():
    plan = robust_plan(2.0, [1e10, 1e10])
    single = xlplan.cost_optimal(2.0, 1e10).optimal
    assert (plan.params, plan.tokens, plan.worst_regret) == (single.params, single.tokens, 0.0)


@pytest.mark.parametrize("weights", [None, [0.2, 0.5, 0.3], [0, 1, 3]])
def test_expected_cost_plan_is_the_plan_at_mean_demand(weights):
    scenarios = np.array([1e9, 1e10, 1e11])
    w = np.ones(3) if weights is None else np.asarray(weights, float)
    w = w / w.sum()
    plan = expected_cost_plan(2.0, scenarios, weights)
    at_mean = xlplan.cost_optimal(2.0, float(w @ scenarios)).optimal
    assert (plan.optimal.params, plan.optimal.tokens) == (at_mean.params, at_mean.tokens)
    # independently: minimise the probability-weighted cost of the scenarios along the constraint
    law = xlplan.get_law("chinchilla")
    k_train, c = _rates(None)

    def expected(log_n):
        n = np.exp(log_n)
        return sum(
            wj * n * (k_train * _constraint(law, 2.0, n) + c * rj)
            for wj, rj in zip(w, scenarios, strict=True)
        )

    log_n, least, _, _ = _refine(expected, np.linspace(*_size_range(law, 2.0), GRID))
    assert_allclose(plan.optimal.params, np.exp(log_n), rtol=1e-6)
    assert_allclose(plan.optimal.total, least, rtol=1e-12)


@pytest.mark.parametrize(
    "scenarios, words",
    [
        ([1e9], ["requests_scenarios", "at least 2"]),
        ([], ["requests_scenarios", "at least 2"]),
        ([1e9, 0.0], ["requests_scenarios[2]=0", "> 0"]),
        ([-1e9, 1e9, np.nan], ["requests_scenarios[1]=-1e+09", "requests_scenarios[3]=nan"]),
        ([1e9, np.inf], ["requests_scenarios[2]=inf"]),
    ],
)
@pytest.mark.parametrize("function", [regret_table, robust_plan, expected_cost_plan])
def test_bad_scenarios_name_the_argument(function, scenarios, words):
    with pytest.raises(InvalidValueError) as error:
        function(2.0, scenarios)
    assert error.value.argument == "requests_scenarios"
    for word in words:
        assert word in str(error.value)


@pytest.mark.parametrize("function", [udfs.REGRET_TABLE, udfs.ROBUST_OPT])
def test_excel_errors(function):
    cases = [
        (([[1e9]],), "#NUM!", "requests_scenarios", "at least 2"),
        (([[1e9, -5]],), "#NUM!", "requests_scenarios[2]=-5"),
        (([[1e9, "lots"]],), "#VALUE!", "requests_scenarios[2]='lots'"),
        (([[1e9, None]],), "#VALUE!", "requests_scenarios[2] is blank"),
        (([[1e9, 2e9], [3e9, 4e9]],), "#VALUE!", "one row or one column"),
    ]
    for args, code, *words in cases:
        value = function(2.0, *args)
        assert isinstance(value, CellError) and value.code == code, value
        assert all(w in value.message for w in words), value.message
    value = function(1.6, [[1e9, 2e9]])
    assert value.code == "#NUM!" and "loss=1.6" in value.message
    value = function(2.0, [[1e9, 2e9]], None, None, "tpu")
    assert value.code == "#VALUE!" and "hardware" in value.message


def test_loss_errors_in_python():
    with pytest.raises(UnreachableLossError):
        robust_plan(1.5, [1e9, 2e9])
    with pytest.raises(InvalidTypeError) as error:
        regret_table([2.0, 2.1], [1e9, 2e9])
    assert error.value.argument == "loss"
    with pytest.raises(InvalidValueError) as error:
        expected_cost_plan(2.0, [1e9, 2e9], [1, 2, 3])
    assert error.value.argument == "weights"


def test_robust_plan_of_an_array_of_losses_equals_the_loop():
    losses = np.array([[2.0, 2.1, 2.3], [1.95, 2.5, 3.0]])
    scenarios = [3e8, 4e9, 2e10]
    plans = robust_plan(losses, scenarios, 100, 300, "h100", "epoch-2024")
    assert plans.params.shape == losses.shape and plans.worst_regret.shape == losses.shape
    for index, loss in np.ndenumerate(losses):
        one = robust_plan(float(loss), scenarios, 100, 300, "h100", "epoch-2024")
        got = [
            plans.params[index],
            plans.tokens[index],
            plans.worst_regret[index],
            plans.regret_low[index],
            plans.regret_high[index],
        ]
        assert_allclose(
            got,
            [one.params, one.tokens, one.worst_regret, one.regret_low, one.regret_high],
            rtol=1e-13,
        )
    assert type(robust_plan(2.0, scenarios).params) is float
    with pytest.raises(UnreachableLossError):
        robust_plan(np.array([2.0, 1.5]), scenarios)


def test_scenarios_as_a_list_of_floats_answer_as_an_array_does():
    """An Excel range arrives as a list of floats and stays one (no numpy); same plan."""
    for scenarios in ([1e8, 1e9, 1e10], [3e9, 3e9], [5e11, 2e7, 9e9, 1e9]):
        one = robust_plan(2.1, scenarios, hardware="h100")
        array = robust_plan(2.1, np.array(scenarios), hardware="h100")
        assert one == array
        assert (one.requests_low, one.requests_high) == (min(scenarios), max(scenarios))
    with pytest.raises(InvalidValueError, match=r"requests_scenarios\[2\]=-1"):
        robust_plan(2.1, [1e9, -1.0])


def test_a_cells_direct_path_gives_the_layered_paths_floats():
    """One loss: the solves and regrets in line equal cost_optimal + lifetime_cost's."""
    from xlplan.engine.money import regret

    rng = np.random.default_rng(11)
    for _ in range(200):
        law = xlplan.get_law(str(rng.choice(["chinchilla", "epoch-2024", "sardana-100"])))
        hw = xlplan.get_hardware(str(rng.choice(["h100", "paper-a100", "a100-40gb"])))
        loss = law.E + 10 ** rng.uniform(-2, 0.3)
        low, high = np.sort(10 ** rng.uniform(4, 13, 2)).tolist()
        high = low if rng.random() < 0.1 else high
        d_in, d_out = (float(x) for x in rng.choice([0.0, 70.0, 2000.0], 2))
        if d_in + d_out == 0:
            continue
        args = (float(loss), low, high, d_in, d_out, hw, law)
        assert regret._robust_direct(*args) == regret._robust_layered(*args), args
