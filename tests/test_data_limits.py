"""Data-constrained scaling (Muennighoff et al. 2023) and sizing with a unique-token cap."""

import json
import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import brentq, minimize_scalar

from xlplan.engine.data import capped
from xlplan.engine.data.data_limits import (
    MUENNIGHOFF_R_D_STAR,
    RepetitionWarning,
    data_constrained_loss,
    effective_tokens,
    epochs,
    loss_floor,
    optimal_params_for_tokens,
)
from xlplan.engine.errors import (
    ConvergenceError,
    InvalidTypeError,
    InvalidValueError,
    UnreachableLossError,
)
from xlplan.engine.laws import ScalingLaw, get_law
from xlplan.engine.paper.chinchilla import chinchilla_from_params
from xlplan.engine.paper.sizing import compute_optimal, cost_optimal
from xlplan.lawfile import load_law_file
from xlplan.udfs import COST_OPT, EPOCHS, OPT_PARAMS, SCALING_LOSS


def muennighoff_by_hand(N, D, U):
    """Their Eq. 5-7 written out with math, from the constants printed in the paper."""
    A, B, E = math.exp(6.255414), math.exp(7.3049974), math.exp(0.6254804)
    a = b = 0.3526596
    rd, rn = 15.387756, 5.309743
    U = min(U, D)
    G = (a * A / (b * B)) ** (1 / (a + b))
    UN = min(N, G * (U * G) ** (b / a))
    Dp = U + U * rd * (1 - math.exp(-(D / U - 1) / rd))
    Np = UN + UN * rn * (1 - math.exp(-(N / UN - 1) / rn))
    return E + A / Np**a + B / Dp**b


# ---------------------------------------------------------------- the law


@pytest.mark.parametrize(
    "N, D, U, published",
    [(6.34e9, 242e9, 25e9, 2.2256440889984477), (8.67e9, 178e9, 25e9, 2.2269634075087867)],
)
def test_muennighoff_published_examples(N, D, U, published):
    assert data_constrained_loss(N, D, U, "muennighoff-2023") == pytest.approx(published, rel=1e-12)
    assert SCALING_LOSS(N, D, "muennighoff-2023", U) == pytest.approx(published, rel=1e-12)
    assert muennighoff_by_hand(N, D, U) == pytest.approx(published, rel=1e-12)


def test_preset_carries_its_decay_constants():
    law = get_law("muennighoff-2023")
    assert (law.R_D_star, law.R_N_star) == (15.387756, 5.309743)
    assert law.alpha == law.beta == 0.3526596 and pytest.approx(math.exp(0.6254804)) == law.E
    assert "datablations" in law.source and get_law("chinchilla").R_D_star is None


def test_without_repetition_it_is_the_law():
    law = get_law("chinchilla")
    N = np.array([1e9, 7e9, 2e10])
    D = 1e12  # N_opt(1e12) is 2.07e10: no model here has surplus parameters
    assert np.all(optimal_params_for_tokens(law, D) >= N)
    assert_allclose(data_constrained_loss(N, D, 1e12), law.loss(N, D), rtol=1e-15)
    assert_allclose(data_constrained_loss(N, D, 5e12), law.loss(N, D), rtol=1e-15)


def test_repeated_tokens_saturate_and_array_matches_loop():
    # One epoch beyond U adds almost a full U; infinitely many add at most R_D* U.
    assert effective_tokens(2e11, 1e11) == pytest.approx(
        1e11 * (1 + MUENNIGHOFF_R_D_STAR * -math.expm1(-1 / MUENNIGHOFF_R_D_STAR))
    )
    assert effective_tokens(1e30, 1e11) == pytest.approx(1e11 * (1 + MUENNIGHOFF_R_D_STAR))
    N, D, U = np.meshgrid([1e9, 1e10, 1e11], [1e10, 1e11, 1e12], [3e10, 1e12], indexing="ij")
    got = data_constrained_loss(N, D, U, "muennighoff-2023")
    loop = [
        muennighoff_by_hand(*args) for args in zip(N.ravel(), D.ravel(), U.ravel(), strict=True)
    ]
    assert_allclose(got.ravel(), loop, rtol=1e-13)


