"""``xlplan serve`` against a hostile client, second round (issue 22, Server items 1, 3, 5):
bounded answers, strict Host headers (the port part included), one-line start-up errors.
All through a real server process."""

import re
import socket
import subprocess
import sys

import httpx
import pytest

from server_helpers import server_process

JSON = {"content-type": "application/json"}


def _regret(k):
    return {"func_name": "REGRET_TABLE", "args": [[[2.1]], [[1e9 * (i + 1) for i in range(k)]]]}


def _port(base):
    return int(base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def server():
    with server_process("--max-result-cells", "50", "--max-response-cells", "100") as started:
        yield started


def test_the_amplification_request_is_refused_before_computing():
    """k = 4000 scenarios (67 kB) asked for 16 million cells (291 MB of JSON, 1.6 GB of
    memory): now a 400 naming the size and the limit, with a small body."""
    with server_process() as started:
        response = httpx.post(f"{started.base}/call", json=_regret(4000), timeout=120)
        health = httpx.get(f"{started.base}/health")
        log = started.output()
    assert response.status_code == 400
    assert len(response.content) < 1000
    error = response.json()["error"]
    assert error["code"] == "#VALUE!"
    assert "16,004,000 cells (4000 x 4001), more than the limit of 100,000" in error["message"]
    assert health.status_code == 200 and "Traceback" not in log


def test_the_servers_limit_applies_to_each_call(server):
    fits = httpx.post(f"{server.base}/call", json=_regret(6))  # 6 x 7 = 42 cells
    assert fits.status_code == 200 and len(fits.json()["result"]) == 6
    refused = httpx.post(f"{server.base}/call", json=_regret(7))  # 7 x 8 = 56
    assert refused.status_code == 400
    assert "56 cells (7 x 8), more than the limit of 50 cells" in refused.json()["error"]["message"]


def test_a_batchs_answers_together_stay_under_the_response_limit(server):
    """42 + 42 cells fit in 100; a third table does not, and only it is refused."""
    calls = [
        _regret(6),
        _regret(6),
        _regret(6),
        {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]},
    ]
    response = httpx.post(f"{server.base}/batch", json={"calls": calls})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [200, 200, 400, 200]
    assert "over the limit of 100 cells with this call's 42" in results[2]["error"]["message"]


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--max-result-cells", "0", ["max_result_cells=0"]),
        ("--max-response-cells", "10", ["max_response_cells=10", "less than max_result_cells"]),
    ],
)
def test_result_limits_that_make_no_sense_are_refused(option, value, words):
    status, stderr = _serve(option, value)
    assert status == 2 and "Traceback" not in stderr
    assert all(word in stderr for word in words), stderr


def _raw_status(base, host_header):
    """Status of a GET /health sent with exactly this Host header (no client rewriting)."""
    with socket.create_connection(("127.0.0.1", _port(base)), timeout=60) as connection:
        connection.sendall(
            b"GET /health HTTP/1.1\r\nHost: "
            + host_header.encode("latin-1")
            + b"\r\nConnection: close\r\n\r\n"
        )
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    "host",
    [
        "localhost:evil.example",
        "localhost:{port}@evil.example",
        "[::1]evil.example",
        "127.0.0.1:{port}/evil",
        "127.0.0.1:{port}:{port}",
        "localhost:1",
        "127.0.0.1:",
        "localhost:{port}0",
        "[::1",
        "::1",
        "[::1]:",
        "[::2]:{port}",
        "localhost:+{port}",
        "localhost :{port}",
        "user@localhost",
        "localhost:{port}#x",
        "localhost:{port}?x",
        "127.0.0.1\\@evil",
        "localhost%2f",
        "localhost.",
        "127.1",
    ],
)
def test_host_headers_with_anything_but_a_name_and_this_port_get_421(server, host):
    port = _port(server.base)
    assert _raw_status(server.base, host.format(port=port)) == 421


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "localhost:{port}",
        "127.0.0.1:{port}",
        "[::1]:{port}",
        "[::1]",
        "LocalHost:{port}",
    ],
)
def test_host_headers_of_a_loopback_name_and_this_port_are_served(server, host):
    assert _raw_status(server.base, host.format(port=_port(server.base))) == 200


def test_two_host_headers_get_421(server):
    with socket.create_connection(("127.0.0.1", _port(server.base)), timeout=60) as connection:
        connection.sendall(
            b"GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\n"
            b"Connection: close\r\n\r\n"
        )
        answer = connection.recv(65536)
    assert answer.startswith(b"HTTP/1.1 421") or answer.startswith(b"HTTP/1.1 400")


def test_the_public_urls_port_is_accepted_for_its_host():
    with server_process("--public-url", "https://xlplan.example.com:8443") as started:
        port = _port(started.base)
        assert _raw_status(started.base, "xlplan.example.com:8443") == 200
        assert _raw_status(started.base, "xlplan.example.com") == 200
        assert _raw_status(started.base, f"xlplan.example.com:{port}") == 200  # direct
        assert _raw_status(started.base, "xlplan.example.com:8444") == 421


def _serve(*args):
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    "args, words",
    [
        (["--public-url", "https://[::1"], ["--public-url", "cannot be read as a URL"]),
        (["--public-url", "https://[::1]:99999"], ["--public-url", "port"]),
        (
            ["--host", "no-such-host.invalid", "--token", "long-enough-token"],
            ["--host 'no-such-host.invalid'", "not an address"],
        ),
        (["--host", "192.0.2.55", "--token", "long-enough-token"], ["cannot listen on 192.0.2.55"]),
        (["--certfile", __file__], ["--certfile", "PEM"]),
    ],
)
def test_start_up_errors_are_one_line_with_exit_status_2(args, words):
    status, stderr = _serve(*args)
    assert status == 2, stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert all(word in stderr for word in words), stderr


def test_a_port_in_use_is_a_one_line_error():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        done = subprocess.run(
            [sys.executable, "-m", "xlplan", "serve", "--port", str(taken.getsockname()[1])],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "cannot listen" in done.stderr


def test_port_0_listens_on_a_free_port_and_the_start_up_line_names_it():
    """The start-up line comes once the socket listens, so a client may connect at once."""
    process = subprocess.Popen(
        [sys.executable, "-m", "xlplan", "serve", "--port", "0"], stderr=subprocess.PIPE, text=True
    )
    try:
        first = process.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/manifest\.xml", first)
        assert match and int(match[1]) != 0, first
        response = httpx.get(f"http://127.0.0.1:{match[1]}/health", timeout=60)
        assert response.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=60)
        process.stderr.close()
