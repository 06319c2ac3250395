"""Seeded fuzzing of every registered Excel function through a real ``xlplan serve``.

Thousands of calls with extreme and malformed values (400-digit integers, 1E400,
denormals, text, booleans, blanks, wrong shapes, law exponents near 0, hardware of
1E-300 or 1E308) go to the server in batches, a known-good call between every two
fuzzed ones. Every answer must be a result or an Excel error (never a 5xx), equal to
what the Python function gives in this process, and every known-good neighbour must
keep its exact value: a bad cell is an error alone. The functions are read from the
registry, so functions added later are fuzzed too.
"""

import json
import math
import random

import httpx
import pytest

from xlplan import udfs
from xlplan.engine.hardware import hardware_names
from xlplan.engine.laws import law_names
from xlplan.server.calls import outcome

from server_helpers import running_server

SEED = 20261123
CALLS_PER_FUNCTION = 400
BIG = 10**400  # JSON carries it as an integer; no float can hold it
SCALARS = [
    None,
    True,
    False,
    0,
    -0.0,
    -1,
    1,
    0.5,
    2.1,
    3,
    70,
    1e9,
    1e12,
    1e15,
    1e300,
    -1e300,
    1e308,
    5e-324,
    1e-300,
    BIG,
    -BIG,
    "",
    " ",
    "abc",
    "1e12",
    "2.1",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "Ω",
    "0x10",
    *law_names(),
    *hardware_names(),
]


def _number(rng):
    return rng.choice(
        [
            0,
            1e-300,
            5e-324,
            1e-3,
            0.01,
            0.1,
            0.3,
            1,
            1.69,
            400,
            1e12,
            1e300,
            1e308,
            -1,
            BIG,
            "1e400",
            "abc",
            None,
            True,
        ]
    )


def _matrix(rng):
    """An argument: a cell, a law-like 1x5 row, a hardware-like 1x7 row or junk shapes."""
    kind = rng.random()
    if kind < 0.55:
        return [[rng.choice(SCALARS)]]
    if kind < 0.7:  # a law: A, B, E, alpha, beta; exponents near 0 overflow powers
        law = [406.4, 410.7, 1.69, 0.34, 0.28]
        law[rng.randrange(5)] = _number(rng)
        law[rng.choice([3, 4])] = rng.choice([0.34, 0.01, 0.001, 1e-300, 50, 0.28])
        return [law]
    if kind < 0.85:  # hardware: 7 settings
        return [
            [
                _number(rng) if rng.random() < 0.4 else v
                for v in (2.0, 3.12e14, 0.4, 2.0, 3.12e14, 0.5, 0.1)
            ]
        ]
    rows, cols = rng.choice([(1, 2), (2, 1), (2, 2), (3, 5), (1, 0), (0, 0)])
    if rows and not cols:
        return [[]]
    return [[rng.choice(SCALARS) for _ in range(cols)] for _ in range(rows)]


def _runs(rng):
    """A FIT_COEFFS argument: junk, or a small table of runs with extreme values."""
    if rng.random() < 0.3:
        return _matrix(rng)
    rows = [["params", "tokens", "loss"]] if rng.random() < 0.5 else []
    for _ in range(rng.choice([0, 1, 4, 6])):
        rows.append(
            [
                _number(rng) if rng.random() < 0.3 else 1e8 * rng.randint(1, 99),
                _number(rng) if rng.random() < 0.3 else 1e9 * rng.randint(1, 99),
                _number(rng) if rng.random() < 0.3 else 2 + rng.random(),
            ]
        )
    return rows or [[]]


def fuzzed_calls(spec, rng, count):
    calls = []
    for _ in range(count):
        arity = rng.randint(spec.min_args, spec.max_args)
        args = [
            (_runs(rng) if p.range and spec.slow else _matrix(rng)) for p in spec.params[:arity]
        ]
        calls.append({"func_name": spec.name, "args": args})
    return calls


def _python_arguments(spec, call):
    """What the server hands the function (as in xlplan.server.calls.prepare)."""
    return [
        m if p.range or len(m) != 1 or len(m[0]) != 1 else m[0][0]
        for p, m in zip(spec.params, call["args"], strict=False)
    ]


def expected(call):
    spec = udfs.FUNCTIONS[call["func_name"]]
    status, body = outcome(spec.func(*_python_arguments(spec, call)), spec.name)
    return {"status": status, **body}


GOOD = {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]}


