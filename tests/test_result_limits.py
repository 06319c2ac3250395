"""Answers bounded before computing (issue 22, Server item 1): every Excel function
declares the shape of its answer, every route (Python, xlwings, Lite, the server and
its workers) refuses an answer over the limit with a #VALUE! naming it, before any
work is done."""

import json
import pickle
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import xlplan.lite
from xlplan import udfs
from xlplan.engine.money import regret
from xlplan.excel import limits
from xlplan.excel.cell_error import CellError
from xlplan.excel.registry import FUNCTIONS
from xlplan.fit.runs import load_runs

_RUNS = load_runs(Path(__file__).parent / "data" / "sardana_mpt_47runs.csv")
RUNS = np.column_stack([_RUNS.params, _RUNS.tokens, _RUNS.loss]).tolist()

# One valid value per argument name, so that every function answers a result.
SAMPLES = {
    "params": 7e9,
    "tokens": 2e12,
    "loss": 2.1,
    "inf_tokens": 1e13,
    "requests": 1e9,
    "name": "chinchilla",
    "size_fraction": 0.5,
    "runs": RUNS,
    "requests_scenarios": [[1e8, 1e9, 1e10, 1e11]],
    "resamples": 10,
    "seed": 1,
    "level": 0.8,
    "first_month_requests": 1e6,
    "monthly_growth": 0.1,
    "months": 24,
    "requests_by_month": [[1e6] * 36],
    "total_flops": 1e24,
    "dollars": 1e7,
    "gpu_hours": 1e5,
    "power_watts": 700,
    "requests_per_month": 1e8,
    "api_input_price": 0.5,
    "api_output_price": 1.5,
    "hardware": None,
    "model": "llama-3-8b",
    "context": 4096,
    "tpot_target": 0.05,
    "gpus": 8,
    "days": 30,
    "deadline_days": 1200,
}
SAMPLES_BY_FUNCTION = {
    ("XLPLAN_HARDWARE", "name"): "h100",
    ("XLPLAN_HARDWARE", "all"): True,
    ("SERVING", "hardware"): "h100",
    ("GPUS_NEEDED", "hardware"): "h100",
    ("BREAKEVEN_REQUESTS", "hardware"): "h100",
}


def _sample_args(spec):
    return tuple(
        SAMPLES_BY_FUNCTION.get((spec.name, p.name), SAMPLES.get(p.name)) for p in spec.params
    )


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_function_declares_its_answers_shape(name):
    """The declared shape is the shape of the answer (an upper bound for XLPLAN_HARDWARE,
    which answers 7 or 10 cells)."""
    spec = FUNCTIONS[name]
    args = _sample_args(spec)
    value = spec.func(*args)
    assert not isinstance(value, CellError), value
    rows, columns = limits.shape(value)
    estimated = spec.result_shape(args)
    assert rows * columns <= estimated[0] * estimated[1]
    if name != "XLPLAN_HARDWARE":
        assert (rows, columns) == estimated, (name, value)


@pytest.mark.parametrize(
    "name, args, shape",
    [
        ("REGRET_TABLE", (2.1, [[1e9 * (i + 1) for i in range(7)]]), (7, 8)),
        ("REGRET_TABLE", (2.1, [[1e9 * (i + 1)] for i in range(12)]), (12, 13)),
        ("DEMAND_RAMP", (1e6, 0.1, 1200), (1200, 1)),
        ("DEMAND_RAMP", (1e6, 0.1, "30", 1e7), (30, 1)),
        ("CASHFLOW", (7e9, 2e12, [[1e6]] * 1200), (1201, 6)),
        ("CASHFLOW", (7e9, 2e12, [[1e6] * 5]), (6, 6)),
        ("CASHFLOW", (7e9, 2e12, [[1e6] * 5], None, None, None, None, "h100", 8), (6 + 9, 6)),
        ("CASHFLOW", (7e9, 2e12, [[1e6] * 5], None, None, None, None, [["h100"]], "512"), (7, 6)),
        ("CASHFLOW", (7e9, 2e12, [[1e6] * 5], 0.1, None, None, None, None, 512, 100), (10, 6)),
        ("CASHFLOW", (7e9, 2e12, [[1e6] * 5], 0.1, None, None, None, None, None, 100), (10, 6)),
    ],
)
def test_growing_answers_are_estimated_exactly(name, args, shape):
    assert FUNCTIONS[name].result_shape(args) == shape
    assert limits.shape(FUNCTIONS[name].func(*args)) == shape


def test_the_largest_regret_table_under_the_limit_is_answered():
    k = 315  # 315 x 316 = 99,540 cells; 316 x 317 = 100,172
    table = udfs.REGRET_TABLE(2.1, [[1e8 * (i + 1) for i in range(k)]])
    assert limits.shape(table) == (315, 316)
    too_big = udfs.REGRET_TABLE(2.1, [[1e8 * (i + 1) for i in range(k + 1)]])
    assert too_big.code == "#VALUE!"
    assert "100,172 cells (316 x 317), more than the limit of 100,000" in too_big.message


