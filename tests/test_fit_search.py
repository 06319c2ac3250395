"""The fit's search: the recorded set of generated problems against their exhaustive
optima, and the parts (Hessian, Newton polish, bounds, profile starts, fallback)."""

import json
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize, nnls

from xlplan.fit.law import fit_law
from xlplan.fit.lbfgs import BatchState, batch_lbfgs
from xlplan.fit.newton import newton_polish
from xlplan.fit.objective import objective_and_gradient, objective_gradient_hessian
from xlplan.fit.profile import EXPONENT_GRID, profile_starts
from xlplan.fit.runs import load_runs
from xlplan.fit.search import (
    EXPONENT_MAX,
    EXPONENT_MIN,
    exhaustive_search,
    hoffmann_grid,
    make_objective,
    search,
)
from xlplan.fit.synthetic import make_problem

DATA = Path(__file__).parent / "data"
SARDANA = DATA / "sardana_mpt_47runs.csv"


def _recorded():
    return json.loads((DATA / "fit_optima.json").read_text())


def _logs(runs):
    return np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)


def _checksum(runs):
    return float(
        np.log(runs.params).sum() + 2 * np.log(runs.tokens).sum() + 3 * np.log(runs.loss).sum()
    )


def test_recorded_set_is_large_and_spans_the_issue_ranges():
    problems = _recorded()["problems"]
    assert len(problems) >= 200
    sizes = [p["runs"] for p in problems]
    assert min(sizes) >= 8 and max(sizes) <= 300 and max(sizes) > 250 and min(sizes) < 20
    noise = [p["noise"] for p in problems]
    assert 1e-4 <= min(noise) < 2e-4 and 5e-3 < max(noise) <= 1e-2


def _check_recorded(args):
    """(index, failure or None) for one recorded problem; runs in a worker process."""
    record, seed, delta = args
    problem = make_problem(record["index"], seed)
    if _checksum(problem.runs) != pytest.approx(record["checksum"], rel=1e-13):
        return record["index"], "the generator no longer makes the recorded runs"
    fun = make_objective(problem.runs, delta)
    if fun(np.array(record["x"]))[0] != pytest.approx(record["objective"], rel=1e-12):
        return record["index"], "the objective at the recorded optimum changed"
    law = problem.law
    truth = fun(np.array([np.log(law.A), np.log(law.B), np.log(law.E), law.alpha, law.beta]))[0]
    result = search(fun, hoffmann_grid(), fun.profile_starts())
    best, x = result.values[0], result.ends[0]
    if best > min(record["objective"], truth) * (1 + 1e-9):
        return record["index"], (
            f"objective {best!r} above the exhaustive {record['objective']!r}"
            f" or the generating law's {truth!r}"
        )
    if not ((x >= fun.lower).all() and (x <= fun.upper).all()):
        return record["index"], f"end point {x} outside the box of valid laws"
    return record["index"], None


def test_fast_search_reaches_every_recorded_exhaustive_optimum(monkeypatch):
    # Each problem is regenerated from its seed and checked against its record
    # (the checksum of the runs, and the objective at the recorded optimum), so a
    # drift in the generator cannot pass as a match. Then the fast search must
    # reach the exhaustive optimum (every Hoffmann start run to convergence and
    # polished) to 1e-9, and never end above the law that generated the data.
    # Two worker processes (one BLAS thread each) halve the minute this takes.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    recorded = _recorded()
    jobs = [(r, recorded["seed"], recorded["delta"]) for r in recorded["problems"]]
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        failures = [(i, why) for i, why in pool.map(_check_recorded, jobs) if why]
    assert failures == []


def test_hessian_matches_central_differences_of_the_gradient():
    runs = load_runs(SARDANA)
    logs = _logs(runs)
    h = 1e-6
    # Points whose residuals are all far (> 1e-5) from the Huber kink |r| = delta,
    # where the second derivative jumps and differences would straddle it.
    for x in ([2.0, 3.5, -0.1, 0.13, 0.16], [2.67, 3.68, -0.014, 0.1307, 0.1569]):
        x = np.array(x)
        f, g, hess = objective_gradient_hessian(x, *logs, 1e-3)
        f2, g2 = objective_and_gradient(x, *logs, 1e-3)
        assert f == pytest.approx(f2, rel=1e-14) and np.allclose(g, g2, rtol=1e-13, atol=0)
        numeric = np.array(
            [
                (
                    objective_and_gradient(x + h * e, *logs, 1e-3)[1]
                    - objective_and_gradient(x - h * e, *logs, 1e-3)[1]
                )
                / (2 * h)
                for e in np.eye(5)
            ]
        )
        assert_allclose(hess, numeric, rtol=1e-5, atol=1e-8 * np.abs(hess).max())
        assert_allclose(hess, hess.T, rtol=1e-14, atol=1e-17)


def test_newton_polish_reaches_scipy_tight_minimum_from_an_lbfgs_end():
    runs = load_runs(SARDANA)
    runs = runs.subset(runs.tokens_per_param <= 100)  # the flat valley of Table 1
    fun = make_objective(runs, 1e-3)
    start = np.array([2.0, 3.3, -1.9, 0.08, 0.13])
    reference = minimize(
        lambda x: fun(x),
        start,
        jac=True,
        method="L-BFGS-B",
        options={"ftol": 1e-15, "gtol": 1e-12, "maxiter": 50000, "maxfun": 100000},
    )
    x, f, steps = newton_polish(fun.fgh, start, fun.lower, fun.upper)
    assert f <= reference.fun * (1 + 1e-12)
    # At the floor: the Newton step from x predicts a decrease below the rounding of f.
    _, g, hess = fun.fgh(x)
    assert g @ np.linalg.solve(hess, g) < 1e-15 * f
    assert steps < 100


