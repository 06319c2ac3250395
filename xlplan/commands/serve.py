"""``xlplan serve``: xlplan's functions for Excel on the web, Mac and Windows (Office add-in).

Serves a complete custom-functions add-in: manifest.xml (sideload it into
Excel), functions.json, functions.js, taskpane.html, and the call and batch
endpoints. Listens on 127.0.0.1 unless told otherwise; any other address needs
an access token (--token or $XLPLAN_TOKEN) that every request must carry.
Office loads add-ins only over HTTPS: pass --certfile/--keyfile (see README).
"""

import sys

from ..server.settings import TOKEN_ENV, Settings
from .extras import require_extra


def _settings(args):
    return Settings.from_environment(
        host=args.host,
        port=args.port,
        token=args.token,
        certfile=args.certfile,
        keyfile=args.keyfile,
        public_url=args.public_url,
        max_body_bytes=args.max_body_bytes,
        max_cells=args.max_cells,
        max_batch=args.max_batch,
        max_result_cells=args.max_result_cells,
        max_response_cells=args.max_response_cells,
        slow_timeout=args.slow_timeout,
        slow_workers=args.slow_workers,
        read_timeout=args.read_timeout,
        max_connections=args.max_connections,
    )


def _announce(settings, port):
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    base = settings.public_url or f"{settings.scheme}://{host}:{port}"
    query = "?token=<token>" if settings.token else ""
    print(f"xlplan serve: add-in at {base}/manifest.xml{query}", file=sys.stderr)
    if settings.scheme == "http":
        print(
            "  plain HTTP: fine for scripts and tests; Excel needs --certfile/--keyfile",
            file=sys.stderr,
        )
    print("  stop with Ctrl+C", file=sys.stderr)


def run(args):
    require_extra("serve", "server", "fastapi", "uvicorn")
    from ..server.runner import listen, serve

    settings = _settings(args)
    sock = listen(settings)
    with sock:
        serve(
            settings, sock, args.log_level, ready=lambda: _announce(settings, sock.getsockname()[1])
        )
    print("xlplan serve: stopped", file=sys.stderr)
    return 0


def add_parser(subparsers):
    defaults = Settings()
    parser = subparsers.add_parser(
        "serve",
        help="serve the Office add-in (custom functions) for Excel on the web and Mac",
        description=__doc__,
    )
    parser.add_argument(
        "--host",
        default=defaults.host,
        help="address to listen on (default 127.0.0.1, this machine only)",
    )
    parser.add_argument("--port", type=int, default=defaults.port, help="default 8000")
    parser.add_argument(
        "--token",
        help=f"access token every request must carry (default "
        f"${TOKEN_ENV}); required off 127.0.0.1",
    )
    parser.add_argument("--certfile", help="PEM certificate for HTTPS")
    parser.add_argument("--keyfile", help="PEM private key for HTTPS")
    parser.add_argument(
        "--public-url",
        help="base URL Excel uses to reach this server, "
        "written into the manifest (default: the URL it was fetched from)",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=defaults.max_body_bytes,
        help="largest request body (default %(default)s)",
    )
    parser.add_argument(
        "--max-cells",
        type=int,
        default=defaults.max_cells,
        help="largest range one argument may carry (default %(default)s)",
    )
    parser.add_argument(
        "--max-batch",
        type=int,
        default=defaults.max_batch,
        help="most calls in one batch request (default %(default)s)",
    )
    parser.add_argument(
        "--max-result-cells",
        type=int,
        default=defaults.max_result_cells,
        help="most cells one call may answer, refused before computing (default %(default)s)",
    )
    parser.add_argument(
        "--max-response-cells",
        type=int,
        default=defaults.max_response_cells,
        help="most cells the answers of one request may hold together (default %(default)s)",
    )
    parser.add_argument(
        "--slow-timeout",
        type=float,
        default=defaults.slow_timeout,
        help="seconds one FIT_COEFFS call may take once a worker takes it (default %(default)s)",
    )
    parser.add_argument(
        "--slow-workers",
        type=int,
        default=defaults.slow_workers,
        help="processes for FIT_COEFFS calls, at most one per core (default %(default)s)",
    )
    parser.add_argument(
        "--read-timeout",
        type=float,
        default=defaults.read_timeout,
        help="seconds a client may take to send a request's head, and "
        "its body; an idle connection closes after at most this "
        "(default %(default)s)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=defaults.max_connections,
        help="most connections at once, 503 beyond (default %(default)s)",
    )
    parser.add_argument(
        "--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"]
    )
    parser.set_defaults(run=run)
