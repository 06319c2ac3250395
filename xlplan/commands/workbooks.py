"""``xlplan workbooks build [-d DIR] [--route ROUTE]``: write the template workbooks.

Every computed cell is a formula (xlplan's Excel functions and plain Excel
functions); the results are stored as cached values so any reader shows them.
Each template is written for both Excel routes: DIR/ with plain names for the
xlwings desktop add-in, DIR/addin/ with the names the Office add-in and xlwings Lite
use (stored as ``_xldudf_XLPLAN_OPT_PARAMS``).
"""

import os
import sys

from ..engine.errors import InvalidValueError


def check_directory(path):
    """Refuse a -d that exists but is not a folder (a file, a pipe, a device)."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise InvalidValueError(
            f"-d {str(path)!r} exists and is not a folder; name a folder (created if missing)",
            argument="-d",
            value=str(path),
        )


def run(args):
    # Imported here, as in every command: `xlplan --help` should not load them all.
    from ..templates.build import ROUTES, TEMPLATES, build_template, route_directory

    check_directory(args.directory)
    routes = list(ROUTES) if args.route == "all" else [args.route]
    for route in routes:
        route_directory(args.directory, route).mkdir(parents=True, exist_ok=True)
        for filename in TEMPLATES:
            path, evaluation = build_template(filename, args.directory, route)
            print(f"{path}: {len(evaluation.values)} formula cells", file=sys.stderr)
            for where, error in evaluation.errors:
                print(f"  {where}: {error.code} {error.message}", file=sys.stderr)
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "workbooks", help="build the template workbooks", description=__doc__
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="write the templates into a directory")
    build.add_argument(
        "-d",
        "--directory",
        default="workbooks",
        help="where to write them, created if missing (default: workbooks)",
    )
    build.add_argument(
        "--route",
        choices=["all", "desktop", "addin"],
        default="all",
        help="desktop: plain names (xlwings add-in) in DIR; addin: the Office "
        "add-in's and xlwings Lite's XLPLAN names in DIR/addin; default all",
    )
    build.set_defaults(run=run)
