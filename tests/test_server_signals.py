"""No orphans on any signal (issue 22, Server item 4): SIGHUP and SIGQUIT stop ``xlplan
serve`` as SIGTERM does, and its workers die with it even when it is killed with SIGKILL.

Real processes; every wait is for an event (a /health count, a process exiting, a pid
disappearing), polled with a generous deadline, never a sleep.
"""

import os
import signal
import subprocess
import sys
import threading
import time

import httpx
import pytest

from process_helpers import LONG, gadre_runs, health, processes, wait_for
from server_helpers import server_process

GONE_WITHIN = 30  # seconds: a bound on workers exiting once the server is gone (~0.1 s)


def _endless_call(seed):
    """A PLAN_INTERVAL of 10,000 refits: minutes of work, surely running when signalled."""
    return {
        "func_name": "PLAN_INTERVAL",
        "args": [gadre_runs(), [[2.5]], [[1e12]], [[0.9]], [[10_000]], [[seed]]],
    }


def _post_in_background(base, body, answers, key):
    """POST in a thread; the answer, or the exception's name (a reset when killed)."""

    def post():
        try:
            response = httpx.post(f"{base}/call", json=body, timeout=LONG)
            answers[key] = {"status": response.status_code, **response.json()}
        except httpx.HTTPError as error:
            answers[key] = {"status": None, "error": type(error).__name__}

    thread = threading.Thread(target=post)
    thread.start()
    return thread


def _two_workers_busy(server):
    """Start two endless calls, one per worker; the worker pids once both are computing."""
    wait_for("two ready workers", lambda: health(server.base)["slow_workers_ready"] == 2)
    workers = processes(lambda stat: stat[1] == server.process.pid)
    assert len(workers) == 2
    answers = {}
    threads = [
        _post_in_background(server.base, _endless_call(seed), answers, seed) for seed in (1, 2)
    ]
    wait_for("both calls in workers", lambda: health(server.base)["slow_calls_in_workers"] == 2)
    return workers, answers, threads


def _alive(pid):
    """True while ``pid`` runs (a zombie awaiting its parent's wait() has stopped)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return False
    return text[text.rindex(")") + 2] != "Z"


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM])
def test_hangup_and_quit_stop_the_server_cleanly_mid_fit(sig):
    """As SIGTERM: the calls in flight are answered 503, both workers are killed and
    reaped, the server exits with status 0 and no traceback."""
    with server_process("--slow-workers", "2", "--slow-timeout", "600", new_session=True) as server:
        workers, answers, threads = _two_workers_busy(server)
        started = time.monotonic()
        os.kill(server.process.pid, sig)
        server.process.wait(timeout=LONG)
        stopped_in = time.monotonic() - started
        for thread in threads:
            thread.join(LONG)
        wait_for(
            "the workers to be gone", lambda: not any(map(_alive, workers)), timeout=GONE_WITHIN
        )
        left = processes(lambda stat: stat[2] == server.process.pid)
        output = server.output()
    assert left == [], f"processes left behind: {left}"
    assert [answers[k]["status"] for k in (1, 2)] == [503, 503], answers
    assert all("shutting down" in answers[k]["error"]["message"] for k in (1, 2))
    assert server.process.returncode == 0
    assert "Traceback" not in output, output
    print(f"{signal.Signals(sig).name}: stopped in {stopped_in:.2f} s")  # fits: minutes


def test_workers_die_with_a_server_killed_by_sigkill():
    """SIGKILL runs no handler in the server: the workers notice on their own (the kernel's
    parent-death signal on Linux, and their stdin closing everywhere)."""
    with server_process("--slow-workers", "2", "--slow-timeout", "600", new_session=True) as server:
        workers, answers, threads = _two_workers_busy(server)
        started = time.monotonic()
        os.kill(server.process.pid, signal.SIGKILL)
        server.process.wait(timeout=LONG)
        wait_for(
            "the workers to be gone", lambda: not any(map(_alive, workers)), timeout=GONE_WITHIN
        )
        print(f"workers gone {time.monotonic() - started:.2f} s after SIGKILL")
        for thread in threads:
            thread.join(LONG)
        left = processes(lambda stat: stat[2] == server.process.pid)
    assert left == [], f"processes left behind: {left}"
    assert all(answers[k]["status"] is None for k in (1, 2)), answers  # connection lost


def test_a_worker_mid_call_exits_when_its_stdin_closes():
    """The portable half (no prctl): the worker's calls are read by a thread, which ends
    the process the moment stdin closes, even while the main thread computes."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "xlplan.server.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert worker.stdout.read(4)  # the length of "ready": it is reading calls
        from xlplan.server.worker import write_message

        body = _endless_call(3)
        write_message(worker.stdin, ("PLAN_INTERVAL", [body["args"][0], 2.5, 1e12, 0.9, 10_000, 3]))
        worker.stdin.close()
        assert worker.wait(timeout=GONE_WITHIN) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


_PARENT = """
import os, signal, subprocess, sys
worker = subprocess.Popen([sys.executable, "-m", "xlplan.server.worker", "--parent",
                           str(os.getpid())], stdout=subprocess.PIPE)  # stdin: this one's
print(worker.pid, flush=True)
worker.stdout.read(4)  # the length of its "ready"
print("ready", flush=True)
signal.pause()
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_kernel_kills_a_worker_whose_parent_dies():
    """The Linux half: a worker whose stdin stays open (here the test holds it) still dies
    with its parent."""
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        worker = int(parent.stdout.readline())
        assert parent.stdout.readline().strip() == "ready"
        parent.kill()
        parent.wait(timeout=LONG)
        wait_for(
            "the worker to die with its parent", lambda: not _alive(worker), timeout=GONE_WITHIN
        )
    finally:
        parent.stdin.close()
        parent.stdout.close()
        if parent.poll() is None:
            parent.kill()
            parent.wait()
