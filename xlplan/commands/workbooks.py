"""``xlplan workbooks build [-d DIR]``: write the template workbooks.

Every computed cell is a formula (xlplan's Excel functions and plain Excel
functions); the results are stored as cached values so any reader shows them.
"""

import sys


def run(args):
    # Imported here, as in every command: `xlplan --help` should not load them all.
    from ..templates.build import TEMPLATES, build_template

    for filename in TEMPLATES:
        path, evaluation = build_template(filename, args.directory)
        print(f"{path}: {len(evaluation.values)} formula cells", file=sys.stderr)
        for where, error in evaluation.errors:
            print(f"  {where}: {error.code} {error.message}", file=sys.stderr)
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser("workbooks", help="build the template workbooks",
                                   description=__doc__)
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="write the templates into a directory")
    build.add_argument("-d", "--directory", default="workbooks",
                       help="where to write them (default: workbooks)")
    build.set_defaults(run=run)
