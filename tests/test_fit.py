"""Fitting the law (Eq. 4): recovery, real data recorded to the digit, the exhaustive
grid, gradients, warnings, bootstrap, bad input, and the ``xlplan fit`` command."""

import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize

from xlplan.cli import main
from xlplan.engine.errors import InvalidTypeError, InvalidValueError
from xlplan.engine.laws import LAW_PRESETS, get_law
from xlplan.fit.bootstrap import bootstrap_law
from xlplan.fit.law import fit_law, hoffmann_grid
from xlplan.fit.objective import objective_and_gradient
from xlplan.fit.runs import load_runs
from xlplan.fit.search import exhaustive_search, make_objective
from xlplan.lawfile import load_law_file

DATA = Path(__file__).parent / "data"
GADRE = DATA / "gadre_overtraining_104runs.csv"
SARDANA = DATA / "sardana_mpt_47runs.csv"
COEFFS = ("A", "B", "E", "alpha", "beta")


def _gadre_c4():
    frame = pd.read_csv(GADRE)
    return load_runs(frame[frame.dataset == "c4_original"], loss_col="loss_c4_val")


def _synthetic(law, noise=0.0, seed=0):
    n = np.repeat([5e7, 1.5e8, 5e8, 1.5e9, 5e9], 4)
    d = n * np.tile([5.0, 20.0, 80.0, 320.0], 5)
    loss = law.E + law.A / n**law.alpha + law.B / d**law.beta
    loss = loss * np.exp(np.random.default_rng(seed).normal(0.0, noise, loss.shape))
    return np.column_stack([n, d, loss])


def _plain_objective(x, table, delta):
    """Eq. 4 written out run by run with math, independent of the vectorised code."""
    a, b, e, alpha, beta = x
    total = 0.0
    for n, d, loss in table:
        terms = [a - alpha * math.log(n), b - beta * math.log(d), e]
        top = max(terms)
        r = top + math.log(sum(math.exp(t - top) for t in terms)) - math.log(loss)
        total += 0.5 * r * r if abs(r) <= delta else delta * (abs(r) - 0.5 * delta)
    return total


def test_objective_matches_row_by_row_formula_single_and_batched():
    table = np.column_stack([_gadre_c4().params, _gadre_c4().tokens, _gadre_c4().loss])
    logs = [np.log(table[:, k]) for k in range(3)]
    points = np.array(
        [[5.0, 6.0, 0.5, 0.3, 0.3], [0.0, 25.0, -1.0, 2.0, 0.0], [4.8, 5.5, 0.48, 0.25, 0.26]]
    )
    f, _ = objective_and_gradient(points, *logs, 1e-3)
    expected = [_plain_objective(p, table, 1e-3) for p in points]
    assert_allclose(f, expected, rtol=1e-12)
    assert_allclose(objective_and_gradient(points[2], *logs, 1e-3)[0], expected[2], rtol=1e-12)


def test_analytic_gradient_matches_central_differences():
    runs = _gadre_c4()
    logs = np.log(runs.params), np.log(runs.tokens), np.log(runs.loss)
    rng = np.random.default_rng(3)
    points = np.column_stack(
        [
            rng.uniform(2, 8, 6),
            rng.uniform(2, 8, 6),
            rng.uniform(-1, 1, 6),
            rng.uniform(0.1, 0.6, 6),
            rng.uniform(0.1, 0.6, 6),
        ]
    )
    _, grad = objective_and_gradient(points, *logs, 1e-3)
    h = 1e-6  # central differences: error ~h**2 * f''' plus rounding ~eps * f / h
    numeric = np.empty_like(points)
    for k in range(5):
        step = np.zeros(5)
        step[k] = h
        numeric[:, k] = (
            objective_and_gradient(points + step, *logs, 1e-3)[0]
            - objective_and_gradient(points - step, *logs, 1e-3)[0]
        ) / (2 * h)
    assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_recovers_known_coefficients_without_noise():
    law = LAW_PRESETS["chinchilla"]
    fit = fit_law(_synthetic(law))
    # Exact data: the optimum is the truth with objective 0, to rounding.
    assert_allclose(fit.law.as_tuple(), law.as_tuple(), rtol=1e-5)
    assert fit.objective < 1e-15
    assert_allclose(fit.residuals, 0.0, atol=1e-8)
    assert fit.warnings == ()


