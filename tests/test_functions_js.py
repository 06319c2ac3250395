"""The served functions.js, run by Node in a stand-in for Excel, against a real server.

tests/js/excel_standin.mjs loads /functions.js with a CustomFunctions stand-in,
recalculates a list of cells as Excel does (all calls in one tick) and reports
what each cell would show; here that is compared with the plain Python calls of
:mod:`xlplan.udfs`. JSON carries floats exactly both ways, so values must be equal.
"""

import json
import math
import shutil
import socket
import subprocess
from itertools import product
from pathlib import Path

import numpy as np
import pytest

import xlplan
from xlplan import udfs
from xlplan.excel.registry import office_name
from xlplan.server.settings import WORKER_START_S, Settings

from server_helpers import request, running_server

NODE = shutil.which("node")
pytestmark = pytest.mark.skipif(
    NODE is None,
    reason="node is not installed: the served functions.js is tested by running it in Node",
)

STANDIN = Path(__file__).parent / "js" / "excel_standin.mjs"
TOKEN = "s3cret-token-for-tests"
# Seconds a stand-in run may take; a hang (a call never settled) fails the test instead.
RUN_TIMEOUT = 60
# Excel shows a cell error's message only for these codes; functions.js drops the rest.
SHOWS_MESSAGE = ("#VALUE!", "#N/A")


@pytest.fixture(scope="module")
def server():
    with running_server() as base:
        yield base


def _cells_file(tmp_path, cells):
    path = tmp_path / "cells.json"
    path.write_text(json.dumps(cells))
    return path


