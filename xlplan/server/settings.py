"""The server's one typed configuration, checked once when it is made."""

import ipaddress
import math
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..engine.errors import InvalidTypeError, InvalidValueError
from ..excel.convert import MAX_CELLS
from ..excel.limits import MAX_RESULT_CELLS
from ..shared.safe_read import MAX_TEXT_BYTES, check_regular_file

__all__ = [
    "Settings",
    "TOKEN_ENV",
    "is_loopback",
    "LOOPBACK_NAMES",
    "JS_TIMER_LIMIT_MS",
    "QUEUE_PER_WORKER",
    "REQUEST_MARGIN_S",
    "WORKER_START_S",
    "max_slow_workers",
]

TOKEN_ENV = "XLPLAN_TOKEN"
# Host names that always reach this machine only (the Host header, without a port).
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
# JavaScript timers fire at once for a delay above 2^31-1 ms, so no wait the add-in is
# told to use may exceed it.
JS_TIMER_LIMIT_MS = 2**31 - 1
# Distinct slow calls that may wait their turn per worker (beyond: 503 at once).
QUEUE_PER_WORKER = 16
# Longest a fresh worker may take to start and import the fitter, seconds. A call that
# times out has its worker replaced, so each call ahead in the queue may cost this too.
WORKER_START_S = 30.0
# Seconds the add-in waits beyond the longest the server can take to answer.
REQUEST_MARGIN_S = 5.0


def max_slow_workers():
    """Most slow-call worker processes: one per core (a fit keeps one core busy)."""
    return max(1, os.cpu_count() or 1)


def is_loopback(host):
    """True for 127.0.0.0/8, ::1 and "localhost"; a name or 0.0.0.0 is not loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_token(token):
    """A token the add-in can send as it is: printable ASCII, no space at either end."""
    if len(token) < 8:
        raise InvalidValueError(
            "the access token must have at least 8 characters", argument="token"
        )
    if token != token.strip():
        raise InvalidValueError(
            "the access token starts or ends with a space: HTTP clients "
            "drop it from the header, so remove it",
            argument="token",
        )
    if not all(" " <= c <= "~" for c in token):
        raise InvalidValueError(
            "the access token has a character that is not printable "
            "ASCII (browsers cannot send it in a header): use letters, "
            "digits and punctuation only",
            argument="token",
        )


def _public_url_problem(url):
    """Why ``url`` cannot be the add-in's base URL, or None."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises for a port that is not a number in range
    except ValueError as error:
        return (
            "its port is not a number in [0, 65535]"
            if "Port" in str(error)
            else f"it cannot be read as a URL ({error})"
        )
    if parts.scheme not in ("http", "https"):
        return "its scheme must be http or https"
    if not parts.hostname:
        return "it names no host"
    if parts.username or parts.password or parts.query or parts.fragment:
        return "it may not carry a user name, password, query or fragment"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        return "Office loads add-ins from other hosts only over https"
    if any(c in url for c in "\"'<>\\ ") or not url.isascii() or not url.isprintable():
        return "it has a character that is not allowed in a URL (quote, <, >, \\, space)"
    return None


def _check_public_url(url):
    """http(s) URL of a host, https unless that host is loopback; no query or fragment."""
    problem = _public_url_problem(url)
    if problem:
        raise InvalidValueError(
            f"--public-url {url!r} is not usable: {problem} (e.g. https://xlplan.example.com:8443)",
            argument="public_url",
            value=url,
        )