def test_recovers_known_coefficients_with_noise():
    law = LAW_PRESETS["epoch-2024"]
    fit = fit_law(_synthetic(law, noise=0.005, seed=1))
    # 0.5% noise on 20 runs: exponents to ~0.03, E to ~3%; A and B trade off
    # with the exponents (log A moves by log N * d alpha), so they are looser.
    assert abs(fit.law.alpha - law.alpha) < 0.03 and abs(fit.law.beta - law.beta) < 0.03
    assert_allclose(fit.law.E, law.E, rtol=0.03)
    assert_allclose([fit.law.A, fit.law.B], [law.A, law.B], rtol=0.5)
    assert fit.n_used == 20 and len(fit.residuals) == 20
    assert np.abs(fit.residuals).max() < 0.02  # about 4 sigma of the noise


# Gadre et al. 2024, dataset c4_original (34 runs), loss_c4_val: the fit as recorded
# on the machine this was written on. Deterministic code and a tight polish make it
# reproducible far beyond the digits shown; rtol 1e-7 leaves room only for BLAS rounding.
GADRE_C4_FIT = {
    "A": 122.55311736277999,
    "B": 242.6088873135281,
    "E": 1.6200235245687222,
    "alpha": 0.25257405659584126,
    "beta": 0.26222922563967477,
}
GADRE_C4_OBJECTIVE = 0.0005299541304503386


def test_gadre_fit_reproducible_to_the_digit():
    first, second = fit_law(_gadre_c4()), fit_law(_gadre_c4())
    assert first.law.as_tuple() == second.law.as_tuple()
    assert_allclose(first.law.as_tuple(), [GADRE_C4_FIT[k] for k in COEFFS], rtol=1e-7)
    assert_allclose(first.objective, GADRE_C4_OBJECTIVE, rtol=1e-9)
    assert (first.n_used, first.n_skipped, first.n_excluded) == (34, 0, 0)
    # 4,500 grid starts, 39 x 39 profile starts and restarts near the best; the best
    # optimum confirmed in round one, long before every start has run
    assert first.n_starts > 4500 + 39**2 and first.n_pruned > 5000
    assert first.n_confirmed >= 3 and not first.exhaustive
    assert first.warnings == ()
    assert get_law(first) is first.law  # the engine takes a fit result directly
    assert_allclose(
        first.law.loss(1e9, 2e10),
        1.62002352 + 122.553117 / 1e9**0.252574057 + 242.608887 / 2e10**0.262229226,
        rtol=1e-7,
    )


def _lean_objective(x, log_n, log_d, log_loss, delta=1e-3):
    """Eq. 4 and its gradient for one point, written separately from xlplan's batched code."""
    a, b, e, alpha, beta = x
    t1, t2 = a - alpha * log_n, b - beta * log_d
    top = np.maximum(np.maximum(t1, t2), e)
    w1, w2, w3 = np.exp(t1 - top), np.exp(t2 - top), np.exp(e - top)
    total = w1 + w2 + w3
    r = top + np.log(total) - log_loss
    psi = np.clip(r, -delta, delta)
    q = psi / total
    p1, p2 = q * w1, q * w2
    return psi @ (r - 0.5 * psi), np.array(
        [p1.sum(), p2.sum(), q @ w3, -(p1 @ log_n), -(p2 @ log_d)]
    )


def _exhaustive_chunk(args):
    starts, logs, options, restarts = args
    out = []
    for x in starts:
        f = math.inf
        for _ in range(restarts):  # fresh L-BFGS memory while it still gains
            res = minimize(
                _lean_objective, x, args=logs, jac=True, method="L-BFGS-B", options=options
            )
            if not res.fun < f * (1 - 1e-13):
                f = min(f, float(res.fun))
                break
            f, x = float(res.fun), res.x
        out.append((f, x))
    return out


