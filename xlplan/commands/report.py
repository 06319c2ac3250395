"""``xlplan report [--scenario FILE] -o report.xlsx``: plans, the paper's tables, sweeps.

With no scenario, the paper's own settings (its Table 3 rows, law 'chinchilla',
hardware 'paper-a100'). A scenario file (TOML or YAML) gives the law (or a runs
file to fit), the hardware and the demand scenarios; ``--law`` (a preset name or
a law file from ``xlplan fit --output``) replaces its law. Written atomically.
"""

import sys
from pathlib import Path

from ..engine.errors import InvalidValueError


def check_output(path):
    """Refuse an output that is not an .xlsx file: a report is a workbook, whatever its name."""
    if Path(path).is_dir():
        raise InvalidValueError(
            f"-o {path} is a folder; name a file in it, e.g. -o {Path(path) / 'report.xlsx'}",
            argument="-o",
            value=str(path),
        )
    if Path(path).suffix.lower() != ".xlsx":
        raise InvalidValueError(
            f"-o {path}: a report is an Excel workbook; name it .xlsx "
            f"(e.g. -o {Path(path).with_suffix('.xlsx').name})",
            argument="-o",
            value=str(path),
        )


def run(args):
    from ..report.build import write_report

    check_output(args.output)
    write_report(
        args.output, args.scenario, show_progress=False if args.quiet else None, law=args.law
    )
    print(f"xlplan report: written to {args.output}", file=sys.stderr)
    return 0


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "report", help="write a sizing report workbook", description=__doc__
    )
    parser.add_argument("-o", "--output", required=True, help="report to write (.xlsx)")
    parser.add_argument(
        "--scenario", help="scenario file, .toml or .yaml (default: the paper's settings, embedded)"
    )
    parser.add_argument(
        "--law",
        metavar="NAME|LAW.json",
        help="loss law for every plan: a preset name or a law file written by "
        "xlplan fit --output (default: the scenario's)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)
