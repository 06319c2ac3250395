"""Idle, slow-header and slow-body clients cannot hold ``xlplan serve``'s connection slots
(issue 22, Server item 2). Real sockets against a real server process.

Each test waits for an event (the server closing a socket, a request answered), with
deadlines that are generous upper bounds (the server's read timeout times
``SLACK``), never a sleep.
"""

import json
import select
import socket
import time

import httpx
import pytest

from process_helpers import wait_for
from server_helpers import server_process

READ_TIMEOUT = 2.0
SLACK = 5  # deadlines in tests: the server's timeout times this, for a loaded machine
CALL = {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]}


@pytest.fixture(scope="module")
def server():
    with server_process("--max-connections", "5", "--read-timeout", str(READ_TIMEOUT)) as s:
        yield s


def _port(base):
    return int(base.rsplit(":", 1)[1])


def _connect(base):
    connection = socket.create_connection(("127.0.0.1", _port(base)), timeout=READ_TIMEOUT * SLACK)
    return connection


def _until_closed(connection):
    """Everything the server sends until it closes the connection; seconds it took."""
    started = time.monotonic()
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def _recovery(base):
    """Seconds until a legitimate request is answered 200 (503 while the slots are held)."""
    started = time.monotonic()
    deadline = started + READ_TIMEOUT * SLACK
    while True:
        response = httpx.post(f"{base}/call", json=CALL, timeout=READ_TIMEOUT * SLACK)
        if response.status_code == 200:
            return time.monotonic() - started
        assert response.status_code == 503, response.text
        assert time.monotonic() < deadline, "still refused long after the read timeout"


def _wait_held(base, connections):
    """Until the server has taken every connection (it then refuses with 503)."""
    deadline = time.monotonic() + READ_TIMEOUT * SLACK
    while httpx.post(f"{base}/call", json=CALL).status_code != 503:
        assert time.monotonic() < deadline, "the held connections were not counted"


def test_idle_connections_are_closed_and_clients_recover_within_the_timeout(server):
    """Five connect()s that send nothing held all five slots for 35 s; now each is
    closed (silently: nothing was asked) within the read timeout."""
    idle = [_connect(server.base) for _ in range(5)]
    try:
        recovered_in = _recovery(server.base)
        for connection in idle:
            received, _ = _until_closed(connection)
            assert received == b""
    finally:
        for connection in idle:
            connection.close()
    assert recovered_in < READ_TIMEOUT * SLACK
    print(
        f"a legitimate client was answered {recovered_in:.2f} s after 5 idle connects "
        f"(read timeout {READ_TIMEOUT:g} s)"
    )


def test_slow_headers_get_408_and_the_connection_is_closed(server):
    """A head sent a little at a time: each byte used to restart the wait."""
    connection = _connect(server.base)
    with connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        received, took = b"", 0.0
        started = time.monotonic()
        while not received:  # one header line per round until the server gives up
            try:
                connection.sendall(b"X-Slow: 1\r\n")
            except (BrokenPipeError, ConnectionResetError):
                break
            connection.settimeout(0.3)
            try:
                received = connection.recv(65536)
            except TimeoutError:
                continue
            finally:
                connection.settimeout(READ_TIMEOUT * SLACK)
            assert time.monotonic() - started < READ_TIMEOUT * SLACK
        rest, _ = _until_closed(connection)
        took = time.monotonic() - started
    assert (received + rest).startswith(b"HTTP/1.1 408"), received + rest
    assert b"request head did not arrive within 2 s" in received + rest
    assert took < READ_TIMEOUT * SLACK


def test_slow_headers_on_every_slot_do_not_shut_clients_out(server):
    held = [_connect(server.base) for _ in range(5)]
    try:
        for connection in held:
            connection.sendall(b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        _wait_held(server.base, held)
        assert _recovery(server.base) < READ_TIMEOUT * SLACK
    finally:
        for connection in held:
            connection.close()


def test_a_body_dribbled_a_byte_at_a_time_gets_408_within_the_timeout(server):
    """The read timeout is for the whole body, not for each piece of it."""
    connection = _connect(server.base)
    with connection:
        connection.sendall(
            b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nContent-Length: 1000\r\n\r\n"
        )
        started = time.monotonic()
        connection.settimeout(0.2)
        answer = b""
        while not answer:  # a byte every 0.2 s: each arrives well within the timeout
            assert time.monotonic() - started < READ_TIMEOUT * SLACK, "no 408"
            try:
                connection.sendall(b" ")
                answer = connection.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        connection.settimeout(READ_TIMEOUT * SLACK)
        rest, _ = _until_closed(connection)
        took = time.monotonic() - started
    assert (answer + rest).startswith(b"HTTP/1.1 408"), answer + rest
    assert b"did not arrive within 2 s" in answer + rest
    assert READ_TIMEOUT <= took < READ_TIMEOUT * SLACK


def test_a_kept_alive_connection_must_send_its_next_head_in_time(server):
    connection = _connect(server.base)
    with connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b"200 OK" in connection.recv(65536)  # (its body may come in the next recv)
        connection.sendall(b"GET /health HTTP/1.1\r\n")  # and then nothing more
        received, took = _until_closed(connection)
    assert b"HTTP/1.1 408 Request Timeout" in received, received
    assert took < READ_TIMEOUT * SLACK


def test_a_client_that_reads_slowly_but_steadily_is_served(server):
    """Deadlines are on requests that do not arrive, not on legitimate use: kept-alive
    requests one after another on one connection are all answered."""
    with httpx.Client(base_url=server.base) as client:
        for _ in range(20):
            assert client.post("/call", json=CALL).status_code == 200


def _pipelined_without_reading(base, request, most=300):
    """A connection that sends ``request`` up to ``most`` times and reads no answer."""
    connection = _connect(base)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.setblocking(False)
    data, sent = memoryview(request * most), 0
    while sent < len(data):
        try:
            sent += connection.send(data[sent:])
        except BlockingIOError:  # the server has stopped reading too
            break
    readable, _, _ = select.select([connection], [], [], READ_TIMEOUT * SLACK)
    assert readable, "no answer began"  # the server took the connection and answers it
    return connection


def test_a_client_that_never_reads_its_answers_is_dropped(server):
    """Answers pile up until writing stalls; a stall as long as the read timeout drops the
    connection (and its buffered answers), so the slot is free again."""
    body = json.dumps({"func_name": "CASHFLOW", "args": [[[7e9]], [[2e12]], [[1e6]] * 1200]})
    request = (
        f"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    with _pipelined_without_reading(server.base, request):
        wait_for(
            "the server to drop it",
            lambda: "dropped a connection that read none of its answer for 2 s" in server.output(),
            timeout=READ_TIMEOUT * SLACK * 6,
        )
    # (Reading what the kernel still buffers would take minutes through a 4 kB window.)
