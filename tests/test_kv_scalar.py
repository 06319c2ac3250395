"""The float path of the KV-aware searches (one Excel cell) against their array path.

:mod:`xlplan.engine.deploy.kv_scalar` repeats the array path's grid, golden-section,
Illinois and Newton steps on floats; each scenario here is solved both ways (the array
path by passing the first argument as a one-element array) and must agree to 1e-12
(the path is built to agree bit for bit), with the same step counts, or fail with the
same error.
"""

import math

import numpy as np
import pytest

from xlplan import udfs
from xlplan.engine import args as engine_args
from xlplan.engine import hardware, roots, validate
from xlplan.engine.deploy import (
    kv_budget,
    kv_scalar,
    kv_schedule,
    kv_sizing,
    kvcache,
    serving,
    shape,
)
from xlplan.engine.money import schedule
from xlplan.engine.paper import sizing, solver

RTOL = 1e-12
LAWS = ["chinchilla", "epoch-2024", "sardana-all", "hoffmann-unrounded"]
HARDWARE = list(hardware.HARDWARE_PRESETS)


def _outcome(call):
    try:
        return call(), None
    except Exception as error:  # compared below: same type, same message
        return None, error


def _same(function, first, rest, fields, context):
    """``function(first, *rest)`` with ``first`` a float, then a one-element array.

    With context 0 the answer is the closed form's, whose float path counts its Halley
    steps its own way (its values agree): the step counts are compared with a cache only.
    """
    got, scalar_error = _outcome(lambda: function(first, *rest))
    want, array_error = _outcome(lambda: function(np.array([first]), *rest))
    if scalar_error or array_error:  # the gate words a float's error and an array's apart
        assert type(scalar_error) is type(array_error)
        assert scalar_error.argument == array_error.argument
        return None
    exact = 0
    for name, value in fields(got).items():
        if context == 0 and name == "iterations":
            continue
        expected = float(np.ravel(fields(want)[name])[0])
        assert type(value) in (float, int, bool), name
        if math.isnan(expected):
            assert math.isnan(value), name
        else:
            np.testing.assert_allclose(value, expected, rtol=RTOL, err_msg=f"{name} {first} {rest}")
        exact += value == expected or (math.isnan(value) and math.isnan(expected))
    return exact if context else None  # context 0: the closed form's float path


def _plan_fields(plan):
    fields = {"iterations": plan.iterations, "valid": plan.valid}
    for side in ("optimal", "chinchilla"):
        for k in ("params", "tokens", "loss", "training", "inference"):
            fields[f"{side}.{k}"] = getattr(getattr(plan, side), k)
    return fields


def _budget_fields(plan):
    fields = {"iterations": plan.iterations, "valid": plan.valid}
    for k in ("params", "tokens", "loss", "training", "inference"):
        fields[k] = getattr(plan.best, k)
    return fields


def _scenario(rng):
    """(requests, d_in, d_out, hardware, law, batch, context): ordinary and extreme."""
    requests = float(rng.choice([0.0, 1.0, 10 ** rng.uniform(3, 13), 10 ** rng.uniform(13, 20)]))
    d_in = float(rng.choice([0.0, 70.0, 10 ** rng.uniform(0, 5)]))
    d_out = float(rng.choice([1.0, 215.0, 10 ** rng.uniform(0, 4)]))
    context = float(rng.choice([0.0, 1.0, 512.0, 4096.0, 131072.0, 10 ** rng.uniform(0, 7)]))
    batch = int(rng.choice([1, 8, 64, 512]))
    return (
        requests,
        d_in,
        d_out,
        str(rng.choice(HARDWARE)),
        str(rng.choice(LAWS)),
        batch,
        context,
    )


def test_cost_optimal_float_path_equals_array_path(answered):
    rng = np.random.default_rng(11)
    exact = total = 0
    for _ in range(160):
        requests, d_in, d_out, hw, law, batch, context = _scenario(rng)
        loss = float(rng.choice([1.75, 1.9, 2.1, 2.6, 3.5]) + rng.uniform(0, 0.05))
        u = float(rng.choice([1.0, 0.6]))

        rest = (requests, d_in, d_out, hw, law, batch, context, u)
        same = _same(kv_sizing.kv_cost_optimal, loss, rest, _plan_fields, context)
        if same is not None:
            exact, total = exact + same, total + 12
    assert exact == total  # bit for bit, as built: a divergence shows here
    # The comparisons would pass if the float path always left: it must answer.
    assert answered["run"] > 80 and answered["answered"] >= 0.9 * answered["run"]


def test_present_value_float_path_equals_array_path(answered):
    rng = np.random.default_rng(12)
    for _ in range(60):
        requests, d_in, d_out, hw, law, batch, context = _scenario(rng)
        months = [requests * float(f) for f in rng.uniform(0.1, 1.0, int(rng.integers(1, 48)))]
        loss, rate, change = float(rng.uniform(1.9, 2.8)), float(rng.uniform(0, 0.3)), -0.2

        rest = (months, rate, change, d_in, d_out, hw, law, batch, context)
        _same(kv_schedule.kv_cost_optimal_pv, loss, rest, _plan_fields, context)
    assert answered["run"] > 20 and answered["answered"] >= 0.9 * answered["run"]


def test_budget_float_path_equals_array_path(answered):
    rng = np.random.default_rng(13)
    exact = total = 0
    for _ in range(140):
        requests, d_in, d_out, hw, law, batch, context = _scenario(rng)
        dollars = float(10 ** rng.uniform(2, 11))

        rest = (requests, d_in, d_out, hw, law, batch, context)
        same = _same(kv_budget.kv_best_for_budget, dollars, rest, _budget_fields, context)
        if same is not None:
            exact, total = exact + same, total + 7
    assert exact == total
    assert answered["run"] > 60 and answered["answered"] >= 0.9 * answered["run"]


