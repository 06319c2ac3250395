"""Speed of ``xlplan serve`` on loopback: batched recalculation, unbatched calls, latency.

    python benchmarks/bench_server.py [--cells 1000] [--samples 2000] [--repeats 5]

Against one server started here as a subprocess, in one run:
  * a recalculation of --cells OPT_PARAMS cells through the served functions.js,
    run by Node in tests/js/excel_standin.mjs and timed inside Node from the first
    call to the last settled promise (script loading excluded); median and best of
    --repeats recalculations after one warm-up (target < 0.5 s for 1,000 cells);
  * the same calls unbatched: one POST /call each, in sequence, over one keep-alive
    http.client.HTTPConnection; median and best of --repeats;
  * the latency of one POST /call of OPT_PARAMS over that connection, p50 and p99
    of --samples calls after a warm-up (target p50 < 2 ms).
"""

import argparse
import http.client
import importlib.util
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT / "tests" / "js" / "excel_standin.mjs"
BATCHED_TARGET_S = 0.5
P50_TARGET_MS = 2.0
WARMUP_CALLS = 200


def _server_helpers():
    """tests/server_helpers.py, loaded from its path (the server start-up lives there)."""
    spec = importlib.util.spec_from_file_location(
        "server_helpers", ROOT / "tests" / "server_helpers.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grid_cells(count):
    """``count`` OPT_PARAMS cells over losses 1.9..3.0 and inference tokens 0..1e14."""
    losses = np.linspace(1.9, 3.0, 40)
    inf_tokens = np.concatenate([[0.0], np.logspace(6, 14, count // 40 + 1)])
    pairs = [(float(loss), float(inf)) for loss in losses for inf in inf_tokens][:count]
    return [
        {"address": f"Sheet1!A{i + 1}", "name": "OPT_PARAMS", "args": list(pair)}
        for i, pair in enumerate(pairs)
    ]


def batched(node, base, cells, repeats):
    """Seconds of each recalculation through functions.js (the first, cold), and the report."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cells.json"
        path.write_text(json.dumps(cells))
        done = subprocess.run(
            [node, str(STANDIN), base, str(path), "--repeat", str(repeats + 1)],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
    report = json.loads(done.stdout)
    failed = [cell for cell in report["cells"] if "value" not in cell]
    if failed:
        raise RuntimeError(f"{len(failed)} cells failed, e.g. {failed[0]}")
    return [r["elapsedMs"] / 1e3 for r in report["recalcs"]], report


def post_call(connection, cell):
    body = json.dumps({"func_name": cell["name"], "args": [[[a]] for a in cell["args"]]})
    connection.request("POST", "/call", body, {"Content-Type": "application/json"})
    response = connection.getresponse()
    payload = json.loads(response.read())
    if response.status != 200:
        raise RuntimeError(f"POST /call {cell}: HTTP {response.status} {payload}")
    return payload["result"]


def unbatched(connection, cells, repeats):
    """Seconds per pass of one POST /call per cell, in sequence; and the last pass's results."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        results = [post_call(connection, cell) for cell in cells]
        times.append(time.perf_counter() - start)
    return times, results


def latencies(connection, cell, samples):
    """Seconds of each of ``samples`` single calls, after a warm-up."""
    for _ in range(WARMUP_CALLS):
        post_call(connection, cell)
    times = np.empty(samples)
    for i in range(samples):
        start = time.perf_counter()
        post_call(connection, cell)
        times[i] = time.perf_counter() - start
    return times


def _row(name, figure, target="", verdict=""):
    print(f"{name:<44}{figure:>12}  {target:<10}{verdict}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        sys.exit("bench_server: node is not installed (the batched path runs functions.js)")

    cells = grid_cells(args.cells)
    with _server_helpers().running_server() as base:
        (cold, *batch_times), report = batched(node, base, cells, args.repeats)
        url = urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            call_times, results = unbatched(connection, cells, args.repeats)
            single = latencies(connection, cells[len(cells) // 2], args.samples)
        finally:
            connection.close()
    if results != [cell["value"] for cell in report["cells"]]:
        raise RuntimeError("POST /call and functions.js gave different answers")

    batch_s, call_s = statistics.median(batch_times), statistics.median(call_times)
    p50, p99 = np.percentile(single, [50, 99]) * 1e3
    requests = report["recalcs"][-1]["requests"]
    print(
        f"xlplan serve on loopback, {len(cells):,} OPT_PARAMS cells; medians of "
        f"{args.repeats} runs after a warm-up, and the best"
    )
    _row(
        f"batched via functions.js ({requests} request)",
        f"{batch_s * 1e3:.0f} ms",
        f"< {BATCHED_TARGET_S * 1e3:.0f} ms",
        "met" if batch_s < BATCHED_TARGET_S else "MISSED",
    )
    _row("  best", f"{min(batch_times) * 1e3:.0f} ms")
    _row("  first recalculation (cold server)", f"{cold * 1e3:.0f} ms")
    _row("unbatched, POST /call each (http.client)", f"{call_s * 1e3:.0f} ms")
    _row("  best", f"{min(call_times) * 1e3:.0f} ms")
    _row("ratio unbatched / batched (medians)", f"{call_s / batch_s:.1f}x")
    _row(
        f"single POST /call p50 ({args.samples} samples)",
        f"{p50:.2f} ms",
        f"< {P50_TARGET_MS:g} ms",
        "met" if p50 < P50_TARGET_MS else "MISSED",
    )
    _row("single POST /call p99", f"{p99:.2f} ms")


if __name__ == "__main__":
    main()