def test_newton_polish_keeps_to_the_box_and_never_worsens():
    runs = make_problem(0).runs
    fun = make_objective(runs, 1e-3)
    rng = np.random.default_rng(5)
    for _ in range(20):
        start = np.r_[rng.uniform(-5, 20, 3), rng.uniform(-1, 7, 2)]
        x, f, _ = newton_polish(fun.fgh, start, fun.lower, fun.upper)
        clipped = np.clip(start, fun.lower, fun.upper)
        assert f <= fun(clipped)[0]
        assert (x >= fun.lower).all() and (x <= fun.upper).all()


def test_batched_lbfgs_with_bounds_stays_in_the_box_and_matches_scipy_bounded():
    runs = make_problem(3).runs
    fun = make_objective(runs, 1e-3)
    starts = hoffmann_grid()[::450]  # alpha = 0 starts begin outside the box
    state = BatchState.start(fun, starts, fun.lower, fun.upper)
    batch_lbfgs(fun, state, 3000, 1e-12, 1e-12)
    assert (state.x >= fun.lower).all() and (state.x <= fun.upper).all()
    box = list(zip(np.maximum(fun.lower, -1e300), np.minimum(fun.upper, 1e300), strict=True))
    scipy_best = min(
        minimize(
            lambda x: fun(x),
            np.clip(s, fun.lower, fun.upper),
            jac=True,
            method="L-BFGS-B",
            bounds=box,
        ).fun
        for s in starts
    )
    assert state.f.min() <= scipy_best * (1 + 1e-6)


def test_profile_starts_are_the_nonnegative_least_squares_fit_per_exponent_pair():
    runs = make_problem(7).runs
    logs = _logs(runs)
    floor = np.full(3, -60.0)
    starts = profile_starts(*logs, floor)
    assert starts.shape == (len(EXPONENT_GRID) ** 2, 5)
    rng = np.random.default_rng(2)
    for row in rng.choice(len(starts), 25, replace=False):
        alpha, beta = starts[row, 3:]
        matrix = (
            np.column_stack([np.ones(len(runs)), runs.params**-alpha, runs.tokens**-beta])
            / runs.loss[:, None]
        )
        coef, _ = nnls(matrix, np.ones(len(runs)))
        cost = np.sum((matrix @ coef - 1) ** 2)
        ours = np.exp(starts[row, [2, 0, 1]])
        ours[starts[row, [2, 0, 1]] <= floor] = 0.0
        assert np.sum((matrix @ ours - 1) ** 2) <= cost * (1 + 1e-9) + 1e-20


def test_unconfirmed_optimum_falls_back_to_every_start():
    # No number of polished ends can meet an impossible confirmation count, so the
    # search must run every start to convergence, never stop on an unconfirmed best.
    runs = make_problem(1).runs
    fun = make_objective(runs, 1e-3)
    starts = hoffmann_grid()[::15]
    result = search(fun, starts, confirmations=10**6, revive=False)
    assert result.exhaustive and result.n_run == len(starts)
    assert result.values[0] <= exhaustive_search(fun, starts).values[0] * (1 + 1e-9)


def test_exponent_box_is_the_documented_valid_range():
    assert (EXPONENT_MIN, EXPONENT_MAX) == (0.01, 5.0)
    fit = fit_law(make_problem(0).runs)
    assert EXPONENT_MIN <= fit.law.alpha <= EXPONENT_MAX
    assert EXPONENT_MIN <= fit.law.beta <= EXPONENT_MAX


def test_objective_in_blocks_equals_one_pass_and_survives_pickling():
    import pickle

    runs = load_runs(SARDANA)
    logs = _logs(runs)
    weights = np.arange(1.0, 4.0)[:, None] * np.ones(len(runs.loss))  # 3 bootstrap draws
    fun = make_objective(runs, 1e-3, weights=weights)
    rng = np.random.default_rng(7)
    x = hoffmann_grid()[:3000] + rng.normal(0.0, 0.01, (3000, 5))  # > one block: threads
    ids = rng.integers(0, 3, len(x))
    f, g = fun(x, ids)
    one_f, one_g = objective_and_gradient(x, *logs, 1e-3, weights[ids])
    assert_allclose(f, one_f, rtol=1e-15, atol=0)
    assert_allclose(g, one_g, rtol=1e-15, atol=0)
    again = pickle.loads(pickle.dumps(fun))  # a closure could not cross to a process pool
    assert np.array_equal(again(x, ids)[0], f)
    point = np.array([2.0, 3.5, -0.1, 0.13, 0.16])
    assert_allclose(
        fun.fgh(point)[2], objective_gradient_hessian(point, *logs, 1e-3)[2], rtol=1e-15, atol=0
    )
    assert np.all(fun.lower[3:] == EXPONENT_MIN) and np.all(fun.upper[3:] == EXPONENT_MAX)
