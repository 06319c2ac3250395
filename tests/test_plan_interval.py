"""PLAN_INTERVAL: bootstrap laws carried through to the compute-optimal plan."""

import logging
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import xlplan
from xlplan import udfs
from xlplan.engine.errors import InvalidTypeError, InvalidValueError, UnreachableLossError
from xlplan.excel import risk_functions
from xlplan.fit.bootstrap import bootstrap_law
from xlplan.fit.plan_interval import PlanIntervalWarning, plan_distribution, plan_interval
from xlplan.fit.runs import load_runs

from server_helpers import free_port, request

GADRE = Path(__file__).parent / "data" / "gadre_overtraining_104runs.csv"
INF_TOKENS = 1e13


def _exact_runs(law_name="chinchilla"):
    """Runs lying exactly on a known law (no noise): 6 sizes x 5 token multiples."""
    law = xlplan.get_law(law_name)
    N = np.repeat(np.geomspace(1e8, 1e10, 6), 5)
    D = N * np.tile([5, 20, 80, 300, 1000], 6)
    return np.column_stack([N, D, law.E + law.A / N**law.alpha + law.B / D**law.beta])


def _noisy_runs(count=80, noise=0.01, seed=3):
    rng = np.random.default_rng(seed)
    law = xlplan.get_law("chinchilla")
    N = np.exp(rng.uniform(np.log(1e8), np.log(1e10), count))
    D = N * np.exp(rng.uniform(np.log(5), np.log(1000), count))
    loss = (law.E + law.A / N**law.alpha + law.B / D**law.beta) * np.exp(
        rng.normal(0, noise, count)
    )
    return np.column_stack([N, D, loss])


def _gadre(dataset=None):
    frame = pd.read_csv(GADRE)
    frame = frame if dataset is None else frame[frame.dataset == dataset]
    return load_runs(frame, loss_col="loss_c4_val")


def _rows(runs):
    return [["params", "tokens", "loss"]] + np.column_stack(
        [runs.params, runs.tokens, runs.loss]
    ).tolist()


@pytest.mark.parametrize("law_name, loss", [("chinchilla", 2.0), ("epoch-2024", 2.3)])
def test_exact_runs_collapse_onto_the_point_plan(law_name, loss):
    result = plan_interval(_exact_runs(law_name), loss, INF_TOKENS, resamples=30, seed=1)
    truth = xlplan.compute_optimal(loss, INF_TOKENS, law_name).optimal
    assert_allclose(result.point, (truth.params, truth.tokens, truth.total), rtol=1e-6)
    for row in result.as_rows():
        assert_allclose(row, result.point, rtol=1e-6)
    width = (np.array(result.high) - np.array(result.low)) / np.array(result.point)
    assert np.all(width < 1e-6)
    assert result.n_excluded == 0 and result.message == ""


@pytest.mark.parametrize(
    "runs, loss",
    [
        (_noisy_runs(), 2.0),
        (_noisy_runs(40, 0.02, 7), 2.2),
        ("gadre c4_original", 2.5),
        ("gadre all", 2.0),
    ],
)
def test_noisy_runs_give_an_interval_around_the_point_plan(runs, loss):
    if isinstance(runs, str):
        runs = _gadre(None if runs.endswith("all") else runs.split()[1])
    result = plan_interval(runs, loss, INF_TOKENS, level=0.9, resamples=100, seed=0)
    low, median, high = map(np.array, result.as_rows())
    assert np.all(low <= result.point) and np.all(result.point <= high)
    assert np.all(low < median) and np.all(median < high)  # noise gives a real width
    assert np.all((high - low) / np.array(result.point) > 1e-3)