def test_a_law_may_carry_its_own_constants(tmp_path):
    base = get_law("chinchilla")
    own = ScalingLaw(*base.as_tuple(), name="own", R_D_star=5.0, R_N_star=2.0)
    assert data_constrained_loss(1e9, 1e12, 1e11, own) > data_constrained_loss(1e9, 1e12, 1e11)
    path = tmp_path / "own.json"
    path.write_text(json.dumps(base.as_dict() | {"R_D_star": 5.0, "R_N_star": 2.0}))
    loaded = load_law_file(path)
    assert (loaded.R_D_star, loaded.R_N_star) == (5.0, 2.0)
    with pytest.raises(InvalidValueError, match="R_D_star=-1"):
        ScalingLaw(*base.as_tuple(), R_D_star=-1.0)


def test_epochs():
    assert epochs(1e12, 2.5e11) == 4.0 and epochs(1e12, 5e12) == 1.0 and epochs(1e12) == 1.0
    assert EPOCHS(1e12, 2.5e11) == 4.0 and EPOCHS(1e12, "") == 1.0
    assert EPOCHS(1e12, 0).code == "#NUM!" and "unique_tokens=0" in EPOCHS(1e12, 0)
    assert EPOCHS("many", 1e12).code == "#VALUE!"


# ---------------------------------------------------------------- sizing under a cap


def brute_force(law, loss, r, unique):
    """min over log D of log(N (D + r)): a dense grid, then a bounded 1-D search."""
    gap = loss - law.E

    def objective(x):
        x = np.atleast_1d(x)
        params = capped.capped_params(
            law, np.full(x.shape, gap), np.exp(x), np.full(x.shape, unique)
        )
        return np.log(params * (np.exp(x) + r))

    grid = np.linspace(math.log(1e8), math.log(1e17), 40001)
    i = int(np.nanargmin(objective(grid)))
    found = minimize_scalar(
        lambda x: objective(x)[0],
        method="bounded",
        bounds=(grid[i - 1], grid[i + 1]),
        options={"xatol": 1e-11},
    )
    return math.exp(found.x), math.exp(found.fun)


# Targets a little to far above the lowest loss U unique tokens allow: near the floor
# the plans repeat data many times and carry surplus parameters; far above, neither.
CASES = [
    (law, U, margin, demand)
    for law in ("chinchilla", "muennighoff-2023")
    for U in np.logspace(10, 13, 7)
    for margin in (0.01, 0.05, 0.2, 0.6)
    for demand in (0.0, 1e11, 1e13)
]


@pytest.mark.parametrize("law, unique, margin, demand", CASES)
def test_capped_optimum_matches_brute_force(law, unique, margin, demand):
    law = get_law(law)
    loss = loss_floor(unique, law) + margin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        plan = compute_optimal(loss, demand, law, unique_tokens=unique)
    r = demand / 3.0
    tokens, best = brute_force(law, loss, r, unique)
    ours = plan.optimal.params * (plan.optimal.tokens + r)
    assert ours <= best * (1 + 1e-12)  # never worse than the brute-force minimum
    assert plan.optimal.tokens == pytest.approx(tokens, rel=1e-5)  # grid-search precision
    assert data_constrained_loss(
        plan.optimal.params, plan.optimal.tokens, unique, law
    ) == pytest.approx(loss, rel=1e-12)

    # The zero of the slope of log(N (D + r)) in log D, found independently by brentq.
    def slope(x):
        return capped.capped_slope(
            law, np.array([loss - law.E]), np.array([r]), np.array([x]), np.array([unique])
        )[0]

    x = math.log(plan.optimal.tokens)
    root = brentq(slope, x - 0.05, x + 0.05, xtol=1e-14, rtol=1e-15)
    assert plan.optimal.tokens == pytest.approx(math.exp(root), rel=1e-10)


