"""``xlplan serve``'s worker processes (issue 10, items 8, 9, 10, 13): signals mid-fit,
a crashed worker, queueing that does not eat a call's time limit, shared fits.

Nothing here waits on a sleep: each step waits for an event the server reports (its
/health route: workers ready, calls in workers) or for a process to exit. A worker is
frozen with SIGSTOP where a test needs a call that is surely still running.
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from xlplan import udfs

from process_helpers import (
    LONG,
    fit_call,
    gadre_runs,
    health,
    in_background,
    processes,
    ready_worker,
    wait_for,
)
from server_helpers import server_process


@pytest.mark.parametrize("signals", [("group", signal.SIGTERM), ("group", signal.SIGINT)])
def test_signals_mid_fit_stop_everything_at_once(signals):
    """SIGTERM (or Ctrl-C's SIGINT) to the whole group, then SIGINT to the server, with a
    fit in a worker: the client gets 503, the server exits, no process is left."""
    with server_process("--slow-timeout", "600", new_session=True) as server:
        worker = ready_worker(server)
        os.kill(worker, signal.SIGSTOP)  # the fit cannot finish before the signal
        answers = {}
        thread = in_background(server.base, fit_call(gadre_runs(True), 0.0017), answers, "fit")
        wait_for("the fit in the worker", lambda: health(server.base)["slow_calls_in_workers"])
        started = time.monotonic()
        os.killpg(server.process.pid, signals[1])
        with contextlib.suppress(ProcessLookupError):  # already gone after the first
            os.kill(server.process.pid, signal.SIGINT)
        server.process.wait(timeout=LONG)
        stopped_in = time.monotonic() - started
        thread.join(LONG)
        left = processes(lambda stat: stat[2] == server.process.pid)
        output = server.output()
    assert left == [], f"processes left behind: {left}"
    assert answers["fit"]["status"] == 503, answers
    assert answers["fit"]["error"]["code"] == "#N/A"
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    assert server.process.returncode == 0
    print(f"stopped in {stopped_in:.2f} s")  # well under 5 s; a fit's limit here is 600 s


def test_a_crashed_worker_is_noticed_at_once_and_replaced():
    runs = gadre_runs()
    with server_process("--slow-timeout", "600") as server:
        worker = ready_worker(server)
        os.kill(worker, signal.SIGSTOP)
        answers = {}
        thread = in_background(server.base, fit_call(runs, 0.0013), answers, "fit")
        wait_for("the fit in the worker", lambda: health(server.base)["slow_calls_in_workers"])
        os.kill(worker, signal.SIGKILL)
        thread.join(LONG)
        assert answers["fit"]["status"] == 503, answers
        assert "worker stopped" in answers["fit"]["error"]["message"]
        # A fresh worker takes the next call; one killed while idle is replaced unnoticed.
        fresh = ready_worker(server)
        assert fresh != worker
        os.kill(fresh, signal.SIGKILL)
        wait_for(
            "the server to see it gone", lambda: health(server.base)["slow_workers_ready"] == 0
        )
        response = httpx.post(f"{server.base}/call", json=fit_call(runs, 0.0013), timeout=LONG)
        assert response.status_code == 200
        assert response.json()["result"] == udfs.FIT_COEFFS(runs, None, 0.0013)


def test_time_spent_waiting_for_a_worker_does_not_count():
    """A call waits behind one that runs out the whole limit, then gets its own full limit."""
    runs = gadre_runs()
    with server_process("--slow-timeout", "5") as server:
        worker = ready_worker(server)
        os.kill(worker, signal.SIGSTOP)  # the first call will surely use up its 5 s
        answers = {}
        first = in_background(server.base, fit_call(runs, 0.0011), answers, "first")
        wait_for(
            "the first fit in the worker", lambda: health(server.base)["slow_calls_in_workers"]
        )
        second = in_background(server.base, fit_call(runs, 0.0012), answers, "second")
        wait_for("the second fit waiting", lambda: health(server.base)["slow_calls_running"] == 2)
        first.join(LONG)
        second.join(LONG)
    assert answers["first"]["status"] == 504, answers
    assert "longer than 5 s" in answers["first"]["error"]["message"]
    # It waited more than 5 s (the first call's whole limit, then a worker's start) and
    # still had its own 5 s: a 0.1-0.5 s fit.
    assert answers["second"] == {"status": 200, "result": udfs.FIT_COEFFS(runs, None, 0.0012)}


def test_fits_wait_their_turn_and_identical_fits_share_one_computation():
    runs = gadre_runs()
    deltas = [1e-3 * (1 + k / 10) for k in range(12)]  # 12 distinct fits
    # the 12, then one cell 5 times
    calls = [fit_call(runs, d) for d in deltas] + [fit_call(runs, deltas[0])] * 5
    with server_process("--slow-timeout", "600") as server:
        response = httpx.post(f"{server.base}/batch", json={"calls": calls}, timeout=600)
        status = health(server.base)
    assert response.status_code == 200
    answers = response.json()["results"]
    assert [a["status"] for a in answers] == [200] * 17, answers
    for delta, answer in zip(deltas, answers, strict=False):  # the 12 distinct
        assert answer["result"] == udfs.FIT_COEFFS(runs, None, delta)
    assert all(a["result"] == answers[0]["result"] for a in answers[12:])
    assert status["slow_calls_computed"] == 12  # the five identical cells: one fit
    assert status["slow_calls_running"] == 0


_REFUSAL_SCENARIO = """
import asyncio, json, os, signal, sys
from xlplan.server.slow import SlowPool

RUNS = json.loads(sys.argv[1])


async def scenario():
    pool = SlowPool(1, timeout=600, max_wait=0.5)
    pool.start()
    try:
        worker = await pool._starting[0]
        os.kill(worker.process.pid, signal.SIGSTOP)  # the first call holds it for 600 s
        first = asyncio.ensure_future(pool.run("FIT_COEFFS", (RUNS, None, 0.0011)))
        while not pool.in_workers:
            await asyncio.sleep(0.01)
        try:
            await pool.run("FIT_COEFFS", (RUNS, None, 0.0012))
            refusal = None
        except Exception as error:
            refusal = [error.status, error.code, error.message]
        return {"refusal": refusal, "first_done": first.done(), "pid": worker.process.pid}
    finally:
        await pool.close()

outcome = asyncio.run(scenario())
outcome["worker_gone"] = not os.path.exists(f"/proc/{outcome['pid']}")
print(json.dumps(outcome))
"""


def test_a_call_that_cannot_get_a_worker_in_time_is_refused():
    """The server's promise to the add-in: an answer within max_wait + timeout. (In a
    process of its own: asyncio's child watcher upsets pytest's own AST rewriting.)"""
    done = subprocess.run(
        [sys.executable, "-c", _REFUSAL_SCENARIO, json.dumps(gadre_runs())],
        capture_output=True,
        text=True,
        timeout=LONG,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    status, code, message = outcome["refusal"]
    assert (status, code) == (503, "#N/A") and "waited 0.5 s for a worker" in message
    assert not outcome["first_done"]
    assert outcome["worker_gone"]  # close() killed and reaped the frozen worker