def test_the_distribution_is_each_bootstrap_law_sized_independently():
    runs = _noisy_runs()
    dist = plan_distribution(runs, 2.0, INF_TOKENS, resamples=40, seed=5)
    boot = bootstrap_law(runs, 40, seed=5)
    assert_allclose(dist.laws, boot.samples, rtol=0)  # the same resamples, in order
    for k in range(0, 40, 7):
        law = xlplan.ScalingLaw(*boot.samples[k])
        plan = xlplan.compute_optimal(2.0, INF_TOKENS, law).optimal
        assert_allclose(
            [dist.params[k], dist.tokens[k], dist.total_flops[k]],
            [plan.params, plan.tokens, plan.total],
            rtol=1e-13,
        )
        assert_allclose(
            dist.total_flops[k],
            xlplan.total_flops(plan.params, plan.tokens, INF_TOKENS),
            rtol=1e-13,
        )
    # the 90% interval leaves about 5% of the refits below its low end and 5% above its high
    interval = dist.interval(0.9)
    below = np.mean(dist.params < interval.low[0])
    above = np.mean(dist.params > interval.high[0])
    assert below <= 0.05 and above <= 0.05 and below + above >= 0.05
    assert interval.median[1] == np.median(dist.tokens)


def test_same_seed_same_answer_and_another_seed_another():
    runs = _noisy_runs()
    first = plan_interval(runs, 2.0, INF_TOKENS, resamples=20, seed=11)
    again = plan_interval(runs, 2.0, INF_TOKENS, resamples=20, seed=11)
    other = plan_interval(runs, 2.0, INF_TOKENS, resamples=20, seed=12)
    assert first == again
    assert first.as_rows() != other.as_rows()
    rows = _rows(load_runs(runs))
    risk_functions._interval.cache_clear()
    excel = udfs.PLAN_INTERVAL(rows, 2.0, INF_TOKENS, None, 20, 11)
    risk_functions._interval.cache_clear()
    assert udfs.PLAN_INTERVAL(rows, 2.0, INF_TOKENS, 0.9, 20, 11) == excel == first.as_rows()


def test_unreachable_resamples_are_counted_excluded_and_reported(caplog):
    runs = _gadre()  # all 104 runs: E = 1.738, some refits put E above 1.8
    with pytest.warns(PlanIntervalWarning) as record:
        dist = plan_distribution(runs, 1.8, INF_TOKENS, resamples=200, seed=0)
    unreachable = int(np.sum(dist.laws[:, 2] >= 1.8))
    assert 0 < unreachable <= 100
    assert dist.n_excluded == unreachable and np.all(dist.excluded == (dist.laws[:, 2] >= 1.8))
    assert np.all(np.isnan(dist.params[dist.excluded]))
    assert np.all(np.isfinite(dist.params[~dist.excluded]))
    assert f"{unreachable} of 200 bootstrap laws have E at or above loss=1.8" in str(
        record[0].message
    )
    with pytest.warns(PlanIntervalWarning, match=f"{unreachable} of 200"):
        result = plan_interval(runs, 1.8, INF_TOKENS, seed=0)
    assert (result.n_excluded, result.n_used) == (unreachable, 200 - unreachable)
    kept = dist.params[~dist.excluded]
    assert_allclose(result.low[0], np.percentile(kept, 5), rtol=1e-12)
    risk_functions._interval.cache_clear()
    with caplog.at_level(logging.WARNING, logger="xlplan.excel"):
        cells = udfs.PLAN_INTERVAL(_rows(runs), 1.8, INF_TOKENS)
    assert cells == result.as_rows()
    assert any(f"PLAN_INTERVAL: {unreachable} of 200" in r.getMessage() for r in caplog.records)


def test_more_than_half_excluded_is_an_error():
    runs = _gadre("rw_original")  # E = 1.701, but most refits put it higher
    with pytest.warns(PlanIntervalWarning):
        dist = plan_distribution(runs, 1.71, INF_TOKENS, resamples=200, seed=0)
    assert dist.n_excluded > 100
    with pytest.raises(InvalidValueError, match="more than half") as error:
        dist.interval()
    assert error.value.argument == "loss"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)
        with pytest.raises(InvalidValueError, match=f"{dist.n_excluded} of 200"):
            plan_interval(runs, 1.71, INF_TOKENS)
    value = udfs.PLAN_INTERVAL(_rows(runs), 1.71, INF_TOKENS)
    assert value.code == "#NUM!" and "more than half" in value.message


