"""ASGI middleware: the access token and the request body (size and time), before any route.

The body is read here, in full, before the route sees it: a body over the limit,
declared or streamed in chunks, gets 413; one that has not wholly arrived within
the read timeout of the request's head gets 408 and the connection is closed,
so a client that sends half a request, or a byte now and then, cannot hold a
connection for ever.
"""

import asyncio
import hmac
import json
from urllib.parse import parse_qs

from .calls import CallFailure

__all__ = ["TokenGate", "BodyLimit", "reject"]


async def reject(send, status, code, message, extra_headers=()):
    """Answer with the routes' error body (see :class:`~xlplan.server.calls.CallFailure`)."""
    status, answer = CallFailure(status, code, message).outcome()
    body = json.dumps(answer).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra_headers,
            ],
        }
    )
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
            _presented_token(scope).encode("latin-1", "replace"), self.token
        ):
            return await reject(
                send,
                401,
                "#N/A",
                "missing or wrong access token: send "
                "'Authorization: Bearer <token>' or add ?token=<token>",
                [(b"www-authenticate", b"Bearer")],
            )
        return await self.app(scope, receive, send)


class _Refused(Exception):
    def __init__(self, status, message):
        self.status, self.message = status, message


class BodyLimit:
    """Read the whole body first: 413 over ``max_bytes``, 408 if slower than ``timeout`` s."""

    def __init__(self, app, max_bytes, timeout):
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    def _too_large(self):
        return _Refused(
            413, f"the request body is over the limit of {self.max_bytes} bytes: send fewer cells"
        )

    async def _body(self, scope, receive):
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_large()
        chunks, size, more = [], 0, True
        # One deadline for the whole body, not one per chunk: a client that sends a byte
        # now and then must not hold the connection for ever.
        deadline = asyncio.get_running_loop().time() + self.timeout
        while more:
            try:
                left = deadline - asyncio.get_running_loop().time()
                message = await asyncio.wait_for(receive(), max(left, 0))
            except asyncio.TimeoutError:
                raise _Refused(
                    408, f"the request body did not arrive within {self.timeout:g} s"
                ) from None
            if message["type"] == "http.disconnect":
                return None
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > self.max_bytes:
                raise self._too_large()
            more = message.get("more_body", False)
        return b"".join(chunks)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        try:
            body = await self._body(scope, receive)
        except _Refused as refused:
            return await reject(
                send, refused.status, "#VALUE!", refused.message, [(b"connection", b"close")]
            )
        if body is None:  # the client went away
            return None
        delivered = False

        async def replay():
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)
