"""Run the app under uvicorn, and stop it promptly and completely.

:func:`listen` opens the listening socket first, so an address that cannot be
used (a name that does not resolve, a port in use) is a one-line error before
anything starts. At the first SIGTERM, SIGINT, SIGHUP or SIGQUIT the slow-call
pool answers every waiting or running call with 503 and kills its workers, so no
fit runs out its time limit while the server waits to stop; uvicorn then closes
the connections (at most ``GRACE_S`` seconds for slow clients) and the lifespan
waits for every worker to exit. A second signal changes nothing (stopping takes
about a second anyway), and the signal is not raised again afterwards, so a
Ctrl-C ends the command quietly, with exit status 0.
"""

import logging
import re
import signal
import socket

from ..engine.errors import InvalidValueError

__all__ = ["serve", "listen", "TokenFilter", "GRACE_S", "KEEP_ALIVE_S", "STOP_SIGNALS"]

# Seconds uvicorn lets open connections finish after a signal.
GRACE_S = 2
# Longest an idle connection stays open after an answer (never beyond read_timeout).
KEEP_ALIVE_S = 5
# Signals that stop the server cleanly (uvicorn itself handles only SIGINT and SIGTERM).
STOP_SIGNALS = tuple(
    getattr(signal, name)
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name)
)
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"]*")


class TokenFilter(logging.Filter):
    """Hide ``?token=...`` in the access log (its arguments hold the request's path)."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN_IN_QUERY.sub(r"\1<hidden>", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def listen(settings):
    """A socket listening on ``settings.host``/``port``, or an error naming the problem."""
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    try:
        address = socket.getaddrinfo(settings.host, settings.port, family, socket.SOCK_STREAM)[0][4]
    except (socket.gaierror, UnicodeError) as error:
        raise InvalidValueError(
            f"--host {settings.host!r} is not an address this machine can "
            f"listen on ({error}): use an IP address such as 127.0.0.1",
            argument="host",
            value=settings.host,
        ) from None
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise InvalidValueError(
            f"cannot listen on {settings.host} port {settings.port}: {error.strerror or error}",
            argument="port",
            value=settings.port,
        ) from None
    return sock


def serve(settings, sock, log_level="warning", ready=None):
    """Serve ``settings`` on ``sock`` (from :func:`listen`) until a signal; return once
    every worker process has exited. ``ready()`` is called once the certificate (if
    any) has been read, just before serving starts."""
    import asyncio

    import uvicorn

    from .app import create_app
    from .connections import protocol_with

    app = create_app(settings)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # Not uvicorn's: a second Ctrl+C would "force" an exit that skips the lifespan's
            # shutdown (which reaps the workers) and logs a traceback; with the fits
            # answered and the workers killed at once, the ordinary stop takes ~1 s anyway.
            # Nor is the signal raised again afterwards: stopping is not an error.
            asyncio.get_event_loop().call_soon_threadsafe(app.state.pool.abort)
            self.should_exit = True

    config = uvicorn.Config(
        app,
        ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile,
        log_level=log_level,
        access_log=log_level == "info",
        http=protocol_with(settings.read_timeout),
        limit_concurrency=settings.max_connections,
        timeout_graceful_shutdown=GRACE_S,
        timeout_keep_alive=min(KEEP_ALIVE_S, settings.read_timeout),
    )
    try:
        config.load()  # reads the certificate now, so a bad one is a one-line error
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        raise InvalidValueError(
            f"cannot use --certfile {settings.certfile!r} / --keyfile "
            f"{settings.keyfile!r}: {error} (a PEM certificate and its "
            "key are needed)",
            argument="certfile",
            value=settings.certfile,
        ) from None
    if ready is not None:
        ready()
    logging.getLogger("uvicorn.access").addFilter(TokenFilter())
    server = Server(config)
    # uvicorn installs its own handlers for SIGINT and SIGTERM while it runs.
    previous = {sig: signal.signal(sig, server.handle_exit) for sig in STOP_SIGNALS}
    try:
        server.run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