@pytest.mark.parametrize("data, cut", [("gadre", None), ("sardana", 100)])
def test_same_best_optimum_as_every_start_run_to_convergence(monkeypatch, data, cut):
    # Every one of the 4,500 grid starts through scipy's L-BFGS-B with analytic
    # gradients and its default convergence test (no pruning), on real data, split
    # over two processes for time; then the ten best end points are polished to a
    # tight tolerance (restarted while it gains) so the reference is not short of
    # the optimum. Worker processes are spawned with one BLAS thread each: scipy's
    # L-BFGS-B calls BLAS on tiny matrices, and OpenBLAS threads spinning in two
    # processes on two cores triple the run time.
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    runs = _gadre_c4() if data == "gadre" else load_runs(SARDANA)
    if cut is not None:
        runs = runs.subset(runs.tokens_per_param <= cut)
    logs = (np.log(runs.params), np.log(runs.tokens), np.log(runs.loss))
    chunks = np.array_split(hoffmann_grid(), 2)
    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        ends = [
            e
            for part in pool.map(_exhaustive_chunk, [(c, logs, {}, 1) for c in chunks])
            for e in part
        ]
    best = sorted(ends, key=lambda e: e[0])[:10]
    tight = {"ftol": 1e-15, "gtol": 1e-11, "maxiter": 20000}
    f_best, x_best = min(
        _exhaustive_chunk(([x for _, x in best], logs, tight, 20)), key=lambda e: e[0]
    )
    fit = fit_law(runs)
    assert fit.n_used == 34
    assert fit.objective <= f_best * (1 + 1e-12)
    if data == "gadre":
        # A well-identified fit: rtol 1e-4 is far below the 3-4 digits anyone
        # quotes and above the stopping noise of L-BFGS near a smooth minimum.
        assert_allclose(fit.x, x_best, rtol=1e-4, atol=1e-6)
    else:
        # Sardana <= 100 tokens/param is the hard case: keeping only the best start
        # after 0 or 1 steps ends at E -> 0. Its optimum lies in a valley so flat
        # (the fit is flagged as poorly identified, smallest Hessian eigenvalue 1e-7
        # of the largest) that L-BFGS-B stops along it wherever the CPU's rounding
        # leaves it: at E=0.164 on one machine, E=0.124 on another, 1e-6 above the
        # floor. So "same optimum" means: scipy's trust-region Newton method
        # (trust-exact, with the analytic Hessian checked against differences in
        # test_fit_search.py), continued from scipy's best end point, reaches
        # xlplan's point: objectives equal to 1e-12, coefficients within the
        # thresholds the rival-optimum warning uses for "very different" (0.1 in
        # log A, log B, log E; 0.01 in the exponents).
        fun = make_objective(runs, 1e-3)
        floor = minimize(
            lambda x: fun(x)[0],
            x_best,
            jac=lambda x: fun(x)[1],
            hess=lambda x: fun.fgh(x)[2],
            method="trust-exact",
            options={"gtol": 1e-14, "maxiter": 2000},
        )
        assert fit.objective <= floor.fun * (1 + 1e-12)
        assert fit.objective >= floor.fun * (1 - 1e-12)
        assert_allclose(fit.x[:3], floor.x[:3], atol=0.1)
        assert_allclose(fit.x[3:], floor.x[3:], atol=0.01)
        assert any("poorly identified" in w for w in fit.warnings)
        assert fit.objective < f_best  # strictly lower: recorded, not a tolerance


# Paper Table 1 as printed, and what this code gets from the same 47 runs
# ("Smoothed Loss"). Recorded honestly, not tuned: <= 500 matches the print in
# every printed digit but B's last (35.81 vs 35.80); <= 100 and <= 250 agree to
# ~1.5% in A and B and to the printed digit in the exponents, E differs by 0.017
# and 0.006; all runs: A +5.1%, B -4.2%, beta 0.232 vs 0.24.
TABLE1_PRINT = {
    100: (7.199, 25.97, 0.17, 0.08, 0.13),
    250: (14.23, 39.54, 0.98, 0.13, 0.16),
    500: (17.07, 35.80, 0.95, 0.13, 0.16),
    None: (33.66, 138.9, 1.45, 0.18, 0.24),
}
TABLE1_OURS = {
    100: (
        7.144466317473603,
        26.0003066515709,
        0.15314722440665965,
        0.07679033912049914,
        0.12574971844684538,
    ),
    250: (
        14.435298647492473,
        39.465327748103014,
        0.9861844827518987,
        0.13072283809440946,
        0.1569187882841349,
    ),
    500: (
        17.07213167765793,
        35.80926027671971,
        0.9457337158011987,
        0.13213004742045995,
        0.1577381951269012,
    ),
    None: (
        35.38824950740668,
        133.02014199263246,
        1.4629629783471008,
        0.1788380648447332,
        0.23160197634016472,
    ),
}
TABLE1_RUNS = {100: 34, 250: 39, 500: 43, None: 47}


