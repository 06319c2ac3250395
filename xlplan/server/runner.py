"""Run the app under uvicorn, and stop it promptly and completely.

At the first SIGTERM or SIGINT the slow-call pool answers every waiting or
running call with 503 and kills its workers, so no fit runs out its time limit
while the server waits to stop; uvicorn then closes the connections (at most
``GRACE_S`` seconds for slow clients) and the lifespan waits for every worker to
exit. A second signal changes nothing (stopping takes about a second anyway), and
the signal is not raised again afterwards, so a Ctrl-C ends the command quietly,
with exit status 0.
"""

import logging
import re

__all__ = ["serve", "TokenFilter", "GRACE_S"]

# Seconds uvicorn lets open connections finish after a signal.
GRACE_S = 2
_TOKEN_IN_QUERY = re.compile(r"(token=)[^&\s\"]*")


class TokenFilter(logging.Filter):
    """Hide ``?token=...`` in the access log (its arguments hold the request's path)."""

    def filter(self, record):
        if isinstance(record.args, tuple):
            record.args = tuple(_TOKEN_IN_QUERY.sub(r"\1<hidden>", a) if isinstance(a, str)
                                else a for a in record.args)
        return True


def serve(settings, log_level="warning"):
    """Serve ``settings`` until a signal; return once every worker process has exited."""
    import asyncio

    import uvicorn

    from .app import create_app

    app = create_app(settings)

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame):
            # Not uvicorn's: a second Ctrl+C would "force" an exit that skips the lifespan's
            # shutdown (which reaps the workers) and logs a traceback; with the fits
            # answered and the workers killed at once, the ordinary stop takes ~1 s anyway.
            # Nor is the signal raised again afterwards: stopping is not an error.
            asyncio.get_event_loop().call_soon_threadsafe(app.pool.abort)
            self.should_exit = True

    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, ssl_certfile=settings.certfile,
        ssl_keyfile=settings.keyfile, log_level=log_level, access_log=log_level == "info",
        limit_concurrency=settings.max_connections, timeout_graceful_shutdown=GRACE_S,
        timeout_keep_alive=5)
    logging.getLogger("uvicorn.access").addFilter(TokenFilter())
    Server(config).run()
