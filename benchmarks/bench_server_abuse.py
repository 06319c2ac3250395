"""What a hostile client costs ``xlplan serve``: an amplifying call, and idle connections.

    python benchmarks/bench_server_abuse.py [--scenarios 4000] [--read-timeout 2]

Against servers started here as subprocesses (Linux: peak memory from /proc):
  * one ``REGRET_TABLE(2.1, <k scenarios>)`` call, which asks for k x (k+1) cells:
    status, request and answer bytes, seconds, and the server's peak resident memory
    (VmHWM) beside that of an idle server. Before answers were bounded, k = 4000 gave a
    291 MB answer and 1.6 GB of memory; now it is refused before computing;
  * five connections opened and left silent against ``--max-connections 5
    --read-timeout T``: seconds until a legitimate call is answered 200 (503 before).
"""

import argparse
import json
import socket
import time

import httpx
from bench_server import _server_helpers

CALL = {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]}
GIVE_UP_S = 120  # seconds a legitimate client keeps trying


def peak_rss_mb(pid):
    """Peak resident memory of a process, MB (VmHWM in /proc; None elsewhere)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def amplification(helpers, scenarios):
    body = json.dumps(
        {
            "func_name": "REGRET_TABLE",
            "args": [[[2.1]], [[1e9 * (i + 1) for i in range(scenarios)]]],
        }
    )
    with helpers.server_process() as server:
        httpx.post(f"{server.base}/call", json=CALL)  # warm: imports, first-call set-up
        idle = peak_rss_mb(server.process.pid)
        started = time.perf_counter()
        response = httpx.post(
            f"{server.base}/call",
            content=body,
            timeout=600,
            headers={"content-type": "application/json"},
        )
        seconds = time.perf_counter() - started
        peak = peak_rss_mb(server.process.pid)
    print(
        f"REGRET_TABLE with {scenarios} scenarios: {len(body):,} B request -> "
        f"{response.status_code}, {len(response.content):,} B answer in {seconds:.2f} s; "
        f"server peak RSS {peak:.0f} MB (idle {idle:.0f} MB)"
    )
    if response.status_code != 200:
        print(f"  {response.json()['error']['message']}")


def idle_connections(helpers, read_timeout):
    with helpers.server_process(
        "--max-connections", "5", "--read-timeout", str(read_timeout)
    ) as server:
        port = int(server.base.rsplit(":", 1)[1])
        silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        started, refused = time.perf_counter(), 0
        while httpx.post(f"{server.base}/call", json=CALL, timeout=600).status_code != 200:
            refused += 1
            if time.perf_counter() - started > GIVE_UP_S:
                break
        seconds = time.perf_counter() - started
        for connection in silent:
            connection.close()
    outcome = (
        f"answered after {seconds:.2f} s"
        if seconds <= GIVE_UP_S
        else f"still refused after {GIVE_UP_S} s"
    )
    print(
        f"5 silent connections, --read-timeout {read_timeout:g}: a legitimate call was "
        f"{outcome} ({refused} refused with 503 before)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=4000)
    parser.add_argument("--read-timeout", type=float, default=2.0)
    args = parser.parse_args()
    helpers = _server_helpers()
    amplification(helpers, args.scenarios)
    amplification(helpers, 315)  # the largest table under the default limit
    idle_connections(helpers, args.read_timeout)


if __name__ == "__main__":
    main()
