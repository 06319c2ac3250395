"""Processes of a running ``xlplan serve`` for tests: its workers, its /health, fits to
send it, and polling for an event with a generous deadline (never a sleep as a wait)."""

import os
import threading
import time
from pathlib import Path

import httpx
import pandas as pd

__all__ = [
    "GADRE",
    "LONG",
    "gadre_runs",
    "fit_call",
    "process_stat",
    "processes",
    "wait_for",
    "health",
    "ready_worker",
    "in_background",
]

GADRE = Path(__file__).parent / "data" / "gadre_overtraining_104runs.csv"
LONG = 120  # seconds: a bound on a wait for an event that is expected within a second


def gadre_runs(everything=False):
    frame = pd.read_csv(GADRE)
    frame = frame if everything else frame[frame.dataset == "c4_original"]
    return [
        ["params", "tokens", "loss"],
        *frame[["params", "tokens", "loss_c4_val"]].values.tolist(),
    ]


def fit_call(runs, delta=None):
    return {"func_name": "FIT_COEFFS", "args": [runs, [[None]], [[delta]]]}


def process_stat(pid):
    """(state, parent pid, session id) of a process, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[3])


def processes(where):
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    return [pid for pid in pids if (stat := process_stat(pid)) and stat[0] != "Z" and where(stat)]


def wait_for(what, check, timeout=LONG):
    """Poll ``check()`` (a server status or a process table) until it is truthy."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
    return value


def health(base):
    return httpx.get(f"{base}/health").json()


def ready_worker(server):
    """The pid of the server's one worker, once it has started and imported the fitter."""
    wait_for("a ready worker", lambda: health(server.base)["slow_workers_ready"] == 1)
    (worker,) = wait_for(
        "the worker process", lambda: processes(lambda stat: stat[1] == server.process.pid)
    )
    return worker


def in_background(base, body, answers, key):
    def post():
        response = httpx.post(f"{base}/batch", json={"calls": [body]}, timeout=LONG)
        answers[key] = (
            response.json()["results"][0]
            if response.status_code == 200
            else {"status": response.status_code, "body": response.text}
        )

    thread = threading.Thread(target=post)
    thread.start()
    return thread