def run_standin(base, cells, tmp_path, *options):
    """The stand-in's report on ``cells`` recalculated against the server at ``base``."""
    done = subprocess.run(
        [NODE, STANDIN, base, _cells_file(tmp_path, cells), *options],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _column(index):
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell(row, col, name, *args):
    return {"address": f"Sheet1!{_column(col)}{row + 1}", "name": name, "args": list(args)}


def expected(cell):
    """What Excel shows for ``cell``: the Python function's value, or its error."""
    value = udfs.FUNCTIONS[cell["name"]].func(*cell["args"])
    if isinstance(value, udfs.CellError):
        message = value.message if value.code in SHOWS_MESSAGE else None
        return {"address": cell["address"], "error": {"code": value.code, "message": message}}
    return {"address": cell["address"], "value": value}


def _floats(value):
    """Numbers as floats: JavaScript writes 1.5e20 as 150000000000000000000, read as an int."""
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


def assert_cells_match_python(report, cells):
    got = [
        {**cell, "value": _floats(cell["value"])} if "value" in cell else cell
        for cell in report["cells"]
    ]
    mismatches = [
        (g, want) for g, want in zip(got, map(expected, cells), strict=False) if g != want
    ]
    assert len(report["cells"]) == len(cells)
    assert not mismatches, f"{len(mismatches)} cells differ, e.g. {mismatches[:3]}"


def _fit_runs():
    law = xlplan.get_law("chinchilla")
    return [["params", "tokens", "loss"]] + [
        [n, n * r, law.loss(n, n * r)] for n in (1e8, 3e8, 1e9, 3e9, 1e10) for r in (5, 20, 80)
    ]


def other_cells():
    """A few cells of every function but OPT_PARAMS, with ranges and omitted arguments."""
    epoch = udfs.XLPLAN_LAW("epoch-2024")  # a 1x5 range, as a sheet would pass it
    h100 = udfs.XLPLAN_HARDWARE("h100")  # a 1x7 range
    calls = [
        ("SCALING_LOSS", 7e9, 1.4e12),
        ("SCALING_LOSS", 7e9, 1.4e12, "epoch-2024"),
        ("SCALING_LOSS", 1e8, 2e9, epoch),
        ("SCALING_LOSS", 70e9, 1.4e12, None),
        ("CHINCHILLA_MODEL", 7e9),
        ("CHINCHILLA_MODEL", 1e9, epoch),
        ("CHINCHILLA_MODEL", 70e9, "sardana-all"),
        ("CHINCHILLA_OPT", 2.1),
        ("CHINCHILLA_OPT", 2.5, epoch),
        ("CHINCHILLA_OPT", 1.95, None),
        ("OPT_PARAMS", 2.1, 1e12, epoch),
        ("OPT_PARAMS", 2.3, 1e13, "sardana-250"),
        ("TOTAL_FLOPS", 7e9, 1.4e12, 0),
        ("TOTAL_FLOPS", 7e9, 1.4e12, 1e13),
        ("COST_OPT", 2.1, 1e9),
        ("COST_OPT", 2.1, 1e9, 100, 300, "h100", "sardana-all"),
        ("COST_OPT", 2.1, 1e9, None, None, h100),
        ("COST_OPT", 2.2, 1e10, None, 500, None, epoch),
        ("LIFETIME_COST", 7e9, 1e12, 1e9),
        ("LIFETIME_COST", 7e9, 1e12, 1e9, None, None, h100),
        ("LIFETIME_COST", 70e9, 2e12, 1e10, 50, 100, "a100-40gb"),
        ("FIT_COEFFS", _fit_runs()),
        ("MODEL_SHAPE", "llama-3-70b"),
        ("MODEL_SHAPE", 7e9),
        ("KV_BYTES", 7e9, 2),
        ("SERVING_KV", 7e9, 4096, "h100", 32),
        ("MAX_BATCH", 7e9, 4096, 0.05, None, "h100"),
        ("COST_OPT_KV", 2.05, 3.51e11, 4096, None, None, "h100", 32),
        ("TRAINING_TIME", 70e9, 1.4e12, 1024, "h100"),
        ("TRAINING_GPUS", 7e10, 1.4e12, 30),
        ("COST_OPT_PV_KV", 2.1, [[1e9] * 36], 8192, 0.1, -0.25, None, None, "h100", 32),
        ("BEST_FOR_BUDGET_KV", 5e6, 2e11, 8192, None, None, "h100", 32),
        ("COST_OPT_LAUNCH", 2.1, [[1e8] * 36], 90, 8, 0.1, -0.25, None, None, "h100"),
        ("COST_OPT_LAUNCH", 2.1, [[1e8]] * 12, 60),
        ("CASHFLOW", 7e9, 2e12, [[1e8], [2e8]], 0.1, None, None, None, "h100", 512, 100),
        *[("XLPLAN_LAW", name) for name in xlplan.engine.laws.law_names()],
        *[("XLPLAN_HARDWARE", name) for name in xlplan.engine.hardware.hardware_names()],
    ]
    return [_cell(row, 0, *call) for row, call in enumerate(calls)]


def recalculation(size):
    """``size`` cells: the other functions' cells, then an OPT_PARAMS grid filling the rest."""
    others = other_cells()
    losses = np.linspace(1.9, 3.0, 40)
    inf_tokens = np.concatenate([[0.0], np.logspace(6, 14, 24)])
    grid = [
        _cell(i, 1 + j, "OPT_PARAMS", float(loss), float(inf))
        for (i, loss), (j, inf) in product(enumerate(losses), enumerate(inf_tokens))
    ]
    return others + grid[: size - len(others)]


def test_every_function_registers(server, tmp_path):
    report = run_standin(server, [], tmp_path)
    assert report["registered"] == [office_name(name) for name in udfs.FUNCTIONS]
    assert report["unregistered"] == [] and report["duplicates"] == []
    assert report["config"]["url"] == server and not report["config"]["hasToken"]


def test_recalculation_of_1000_cells_is_exact_and_batched(server, tmp_path):
    cells = recalculation(1000)
    assert len(cells) == 1000 and sum(c["name"] == "OPT_PARAMS" for c in cells) > 900
    report = run_standin(server, cells, tmp_path)
    assert_cells_match_python(report, cells)
    assert all("value" in cell for cell in report["cells"])
    stats, max_batch = report["stats"], report["config"]["maxBatch"]
    assert stats["calls"] == len(cells)
    assert stats["requests"] == stats["batchPosts"]
    assert stats["requests"] <= math.ceil(len(cells) / max_batch) + 1
    assert stats["requests"] <= len(cells) / 100


def test_recalculation_larger_than_one_batch_is_split(server, tmp_path):
    cells = [_cell(i, 0, "OPT_PARAMS", 2.0 + i * 1e-4, 1e12) for i in range(2500)]
    report = run_standin(server, cells, tmp_path)
    assert_cells_match_python(report, cells)
    max_batch = report["config"]["maxBatch"]
    assert report["stats"]["requests"] == math.ceil(len(cells) / max_batch)


def test_error_cells_show_excel_errors_and_spare_their_neighbours(server, tmp_path):
    good = [_cell(i, 0, "OPT_PARAMS", 2.0 + i / 10, 1e12) for i in range(4)]
    bad_loss = _cell(0, 1, "OPT_PARAMS", 1.5, 1e12)
    text_loss = _cell(1, 1, "OPT_PARAMS", "abc", 1e12)
    bad_law = _cell(2, 1, "SCALING_LOSS", 7e9, 1.4e12, "no-such-law")
    cells = [good[0], bad_loss, good[1], text_loss, good[2], bad_law, good[3]]
    report = run_standin(server, cells, tmp_path)
    assert report["stats"]["requests"] == 1
    assert_cells_match_python(report, cells)
    by_address = {cell["address"]: cell for cell in report["cells"]}

    assert by_address[bad_loss["address"]]["error"]["code"] == "#NUM!"
    text_error = by_address[text_loss["address"]]["error"]
    assert text_error["code"] == "#VALUE!" and "'abc'" in text_error["message"]
    law_error = by_address[bad_law["address"]]["error"]
    assert law_error["code"] == "#VALUE!" and "no-such-law" in law_error["message"]
    assert all(name in law_error["message"] for name in xlplan.engine.laws.law_names())
    # Excel hides the #NUM! message; the task pane's list of recent errors keeps it.
    recent = {e["address"]: e for e in report["recentErrors"]}
    assert "loss=1.5" in recent[bad_loss["address"]]["message"]


def test_server_down_after_loading_rejects_every_cell_with_na(tmp_path):
    cells = [_cell(i, 0, "OPT_PARAMS", 2.1, 1e12) for i in range(5)]
    cells.append(_cell(5, 0, "XLPLAN_LAW", "chinchilla"))
    with running_server() as base:
        node = subprocess.Popen(
            [NODE, STANDIN, base, _cells_file(tmp_path, cells), "--pause"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert node.stderr.readline() == "loaded\n"
    # The server has stopped; Excel recalculates.
    try:
        out, err = node.communicate("recalculate\n", timeout=RUN_TIMEOUT)
    finally:
        node.kill()
    assert node.returncode == 0, err
    report = json.loads(out)
    assert [cell["error"]["code"] for cell in report["cells"]] == ["#N/A"] * len(cells)
    assert all(base in cell["error"]["message"] for cell in report["cells"])
    assert report["recalcs"][0]["elapsedMs"] < 10_000


def test_token_is_served_in_functions_js_and_carried_by_calls(tmp_path):
    with running_server("--token", TOKEN, token=TOKEN) as base:
        status, _ = request(f"{base}/functions.js")
        assert status == 401
        status, script = request(f"{base}/functions.js?token={TOKEN}")
        assert status == 200 and f'"token": "{TOKEN}"' in script.splitlines()[0]

        cells = [_cell(0, 0, "OPT_PARAMS", 2.1, 1e12), _cell(1, 0, "XLPLAN_LAW", "chinchilla")]
        report = run_standin(base, cells, tmp_path, "--token", TOKEN)
    assert report["config"]["hasToken"]
    assert_cells_match_python(report, cells)


def test_served_batches_fit_the_server_limit(tmp_path):
    cells = [_cell(i, 0, "OPT_PARAMS", 2.1 + i / 1000, 1e12) for i in range(150)]
    with running_server("--max-batch", "100") as base:
        report = run_standin(base, cells, tmp_path)
    assert report["config"]["maxBatch"] == 100
    assert_cells_match_python(report, cells)
    assert report["stats"]["requests"] == 2


def test_batches_stay_under_the_body_limit(tmp_path):
    cells = [_cell(i, 0, "OPT_PARAMS", 2.1 + i / 1000, 1e12, "chinchilla") for i in range(150)]
    each = len(json.dumps({"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]], [["x"]]]}))
    with running_server("--max-body-bytes", "4000") as base:
        report = run_standin(base, cells, tmp_path)
    assert report["config"]["maxBodyBytes"] == 4000
    assert_cells_match_python(report, cells)  # no request was refused as too large
    assert report["stats"]["requests"] >= 150 * each // 4000


def test_a_fit_cell_goes_in_a_request_of_its_own(server, tmp_path):
    cells = [_cell(i, 0, "OPT_PARAMS", 2.1 + i / 1000, 1e12) for i in range(50)]
    cells.append(_cell(50, 0, "FIT_COEFFS", _fit_runs()))
    report = run_standin(server, cells, tmp_path)
    assert_cells_match_python(report, cells)
    assert report["stats"]["requests"] == 2  # the cheap cells never wait for the fit


def test_a_server_that_never_answers_gives_na_after_the_time_limit(tmp_path):
    cells = [_cell(0, 0, "OPT_PARAMS", 2.1, 1e12)]
    with running_server("--slow-timeout", "0.5") as base:
        node = subprocess.Popen(
            [NODE, STANDIN, base, _cells_file(tmp_path, cells), "--pause"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert node.stderr.readline() == "loaded\n"
    port = int(base.rsplit(":", 1)[1])
    with socket.socket() as silent:  # accepts connections, never answers
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", port))
        silent.listen()
        try:
            out, _err = node.communicate("recalculate\n", timeout=RUN_TIMEOUT)
        finally:
            node.kill()
    report = json.loads(out)
    assert report["config"]["timeoutMs"] == 5500
    assert report["cells"][0]["error"]["code"] == "#N/A"
    assert base in report["cells"][0]["error"]["message"]
    assert 5000 <= report["recalcs"][0]["elapsedMs"] < 15_000


def test_a_fit_request_waits_as_long_as_the_server_may_take(tmp_path):
    """A fit may wait its turn for a worker before its time limit starts, so its request
    waits for the longest the server can take (the queue's wait, then the limit), while
    cheap requests keep the short limit."""
    cells = [_cell(0, 0, "OPT_PARAMS", 2.1, 1e12), _cell(1, 0, "FIT_COEFFS", _fit_runs())]
    with running_server("--slow-timeout", "30") as base:
        report = run_standin(base, cells, tmp_path)
    assert_cells_match_python(report, cells)
    settings = Settings(slow_timeout=30)
    server_bound_s = settings.max_queue_wait + settings.slow_timeout
    assert server_bound_s == 16 * (30 + WORKER_START_S) + 30
    slow_ms = round(1000 * (server_bound_s + 5))
    assert report["config"]["slowTimeoutMs"] == slow_ms
    # The cheap request's timer and the fit request's timer, besides the 5 ms batch window.
    assert report["timerDelays"] == [report["config"]["batchWindowMs"], 35_000, slow_ms]