def test_an_answer_over_the_limit_is_refused_before_anything_is_computed(monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the engine was called")

    monkeypatch.setattr(regret, "regret_table", never)
    started = time.perf_counter()
    error = udfs.REGRET_TABLE(2.1, [[1e9 * (i + 1) for i in range(4000)]])
    assert time.perf_counter() - started < 5  # a bound on a refusal that takes ~ms
    assert error.code == "#VALUE!"
    assert error.message.startswith(
        "REGRET_TABLE: the result would be 16,004,000 cells "
        "(4000 x 4001), more than the limit of 100,000 cells"
    )


def test_a_route_may_set_its_own_limit_for_the_calls_it_makes():
    scenarios = [[1e9, 1e10, 1e11]]  # 3 x 4 = 12 cells
    with limits.result_limit(11):
        error = udfs.REGRET_TABLE(2.1, scenarios)
        assert "more than the limit of 11 cells" in error.message
        assert limits.shape(udfs.XLPLAN_LAW("chinchilla")) == (1, 5)  # fits
    assert limits.shape(udfs.REGRET_TABLE(2.1, scenarios)) == (3, 4)
    assert limits.current_limit() == limits.MAX_RESULT_CELLS


def test_an_estimate_that_falls_short_is_still_caught_after_computing(monkeypatch):
    """The bound holds even if an estimator is wrong: a growing answer is checked too."""
    spec = FUNCTIONS["REGRET_TABLE"]
    monkeypatch.setitem(limits.ESTIMATORS, "REGRET_TABLE", lambda a: (1, 1))
    wrong = limits.ResultBound("REGRET_TABLE", [p.name for p in spec.params], spec.result)
    args = (2.1, [[1e9, 1e10, 1e11]])
    with limits.result_limit(5):
        assert wrong.refusal(args) is None  # fooled before computing
        error = wrong.checked(spec.func.__wrapped__(*args))
    assert error.code == "#VALUE!" and "12 cells (3 x 4)" in error.message


def test_a_fixed_shape_answer_is_checked_against_the_limit_too():
    with limits.result_limit(4):
        error = udfs.XLPLAN_LAW("chinchilla")
    assert "5 cells (1 x 5), more than the limit of 4" in error.message


def test_malformed_arguments_get_the_functions_own_error():
    """An estimator never raises: a shape it cannot read leaves the error to the function."""
    for args in [(2.1, object()), (2.1, None), (2.1, "abc"), (2.1, [[None]])]:
        value = udfs.REGRET_TABLE(*args)
        assert isinstance(value, CellError) and "limit" not in value.message
    assert "months" in udfs.DEMAND_RAMP(1e6, 0.1, "many").message


def test_lite_raises_the_limit_error():
    with pytest.raises(xlplan.lite.ExcelFunctionError) as raised:
        xlplan.lite.REGRET_TABLE(2.1, [[1e9 * (i + 1) for i in range(400)]])
    assert str(raised.value).startswith("#VALUE! REGRET_TABLE: the result would be 160,400")


def _message(stream, message):
    body = pickle.dumps(message)
    stream.write(struct.pack(">I", len(body)) + body)
    stream.flush()


def _answer(stream):
    size = struct.unpack(">I", stream.read(4))[0]
    return pickle.loads(stream.read(size))


def test_the_worker_process_applies_the_servers_limit():
    worker = subprocess.Popen(
        [sys.executable, "-m", "xlplan.server.worker", "--max-result-cells", "4"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert _answer(worker.stdout) == "ready"
        _message(worker.stdin, ("FIT_COEFFS", (RUNS, None, None)))
        error = _answer(worker.stdout)
        assert (
            error.code == "#VALUE!" and "5 cells (1 x 5), more than the limit of 4" in error.message
        )
    finally:
        worker.stdin.close()
        assert worker.wait(timeout=60) == 0  # stdin closed: it ends


def test_the_cell_limit_bounds_the_bytes_of_an_answer():
    """A cell is a finite float: its JSON is at most BYTES_PER_CELL bytes with its comma."""
    longest = max(
        len(json.dumps(v))
        for v in (
            -2.2250738585072014e-308,
            -1.7976931348623157e308,
            -5e-324,
            -1.2345678901234567e-100,
        )
    )
    assert longest + 1 <= limits.BYTES_PER_CELL
    table = udfs.REGRET_TABLE(2.1, [[1e8 * (i + 1) for i in range(315)]])
    text = json.dumps({"result": table}, separators=(",", ":"))
    assert len(text) <= 315 * 316 * limits.BYTES_PER_CELL + 3 * 315 + 20


def test_the_module_default_may_be_changed(monkeypatch):
    monkeypatch.setattr(limits, "MAX_RESULT_CELLS", 11)
    assert "more than the limit of 11" in udfs.REGRET_TABLE(2.1, [[1e9, 1e10, 1e11]]).message
    with limits.result_limit(12):  # a route's own limit wins
        assert limits.shape(udfs.REGRET_TABLE(2.1, [[1e9, 1e10, 1e11]])) == (3, 4)


def test_a_huge_count_gives_a_short_message():
    error = udfs.DEMAND_RAMP(1e6, 0.1, 1e300)
    assert error.code == "#VALUE!" and "more than the limit" in error.message
    assert len(error.message) < 250
