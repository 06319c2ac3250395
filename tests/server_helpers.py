"""A real ``xlplan serve`` process on a free loopback port, for tests and benchmarks."""

import json
import os
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

__all__ = ["free_port", "running_server", "request"]


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


@contextmanager
def running_server(*args, env=None, scheme="http", context=None, token=None):
    """Start ``xlplan serve --port <free> *args``; yield its base URL; stop it afterwards."""
    port = free_port()
    command = [sys.executable, "-m", "xlplan", "serve", "--port", str(port), *args]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env={**os.environ, **(env or {})}, text=True)
    base = f"{scheme}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"xlplan serve exited: {process.stdout.read()}")
            try:
                status, _ = request(f"{base}/health", token=token, context=context, timeout=2)
                if status in (200, 401):
                    break
            except (OSError, ssl.SSLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("xlplan serve did not answer within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