@pytest.mark.parametrize("unique", np.logspace(10, 13, 4))
@pytest.mark.parametrize("requests", [1e8, 1e10])
def test_cost_optimal_under_a_cap_matches_brute_force(unique, requests):
    law = get_law("chinchilla")
    loss = loss_floor(unique, law) + 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        plan = cost_optimal(loss, requests, hardware="h100", unique_tokens=unique)
    optimal = plan.optimal
    # Dollars are k_train N D + k_inference N: r = k_inference / k_train in tokens.
    r = optimal.inference * optimal.tokens / optimal.training
    tokens, best = brute_force(law, loss, r, unique)
    assert optimal.params * (optimal.tokens + r) <= best * (1 + 1e-12)
    assert optimal.tokens == pytest.approx(tokens, rel=1e-5)


def test_both_penalties_bind_somewhere_in_the_cases():
    """The brute-force cases cover plans with repeated data and with surplus parameters."""
    law = get_law("chinchilla")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        plan = compute_optimal(loss_floor(1e10) + 0.05, 1e13, law, unique_tokens=1e10)
    assert plan.epochs > 4 and plan.optimal.params > optimal_params_for_tokens(law, 1e10)


def test_bracketed_solver_reproduces_the_uncapped_optimum():
    """Where the cap does not bind the bracketed solver itself (not the shortcut) agrees."""
    loss, demand = np.array([1.9, 2.0, 2.1, 2.5]), np.array([0.0, 1e10, 1e12, 1e15])
    today = compute_optimal(loss, demand)
    law = get_law("chinchilla")
    tokens, params, _ = capped.solve_capped(
        law, loss - law.E, demand / 3.0, today.optimal.tokens * 1.5, today.optimal.tokens
    )
    assert_allclose(tokens, today.optimal.tokens, rtol=1e-10)
    assert_allclose(params, today.optimal.params, rtol=1e-10)


@pytest.mark.parametrize("factor", [1.0, 1.0 + 1e-9, 2.0, 1e3])
def test_cap_at_or_above_the_recommended_tokens_changes_nothing(factor):
    loss, demand = np.array([1.9, 2.0, 2.1, 2.5]), np.array([0.0, 1e10, 1e12, 1e15])
    today = compute_optimal(loss, demand)
    capped_plan = compute_optimal(loss, demand, unique_tokens=today.optimal.tokens * factor)
    for side in ("optimal", "chinchilla"):
        for field in ("params", "tokens", "total"):
            assert_allclose(
                getattr(getattr(capped_plan, side), field),
                getattr(getattr(today, side), field),
                rtol=1e-9,
            )
    assert_allclose(capped_plan.epochs, 1.0)
    dollars = cost_optimal(2.0, 1e9)
    assert_allclose(
        cost_optimal(2.0, 1e9, unique_tokens=dollars.optimal.tokens * factor).optimal.params,
        dollars.optimal.params,
        rtol=1e-9,
    )


def test_blank_unique_tokens_is_bitwise_today():
    for loss, demand in ((2.1, 1e12), ("2.0", "1e13"), (1.8, 0)):
        today = OPT_PARAMS(loss, demand)
        assert OPT_PARAMS(loss, demand, None, None) == today
        assert OPT_PARAMS(loss, demand, "", "") == today
        assert OPT_PARAMS(loss, demand, None, [[None]]) == today
    assert COST_OPT(2.1, 1e9, None, None, "h100", None, None) == COST_OPT(
        2.1, 1e9, None, None, "h100"
    )
    assert SCALING_LOSS(7e9, 1.4e12, None, "") == SCALING_LOSS(7e9, 1.4e12)
    plan = compute_optimal(2.05, 3e12)
    assert OPT_PARAMS(2.05, 3e12, None, "") == [[plan.optimal.params, plan.optimal.tokens]]


