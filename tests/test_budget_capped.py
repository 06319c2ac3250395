"""What a budget buys with capped data: against a dense scan of cost-optimal plans, the
duality with ``cost_optimal(..., unique_tokens=)``, arrays against a loop, and errors."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from xlplan.engine.data.data_limits import RepetitionWarning, loss_floor
from xlplan.engine.errors import InvalidValueError
from xlplan.engine.money.budget import best_for_budget, loss_at_dollars
from xlplan.engine.paper.sizing import cost_optimal

HW = "h100"
# (dollars, requests, unique tokens): cap binding hard, mildly, and with no demand
CASES = [(1e6, 1e10, 1e11), (3e5, 1e9, 3e11), (2e7, 1e11, 5e11), (1e6, 0.0, 2e10)]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        yield


def _scan_loss(dollars, requests, unique):
    """The loss whose cost-optimal plan costs ``dollars``: scans of 101 losses, zooming in."""
    low, high = loss_floor(unique) + 1e-6, 6.0
    for _ in range(8):
        losses = np.linspace(low, high, 101)
        cost = cost_optimal(losses, requests, hardware=HW, unique_tokens=unique).optimal.total
        k = int(np.flatnonzero(cost <= dollars)[0])  # cost falls as the loss rises
        low, high = losses[k - 1], losses[k]
    log_low, log_high = (
        np.log(cost_optimal(x, requests, hardware=HW, unique_tokens=unique).optimal.total)
        for x in (low, high)
    )
    return low + (high - low) * (log_low - np.log(dollars)) / (log_low - log_high)


@pytest.mark.parametrize("dollars, requests, unique", CASES)
def test_matches_a_dense_scan_of_cost_optimal_plans(dollars, requests, unique):
    plan = best_for_budget(dollars, requests, hardware=HW, unique_tokens=unique)
    scanned = cost_optimal(
        _scan_loss(dollars, requests, unique), requests, hardware=HW, unique_tokens=unique
    ).optimal
    assert_allclose(plan.params, scanned.params, rtol=1e-9)
    assert_allclose(plan.tokens, scanned.tokens, rtol=1e-9)
    assert_allclose(plan.loss, scanned.loss, rtol=1e-12)
    assert_allclose(plan.total, dollars, rtol=1e-10)  # the budget is spent


@pytest.mark.parametrize("loss", [1.98, 2.1, 2.5])
def test_a_cost_optimal_plans_total_buys_that_plan(loss):
    optimal = cost_optimal(loss, 1e10, hardware=HW, unique_tokens=1e11).optimal
    plan = best_for_budget(optimal.total, 1e10, hardware=HW, unique_tokens=1e11)
    for field in ("params", "tokens", "loss", "training", "inference"):
        assert_allclose(getattr(plan.best, field), getattr(optimal, field), rtol=1e-9)


def test_the_cap_costs_loss_and_a_generous_cap_changes_nothing():
    free = best_for_budget(1e6, 1e10, hardware=HW)
    capped = best_for_budget(1e6, 1e10, hardware=HW, unique_tokens=1e11)
    assert capped.loss > free.loss + 1e-3
    generous = best_for_budget(1e6, 1e10, hardware=HW, unique_tokens=1e15)
    assert_allclose(generous.params, free.params, rtol=1e-9)


def test_unlimited_is_the_old_path_bit_for_bit():
    for args in [(5e6, 2e9), (np.array([1e5, 5e6, 1e8]), 2e9)]:
        old, new = best_for_budget(*args), best_for_budget(*args, unique_tokens=None)
        for field in ("params", "tokens", "loss", "training", "inference"):
            assert_array_equal(getattr(new.best, field), getattr(old.best, field))
    assert type(best_for_budget(5e6, 2e9, unique_tokens=1e11).params) is float


def test_arrays_equal_a_loop():
    dollars = np.array([[3e5], [1e6], [2e7]])
    unique = np.array([1e11, 3e11])
    plans = best_for_budget(dollars, 1e10, hardware=HW, unique_tokens=unique)
    assert plans.params.shape == (3, 2)
    for i in range(3):
        for j in range(2):
            one = best_for_budget(
                float(dollars[i, 0]), 1e10, hardware=HW, unique_tokens=float(unique[j])
            )
            assert_allclose(plans.params[i, j], one.params, rtol=1e-12)
            assert_allclose(plans.loss[i, j], one.loss, rtol=1e-14)


def test_the_best_model_is_the_lowest_point_of_its_loss_curve():
    plan = best_for_budget(1e6, 1e10, hardware=HW, unique_tokens=1e11)
    sizes = plan.params * np.array([0.8, 0.95, 1.0, 1.02, 1.05])
    losses = loss_at_dollars(sizes, 1e6, 1e10, hardware=HW, unique_tokens=1e11)
    assert_allclose(losses[2], plan.loss, rtol=1e-12)
    assert np.all(losses >= plan.loss - 1e-12)


def test_a_budget_past_what_the_data_allows_names_budget_and_cap():
    with pytest.raises(InvalidValueError, match=r"dollars=1e\+40.*unique_tokens=1e\+09"):
        best_for_budget(1e40, 1e10, hardware=HW, unique_tokens=1e9)
    with pytest.raises(InvalidValueError, match="unique_tokens"):
        best_for_budget(1e6, 1e10, hardware=HW, unique_tokens=0.0)


def test_invalid_elements_are_nan_with_on_invalid_nan():
    plans = best_for_budget(
        np.array([1e6, -1.0, 3e5]),
        1e10,
        hardware=HW,
        unique_tokens=np.array([1e11, 1e11, np.nan]),
        on_invalid="nan",
    )
    assert_array_equal(plans.valid, [True, False, False])
    assert np.isnan(plans.params[1:]).all()
    assert_allclose(
        plans.params[0],
        best_for_budget(1e6, 1e10, hardware=HW, unique_tokens=1e11).params,
        rtol=1e-12,
    )
