"""Security rules of ``xlplan serve`` against a real server process (issue 10, items 2-5, 7,
11, 12): Host, Origin and Content-Type rules, --public-url and token checks at start-up,
response headers, the access log, echoed input, body framing and slow clients."""

import base64
import hashlib
import re
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

import httpx
import pytest

from xlplan import udfs
from xlplan.server.settings import Settings, max_slow_workers

from server_helpers import running_server, server_process

TOKEN = "s3cret-token-for-tests"
BT = "{http://schemas.microsoft.com/office/officeappbasictypes/1.0}"
OFFICE = "{http://schemas.microsoft.com/office/appforoffice/1.1}"
CALL = {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]}
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def server():
    with server_process() as started:
        yield started


def _port(base):
    return int(base.rsplit(":", 1)[1])


def _serve_refused(*args, env=None):
    """Run ``xlplan serve`` with options it must refuse; (exit status, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "xlplan", "serve", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_host_names_are_served(server, host):
    port = _port(server.base)
    response = httpx.get(f"{server.base}/functions.js", headers={"host": f"{host}:{port}"})
    assert response.status_code == 200
    assert f'"url": "http://{host}:{port}"' in response.text.splitlines()[0]


@pytest.mark.parametrize(
    "host",
    [
        "rebind.attacker.example",
        "127.0.0.1.nip.io",
        "",
        "evil.example:80",
        "localhost.evil.example",
    ],
)
def test_other_host_names_are_refused_on_every_route(server, host):
    for path in ("/health", "/functions.js", "/manifest.xml", "/taskpane.html"):
        response = httpx.get(f"{server.base}{path}", headers={"host": host})
        assert response.status_code == 421, (path, response.text)
        assert response.json()["error"]["code"] == "#N/A"
        assert "does not answer to Host" in response.json()["error"]["message"]
    response = httpx.post(f"{server.base}/call", json=CALL, headers={"host": host})
    assert response.status_code == 421


def test_public_url_host_is_served_and_escaped_in_the_manifest():
    public = "https://xlplan.example.com:8443/a&b"
    with running_server("--public-url", public) as base:
        response = httpx.get(f"{base}/manifest.xml", headers={"host": "xlplan.example.com:8443"})
        assert response.status_code == 200
        root = ET.fromstring(response.content)  # well-formed although the URL has a '&'
        assert root.find(f"{OFFICE}AppDomains/{OFFICE}AppDomain").text == public
        urls = [u.get("DefaultValue") for u in root.iter(f"{BT}Url")]
        assert urls and all(u.startswith(public + "/") for u in urls)
        assert httpx.get(f"{base}/health", headers={"host": "other.example.com"}).status_code == 421


@pytest.mark.parametrize(
    "url, words",
    [
        ("javascript:alert(1)//", ["scheme must be http or https"]),
        ("file:///etc/passwd", ["scheme must be http or https"]),
        ("http://xlplan.example.com", ["only over https"]),
        ("https://", ["names no host"]),
        ("https://xlplan.example.com/?a=1&b=2", ["query"]),
        ("https://user:pw@xlplan.example.com", ["user name"]),
        ('https://xlplan.example.com/"onload="x', ["not allowed in a URL"]),
        ("https://xlplan.example.com:99999", ["port"]),
    ],
)
def test_unusable_public_urls_are_refused_at_start_up(url, words):
    with pytest.raises(ValueError) as caught:
        Settings(public_url=url)
    for word in words:
        assert word in str(caught.value)
    status, stderr = _serve_refused("--public-url", url)
    assert status == 2 and "Traceback" not in stderr and "--public-url" in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_loopback_public_url_may_be_plain_http():
    assert Settings(public_url="http://localhost:8000").public_url == "http://localhost:8000"
    assert Settings(public_url="http://[::1]:8000").allowed_hosts >= {"::1"}


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "null", "http://127.0.0.1", "http://localhost:1"]
)
def test_requests_from_other_origins_are_refused_and_run_nothing(server, origin):
    runs = [["params", "tokens", "loss"]] + [[1e8 * k, 2e9 * k, 3.0 - k / 10] for k in range(1, 7)]
    fit = {"func_name": "FIT_COEFFS", "args": [runs]}
    before = httpx.get(f"{server.base}/health").json()["slow_calls_computed"]
    for path, body in (("/call", fit), ("/batch", {"calls": [fit, CALL]})):
        response = httpx.post(f"{server.base}{path}", json=body, headers={"origin": origin})
        assert response.status_code == 403, response.text
        assert "only the add-in's own page" in response.json()["error"]["message"]
    assert httpx.get(f"{server.base}/health", headers={"origin": origin}).status_code == 403
    assert httpx.get(f"{server.base}/health").json()["slow_calls_computed"] == before


def test_the_add_ins_own_origin_may_call(server):
    port = _port(server.base)
    for origin, host in (
        (server.base, f"127.0.0.1:{port}"),
        (f"http://localhost:{port}", f"localhost:{port}"),
    ):
        response = httpx.post(
            f"{server.base}/call", json=CALL, headers={"origin": origin, "host": host}
        )
        assert response.status_code == 200 and response.json()["result"] == udfs.OPT_PARAMS(
            2.1, 1e12
        )


@pytest.mark.parametrize(
    "kind",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        None,
        "application/jsonp",
    ],
)
def test_post_bodies_must_be_declared_json(server, kind):
    headers = {} if kind is None else {"content-type": kind}
    before = httpx.get(f"{server.base}/health").json()["slow_calls_computed"]
    fit = b'{"func_name": "FIT_COEFFS", "args": [[[1e8, 2e9, 3.0]]]}'
    for path, body in (("/call", fit), ("/batch", b'{"calls": [' + fit + b"]}")):
        response = httpx.post(f"{server.base}{path}", content=body, headers=headers)
        assert response.status_code == 415, response.text
        assert "application/json" in response.json()["error"]["message"]
    assert httpx.get(f"{server.base}/health").json()["slow_calls_computed"] == before


def test_json_with_a_charset_is_json(server):
    response = httpx.post(
        f"{server.base}/call",
        content=b'{"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]]]}',
        headers={"content-type": "Application/JSON; charset=utf-8"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "token, words",
    [
        (" s3cret-token-for-tests", ["starts or ends with a space"]),
        ("s3cret-token-for-tests\t", ["starts or ends with a space"]),
        ("s3cret-tökén-for-tests", ["not printable ASCII"]),
        ("s3cret-token\x00-for", ["not printable ASCII"]),
    ],
)
def test_tokens_the_add_in_cannot_send_are_refused_at_start_up(token, words):
    with pytest.raises(ValueError) as caught:
        Settings(token=token)
    assert all(word in str(caught.value) for word in words)
    if "\x00" not in token:  # a NUL cannot go in a command line or the environment
        for args, env in (
            (("--token", token), None),
            ((), {"XLPLAN_TOKEN": token, "PATH": "/usr/bin:/bin"}),
        ):
            status, stderr = _serve_refused(*args, env=env)
            assert status == 2 and "Traceback" not in stderr, stderr
            assert words[0] in stderr


def _inline_script_hash(page):
    script = re.search(r"<script>(.*?)</script>", page, flags=re.DOTALL).group(1)
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()


def test_headers_nosniff_no_store_and_the_task_panes_policy():
    with running_server("--token", TOKEN, token=TOKEN) as base:
        for path in ("/manifest.xml", "/functions.js", "/taskpane.html"):
            response = httpx.get(f"{base}{path}?token={TOKEN}")
            assert response.status_code == 200
            assert response.headers["cache-control"] == "no-store", path
            assert response.headers["x-content-type-options"] == "nosniff"
        for response in (
            httpx.get(f"{base}/health?token={TOKEN}"),
            httpx.get(f"{base}/health"),  # 401
            httpx.post(f"{base}/call", json=CALL, headers={"authorization": f"Bearer {TOKEN}"}),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
        page = httpx.get(f"{base}/taskpane.html?token={TOKEN}")
        policy = dict(
            part.strip().split(" ", 1)
            for part in page.headers["content-security-policy"].split(";")
        )
        scripts = policy["script-src"].split()
        assert "'unsafe-inline'" not in scripts
        assert f"'sha256-{_inline_script_hash(page.text)}'" in scripts
        assert "https://appsforoffice.microsoft.com" in scripts
        assert policy["connect-src"] == "'self'" and policy["object-src"] == "'none'"
        icon = httpx.get(f"{base}/icon-32.png?token={TOKEN}")  # carries no token: cached
        assert icon.headers["cache-control"] == "max-age=86400"


def test_the_access_log_never_shows_the_token():
    with server_process("--token", TOKEN, "--log-level", "info", token=TOKEN) as started:
        for path in ("/manifest.xml", "/health", "/functions.js"):
            assert httpx.get(f"{started.base}{path}?token={TOKEN}").status_code == 200
        httpx.get(f"{started.base}/health?x=1&token={TOKEN}&y=2")
        started.process.terminate()
        started.process.wait(timeout=30)
        log = started.output()
    assert "GET /manifest.xml?token=<hidden> HTTP/1.1" in log
    assert "x=1&token=<hidden>&y=2" in log
    assert TOKEN not in log


def test_echoed_input_is_cut_short(server):
    huge = "x" * 3_000_000
    for body in (
        {"func_name": huge, "args": []},
        {"func_name": "OPT_PARAMS", "args": [[[huge]], [[1e12]]]},
        {"func_name": "OPT_PARAMS", "args": [[[2.1]], [[1e12]], [[huge]]]},
    ):
        response = httpx.post(f"{server.base}/call", json=body, timeout=60)
        assert response.status_code in (400, 404)
        assert len(response.content) < 3000, response.text[:300]
        assert response.json()["error"]["code"] in ("#NAME?", "#VALUE!")


def test_a_chunked_body_over_the_limit_gets_413():
    def chunks():
        for _ in range(40):
            yield b" " * 1000

    with server_process("--max-body-bytes", "20000") as started:
        response = httpx.post(f"{started.base}/call", content=chunks(), headers=JSON)
        assert response.status_code == 413
        assert "over the limit of 20000 bytes" in response.json()["error"]["message"]
        small = httpx.post(
            f"{started.base}/call",
            content=iter([b'{"func_name": "OPT_', b'PARAMS", "args": [[[2.1]],', b" [[1e12]]]}"]),
            headers=JSON,
        )
        assert small.status_code == 200  # chunked within the limit is fine
        log = started.output()
    assert "Traceback" not in log and "500" not in log


def _held_connection(base, first_request=True):
    """A connection that sends half of a request body and then nothing."""
    connection = socket.create_connection(("127.0.0.1", _port(base)), timeout=60)
    if first_request:  # a complete request first: the server has surely taken the connection
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert b"200 OK" in connection.recv(65536)
    connection.sendall(
        b"POST /call HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        b'application/json\r\nContent-Length: 100\r\n\r\n{"func_'
    )
    return connection


def _read_until_closed(connection):
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def test_a_partial_body_gets_408_and_the_connection_is_closed():
    with running_server("--read-timeout", "0.5") as base:
        connection = _held_connection(base, first_request=False)
        with connection:
            answer = _read_until_closed(connection)  # returns once the server closes it
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"did not arrive within 0.5 s" in answer
        assert httpx.post(f"{base}/call", json=CALL).status_code == 200


def test_connections_beyond_the_limit_get_503():
    with running_server("--max-connections", "4") as base:
        held = [_held_connection(base) for _ in range(3)]
        try:
            response = httpx.post(f"{base}/call", json=CALL)
            assert response.status_code == 503
        finally:
            for connection in held:
                connection.close()


@pytest.mark.parametrize(
    "option, value, words",
    [
        ("--slow-workers", "1000000", ["slow_workers=1000000", f"at most {max_slow_workers()}"]),
        ("--slow-timeout", "inf", ["slow_timeout=inf", "finite"]),
        ("--slow-timeout", "nan", ["slow_timeout=nan", "finite"]),
        ("--slow-timeout", "1e9", ["2^31-1 ms", "at most"]),
        ("--slow-timeout", "0", ["slow_timeout=0"]),
        ("--read-timeout", "-1", ["read_timeout=-1"]),
        ("--max-connections", "0", ["max_connections=0"]),
    ],
)
def test_options_that_would_break_the_machine_or_the_add_in_are_refused(option, value, words):
    status, stderr = _serve_refused(option, value)
    assert status == 2 and "Traceback" not in stderr
    assert all(word in stderr for word in words), stderr


def test_the_longest_slow_timeout_keeps_the_add_ins_timer_in_range():
    from xlplan.server.assets import functions_js

    settings = Settings(slow_timeout=126_000)
    config = functions_js("http://localhost:8000", settings).splitlines()[0]
    wait = int(re.search(r'"slowTimeoutMs": (\d+)', config).group(1))
    assert 126_000 * 17 * 1000 < wait <= 2**31 - 1
    with pytest.raises(ValueError, match="2\\^31-1 ms"):
        Settings(slow_timeout=127_000)