@pytest.fixture
def answered(monkeypatch):
    """Counts of the float searches run and answered (not left to the array path)."""
    counts = {"run": 0, "answered": 0}

    def counted(search):
        def run(*args):
            counts["run"] += 1
            found = search(*args)
            counts["answered"] += found is not None
            return found

        return run

    monkeypatch.setattr(kv_scalar, "cost_search", counted(kv_scalar.cost_search))
    monkeypatch.setattr(kv_scalar, "budget_search", counted(kv_scalar.budget_search))
    return counts


def test_a_search_the_float_path_leaves_is_the_array_paths(monkeypatch):
    expected = kv_sizing.kv_cost_optimal(2.1, 1e9, hardware="h100", batch=8, context=4096.0)
    budget = kv_budget.kv_best_for_budget(1e6, 1e9, hardware="h100", batch=8, context=4096.0)
    monkeypatch.setattr(kv_scalar, "MAX_ITERATIONS", 3)  # golden section gives up
    monkeypatch.setattr(kv_sizing, "_search", _spy(kv_sizing._search))
    monkeypatch.setattr(kv_budget, "_search", _spy(kv_budget._search))
    assert kv_sizing.kv_cost_optimal(2.1, 1e9, hardware="h100", batch=8, context=4096.0) == (
        expected
    )
    assert kv_budget.kv_best_for_budget(1e6, 1e9, hardware="h100", batch=8, context=4096.0) == (
        budget
    )
    assert _spy.calls == 2


def _spy(function):
    def spied(*args):
        _spy.calls += 1
        return function(*args)

    return spied


_spy.calls = 0


class _NoNumpy:
    def __getattr__(self, name):
        raise AssertionError(f"numpy.{name} used on the scalar path")


@pytest.mark.parametrize(
    "call",
    [
        lambda: udfs.COST_OPT_KV(2.1, 1e9, 4096.0),
        lambda: udfs.BEST_FOR_BUDGET_KV(1e6, 1e9, 4096.0),
        lambda: udfs.BEST_FOR_BUDGET_KV(3e7, 1e12, 32768.0, 500.0, 500.0, "h200", 16),
        lambda: udfs.COST_OPT_PV_KV(2.1, [[1e8] * 12], 4096.0, 0.1, -0.25),
        lambda: udfs.COST_OPT_KV(1.9, 3e12, 131072.0, 2000.0, 500.0, "h100", 64, "epoch-2024"),
        lambda: kv_sizing.kv_cost_optimal(
            2.05, 3.51e9, hardware="paper-a100", batch=2, context=4096
        ),
    ],
)
def test_one_float_per_argument_uses_no_numpy_arrays(monkeypatch, call):
    # numpy's ufuncs on floats stay (kv_scalar binds them at import: numpy's exp and
    # power differ from math's in the last bit), and ScalingLaw.plain_loss on the budget's
    # grid; nothing else of numpy runs.
    expected = call()
    for module in (
        kv_sizing,
        kv_schedule,
        kv_budget,
        kv_scalar,
        kvcache,
        serving,
        shape,
        schedule,
        sizing,
        solver,
        validate,
        engine_args,
        hardware,
        roots,
    ):
        if hasattr(module, "np"):
            monkeypatch.setattr(module, "np", _NoNumpy())
    assert call() == expected


def test_cell_errors_are_unchanged():
    cell = udfs.COST_OPT_KV(1.5, 1e9, 4096.0)
    assert cell.code == "#NUM!" and "loss=1.5" in cell.message
    cell = udfs.BEST_FOR_BUDGET_KV(-1.0, 1e9, 4096.0)
    assert cell.code == "#NUM!" and "dollars=-1" in cell.message
    cell = udfs.COST_OPT_KV(2.1, 1e9, -1.0)
    assert cell.code == "#NUM!" and "context=-1" in cell.message


@pytest.mark.parametrize(
    "args",
    [
        (2.1, 1e300, 70.0, 215.0, "h100", None, 8, 4096.0),
        (2.1, 1e9, 70.0, 215.0, "h100", None, 8, 1e300),
        (1.69 + 1e-12, 1e9, 70.0, 215.0, "h100", None, 8, 4096.0),
        (1e6, 1e9, 70.0, 215.0, "paper-a100", None, 1, 4096.0),
        (2.1, 1e9, 0.0, 1e300, "a100-40gb", None, 1, 4096.0),
    ],
)
def test_extreme_cells_answer_or_fail_as_before(monkeypatch, args):
    # "Before": the same float call with the float path switched off (the array path).
    outcomes = [_outcome(lambda: kv_sizing.kv_cost_optimal(*args))]
    outcomes.append(_outcome(lambda: kv_budget.kv_best_for_budget(*args)))
    monkeypatch.setattr(kv_scalar, "cost_search", lambda *a: None)
    monkeypatch.setattr(kv_scalar, "budget_search", lambda *a: None)
    before = [_outcome(lambda: kv_sizing.kv_cost_optimal(*args))]
    before.append(_outcome(lambda: kv_budget.kv_best_for_budget(*args)))
    for (got, error), (want, error_before) in zip(outcomes, before, strict=True):
        assert type(error) is type(error_before) and str(error) == str(error_before)
        assert got == want or (got is not None and _nan_equal(got, want))


def _nan_equal(got, want):
    return repr(got) == repr(want)  # NaN fields: equal where their reprs are