@pytest.mark.parametrize("cut", [100, 250, 500, None])
def test_paper_table1_subsets(cut):
    fit = fit_law(SARDANA, max_tokens_per_param=cut)
    assert fit.n_used == TABLE1_RUNS[cut] and fit.n_excluded == 47 - TABLE1_RUNS[cut]
    # Recorded on one machine; another CPU's floating point moves where L-BFGS stops
    # by ~1e-6 relative (measured 4.5e-6 on all runs), and by ~3e-5 in the flat,
    # flagged valley of the <= 100 fit. Far below the printed digits either way.
    assert_allclose(fit.law.as_tuple(), TABLE1_OURS[cut], rtol=1e-4 if cut == 100 else 1e-5)
    ours, printed = np.array(fit.law.as_tuple()), np.array(TABLE1_PRINT[cut])
    assert_allclose(ours[:2], printed[:2], rtol=0.06)  # A, B: within 6% (worst: all runs)
    assert_allclose(ours[2], printed[2], atol=0.02)  # E, nats
    assert_allclose(ours[3:], printed[3:], atol=0.01)  # exponents: printed to 2 decimals


def test_poorly_identified_fit_is_flagged():
    fit = fit_law(SARDANA, max_tokens_per_param=100)  # the paper's E=0.17 fit
    assert any("E=0.153 nats is near 0" in w for w in fit.warnings)
    assert any("very different coefficients" in w and "within 1%" in w for w in fit.warnings)


def test_custom_grid_and_delta():
    data = _synthetic(LAW_PRESETS["chinchilla"])
    axes = {"a": [5.0], "b": [5.0], "e": [0.0], "alpha": [0.5], "beta": [0.5]}
    fit = fit_law(data, grid=axes, delta=1e-2, name="mine")
    assert fit.n_starts == 1 and fit.law.name == "mine" and fit.delta == 1e-2
    assert_allclose(fit.law.as_tuple(), LAW_PRESETS["chinchilla"].as_tuple(), rtol=1e-4)
    assert fit_law(data, grid=[[5.0, 5.0, 0.0, 0.5, 0.5]]).n_starts == 1


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"delta": 0.0},
            InvalidValueError,
            r"delta=0 is out of range: it must be a finite number > 0",
        ),
        ({"delta": "x"}, InvalidTypeError, r"delta='x' must be a number"),
        (
            {"max_tokens_per_param": -5},
            InvalidValueError,
            r"max_tokens_per_param=-5 is out of range",
        ),
        ({"max_tokens_per_param": 9}, InvalidValueError, r"leaves 0 of 47 runs: .* at least 5"),
        ({"max_tokens_per_param": "100"}, InvalidTypeError, r"must be a number"),
        ({"grid": np.zeros((3, 4))}, InvalidTypeError, r"grid must have shape \(starts, 5\)"),
        ({"grid": {"a": [1.0]}}, InvalidTypeError, r"grid is missing axes b, e, alpha, beta"),
        ({"grid": [[np.nan, 0, 0, 0, 0]]}, InvalidValueError, r"non-finite"),
    ],
)
def test_bad_fit_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        fit_law(SARDANA, **kwargs)


def test_fit_whose_irreducible_loss_runs_to_zero_is_the_best_valid_law():
    # The five runs at 10 tokens/param: unconstrained, E runs off to 0 (log E to
    # -inf) and beta past any plausible value. The search keeps to the box of
    # valid laws, so E stops at its floor (a term of 0 in double precision) and
    # beta at 5, and the answer is at least as good as every grid start run to
    # convergence inside the same box.
    runs = load_runs(SARDANA)
    runs = runs.subset(runs.tokens_per_param <= 12)
    fit = fit_law(runs)
    fun = make_objective(runs, 1e-3)
    assert abs(fit.law.E / (1e-18 * runs.loss.min()) - 1) < 1e-12
    assert fit.law.beta == 5.0 and 0.01 <= fit.law.alpha <= 5.0
    assert fit.objective <= exhaustive_search(fun, hoffmann_grid()).values[0] * (1 + 1e-9)
    assert any("E=2.82e-18 nats is near 0" in w for w in fit.warnings)
    assert any("beta=5 is at the edge of plausibility" in w for w in fit.warnings)


