"""The add-in's page and script, filled in for the server that serves them."""

import base64
import hashlib
import html
import json
import re
from functools import cache
from importlib import resources
from string import Template
from urllib.parse import quote

from .. import __version__, udfs
from ..excel.registry import office_name
from .manifest import NAMESPACE
from .metadata import function_table
from .settings import REQUEST_MARGIN_S

__all__ = [
    "functions_js",
    "taskpane_html",
    "taskpane_policy",
    "BATCH_WINDOW_MS",
    "CLIENT_MAX_BATCH",
    "OFFICE_JS_ORIGIN",
]

# Calls Excel makes within this window go to the server in one request. Excel fires
# the calls of one recalculation back to back, so a few ms gathers them; a longer
# window would only add latency to a single edited cell.
BATCH_WINDOW_MS = 5
# Calls per request from the script: well under the server's limit, and small enough
# that a recalculation of many thousands of cells spreads over a few requests.
CLIENT_MAX_BATCH = 2000
# Where the task pane loads Office.js from (Office loads add-ins only with it).
OFFICE_JS_ORIGIN = "https://appsforoffice.microsoft.com"


@cache
def _static(name):
    return resources.files("xlplan").joinpath("static", name).read_text(encoding="utf-8")


def _token_query(token):
    return f"?token={quote(token, safe='')}" if token else ""


def functions_js(base_url, settings):
    """functions.js configured for this server: its URL, token, function table and limits.

    A request from the script stays within the server's limits (calls per batch, body
    bytes). It gives up only a little after the longest the server can take to answer:
    ``timeoutMs`` for cheap calls, ``slowTimeoutMs`` for a slow call, which may wait
    its turn for a worker (at most ``settings.max_queue_wait``) before its own time
    limit starts.
    """
    config = {
        "url": base_url,
        "token": settings.token,
        "version": __version__,
        "functions": function_table(),
        "batchWindowMs": BATCH_WINDOW_MS,
        "maxBatch": min(CLIENT_MAX_BATCH, settings.max_batch),
        "maxBodyBytes": settings.max_body_bytes,
        "timeoutMs": round(1000 * (settings.slow_timeout + REQUEST_MARGIN_S)),
        "slowTimeoutMs": round(1000 * (settings.slow_answer_within + REQUEST_MARGIN_S)),
    }
    # "</" escaped so the JSON can never close a <script> element it is embedded in.
    text = json.dumps(config).replace("</", "<\\/")
    return f"globalThis.XLPLAN_SERVER = {text};\n" + _static("functions.js")


def taskpane_html(token=None):
    """The task pane: server status, recent cell errors, every function with its help."""
    entries = []
    for spec in udfs.FUNCTIONS.values():
        args = ", ".join(f"[{p.name}]" if p.optional else p.name for p in spec.params)
        shown = f"{NAMESPACE}.{office_name(spec.name)}"
        entries.append(
            f"    <dt><code>{shown}({html.escape(args)})</code></dt>"
            f"<dd>{html.escape(spec.description)}</dd>"
        )
    return Template(_static("taskpane.html")).safe_substitute(
        FUNCTION_LIST="\n".join(entries), TOKEN_QUERY=html.escape(_token_query(token))
    )


def _script_hash(script):
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"


def taskpane_policy(page):
    """The task pane's Content-Security-Policy: its own files, Office.js and its one inline
    script (by hash), nothing else; it may call only this server."""
    inline = re.findall(r"<script>(.*?)</script>", page, flags=re.DOTALL)
    scripts = " ".join(["'self'", OFFICE_JS_ORIGIN, *map(_script_hash, inline)])
    return (
        f"default-src 'self'; script-src {scripts}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'none'"
    )
