"""A real ``xlplan serve`` process on a free loopback port, for tests and benchmarks."""

import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

__all__ = ["free_port", "running_server", "server_process", "request", "ServerProcess"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, body=None, token=None, context=None, raw=None, timeout=30):
    """(status, parsed JSON, text or bytes) of a GET (body None) or a JSON POST."""
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    try:
        text = payload.decode()
    except UnicodeDecodeError:
        return status, payload  # an image
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


class ServerProcess:
    """A started ``xlplan serve``: its base URL, its Popen, and everything it printed."""

    def __init__(self, base, process, log_path):
        self.base, self.process, self.log_path = base, process, log_path

    def output(self):
        return Path(self.log_path).read_text(errors="replace")


def _wait_until_answering(server, token, context):
    deadline = time.monotonic() + 30
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"xlplan serve exited: {server.output()}")
        try:
            status, _ = request(f"{server.base}/health", token=token, context=context, timeout=2)
            if status in (200, 401):
                return
        except (OSError, ssl.SSLError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("xlplan serve did not answer within 30 s")
        time.sleep(0.1)


@contextmanager
def server_process(*args, env=None, scheme="http", context=None, token=None, new_session=False):
    """Start ``xlplan serve --port <free> *args``; yield a :class:`ServerProcess` once it
    answers; stop it afterwards (if the test has not). Output goes to a file, so a
    talkative server never blocks on a full pipe."""
    port = free_port()
    command = [sys.executable, "-m", "xlplan", "serve", "--port", str(port), *args]
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            text=True,
            start_new_session=new_session,
        )
    server = ServerProcess(f"{scheme}://127.0.0.1:{port}", process, log.name)
    try:
        _wait_until_answering(server, token, context)
        yield server
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        os.unlink(log.name)


@contextmanager
def running_server(*args, env=None, scheme="http", context=None, token=None):
    """Start ``xlplan serve --port <free> *args``; yield its base URL; stop it afterwards."""
    with server_process(*args, env=env, scheme=scheme, context=context, token=token) as server:
        yield server.base