@dataclass(frozen=True)
class Settings:
    """Where to listen, who may call, and how much one request may ask for.

    Parameters
    ----------
    host, port : str, int
        Listening address; only a loopback host may run without ``token``.
    token : str or None
        Access token every request must carry (``Authorization: Bearer <token>`` or
        ``?token=<token>`` for the URLs Office itself loads).
    certfile, keyfile : str or None
        PEM certificate (and key) for HTTPS; Office loads add-ins only over HTTPS.
    public_url : str or None
        Base URL written into the manifest; default: the URL the manifest was fetched from.
    max_body_bytes : int
        Largest request body accepted (413 beyond).
    max_cells : int
        Largest range one argument may carry.
    max_batch : int
        Most calls in one batch request.
    max_result_cells : int
        Most cells one call may answer (refused before it computes, ``#VALUE!``).
    max_response_cells : int
        Most cells the answers of one request may hold together (a batch's calls
        beyond it are refused the same way).
    slow_timeout : float
        Seconds one slow call (FIT_COEFFS) may take once a worker takes it.
    slow_workers : int
        Worker processes for slow calls, so they never hold up the cheap ones; at most
        one per core.
    read_timeout : float
        Seconds a client may take to send a request's head (from connecting, or from
        the previous answer) and, separately, its whole body: 408 and closed beyond.
        An idle kept-alive connection is closed after ``min(read_timeout, 5)`` s.
    max_connections : int
        Most connections open at once (503 beyond), so slow clients cannot pile up.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    token: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    public_url: str | None = None
    max_body_bytes: int = 8_000_000
    max_cells: int = MAX_CELLS
    max_batch: int = 10_000
    max_result_cells: int = MAX_RESULT_CELLS
    max_response_cells: int = 10 * MAX_RESULT_CELLS
    slow_timeout: float = 60.0
    slow_workers: int = 1
    read_timeout: float = 30.0
    max_connections: int = 200

    def __post_init__(self):
        if self.token is not None:
            _check_token(self.token)
        if not is_loopback(self.host) and not self.token:
            raise InvalidValueError(
                f"refusing to listen on {self.host}, which other machines can reach, without "
                f"an access token: pass --token or set {TOKEN_ENV} (or use --host 127.0.0.1)",
                argument="host",
                value=self.host,
            )
        if not 0 <= self.port <= 65535:
            raise InvalidValueError(
                f"port={self.port} must be in [0, 65535]", argument="port", value=self.port
            )
        if self.public_url is not None:
            _check_public_url(self.public_url)
        self._check_files()
        self._check_limits()

    def _check_files(self):
        if self.keyfile and not self.certfile:
            raise InvalidTypeError("--keyfile needs --certfile", argument="keyfile")
        for name in ("certfile", "keyfile"):
            path = getattr(self, name)
            if path:  # a regular file of sane size: not a FIFO, a device or a huge file
                check_regular_file(path, f"--{name}", name, MAX_TEXT_BYTES)

    def _check_limits(self):
        for name in (
            "max_body_bytes",
            "max_cells",
            "max_batch",
            "max_result_cells",
            "max_response_cells",
            "slow_timeout",
            "slow_workers",
            "read_timeout",
            "max_connections",
        ):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise InvalidValueError(
                    f"{name}={value} must be a finite number > 0", argument=name, value=value
                )
        if self.max_response_cells < self.max_result_cells:
            raise InvalidValueError(
                f"max_response_cells={self.max_response_cells} is less than max_result_cells="
                f"{self.max_result_cells}: one call's answer could never be sent",
                argument="max_response_cells",
                value=self.max_response_cells,
            )
        if self.slow_workers > max_slow_workers():
            raise InvalidValueError(
                f"slow_workers={self.slow_workers} is more than this machine's "
                f"{max_slow_workers()} cores: at most {max_slow_workers()}",
                argument="slow_workers",
                value=self.slow_workers,
            )
        if 1000 * (self.slow_answer_within + REQUEST_MARGIN_S) > JS_TIMER_LIMIT_MS:
            longest = (
                JS_TIMER_LIMIT_MS / 1000 - REQUEST_MARGIN_S - QUEUE_PER_WORKER * WORKER_START_S
            ) / (QUEUE_PER_WORKER + 1)
            raise InvalidValueError(
                f"slow_timeout={self.slow_timeout:g} s is too long: the add-in waits up to "
                f"{QUEUE_PER_WORKER + 1} times it, and JavaScript timers cannot wait over "
                f"2^31-1 ms; at most {longest:.0f} s",
                argument="slow_timeout",
                value=self.slow_timeout,
            )

    @classmethod
    def from_environment(cls, **values):
        """Settings from keyword values, the token falling back to ``$XLPLAN_TOKEN``."""
        if not values.get("token"):
            values["token"] = os.environ.get(TOKEN_ENV) or None
        return cls(**values)

    @property
    def scheme(self):
        return "https" if self.certfile else "http"

    @property
    def max_queue_wait(self):
        """Longest a slow call waits for a worker, seconds (503 'recalculate later' beyond):
        every call ahead of it may run out its time limit and have its worker replaced."""
        return QUEUE_PER_WORKER * (self.slow_timeout + WORKER_START_S)

    @property
    def slow_answer_within(self):
        """Longest the server takes to answer a slow call: its wait plus its time limit."""
        return self.max_queue_wait + self.slow_timeout

    @property
    def allowed_hosts(self):
        """Host names requests may be addressed to (a guard against DNS rebinding)."""
        names = set(LOOPBACK_NAMES)
        if self.public_url:
            names.add(urlsplit(self.public_url).hostname.lower())
        if self.host not in ("0.0.0.0", "::", ""):
            names.add(self.host.strip("[]").lower())
        return frozenset(names)