def _post(base, calls):
    """One batch, each fuzzed call followed by a known-good one; the fuzzed answers."""
    interleaved = [c for call in calls for c in (call, GOOD)]
    body = json.dumps({"calls": interleaved}, allow_nan=False)  # 400-digit ints as they are
    response = httpx.post(
        f"{base}/batch", content=body, timeout=300, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text[:500]
    results = response.json()["results"]
    good = {"status": 200, "result": udfs.OPT_PARAMS(2.1, 1e12)}
    assert results[1::2] == [good] * len(calls), "a bad cell spoiled its neighbour"
    return results[0::2]


def _widths(spec, result):
    """The row widths a function may answer with: most have one; a few vary."""
    if spec.name == "REGRET_TABLE":  # k x (k + 1)
        return {len(result) + 1}
    if spec.name == "XLPLAN_HARDWARE":  # seven settings, or ten with all=TRUE,
        return {7, 9, 10, 12}  # and two more board-power columns with power=TRUE
    return {max(1, len(spec.result))}


def _is_excel_answer(answer, spec):
    if answer["status"] == 200:
        values = [v for row in answer["result"] for v in row]
        return all(isinstance(v, float) and math.isfinite(v) for v in values) and len(
            answer["result"][0]
        ) in _widths(spec, answer["result"])
    # BREAKEVEN_REQUESTS answers #N/A when the API is cheaper at every volume.
    codes = ("#NUM!", "#VALUE!") + (("#N/A",) if spec.name == "BREAKEVEN_REQUESTS" else ())
    return answer["status"] == 400 and answer["error"]["code"] in codes


@pytest.fixture(scope="module")
def server():
    with running_server() as base:
        yield base


@pytest.mark.parametrize("name", [n for n, s in udfs.FUNCTIONS.items() if not s.slow])
def test_fuzzed_calls_give_a_result_or_a_cell_error(server, name):
    spec = udfs.FUNCTIONS[name]
    rng = random.Random(f"{SEED}-{name}")
    calls = fuzzed_calls(spec, rng, CALLS_PER_FUNCTION)
    answers = _post(server, calls)
    for call, answer in zip(calls, answers, strict=True):
        assert _is_excel_answer(answer, spec), (call, answer)
        assert answer == expected(call), call
    codes = {a["error"]["code"] if a["status"] != 200 else "ok" for a in answers}
    assert "#VALUE!" in codes and ({"ok", "#NUM!"} & codes), codes  # both kinds exercised


@pytest.mark.parametrize("name", [n for n, s in udfs.FUNCTIONS.items() if s.slow])
def test_fuzzed_slow_calls_give_a_result_or_a_cell_error(server, name):
    spec = udfs.FUNCTIONS[name]
    rng = random.Random(f"{SEED}-{name}")
    calls = fuzzed_calls(spec, rng, 48)
    for start in range(0, len(calls), 16):  # within the queue the workers keep
        for call, answer in zip(
            calls[start : start + 16], _post(server, calls[start : start + 16]), strict=True
        ):
            assert _is_excel_answer(answer, spec), (call, answer)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"calls": [{"func_name": "OPT_PARAMS", "args": [[[' + b"9" * 5000 + b"]], [[1e12]]]}]}",
        b'{"calls": [{"func_name": "OPT_PARAMS", "args": [[[1e999999]], [[-1e999999]]]}]}',
        b'{"calls": [{"func_name": "OPT_PARAMS", "args": [[[NaN]], [[Infinity]]]}]}',
        b'{"calls": [{"func_name": "OPT_PARAMS", "args": [[2.1], [1e12]]}]}',
        b'{"calls": [{"func_name": "OPT_PARAMS", "args": [[[{"a": 1}]]]}]}',
        b'{"calls": [{"func_name": 7}]}',
        b'{"calls": {}}',
        b"[]",
        b'"x"',
        b"\xff\xfe",
        b'{"calls": [' + b"[" * 10000 + b"]" * 10000 + b"]}",
    ],
    ids=[
        "400-digit",
        "1e999999",
        "NaN",
        "2-D args",
        "object cell",
        "name 7",
        "calls {}",
        "list",
        "string",
        "not UTF-8",
        "10000 deep",
    ],
)
def test_malformed_batches_never_get_a_5xx(server, raw):
    response = httpx.post(
        f"{server}/batch", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 200:
        (answer,) = response.json()["results"]
        assert answer["status"] == 400 and answer["error"]["code"] == "#NUM!"