def test_bootstrap_is_seeded_and_brackets_the_fit():
    calls = []
    result = bootstrap_law(_gadre_c4(), 60, seed=4, progress=lambda d, t: calls.append((d, t)))
    again = bootstrap_law(_gadre_c4(), 60, seed=4)
    assert np.array_equal(result.samples, again.samples)
    assert calls[-1] == (60, 60) and len(calls) >= 2
    assert result.samples.shape == (60, 5) and result.law is result.fit.law
    for key in COEFFS:
        low, high = result.intervals[key]
        assert low < getattr(result.law, key) < high
    assert not np.array_equal(result.samples, bootstrap_law(_gadre_c4(), 60, seed=5).samples)
    with pytest.raises(InvalidValueError, match="n_resamples=1 is out of range"):
        bootstrap_law(_gadre_c4(), 1)
    with pytest.raises(InvalidTypeError, match="whole number"):
        bootstrap_law(_gadre_c4(), 2.5)


def test_cli_errors_name_the_command_options(capsys):
    assert main(["fit", str(GADRE)]) == 2  # several loss columns, none named plainly
    error = capsys.readouterr().err
    assert "pass --loss-col NAME" in error and "loss_c4_val" in error
    assert main(["fit", str(GADRE), "--loss-col", "nope"]) == 2
    assert "--loss-col 'nope' is not a column" in capsys.readouterr().err


def test_cli_fit_writes_a_law_file_other_commands_accept(tmp_path, capsys):
    frame = pd.read_csv(GADRE)
    runs_csv = tmp_path / "c4.csv"
    frame[frame.dataset == "c4_original"].to_csv(runs_csv, index=False)
    out = tmp_path / "fitted.json"
    assert main(["fit", str(runs_csv), "--loss-col", "loss_c4_val", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "alpha = 0.252574" in text and "34 used, 0 skipped" in text
    saved = json.loads(out.read_text())
    # The CSV round trip moves the L-BFGS end point by ~1e-7 relative (measured).
    assert_allclose([saved[k] for k in COEFFS], [GADRE_C4_FIT[k] for k in COEFFS], rtol=1e-6)
    law = load_law_file(str(out))
    assert law.name == "fitted"
    assert law.as_tuple() == tuple(saved[k] for k in COEFFS)  # the file round-trips exactly
    assert sorted(os.listdir(tmp_path)) == ["c4.csv", "fitted.json"]  # no temp file left
    # never overwrite the input
    assert main(["fit", str(runs_csv), "--loss-col", "loss_c4_val", "--output", str(runs_csv)]) == 2
    assert "refusing to overwrite the input" in capsys.readouterr().err
    assert main(["fit", str(runs_csv)]) == 2
    assert "no loss column" in capsys.readouterr().err


def test_cli_bootstrap_shows_progress_on_stderr(capsys):
    assert (
        main(
            [
                "fit",
                str(SARDANA),
                "--max-tokens-per-param",
                "500",
                "--bootstrap",
                "50",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "bootstrap [" in captured.err and "50/50" in captured.err
    assert "95% interval" in captured.out and "4 excluded as above 500" in captured.out


def test_law_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"A": 1, "B": 2}')
    with pytest.raises(InvalidTypeError, match="lacks E, alpha, beta"):
        load_law_file(str(bad))
    bad.write_text("not json")
    with pytest.raises(InvalidTypeError, match="not valid JSON"):
        load_law_file(str(bad))
    with pytest.raises(InvalidValueError, match=r"law file .*missing.json.* does not exist"):
        load_law_file(str(tmp_path / "missing.json"))
    # The engine never opens files: a path is an unknown preset whether or not it exists.
    with pytest.raises(InvalidTypeError, match="unknown law"):
        get_law(str(tmp_path / "missing.json"))
    with pytest.raises(InvalidTypeError, match="unknown law"):
        get_law(str(bad))


def test_cli_names_its_options_in_fit_errors(capsys):
    """Errors of the fitter's keyword arguments come back under the command's option names."""
    assert main(["fit", str(SARDANA), "--bootstrap", "1"]) == 2
    assert (
        "--bootstrap 1 is out of range: it must be a whole number >= 2" in capsys.readouterr().err
    )
    assert main(["fit", str(SARDANA), "--delta", "0"]) == 2
    assert "--delta 0 is out of range" in capsys.readouterr().err
    assert main(["fit", str(SARDANA), "--max-tokens-per-param", "9"]) == 2
    assert "--max-tokens-per-param 9 leaves 0 of 47 runs" in capsys.readouterr().err
