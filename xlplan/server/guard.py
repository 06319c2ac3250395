"""ASGI middleware that decides, before anything else, whether a request is for us.

A page on another site can make a browser send requests to ``127.0.0.1``; three
rules keep such requests from running anything or reading any answer:

* **Host**: only the names this server is reached by (localhost, 127.0.0.1,
  [::1], ``--public-url``'s host, the ``--host`` address) - a name an attacker
  rebinds to 127.0.0.1 is refused (421), so DNS rebinding reads nothing;
* **Origin**: a request that carries one must come from the add-in's own page
  (this server's origin or ``--public-url``'s) - 403 otherwise;
* **Content-Type**: a POST must be ``application/json``, which a page on another
  origin cannot send without a CORS preflight this server never grants - 415.

Every answer also gets ``X-Content-Type-Options: nosniff``, and in token mode the
files that carry the token (manifest, functions.js, task pane) ``Cache-Control:
no-store``.
"""

import re
from urllib.parse import urlsplit

from .security import reject

__all__ = ["RequestGuard", "TOKEN_BEARING_PATHS", "shown", "parse_host"]

TOKEN_BEARING_PATHS = frozenset({"/manifest.xml", "/functions.js", "/taskpane.html"})
# Longest piece of a client's input echoed back in an error message.
ECHO_LIMIT = 60


def shown(text, limit=ECHO_LIMIT):
    """``repr(text)`` cut to ``limit`` characters, so an error never echoes a huge input."""
    text = repr(text)
    return text if len(text) <= limit else text[: limit - 5] + "...'"


def _header(scope, name):
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _only_host(scope):
    """The request's one Host header; None if it has none or several."""
    hosts = [value for key, value in scope["headers"] if key == b"host"]
    return hosts[0].decode("latin-1") if len(hosts) == 1 else None


# A Host header is a name (letters, digits, dots, hyphens) or a bracketed IPv6 address,
# then optionally ":" and a port; nothing else (no user part, path or second colon).
_HOST = re.compile(
    r"(?:(?P<name>[a-z0-9.-]+)|\[(?P<ipv6>[0-9a-f:.]+)\])"
    r"(?::(?P<port>[0-9]{1,5}))?"
)


def parse_host(host):
    """(name, port or None) of a Host header ('[::1]:8000' -> ('::1', 8000)), lower case;
    None if it is not exactly a host and an optional port."""
    match = _HOST.fullmatch(host.strip().lower())
    if match is None:
        return None
    port = match["port"]
    return match["name"] or match["ipv6"], int(port) if port is not None else None


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class RequestGuard:
    """Host, Origin and Content-Type rules, and the headers every answer carries."""

    def __init__(self, app, settings):
        self.app = app
        self.hosts = settings.allowed_hosts
        self.public_origin = _origin(settings.public_url) if settings.public_url else None
        self.ports = {settings.port} - {0}
        if settings.public_url:
            public = urlsplit(settings.public_url)
            self.ports.add(public.port or {"http": 80, "https": 443}[public.scheme])
        self.no_store = bool(settings.token)

    def _host_allowed(self, scope, host):
        """A Host of an allowed name, with no port or the port this server answers on."""
        parsed = None if host is None else parse_host(host)
        if parsed is None or parsed[0] not in self.hosts:
            return False
        served = (scope.get("server") or (None, None))[1]
        return parsed[1] is None or parsed[1] in self.ports | {served}

    def _refusal(self, scope):
        """(status, code, message) of a request to refuse, or None."""
        host = _only_host(scope)
        if not self._host_allowed(scope, host):
            return (
                421,
                "#N/A",
                (
                    f"this server does not answer to Host {shown(host)}: use one "
                    f"of {', '.join(sorted(self.hosts))}, with no port or this "
                    "server's (or pass --public-url)"
                ),
            )
        origin = _header(scope, b"origin")
        own = {f"{scope.get('scheme', 'http')}://{host.strip()}".lower(), self.public_origin}
        if origin is not None and origin.lower() not in own:
            return (
                403,
                "#N/A",
                (
                    f"requests from pages at {shown(origin)} are refused: only "
                    "the add-in's own page may call this server"
                ),
            )
        if scope["method"] == "POST":
            kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if kind != "application/json":
                return (
                    415,
                    "#VALUE!",
                    (
                        f"Content-Type {shown(kind)} is refused: send the "
                        "body as JSON with 'Content-Type: application/json'"
                    ),
                )
        return None

    def _headers_added(self, scope, send):
        extra = [(b"x-content-type-options", b"nosniff")]
        if self.no_store and scope["path"] in TOKEN_BEARING_PATHS:
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {extra_name for extra_name, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        return send_with_headers

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        send = self._headers_added(scope, send)
        refusal = self._refusal(scope)
        if refusal is not None:
            return await reject(send, *refusal)
        return await self.app(scope, receive, send)