def test_capped_array_matches_loop_and_scalars_stay_scalars():
    loss = np.array([[2.2], [2.0]])
    demand = np.array([1e11, 1e13])
    unique = np.array([[3e10], [1e12]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RepetitionWarning)
        plan = cost_optimal(loss, demand, unique_tokens=unique)
        assert plan.optimal.params.shape == (2, 2)
        for i in range(2):
            for j in range(2):
                one = cost_optimal(
                    float(loss[i, 0]), float(demand[j]), unique_tokens=float(unique[i, 0])
                )
                assert isinstance(one.optimal.params, float)
                assert one.optimal.params == pytest.approx(plan.optimal.params[i, j], rel=1e-12)
                assert one.chinchilla.tokens == pytest.approx(
                    plan.chinchilla.tokens[i, j], rel=1e-12
                )


def test_cap_raises_cost_and_the_capped_chinchilla_side():
    loss = float(chinchilla_from_params(13e9).loss)
    free = cost_optimal(loss, 1e12 / 285)
    capped_plan = cost_optimal(loss, 1e12 / 285, unique_tokens=1e12)
    assert free.optimal.tokens > 1e12  # the cap binds...
    assert capped_plan.optimal.total > free.optimal.total  # ...and costs money
    assert capped_plan.optimal.total <= capped_plan.chinchilla.total
    assert capped_plan.epochs == pytest.approx(capped_plan.optimal.tokens / 1e12)


def test_warns_above_four_epochs_only():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RepetitionWarning)
        plan = compute_optimal(2.1, 1e12, unique_tokens=5e11)
        assert plan.epochs <= 4
    with pytest.warns(RepetitionWarning, match="more than 4 epochs"):
        plan = compute_optimal(2.1, 1e13, unique_tokens=3e10)
    assert plan.epochs > 4


def test_unreachable_loss_names_the_unique_tokens():
    floor = loss_floor(1e9)
    with pytest.raises(UnreachableLossError, match=r"unique_tokens=1e\+09") as error:
        compute_optimal(floor - 1e-3, 1e12, unique_tokens=1e9)
    assert error.value.argument == "unique_tokens"
    with pytest.raises(UnreachableLossError, match="unique_tokens=1e\\+09"):
        compute_optimal(floor, 1e12, unique_tokens=1e9)  # the floor itself is an infimum
    with pytest.warns(RepetitionWarning):
        plan = compute_optimal(
            [floor - 0.01, floor + 0.05], 1e12, unique_tokens=1e9, on_invalid="nan"
        )
    assert np.isnan(plan.optimal.params[0]) and np.isfinite(plan.optimal.params[1])
    assert list(plan.valid) == [False, True]
    assert OPT_PARAMS(floor - 1e-3, 1e12, None, 1e9).code == "#NUM!"


def test_invalid_elements_become_nan_and_the_rest_is_solved():
    plan = compute_optimal(
        [2.3, 2.3, 2.3, 2.3],
        [-1, 1e12, 1e12, 1e12],
        unique_tokens=[1e11, -1, math.nan, 1e11],
        on_invalid="nan",
    )
    assert list(plan.valid) == [False, False, False, True]
    alone = compute_optimal(2.3, 1e12, unique_tokens=1e11)
    assert plan.optimal.params[3] == pytest.approx(alone.optimal.params, rel=1e-12)
    assert np.isnan(plan.optimal.params[:3]).all() and np.isnan(plan.epochs[:3]).all()


@pytest.mark.parametrize("bad", [0, -1e12, math.inf, math.nan])
def test_bad_unique_tokens(bad):
    with pytest.raises(InvalidValueError, match="unique_tokens"):
        compute_optimal(2.1, 1e12, unique_tokens=bad)
    with pytest.raises(InvalidValueError, match="unique_tokens"):
        data_constrained_loss(7e9, 1e12, bad)
    for cell in (
        OPT_PARAMS(2.1, 1e12, None, bad),
        COST_OPT(2.1, 1e9, None, None, None, None, bad),
        SCALING_LOSS(7e9, 1e12, None, bad),
    ):
        assert cell.code == "#NUM!" and "unique_tokens=" in cell.message


def test_text_unique_tokens():
    for cell in (
        OPT_PARAMS(2.1, 1e12, None, "lots"),
        SCALING_LOSS(7e9, 1e12, None, "lots"),
        COST_OPT(2.1, 1e9, None, None, None, None, "lots"),
    ):
        assert cell.code == "#VALUE!" and "unique_tokens='lots' is text" in cell.message
    with pytest.raises(InvalidTypeError):
        compute_optimal(2.1, 1e12, unique_tokens="lots")


def test_non_convergence_is_loud(monkeypatch):
    monkeypatch.setattr(capped, "MAX_ITERATIONS", 2)
    with pytest.raises(ConvergenceError, match="did not converge in 2 iterations"):
        compute_optimal(2.1, 1e12, unique_tokens=1e11)
