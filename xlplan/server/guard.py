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

from urllib.parse import urlsplit

from .security import reject

__all__ = ["RequestGuard", "TOKEN_BEARING_PATHS", "shown"]

TOKEN_BEARING_PATHS = frozenset({"/manifest.xml", "/functions.js", "/taskpane.html"})
# Longest piece of a client's input echoed back in an error message.
ECHO_LIMIT = 60


def shown(text, limit=ECHO_LIMIT):
    """``repr(text)`` cut to ``limit`` characters, so an error never echoes a huge input."""
    text = repr(text)
    return text if len(text) <= limit else text[:limit - 5] + "...'"


def _header(scope, name):
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def _host_name(host):
    """The name part of a Host header ('[::1]:8000' -> '::1'), lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _origin(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


class RequestGuard:
    """Host, Origin and Content-Type rules, and the headers every answer carries."""

    def __init__(self, app, settings):
        self.app = app
        self.hosts = settings.allowed_hosts
        self.public_origin = _origin(settings.public_url) if settings.public_url else None
        self.no_store = bool(settings.token)

    def _refusal(self, scope):
        """(status, code, message) of a request to refuse, or None."""
        host = _header(scope, b"host")
        if host is None or _host_name(host) not in self.hosts:
            return 421, "#N/A", (f"this server does not answer to Host {shown(host)}: use one "
                                 f"of {', '.join(sorted(self.hosts))} (or pass --public-url)")
        origin = _header(scope, b"origin")
        own = {f"{scope.get('scheme', 'http')}://{host.strip()}".lower(), self.public_origin}
        if origin is not None and origin.lower() not in own:
            return 403, "#N/A", (f"requests from pages at {shown(origin)} are refused: only "
                                 "the add-in's own page may call this server")
        if scope["method"] == "POST":
            kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            if kind != "application/json":
                return 415, "#VALUE!", (f"Content-Type {shown(kind)} is refused: send the "
                                        "body as JSON with 'Content-Type: application/json'")
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
