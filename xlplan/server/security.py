"""ASGI middleware: the access token and the request-size limit, before any route runs."""

import hmac
import json
from urllib.parse import parse_qs

from .calls import CallFailure

__all__ = ["TokenGate", "BodyLimit"]


async def _reject(send, status, code, message, extra_headers=()):
    """Answer with the routes' error body (see :class:`~xlplan.server.calls.CallFailure`)."""
    status, answer = CallFailure(status, code, message).outcome()
    body = json.dumps(answer).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *extra_headers]})
    await send({"type": "http.response.body", "body": body})


def _presented_token(scope):
    for name, value in scope["headers"]:
        if name == b"authorization" and value[:7].lower() == b"bearer ":
            return value[7:].decode("latin-1").strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return (query.get("token") or [""])[0]


class TokenGate:
    """Every request must carry ``token``: ``Authorization: Bearer`` or ``?token=``."""

    def __init__(self, app, token):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and not hmac.compare_digest(
                _presented_token(scope).encode(), self.token):
            return await _reject(send, 401, "#N/A", "missing or wrong access token: send "
                                 "'Authorization: Bearer <token>' or add ?token=<token>",
                                 [(b"www-authenticate", b"Bearer")])
        return await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse (413) a request body over ``max_bytes``, declared or streamed."""

    def __init__(self, app, max_bytes):
        self.app = app
        self.max_bytes = max_bytes

    def _message(self):
        return f"the request body is over the limit of {self.max_bytes} bytes: send fewer cells"

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await _reject(send, 413, "#VALUE!", self._message())
        received = 0
        started = False

        async def limited_receive():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reject(send, 413, "#VALUE!", self._message())