@pytest.mark.parametrize(
    "options, error, words",
    [
        ({"level": 0.0}, InvalidValueError, ["level=0", "(0, 1)"]),
        ({"level": 1.0}, InvalidValueError, ["level=1", "(0, 1)"]),
        ({"level": -0.5}, InvalidValueError, ["level=-0.5"]),
        ({"level": "high"}, InvalidTypeError, ["level='high'"]),
        ({"resamples": 9}, InvalidValueError, ["resamples=9", ">= 10"]),
        ({"resamples": 50.5}, InvalidTypeError, ["resamples=50.5", "whole number"]),
        ({"seed": -1}, InvalidValueError, ["seed=-1"]),
    ],
)
def test_bad_options_name_the_argument(options, error, words):
    with pytest.raises(error) as caught:
        plan_interval(_exact_runs(), 2.0, INF_TOKENS, **options)
    for word in words:
        assert word in str(caught.value)


def test_excel_errors():
    rows = _exact_runs().tolist()
    cases = [
        ((rows, 2.0, INF_TOKENS, 1.5), "#NUM!", "level=1.5"),
        ((rows, 2.0, INF_TOKENS, 0), "#NUM!", "level=0"),
        ((rows, 2.0, INF_TOKENS, None, 9), "#NUM!", "resamples=9"),
        ((rows, 2.0, INF_TOKENS, None, 10.5), "#VALUE!", "resamples=10.5"),
        ((rows, 2.0, "lots"), "#VALUE!", "inf_tokens='lots'"),
        ((rows, 2.0, -1.0), "#NUM!", "inf_tokens=-1"),
        ((rows, 1.6, INF_TOKENS), "#NUM!", "loss=1.6"),
        ((rows[:4], 2.0, INF_TOKENS), "#NUM!", "at least 5 runs"),
    ]
    for args, code, word in cases:
        value = udfs.PLAN_INTERVAL(*args)
        assert value.code == code and word in value.message, value
    with pytest.raises(UnreachableLossError):
        plan_interval(rows, 1.6, INF_TOKENS)


def test_plan_interval_is_a_slow_function_remembered_per_arguments():
    assert udfs.FUNCTIONS["PLAN_INTERVAL"].slow
    assert not udfs.FUNCTIONS["ROBUST_OPT"].slow and not udfs.FUNCTIONS["REGRET_TABLE"].slow
    rows = _exact_runs().tolist()
    risk_functions._interval.cache_clear()
    first = udfs.PLAN_INTERVAL(rows, 2.0, INF_TOKENS, None, 10)
    for _column in range(3):  # INDEX(PLAN_INTERVAL(...), r, c) in nine cells: one computation
        assert udfs.PLAN_INTERVAL(rows, 2.0, INF_TOKENS, None, 10) == first
    info = risk_functions._interval.cache_info()
    assert (info.misses, info.hits) == (1, 3)


def test_in_the_server_worker_with_the_exclusion_in_its_log(tmp_path):
    rows = _rows(_gadre())
    log = tmp_path / "serve.log"
    port = free_port()
    with open(log, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "xlplan", "serve", "--port", str(port)],
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process)
        body = {
            "func_name": "PLAN_INTERVAL",
            "args": [rows, [[1.8]], [[INF_TOKENS]], [[None]], [[None]], [[0]]],
        }
        status, answer = request(f"{base}/call", body, timeout=120)
    finally:
        process.terminate()
        process.wait(timeout=20)
    risk_functions._interval.cache_clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PlanIntervalWarning)
        expected = udfs.PLAN_INTERVAL(rows, 1.8, INF_TOKENS)
    assert status == 200 and answer["result"] == expected
    assert "PLAN_INTERVAL: " in log.read_text() and " of 200 bootstrap laws" in log.read_text()


def _wait_for(base, process):
    for _ in range(300):  # up to 30 s for the server to start
        if process.poll() is not None:
            raise RuntimeError("xlplan serve exited early")
        try:
            if request(f"{base}/health", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("xlplan serve did not answer within 30 s")
