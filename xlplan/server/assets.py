"""The add-in's page and script, filled in for the server that serves them."""

import html
import json
from functools import cache
from importlib import resources
from string import Template
from urllib.parse import quote

from .. import __version__, udfs
from .manifest import NAMESPACE
from .metadata import function_table

__all__ = ["functions_js", "taskpane_html", "BATCH_WINDOW_MS", "CLIENT_MAX_BATCH"]

# Calls Excel makes within this window go to the server in one request. Excel fires
# the calls of one recalculation back to back, so a few ms gathers them; a longer
# window would only add latency to a single edited cell.
BATCH_WINDOW_MS = 5
# Calls per request from the script: well under the server's limit, and small enough
# that a recalculation of many thousands of cells spreads over a few requests.
CLIENT_MAX_BATCH = 2000
# Seconds the script waits beyond the server's slow-call limit before it gives up on a
# request (the cells then show #N/A instead of staying busy forever).
REQUEST_MARGIN_S = 5.0


@cache
def _static(name):
    return resources.files("xlplan").joinpath("static", name).read_text(encoding="utf-8")


def _token_query(token):
    return f"?token={quote(token, safe='')}" if token else ""


def functions_js(base_url, settings):
    """functions.js configured for this server: its URL, token, function table and limits.

    A request from the script stays within the server's limits (calls per batch, body
    bytes), and gives up a little after the server's own time limit on slow calls.
    """
    config = {"url": base_url, "token": settings.token, "version": __version__,
              "functions": function_table(), "batchWindowMs": BATCH_WINDOW_MS,
              "maxBatch": min(CLIENT_MAX_BATCH, settings.max_batch),
              "maxBodyBytes": settings.max_body_bytes,
              "timeoutMs": round(1000 * (settings.slow_timeout + REQUEST_MARGIN_S))}
    # "</" escaped so the JSON can never close a <script> element it is embedded in.
    text = json.dumps(config).replace("</", "<\\/")
    return f"globalThis.XLPLAN_SERVER = {text};\n" + _static("functions.js")


def taskpane_html(token=None):
    """The task pane: server status, recent cell errors, every function with its help."""
    entries = []
    for spec in udfs.FUNCTIONS.values():
        args = ", ".join(f"[{p.name}]" if p.optional else p.name for p in spec.params)
        entries.append(f"    <dt><code>{NAMESPACE}.{spec.name}({html.escape(args)})</code></dt>"
                       f"<dd>{html.escape(spec.description)}</dd>")
    return Template(_static("taskpane.html")).safe_substitute(
        FUNCTION_LIST="\n".join(entries), TOKEN_QUERY=html.escape(_token_query(token)))
